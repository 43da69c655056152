//! `cargo xtask demo [--sandbox]`: the README's first command.
//!
//! Builds pychrony into `target/demo-venv`, finds a chronyd to ask (the
//! system's, on its default unix socket or on 127.0.0.1:323; otherwise, or
//! with `--sandbox`, a private pair started with chronyd-fixture that never
//! touches the clock), prints the tracking report through the Python API, the
//! `pychrony` command and the Rust API (chrony-core's `tracking` example, the
//! code a Rust user would write), and stops whatever it started. xtask itself
//! does not link chrony-core: the programs it runs are the ones users run.

use crate::pyenv::{WheelBuild, install_wheel, venv, with_venv};
use crate::util::{Result, root, run};
use chronyd_fixture::{Fixture, Mode};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

const VENV: &str = "target/demo-venv";
const WHEELS: &str = "target/demo-wheels";
/// maturin's target dir: the python stage's (python.rs), so a demo after CI finds it built.
const MATURIN_TARGET: &str = "target/ci-python";
/// maturin as in the ci venv.
const TOOLS: &[&str] = &["maturin==1.16.0"];
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

    step("2/4 build pychrony into target/demo-venv, and chrony-core's `tracking` example");
    let python = build_package()?;
    let example = crate::util::build_example("tracking", false)?;

    step("3/4 find a chronyd");
    // Declared before the report, dropped (stopped) after it, also on errors.
    let mut fixture = None;
    let target = match (sandbox_only, system_chronyd(&example)) {
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
    let report = report(&python, &example, &target);

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
    let chrony = chronyd_fixture::unpack::ensure()?;
    println!("chronyd and chronyc: {}", chrony.describe());
    Ok(())
}

// ---- 2. the package ---------------------------------------------------------------

/// Builds the wheel (dev profile: quick) and installs it into the demo venv.
fn build_package() -> Result<PathBuf> {
    let python = venv(VENV, TOOLS)?;
    let wheel = WheelBuild {
        venv_python: &python,
        interpreter: &python,
        out: WHEELS,
        target_dir: MATURIN_TARGET,
        args: &[],
        pkg_config_path: None,
    }
    .build()?;
    install_wheel(&python, &wheel)?;
    Ok(python)
}

// ---- 3. which chronyd ---------------------------------------------------------------

/// The chronyd to ask: `address` None means "the default socket discovery".
struct Target {
    address: Option<String>,
    what: String,
}

/// A system chronyd that answers within a second (asked by the example): on
/// the default unix socket (which needs root or chronyd's user), else on the
/// UDP command port.
fn system_chronyd(example: &Path) -> Option<Target> {
    let answers = |address: Option<&str>| -> std::result::Result<(), String> {
        let out = Command::new(example)
            .args(address)
            .args(["--timeout", &PROBE_TIMEOUT.as_millis().to_string()])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run {}: {e}", example.display()))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
        }
    };
    match answers(None) {
        Ok(()) => {
            return Some(Target {
                address: None,
                what: "the system chronyd on its default socket (default discovery)".into(),
            });
        }
        Err(e) => println!("default unix socket: {e}"),
    }
    match answers(Some(SYSTEM_UDP)) {
        Ok(()) => Some(Target {
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

/// The Python example the demo runs (the code a Python user would write).
const PYTHON_EXAMPLE: &str = "pychrony-py/examples/tracking.py";

fn report(python: &Path, example: &Path, target: &Target) -> Result {
    let bin = python.parent().expect("venv/bin").to_path_buf();
    let address = target.address.clone().unwrap_or_default();

    println!("\n---- Python API (pychrony): {PYTHON_EXAMPLE}");
    let script = root().join(PYTHON_EXAMPLE);
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

    println!("\n---- Rust API (chrony_core): chrony-core/examples/tracking.rs");
    run(Command::new(example).args(target.address.as_deref()))
}
