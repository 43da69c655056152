//! `cargo xtask third-party [--check]`: writes `pychrony-py/LICENSES-THIRD-PARTY.md`, the list of
//! what the pychrony wheel links statically (every crate of pychrony-py's normal dependency tree,
//! proc-macros excluded since they only run at build time, plus Rust's standard library), each
//! with its licence and the copyright lines of its MIT licence file. The wheel and the sdist carry
//! it (pyproject's `license-files`); the unit test below fails when it is not current.

use crate::util::{Result, bail, cargo, output};
use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;

const LIST: &str = "pychrony-py/LICENSES-THIRD-PARTY.md";

/// The list without its table rows and notices (a `{rows}` line and a `{notices}` line).
const TEMPLATE: &str = include_str!("../templates/LICENSES-THIRD-PARTY.md");

pub fn run_cli(args: &[String]) -> Result {
    let usage = "usage: cargo xtask third-party [--check]\n";
    let check = crate::util::Args::parse(args, usage, "--check")?.flag("--check");
    let changed = "a dependency changed";
    crate::util::write_or_check(LIST, &generate()?, check, "third-party", changed)
}

fn generate() -> Result<String> {
    let tree = "tree -p pychrony-py -e normal,no-proc-macro --prefix none --offline";
    let tree = output(cargo(tree).args(["--format", "{p}|{l}|{r}"]))?;
    // Per crate: version, licence, and where it comes from (`None`: this workspace).
    let mut crates: BTreeMap<&str, (&str, &str, Option<&str>)> = BTreeMap::new();
    for line in tree.lines().filter(|l| !l.trim().is_empty()) {
        let mut parts = line.splitn(3, '|');
        let (Some(package), Some(license)) = (parts.next(), parts.next()) else {
            bail!("unexpected `cargo tree` line: {line}");
        };
        let mut words = package.split_whitespace();
        let (Some(name), Some(version)) = (words.next(), words.next()) else {
            bail!("unexpected `cargo tree` package: {package}");
        };
        let repository = parts.next().unwrap_or("").trim().trim_end_matches(" (*)");
        let repository = (!package.contains(" (/")).then_some(repository);
        let version = version.trim_start_matches('v');
        let entry = (version, license.trim(), repository);
        crates.entry(name).or_insert(entry);
    }
    let (mut rows, mut notices) = (String::new(), String::new());
    for (name, (version, license, repository)) in crates {
        let source = repository.unwrap_or("this project");
        rows.push_str(&format!("| {name} | {version} | {license} | {source} |\n"));
        if repository.is_some() {
            let lines = copyright_lines(name, version);
            notices.push_str(&format!("- {name} {version}: {lines}\n"));
        }
    }
    let text = TEMPLATE.replace("{rows}\n", &rows);
    Ok(text.replace("{notices}\n", &notices))
}

/// The `Copyright` lines of a registry crate's MIT licence file, or a note when it has none.
fn copyright_lines(name: &str, version: &str) -> String {
    let files = ["LICENSE-MIT", "LICENSE-MIT.md", "LICENSE.md", "LICENSE"];
    let dir = crate_dir(name, version);
    let read = |f: &&str| fs::read_to_string(dir.as_ref()?.join(f)).ok();
    let Some(text) = files.iter().find_map(read) else {
        return "no MIT licence file in the crate; its licence text is LICENSE-MIT".to_string();
    };
    let lines = text.lines().map(str::trim);
    let lines: Vec<&str> = lines.filter(|l| l.starts_with("Copyright")).collect();
    if lines.is_empty() {
        return "its MIT licence names no copyright holder".to_string();
    }
    lines.join("; ")
}

fn crate_dir(name: &str, version: &str) -> Option<PathBuf> {
    let cargo_home = crate::util::home_dir("CARGO_HOME", ".cargo")?;
    let registries = fs::read_dir(cargo_home.join("registry/src")).ok()?;
    let dirs = registries.filter_map(|e| Some(e.ok()?.path().join(format!("{name}-{version}"))));
    dirs.into_iter().find(|d| d.is_dir())
}
