//! The Python side of CI: a venv under target/ with pinned tools, and the
//! `python` stage (wheel built with maturin, installed, then stubtest, pytest
//! and mypy against the *installed* package).

use crate::util::{Result, display_rel, output, root, run};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The venv, relative to the workspace root.
const VENV: &str = "target/ci-venv";
/// Where the stage's wheel goes (emptied first, so exactly one wheel is found).
const WHEEL_DIR: &str = "target/ci-wheels";
/// Pinned tools that work with CPython 3.10+ (the machine has 3.11).
pub const TOOLS: &[&str] = &["maturin==1.16.0", "pytest==9.2.0", "mypy==2.4.1"];

/// The venv's interpreter, creating the venv and installing [`TOOLS`] when missing.
pub fn ensure_venv() -> Result<PathBuf> {
    let venv = root().join(VENV);
    let python = venv.join("bin/python");
    if !python.exists() {
        let base = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
        run(Command::new(base).args(["-m", "venv"]).arg(&venv))?;
    }
    let frozen = output(Command::new(&python).args([
        "-m",
        "pip",
        "freeze",
        "--all",
        "--disable-pip-version-check",
    ]))?;
    let missing: Vec<&str> = TOOLS
        .iter()
        .copied()
        .filter(|tool| !frozen.lines().any(|line| line.eq_ignore_ascii_case(tool)))
        .collect();
    if missing.is_empty() {
        println!("{VENV} has {}", TOOLS.join(" "));
    } else {
        run(Command::new(&python)
            .args(["-m", "pip", "install", "--disable-pip-version-check", "-q"])
            .args(&missing))?;
    }
    Ok(python)
}

/// Builds the wheel, installs it into the venv and runs the Python checks.
/// The steps are plain commands in order, so they are easy to adjust.
pub fn stage(xtask_bin: &Path) -> Result {
    let root = root();
    let pkg = root.join("pychrony-py");
    if !pkg.join("pyproject.toml").exists() {
        return Err(
            "pychrony-py/pyproject.toml is missing: the Python package `pychrony` \
                    is not in the tree yet, so its wheel cannot be built or tested"
                .into(),
        );
    }
    let python = ensure_venv()?;
    let bin = python.parent().expect("venv/bin").to_path_buf();

    // 1. The wheel (dev profile: the tests need behaviour, not speed).
    let wheels = root.join(WHEEL_DIR);
    if wheels.exists() {
        fs::remove_dir_all(&wheels)?;
    }
    run(Command::new(bin.join("maturin"))
        .current_dir(&pkg)
        .args(["build", "--interpreter"])
        .arg(&python)
        .arg("--out")
        .arg(&wheels))?;
    let wheel = single_wheel(&wheels)?;

    // 2. Installed into the venv, replacing any earlier build of the same version.
    run(Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "--force-reinstall",
            "--no-deps",
        ])
        .arg(&wheel))?;

    // 3. The stubs match the runtime module.
    let mut stubtest = venv_cmd(&python, &bin);
    stubtest.args(["-m", "mypy.stubtest", "pychrony"]);
    let allowlist = pkg.join("stubtest-allowlist.txt");
    if allowlist.exists() {
        stubtest.arg("--allowlist").arg(allowlist);
    }
    run(&mut stubtest)?;

    // 4. The test suite, against the installed wheel; fixtures through this xtask binary.
    //    pytest's exit code 5 (no tests collected) fails like any other.
    run(venv_cmd(&python, &bin)
        .env("XTASK_BIN", xtask_bin)
        .args(["-m", "pytest", "-p", "no:cacheprovider"])
        .arg(pkg.join("tests")))?;

    // 5. The typing examples type-check strictly against the installed stubs.
    run(venv_cmd(&python, &bin)
        .args(["-m", "mypy", "--strict", "--cache-dir"])
        .arg(root.join("target/ci-mypy-cache"))
        .arg(pkg.join("tests/typing")))?;
    Ok(())
}

/// A command run by the venv's interpreter from the workspace root, with the
/// venv's scripts first on PATH (tests may call installed entry points).
fn venv_cmd(python: &Path, bin: &Path) -> Command {
    let mut cmd = Command::new(python);
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs = vec![bin.to_path_buf()];
    dirs.extend(std::env::split_paths(&path));
    cmd.current_dir(root())
        .env(
            "PATH",
            std::env::join_paths(dirs).expect("PATH entries have no ':'"),
        )
        .env("VIRTUAL_ENV", bin.parent().expect("venv"));
    cmd
}

fn single_wheel(dir: &Path) -> Result<PathBuf> {
    let wheels: Vec<PathBuf> = fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "whl"))
        .collect();
    match wheels.as_slice() {
        [one] => Ok(one.clone()),
        _ => Err(format!(
            "expected one wheel in {}, found {}",
            display_rel(dir),
            wheels.len()
        )
        .into()),
    }
}
