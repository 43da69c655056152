//! `cargo xtask demo [--sandbox]`: the README's first command. Prints a chronyd's tracking report
//! through the Python API, the `pychrony` command and chrony-core's `tracking` example: the programs
//! users run (xtask does not link chrony-core). A sandboxed chronyd never touches the clock.

use crate::pyenv::{build_wheel, install_wheel, venv, venv_tool};
use crate::util::{Result, bail, root, run};
use chronyd_fixture::{Fixture, Mode};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

const VENV: &str = "target/demo-venv";
/// The UDP command port a system chronyd serves to every local user.
const SYSTEM_UDP: &str = "127.0.0.1:323";
/// A fresh sandboxed chronyd's estimates settle within seconds.
const SETTLE: Duration = Duration::from_secs(3);

const USAGE: &str = "usage: cargo xtask demo [--sandbox]\n\n\
    --sandbox   always start a private chronyd pair, even if a system chronyd answers\n";

pub fn run_cli(args: &[String]) -> Result {
    let args = crate::util::Args::parse(args, USAGE, "--sandbox")?;
    step("1/4 chronyd and chronyc (installed, or Debian's package unpacked under target/chrony/)");
    // For a sandboxed pair: no root needed, nothing installed (`cargo xtask chrony`).
    let chrony = chronyd_fixture::unpack::ensure()?;
    println!("chronyd and chronyc: {}", chrony.describe());

    step("2/4 build pychrony into target/demo-venv, and chrony-core's `tracking` example");
    // maturin and target dir as in the python stage, so a demo after CI finds the wheel built.
    let python = venv(VENV, crate::python::pin("maturin"))?;
    let (out, target_dir) = ("target/demo-wheels", crate::python::CARGO_TARGET);
    let wheel = build_wheel(&python, &python, out, target_dir, &[], None)?;
    install_wheel(&python, &wheel)?;
    let example = crate::util::build_example("tracking", false, &[])?;

    step("3/4 find a chronyd");
    // Dropped (stopped) after the report, also on errors. `address` None: default discovery.
    let mut fixture = None;
    let (address, what) = match (args.flag("--sandbox"), system_chronyd(&example)) {
        (false, Some(found)) => found,
        (_, found) => {
            if found.is_none() {
                println!("no system chronyd answers on the default socket or on {SYSTEM_UDP}");
            }
            let pair = "a sandboxed chronyd pair on loopback";
            println!("starting {pair} (chronyd -x: the clock is not touched)...");
            let fx = Fixture::start(Mode::Synced);
            let fx = fx.map_err(|e| format!("cannot start the sandboxed chronyd: {e}"))?;
            let (pid, dir) = (fx.pid(), fx.dir().display());
            let to = "synchronised to a second chronyd on loopback";
            let what = format!("sandboxed chronyd (pid {pid}) in {dir}, {to}");
            let address = Some(fx.socket_path().display().to_string());
            fixture = Some(fx);
            // Just synchronised, skew and frequency still read their start values.
            println!("letting it settle for {} s...", SETTLE.as_secs());
            std::thread::sleep(SETTLE);
            (address, what)
        }
    };
    println!("using {what}");

    step("4/4 the tracking report, three ways");
    let report = report(&python, &example, address.as_deref());
    if let Some(fx) = fixture.take() {
        drop(fx);
        println!("\nstopped the sandboxed chronyd");
    }
    report?;
    let next = "`cargo xtask ci` runs every check; docs/user-guide.md explains each field";
    let venv = format!("To use pychrony from this build: {VENV}/bin/python");
    println!("\nNext: {next}. {venv}");
    Ok(())
}

/// A system chronyd answering the example within a second on the default socket (root or
/// chronyd's user only) or the UDP port: its address (None: default discovery), a description.
fn system_chronyd(example: &Path) -> Option<(Option<String>, String)> {
    let default = "the system chronyd on its default socket (default discovery)";
    let udp = format!("the system chronyd's UDP command port {SYSTEM_UDP}");
    let socket = (None, "default unix socket", default.into());
    let candidates = [socket, (Some(SYSTEM_UDP), SYSTEM_UDP, udp)];
    for (address, label, what) in candidates {
        let mut ask = Command::new(example);
        ask.args(address).args(["--timeout", "1000"]);
        match ask.stdin(Stdio::null()).output() {
            Ok(out) if out.status.success() => return Some((address.map(String::from), what)),
            Ok(out) => println!("{label}: {}", String::from_utf8_lossy(&out.stderr).trim()),
            Err(e) => println!("{label}: cannot run {}: {e}", example.display()),
        }
    }
    None
}

fn report(python: &Path, example: &Path, address: Option<&str>) -> Result {
    println!("\n---- Python API (pychrony): pychrony-py/examples/tracking.py");
    let mut example_py = venv_tool(python, "python");
    example_py.current_dir(std::env::temp_dir());
    example_py.arg(root().join("pychrony-py/examples/tracking.py"));
    run(example_py.arg(address.unwrap_or_default()))?;

    println!("\n---- command line: pychrony tracking");
    let mut cli = venv_tool(python, "pychrony");
    cli.arg("tracking");
    if let Some(a) = address {
        cli.args(["--socket", a]);
    }
    let socket = address.map_or(String::new(), |a| format!(" --socket {a}"));
    println!("$ pychrony tracking{socket}");
    let status = cli.stdin(Stdio::null()).status();
    let status = status.map_err(|e| format!("cannot run pychrony: {e}"))?;
    match status.code() {
        Some(0) => println!("(exit status 0: synchronised)"),
        Some(1) => println!("(exit status 1: not synchronised)"),
        _ => bail!("`pychrony tracking` failed ({status})"),
    }

    println!("\n---- Rust API (chrony_core): chrony-core/examples/tracking.rs");
    run(Command::new(example).args(address))
}

fn step(title: &str) {
    println!("\n==== {title}");
}
