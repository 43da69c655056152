//! The Python side of CI: a venv under target/ with pinned tools, and the
//! `python` stage (wheels built with maturin, the default one installed, then
//! pytest against the *installed* package; the suite runs stubtest and mypy).

use crate::pyenv::{build_wheel, install_wheel, with_venv};
use crate::system_lib;
use crate::util::{Result, root, run};
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
pub const TOOLS: &str = "maturin==1.16.0 pytest==9.2.0 mypy==2.4.1 ruff==0.17.6";

/// The venv's interpreter, creating the venv and installing [`TOOLS`] when missing.
pub fn ensure_venv() -> Result<PathBuf> {
    crate::pyenv::venv(VENV, TOOLS)
}

/// Builds the wheels, installs the default one into the venv and runs the
/// Python suite against the installed package (as pychrony-py/tests/run.sh
/// does). The suite itself runs `mypy.stubtest` and `mypy --strict` on the
/// typing examples (tests/test_install.py).
pub fn stage(xtask_bin: &Path) -> Result {
    let root = root();
    let pkg = root.join("pychrony-py");
    if !pkg.join("pyproject.toml").exists() {
        return Err(
            "pychrony-py/pyproject.toml is missing: the Python package `pychrony` is not \
                    in the tree yet, so its wheel cannot be built or tested"
                .into(),
        );
    }
    let python = ensure_venv()?;
    let build =
        |out, args, pkg_config| build_wheel(&python, &python, out, CARGO_TARGET, args, pkg_config);
    // 1. The default wheel (bundled C library; dev profile: the tests need
    //    behaviour, not speed), installed into the venv over any earlier build.
    install_wheel(&python, &build(WHEEL_DIR, &[], None)?)?;

    // 2. A wheel linked to a "system" libchrony in a prefix of its own, for
    //    tests/test_system_libchrony.py (which installs it into its own venv).
    let lib = system_lib::install(&root.join("target/ci-python-prefix"))?.join("lib");
    let system_args = &["--no-default-features", "--auditwheel", "skip"];
    let system_wheel = build(SYSTEM_WHEEL_DIR, system_args, Some(&lib.join("pkgconfig")))?;

    // 3. The suite, against the installed wheel; fixtures through this xtask
    //    binary. pytest's exit code 5 (no tests collected) fails like any other.
    let mut pytest = with_venv(Command::new(&python), python.parent().expect("venv/bin"));
    pytest.current_dir(&root).env("XTASK_BIN", xtask_bin);
    pytest
        .env("PYCHRONY_SYSTEM_WHEEL", &system_wheel)
        .env("PYCHRONY_SYSTEM_LIBDIR", &lib);
    run(pytest
        .args(["-m", "pytest", "-p", "no:cacheprovider"])
        .arg(pkg.join("tests")))
}
