//! `cargo xtask prometheus`: a real Prometheus server (a test fixture, as chronyd is) for pychrony-py/tests/test_prometheus_server.py,
//! which scrapes `pychrony exporter` with it. Debian's `prometheus` package is downloaded with
//! `apt-get download` (through chronyd-fixture's apt, as chrony's package is) and unpacked with
//! `dpkg-deb -x` into `target/prometheus/<package version>/`; `target/prometheus/current` points at it.
//! Nothing is installed and no service is started: the test runs the binary on loopback itself. The
//! binary needs only libc; the package's other dependencies are the web UI's JavaScript, which the test
//! does not use. A second run finds it there and does nothing.

use crate::unpack::{Result, display_rel, output, run};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const USAGE: &str = "\
usage: cargo xtask prometheus

Downloads Debian's `prometheus` package (apt-get download; nothing is installed, no service
is started) and unpacks it into target/prometheus/<version>/ (target/prometheus/current
points at it), then prints PROMETHEUS=<the prometheus binary>. A second run does nothing.";

/// `cargo xtask prometheus` (`args` excludes `prometheus`).
pub fn run_cli(args: &[String]) -> Result {
    match args {
        [] => {
            let binary = ensure()?;
            println!("PROMETHEUS={}", binary.display());
            Ok(())
        }
        [flag] if flag == "-h" || flag == "--help" => {
            println!("{USAGE}");
            Ok(())
        }
        _ => Err(format!("unknown arguments {args:?}\n\n{USAGE}").into()),
    }
}

fn binary_in(tree: &Path) -> PathBuf {
    tree.join("usr/bin/prometheus")
}

/// The first line of `prometheus --version`: it runs, so its libraries load.
fn version_of(binary: &Path) -> Result<String> {
    let text = output(Command::new(binary).arg("--version"))?;
    Ok(text.lines().next().unwrap_or_default().to_string())
}

/// The unpacked prometheus binary, unpacking Debian's package first when there is none (or it does not run).
pub fn ensure() -> Result<PathBuf> {
    // Beside target/chrony, where chrony's package is unpacked.
    let base = crate::unpacked_root().with_file_name("prometheus");
    let current = base.join("current");
    if binary_in(&current).is_file() {
        if let Ok(version) = version_of(&binary_in(&current)) {
            println!(
                "{} is ready ({version}): nothing to do",
                display_rel(&current)
            );
            return Ok(binary_in(&current));
        }
    }
    let work = base.join(format!(".work-{}", std::process::id()));
    if work.exists() {
        fs::remove_dir_all(&work)?;
    }
    let (debs, tree) = (work.join("debs"), work.join("tree"));
    fs::create_dir_all(&debs)?;
    let result = unpack(&base, &debs, &tree);
    let _ = fs::remove_dir_all(&work);
    let dest = result?;
    // Point `current` at it atomically, with a relative link.
    let tmp = base.join(format!(".current-{}", std::process::id()));
    let _ = fs::remove_file(&tmp);
    std::os::unix::fs::symlink(dest.file_name().expect("a version directory"), &tmp)?;
    fs::rename(&tmp, &current)?;
    Ok(binary_in(&current))
}

/// Downloads the package into `debs`, unpacks it into `tree`, checks that it runs and moves it to
/// `base/<version>/`, which it returns.
fn unpack(base: &Path, debs: &Path, tree: &Path) -> Result<PathBuf> {
    let deb = crate::unpack::download_deb("prometheus", debs)?;
    let field = output(Command::new("dpkg-deb").arg("-f").arg(&deb).arg("Version"))?;
    let version = field.trim().replace(':', "_");
    run(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(tree))?;
    let checked = version_of(&binary_in(tree))?;
    let dest = base.join(&version);
    if dest.exists() {
        fs::remove_dir_all(&dest)?;
    }
    fs::rename(tree, &dest)?;
    println!(
        "unpacked prometheus {version} into {} ({checked}). Nothing was installed.",
        display_rel(&dest)
    );
    Ok(dest)
}
