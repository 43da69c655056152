//! `cargo xtask demo [--sandbox]`: the README's first command.
//!
//! Builds pychrony into `target/demo-venv`, finds a chronyd to ask (the
//! system's, on its default unix socket or on 127.0.0.1:323; otherwise, or
//! with `--sandbox`, a private pair started with chronyd-fixture that never
//! touches the clock), prints the tracking report through the Python API, the
//! `pychrony` command and the Rust API (chrony-core's `tracking` example, or
//! the same calls made here), and stops whatever it started.

use crate::util::venv;
use crate::util::{Result, cargo, display_rel, root, run};
use crate::wheels::with_venv;
use chrony_core::{Connection, Options, TrackingStatus};
use chronyd_fixture::{Fixture, Mode};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, UNIX_EPOCH};

const VENV: &str = "target/demo-venv";
const WHEELS: &str = "target/demo-wheels";
/// maturin as in the ci venv.
const TOOLS: &[&str] = &["maturin==1.16.0"];
/// chrony-core's example, run for the Rust part when present.
const RUST_EXAMPLE: &str = "chrony-core/examples/tracking.rs";
/// The UDP command port a system chronyd serves to every local user.
const SYSTEM_UDP: &str = "127.0.0.1:323";
/// How long to wait for a system chronyd before starting a sandboxed one.
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);
/// A fresh sandboxed chronyd's estimates settle within seconds.
const SETTLE: Duration = Duration::from_secs(3);

const USAGE: &str = "usage: cargo xtask demo [--sandbox]\n\n\
    --sandbox   always start a private chronyd pair, even if a system chronyd answers";

pub fn run_cli(args: &[String]) -> Result {
    let sandbox_only = match args {
        [] => false,
        [flag] if flag == "--sandbox" => true,
        [flag] if flag == "-h" || flag == "--help" => {
            println!("{USAGE}");
            return Ok(());
        }
        _ => return Err(USAGE.into()),
    };

    step("1/4 chronyd and chronyc (installed, or Debian's package unpacked under target/chrony/)");
    ensure_chrony()?;

    step("2/4 build pychrony into target/demo-venv");
    let python = build_package()?;

    step("3/4 find a chronyd");
    // Declared before the report, dropped (stopped) after it, also on errors.
    let mut fixture = None;
    let target = match (sandbox_only, system_chronyd()) {
        (false, Some(target)) => target,
        (_, found) => {
            if found.is_none() {
                println!("no system chronyd answers on the default socket or on {SYSTEM_UDP}");
            }
            println!(
                "starting a sandboxed chronyd pair on loopback (chronyd -x: the clock is not touched)..."
            );
            let fx = Fixture::start(Mode::Synced)
                .map_err(|e| format!("cannot start the sandboxed chronyd: {e}"))?;
            let target = Target {
                address: Some(fx.socket_path().display().to_string()),
                what: format!(
                    "sandboxed chronyd (pid {}) in {}, synchronised to a second chronyd on loopback",
                    fx.pid(),
                    fx.dir().display()
                ),
            };
            fixture = Some(fx);
            // Just synchronised, skew and frequency still read their start values.
            println!("letting it settle for {} s...", SETTLE.as_secs());
            std::thread::sleep(SETTLE);
            target
        }
    };
    println!("using {}", target.what);

    step("4/4 the tracking report, three ways");
    let report = report(&python, &target);

    if let Some(fx) = fixture.take() {
        drop(fx);
        println!("\nstopped the sandboxed chronyd");
    }
    report?;
    println!(
        "\nNext: `cargo xtask ci` runs every check; docs/user-guide.md explains each field. \
         To use pychrony from this build: {}/bin/python",
        VENV
    );
    Ok(())
}

fn step(title: &str) {
    println!("\n==== {title}");
}

// ---- 1. chrony ------------------------------------------------------------------

/// chronyd and chronyc for a sandboxed pair: an installed chrony, or Debian's package downloaded and unpacked
/// under target/chrony/ (no root needed, nothing installed; `cargo xtask chrony`).
fn ensure_chrony() -> Result {
    let chrony = crate::chrony::ensure()?;
    println!("chronyd and chronyc: {}", chrony.describe());
    Ok(())
}

