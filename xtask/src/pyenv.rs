//! Venvs under target/ with pinned tools, and the one way a wheel is built (maturin) and
//! installed (pip) for the python stage, the bench and the demo.

use crate::util::{Result, env_or, only_file, output, prepend_env, python_prints, remove_dir};
use crate::util::{root, run};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The interpreter of a venv at `rel` (in the workspace) with `tools` (pins) installed: created,
/// or topped up, when missing.
pub fn venv(rel: &str, tools: &str) -> Result<PathBuf> {
    let venv = root().join(rel);
    let python = venv.join("bin/python");
    if !python.exists() {
        fresh_venv(&env_or("PYTHON", "python3"), &venv)?;
    }
    if tools.is_empty() {
        return Ok(python);
    }
    let freeze = "-m pip freeze --all --disable-pip-version-check".split(' ');
    let frozen = output(Command::new(&python).args(freeze))?;
    let installed = |tool: &&str| frozen.lines().any(|line| line.eq_ignore_ascii_case(tool));
    let missing: Vec<&str> = tools.split(' ').filter(|t| !installed(t)).collect();
    if missing.is_empty() {
        println!("{rel} has {tools}");
        return Ok(python);
    }
    run(pip_install(&python).args(&missing))?;
    Ok(python)
}

/// A new venv at `dir` (anything there before removed) made by `base_python`; its interpreter.
pub fn fresh_venv(base_python: &str, dir: &Path) -> Result<PathBuf> {
    remove_dir(dir)?;
    run(Command::new(base_python).args(["-m", "venv"]).arg(dir))?;
    Ok(dir.join("bin/python"))
}

/// `program` of the venv whose interpreter is `python`, with its `bin` first on PATH (maturin
/// finds `python -m ziglang` there; tests may call installed entry points).
pub fn venv_tool(python: &Path, program: &str) -> Command {
    let bin = python.parent().expect("venv/bin");
    let mut cmd = Command::new(bin.join(program));
    cmd.env("PATH", prepend_env("PATH", bin));
    cmd.env("VIRTUAL_ENV", bin.parent().expect("venv"));
    cmd
}

/// pytest from the workspace root, its fixtures run through `xtask_bin`, on the test files (or
/// pychrony-py/tests) the caller adds.
pub fn pytest(python: &Path, xtask_bin: &Path) -> Command {
    let mut pytest = venv_tool(python, "python");
    pytest.current_dir(root()).env("XTASK_BIN", xtask_bin);
    pytest.args("-m pytest -p no:cacheprovider".split(' '));
    pytest
}

/// A wheel of pychrony-py for `interpreter`, built with `args` by `python`'s maturin into an
/// emptied `out`. maturin's CARGO_TARGET_DIR is not target/: its environment differs from plain
/// cargo's, and sharing would rebuild pyo3 each time. `pkg_config`: for a system libchrony.
pub fn build_wheel(
    python: &Path,
    interpreter: &Path,
    out: &str,
    target_dir: &str,
    args: &[&str],
    pkg_config: Option<&Path>,
) -> Result<PathBuf> {
    let (root, out) = (root(), root().join(out));
    remove_dir(&out)?;
    let mut maturin = venv_tool(python, "maturin");
    maturin.env("CARGO_TARGET_DIR", root.join(target_dir));
    let build = "build -m pychrony-py/Cargo.toml --interpreter".split(' ');
    maturin.args(build).arg(interpreter).arg("--out").arg(&out);
    maturin.current_dir(&root);
    if let Some(dir) = pkg_config {
        maturin.env("PKG_CONFIG_PATH", dir);
    }
    run(maturin.args(args))?;
    only_file(&out, ".whl")
}

/// Installs `wheel` over any earlier build of it (its dependencies are the venv's business).
/// Builds before the distribution became `chrony-monitor` were named `pychrony`: that metadata is
/// removed first, or `import pychrony` would warn about the unrelated project of that name.
pub fn install_wheel(python: &Path, wheel: &Path) -> Result {
    let purelib = "import sysconfig; print(sysconfig.get_path('purelib'))";
    let site = python_prints(python, purelib)?;
    // This version's metadata under the old name; pychrony 2.x's (another version) is left alone.
    let old = format!("pychrony-{}.dist-info", crate::util::pychrony_version()?);
    if Path::new(&site).join(old).exists() {
        run(Command::new(python).args("-m pip uninstall -y -q pychrony".split(' ')))?;
    }
    let mut pip = pip_install(python);
    run(pip.args(["--force-reinstall", "--no-deps"]).arg(wheel))
}

pub fn pip_install(python: &Path) -> Command {
    let mut pip = Command::new(python);
    pip.args("-m pip install --disable-pip-version-check -q".split(' '));
    pip
}
