//! The Python side of CI: a venv under target/ with pinned tools, and the
//! `python` stage (wheels built with maturin, the default one installed, then
//! pytest against the *installed* package; the suite runs stubtest and mypy).

use crate::system_lib;
use crate::util::{Result, display_rel, root, run};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The venv, relative to the workspace root.
const VENV: &str = "target/ci-venv";
/// Where the stage's wheels go (emptied first, so exactly one wheel is found).
const WHEEL_DIR: &str = "target/ci-wheels";
const SYSTEM_WHEEL_DIR: &str = "target/ci-wheels-system";
/// maturin's cargo target dir.
const CARGO_TARGET: &str = "target/ci-python";
/// Pinned tools that work with CPython 3.10+ (the machine has 3.11).
pub const TOOLS: &[&str] = &[
    "maturin==1.16.0",
    "pytest==9.2.0",
    "mypy==2.4.1",
    "ruff==0.17.6",
];

/// The venv's interpreter, creating the venv and installing [`TOOLS`] when missing.
pub fn ensure_venv() -> Result<PathBuf> {
    crate::util::venv(VENV, TOOLS)
}

/// Builds the wheels, installs the default one into the venv and runs the
/// Python suite against the installed package (as pychrony-py/tests/run.sh
/// does). The suite itself runs `mypy.stubtest` and `mypy --strict` on the
/// typing examples (tests/test_install.py). The steps are plain commands in
/// order, so they are easy to adjust.
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

    // 1. The default wheel (bundled C library; dev profile: the tests need
    //    behaviour, not speed), installed into the venv over any earlier build.
    let wheel = build_wheel(&bin, &python, WHEEL_DIR, &[], None)?;
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

    // 2. A wheel linked to a "system" libchrony in a prefix of its own, for
    //    tests/test_system_libchrony.py (which installs it into its own venv).
    let prefix = system_lib::install(&root.join("target/ci-python-prefix"))?;
    let lib = prefix.join("lib");
    let system_wheel = build_wheel(
        &bin,
        &python,
        SYSTEM_WHEEL_DIR,
        &["--no-default-features", "--auditwheel", "skip"],
        Some(&lib.join("pkgconfig")),
    )?;

    // 3. The suite, against the installed wheel; fixtures through this xtask
    //    binary. pytest's exit code 5 (no tests collected) fails like any other.
    run(venv_cmd(&python, &bin)
        .env("XTASK_BIN", xtask_bin)
        .env("PYCHRONY_SYSTEM_WHEEL", &system_wheel)
        .env("PYCHRONY_SYSTEM_LIBDIR", &lib)
        .args(["-m", "pytest", "-p", "no:cacheprovider"])
        .arg(pkg.join("tests")))?;
    Ok(())
}

/// `maturin build` into an emptied `out` dir; returns the one wheel it made.
/// Its own CARGO_TARGET_DIR: maturin's environment (PYO3_BUILD_EXTENSION_MODULE)
/// differs from plain cargo's, and sharing target/ would rebuild pyo3 each time.
fn build_wheel(
    bin: &Path,
    python: &Path,
    out: &str,
    extra: &[&str],
    pkg_config_path: Option<&Path>,
) -> Result<PathBuf> {
    let root = root();
    let out = root.join(out);
    if out.exists() {
        fs::remove_dir_all(&out)?;
    }
    let mut maturin = Command::new(bin.join("maturin"));
    maturin
        .env("CARGO_TARGET_DIR", root.join(CARGO_TARGET))
        .args(["build", "-m", "pychrony-py/Cargo.toml", "--interpreter"])
        .arg(python)
        .arg("--out")
        .arg(&out)
        .args(extra)
        .current_dir(&root);
    if let Some(dir) = pkg_config_path {
        maturin.env("PKG_CONFIG_PATH", dir);
    }
    run(&mut maturin)?;
    single_wheel(&out)
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