// ---- 2. the package ---------------------------------------------------------------

/// Builds the wheel (dev profile: quick) and installs it into the demo venv.
fn build_package() -> Result<PathBuf> {
    let root = root();
    let python = venv(VENV, TOOLS)?;
    let bin = python.parent().expect("venv/bin").to_path_buf();
    let wheels = root.join(WHEELS);
    if wheels.exists() {
        fs::remove_dir_all(&wheels)?;
    }
    run(with_venv(Command::new(bin.join("maturin")), &bin)
        .current_dir(root.join("pychrony-py"))
        .args(["build", "--interpreter"])
        .arg(&python)
        .arg("--out")
        .arg(&wheels))?;
    let wheel = fs::read_dir(&wheels)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "whl"))
        .ok_or_else(|| format!("maturin left no wheel in {}", display_rel(&wheels)))?;
    run(Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "-q",
            "--force-reinstall",
            "--no-deps",
        ])
        .arg(&wheel))?;
    Ok(python)
}

// ---- 3. which chronyd ---------------------------------------------------------------

/// The chronyd to ask: `address` None means "the default socket discovery".
struct Target {
    address: Option<String>,
    what: String,
}

/// A system chronyd that answers within a second: on the default unix socket
/// (which needs root or chronyd's user), else on the UDP command port.
fn system_chronyd() -> Option<Target> {
    let options = Options::new().with_timeout(PROBE_TIMEOUT);
    match chrony_core::tracking_with(None, &options) {
        Ok(_) => {
            let path = chrony_core::discover_socket()
                .map_or_else(|_| "the default socket".into(), |p| p.display().to_string());
            return Some(Target {
                address: None,
                what: format!("the system chronyd on {path} (default discovery)"),
            });
        }
        Err(e) => println!("default unix socket: {e}"),
    }
    let udp = Connection::open_with(Some(SYSTEM_UDP), &options).and_then(|mut c| c.tracking());
    match udp {
        Ok(_) => Some(Target {
            address: Some(SYSTEM_UDP.into()),
            what: format!("the system chronyd's UDP command port {SYSTEM_UDP}"),
        }),
        Err(e) => {
            println!("{SYSTEM_UDP}: {e}");
            None
        }
    }
}

// ---- 4. the report ---------------------------------------------------------------

/// Written to `target/demo-venv/demo_tracking.py`, so it can be read and rerun.
const PYTHON_DEMO: &str = r#"# pychrony demo: python demo_tracking.py [ADDRESS]  (no ADDRESS: default socket discovery)
import sys
from datetime import datetime, timezone

from pychrony import ChronyConnection, ChronyError, get_tracking

address = sys.argv[1] if len(sys.argv) > 1 and sys.argv[1] else None
try:
    if address is None or address.startswith("/"):
        # The contract's one call: a unix socket path, or None for the default paths.
        status = get_tracking(address)
        how = f"get_tracking({address!r})"
    else:
        # A UDP address such as 127.0.0.1:323: a reusable connection.
        with ChronyConnection(address) as conn:
            status = conn.get_tracking()
        how = f"ChronyConnection({address!r}).get_tracking()"
except ChronyError as e:
    print(f"Error: {e}")
    sys.exit(2)

ref_time = datetime.fromtimestamp(status.ref_time, timezone.utc)
print(f"{how} ->")
print(f"  reference_id      0x{status.reference_id:08X} ({status.reference_id_name!r}, ip {status.reference_ip!r})")
print(f"  stratum           {status.stratum}")
print(f"  leap_status       {status.leap_status}  (0 normal, 1 insert, 2 delete, 3 unsynchronised)")
print(f"  ref_time          {status.ref_time:.6f}  ({ref_time:%Y-%m-%d %H:%M:%S} UTC)")
print(f"  offset            {status.offset:+.9f} s  (positive: the system clock is slow)")
print(f"  last_offset       {status.last_offset:+.9f} s")
print(f"  rms_offset        {status.rms_offset:.9f} s")
print(f"  frequency         {status.frequency:+.3f} ppm  (positive: the clock runs fast)")
print(f"  residual_freq     {status.residual_freq:+.3f} ppm")
print(f"  skew              {status.skew:.3f} ppm")
print(f"  root_delay        {status.root_delay:.9f} s")
print(f"  root_dispersion   {status.root_dispersion:.9f} s")
print(f"  update_interval   {status.update_interval:.1f} s")
print(f"  is_synchronized() {status.is_synchronized()}, is_leap_pending() {status.is_leap_pending()}")
"#;

