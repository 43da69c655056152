//! The `python` stage of `cargo xtask ci`, and its venv.

use crate::pyenv::{build_wheel, install_wheel, pytest};
use crate::system_lib;
use crate::util::{Result, root, run};
use std::path::{Path, PathBuf};

pub const VENV: &str = "target/ci-venv";
const WHEEL_DIR: &str = "target/ci-wheels";
const SYSTEM_WHEEL_DIR: &str = "target/ci-wheels-system";
pub const CARGO_TARGET: &str = "target/ci-python";
/// Pinned tools that work with CPython 3.10+ (the machine has 3.11).
// prometheus_client: for pychrony.prometheus and its tests (the optional extra `prometheus`);
// uvloop: test_aio.py runs pychrony.aio on it as well as on asyncio's default loop.
pub const TOOLS: &str = "maturin==1.16.0 pytest==9.2.0 mypy==2.4.1 ruff==0.17.6 prometheus_client==0.26.0 uvloop==0.23.0";

/// The pin of `name` in [`TOOLS`]: the bench, the demo and the wheels build as this stage does.
pub fn pin(name: &str) -> &'static str {
    let mut pins = TOOLS.split(' ');
    let prefix = format!("{name}==");
    pins.find(|t| t.starts_with(&prefix)).expect("a pin")
}

pub fn ensure_venv() -> Result<PathBuf> {
    crate::pyenv::venv(VENV, TOOLS)
}

/// Builds the wheels, installs the default one and runs the Python suite against the installed
/// package, as pychrony-py/tests/run.sh does (the suite runs stubtest and mypy --strict too).
pub fn stage(xtask_bin: &Path) -> Result {
    let root = root();
    let python = ensure_venv()?;
    let build = |out, args, pc| build_wheel(&python, &python, out, CARGO_TARGET, args, pc);
    // 1. The default wheel (bundled C library; dev profile: the tests need behaviour, not speed).
    install_wheel(&python, &build(WHEEL_DIR, &[], None)?)?;

    // 2. A wheel linked to a "system" libchrony, for tests/test_system_libchrony.py.
    let lib = system_lib::install(&root.join("target/ci-python-prefix"))?.join("lib");
    let system_args = &["--no-default-features", "--auditwheel", "skip"];
    let system_wheel = build(SYSTEM_WHEEL_DIR, system_args, Some(&lib.join("pkgconfig")))?;

    // 3. The suite; fixtures through this xtask binary; exit code 5 (no tests) fails too.
    let mut pytest = pytest(&python, xtask_bin);
    pytest.arg(root.join("pychrony-py/tests"));
    pytest.env("PYCHRONY_SYSTEM_WHEEL", &system_wheel);
    run(pytest.env("PYCHRONY_SYSTEM_LIBDIR", &lib))
}
