//! Python environments for the xtask commands: venvs under target/ with pinned
//! tools, commands run inside a venv, and the one way a wheel is built
//! (maturin) and installed (pip) for the python stage, the bench and the demo.

use crate::util::{Result, display_rel, output, root, run};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A venv at `rel` (relative to the workspace root) with `tools` installed:
/// created when missing, topped up when a pinned tool is missing. Returns its
/// interpreter.
pub fn venv(rel: &str, tools: &[&str]) -> Result<PathBuf> {
    let venv = root().join(rel);
    let python = venv.join("bin/python");
    if !python.exists() {
        let base = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
        run(Command::new(base).args(["-m", "venv"]).arg(&venv))?;
    }
    if tools.is_empty() {
        return Ok(python);
    }
    let frozen = output(Command::new(&python).args([
        "-m",
        "pip",
        "freeze",
        "--all",
        "--disable-pip-version-check",
    ]))?;
    let missing: Vec<&str> = tools
        .iter()
        .copied()
        .filter(|tool| !frozen.lines().any(|line| line.eq_ignore_ascii_case(tool)))
        .collect();
    if missing.is_empty() {
        println!("{rel} has {}", tools.join(" "));
    } else {
        run(pip_install(&python).args(&missing))?;
    }
    Ok(python)
}

/// `cmd` with the venv's `bin` first on PATH (maturin finds `python -m ziglang`
/// there; tests may call installed entry points).
pub fn with_venv(mut cmd: Command, bin: &Path) -> Command {
    let mut dirs = vec![bin.to_path_buf()];
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    cmd.env(
        "PATH",
        std::env::join_paths(dirs).expect("PATH entries have no ':'"),
    )
    .env("VIRTUAL_ENV", bin.parent().expect("venv"));
    cmd
}

/// A dev or release wheel of pychrony-py, built by maturin into an emptied
/// `out` (so exactly one wheel is found there).
#[derive(Debug)]
pub struct WheelBuild<'a> {
    /// The venv interpreter whose `bin/maturin` builds it.
    pub venv_python: &'a Path,
    /// The interpreter the wheel is built for.
    pub interpreter: &'a Path,
    /// The output directory, relative to the workspace root.
    pub out: &'a str,
    /// maturin's CARGO_TARGET_DIR, relative to the workspace root: maturin's
    /// environment (PYO3_BUILD_EXTENSION_MODULE) differs from plain cargo's,
    /// and sharing target/ would rebuild pyo3 each time.
    pub target_dir: &'a str,
    /// More `maturin build` arguments (`--release`, features...).
    pub args: &'a [&'a str],
    /// PKG_CONFIG_PATH, for a wheel linked to a system libchrony.
    pub pkg_config_path: Option<&'a Path>,
}

impl WheelBuild<'_> {
    /// Builds the wheel; returns its path.
    pub fn build(&self) -> Result<PathBuf> {
        let root = root();
        let out = root.join(self.out);
        if out.exists() {
            fs::remove_dir_all(&out)?;
        }
        let bin = self.venv_python.parent().expect("venv/bin");
        let mut maturin = with_venv(Command::new(bin.join("maturin")), bin);
        maturin
            .env("CARGO_TARGET_DIR", root.join(self.target_dir))
            .args(["build", "-m", "pychrony-py/Cargo.toml", "--interpreter"])
            .arg(self.interpreter)
            .arg("--out")
            .arg(&out)
            .args(self.args)
            .current_dir(&root);
        if let Some(dir) = self.pkg_config_path {
            maturin.env("PKG_CONFIG_PATH", dir);
        }
        run(&mut maturin)?;
        let wheels: Vec<PathBuf> = fs::read_dir(&out)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "whl"))
            .collect();
        match wheels.as_slice() {
            [one] => Ok(one.clone()),
            _ => Err(format!(
                "expected one wheel in {}, found {}",
                display_rel(&out),
                wheels.len()
            )
            .into()),
        }
    }
}

/// Installs `wheel` into the venv of `python`, over any earlier build of it
/// (its dependencies are the venv's business).
pub fn install_wheel(python: &Path, wheel: &Path) -> Result {
    run(pip_install(python)
        .args(["--force-reinstall", "--no-deps"])
        .arg(wheel))
}

/// `python -m pip install -q` (quiet, no version check): add what to install.
pub fn pip_install(python: &Path) -> Command {
    let mut cmd = Command::new(python);
    cmd.args(["-m", "pip", "install", "--disable-pip-version-check", "-q"]);
    cmd
}