fn report(python: &Path, target: &Target) -> Result {
    let bin = python.parent().expect("venv/bin").to_path_buf();
    let address = target.address.clone().unwrap_or_default();

    println!("\n---- Python API (pychrony)");
    let script = bin.parent().expect("venv").join("demo_tracking.py");
    fs::write(&script, PYTHON_DEMO)?;
    run(with_venv(Command::new(python), &bin)
        .current_dir(std::env::temp_dir())
        .arg(&script)
        .arg(&address))?;

    println!("\n---- command line: pychrony tracking");
    let mut cli = with_venv(Command::new(bin.join("pychrony")), &bin);
    cli.arg("tracking");
    if let Some(a) = &target.address {
        cli.args(["--socket", a]);
    }
    println!(
        "$ pychrony tracking{}",
        if address.is_empty() {
            String::new()
        } else {
            format!(" --socket {address}")
        }
    );
    let status = cli
        .stdin(Stdio::null())
        .status()
        .map_err(|e| format!("cannot run pychrony: {e}"))?;
    match status.code() {
        Some(0) => println!("(exit status 0: synchronised)"),
        Some(1) => println!("(exit status 1: not synchronised)"),
        _ => return Err(format!("`pychrony tracking` failed ({status})").into()),
    }

    println!("\n---- Rust API (chrony_core)");
    if root().join(RUST_EXAMPLE).exists() {
        // chrony-core's example: the code a Rust user would write (see its source).
        let mut example = cargo();
        example.args([
            "run",
            "-q",
            "-p",
            "chrony-core",
            "--example",
            "tracking",
            "--",
        ]);
        if let Some(a) = &target.address {
            example.arg(a);
        }
        return run(&mut example);
    }
    let status = match &target.address {
        None => {
            println!("chrony_core::tracking(None) ->");
            chrony_core::tracking(None)?
        }
        Some(a) if a.starts_with('/') => {
            println!("chrony_core::tracking(Some({a:?})) ->");
            chrony_core::tracking(Some(Path::new(a)))?
        }
        Some(a) => {
            println!("chrony_core::Connection::open({a:?})?.tracking() ->");
            Connection::open(a)?.tracking()?
        }
    };
    print_rust(&status);
    Ok(())
}

fn print_rust(s: &TrackingStatus) {
    let ref_time = s
        .ref_time
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    let rows: [(&str, String); 16] = [
        ("reference_id", format!("0x{:08X}", s.reference_id)),
        ("reference_id_name", format!("{:?}", s.reference_id_name)),
        ("reference_address", format!("{:?}", s.reference_address)),
        ("stratum", s.stratum.to_string()),
        (
            "leap_status",
            format!("{:?} ({})", s.leap_status, s.leap_status),
        ),
        ("ref_time", format!("{ref_time:.6} s since 1970")),
        ("offset", format!("{:+.9} s", s.offset)),
        ("last_offset", format!("{:+.9} s", s.last_offset)),
        ("rms_offset", format!("{:.9} s", s.rms_offset)),
        ("frequency", format!("{:+.3} ppm", s.frequency)),
        ("residual_freq", format!("{:+.3} ppm", s.residual_freq)),
        ("skew", format!("{:.3} ppm", s.skew)),
        ("root_delay", format!("{:.9} s", s.root_delay)),
        ("root_dispersion", format!("{:.9} s", s.root_dispersion)),
        ("update_interval", format!("{:.1} s", s.update_interval)),
        (
            "synchronised",
            format!(
                "{} (leap pending: {})",
                s.is_synchronized(),
                s.is_leap_pending()
            ),
        ),
    ];
    for (name, value) in rows {
        println!("  {name:<17} {value}");
    }
}
