//! Unpacking chronyd and chronyc without installing anything (`cargo xtask chrony`, and the demo, CI's
//! install stage and test-wheels when no chrony is found): the writer of the version directories that
//! lookup ([`Chrony::find`]) reads, so the layout and its manifest are written down in this crate only.
//!
//! Downloads the distribution's `chrony` package with `apt-get download` (any user may: nothing is installed)
//! and unpacks it with `dpkg-deb -x` into `target/chrony/<version>/`, together with the `lib*` packages it
//! depends on (recursively) that the host does not have, then writes the manifest `chrony.env` that
//! chronyd-fixture reads and points `target/chrony/default` at the new directory. When the host's package
//! lists do not know `chrony` (a fresh root, a container with emptied lists), a private apt state under
//! `target/chrony/apt/` is updated and used instead, so neither root nor the system's lists are needed.
//! A second run checks what is there and does nothing.
//!
//! The layout leaves room for other versions (`target/chrony/<version>/` with its own manifest), which the
//! fixture uses through `CHRONY_DIR`.

use crate::programs::{CHRONY_DIR_ENV, Chrony, MANIFEST, Origin, unpacked_root};
use std::collections::{HashSet, VecDeque};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

pub(crate) type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

/// `path` relative to the workspace (for messages), or as it is.
pub(crate) fn display_rel(path: &Path) -> String {
    let workspace = unpacked_root().join("../..");
    let workspace = fs::canonicalize(&workspace).unwrap_or(workspace);
    path.strip_prefix(&workspace)
        .map_or_else(|_| path.display().to_string(), |p| p.display().to_string())
}

/// Runs `cmd`, echoed first as `$ program args`; fails on a non-zero exit.
pub(crate) fn run(cmd: &mut Command) -> Result {
    println!("$ {}", echo(cmd));
    let status = cmd
        .status()
        .map_err(|e| format!("cannot run {}: {e}", echo(cmd)))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{}` failed ({status})", echo(cmd)).into())
    }
}

/// The stdout of `cmd` (not echoed); fails on a non-zero exit, with its stderr.
pub(crate) fn output(cmd: &mut Command) -> Result<String> {
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run {}: {e}", echo(cmd)))?;
    if !out.status.success() {
        return Err(format!(
            "`{}` failed ({}): {}",
            echo(cmd),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )
        .into());
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

pub(crate) fn echo(cmd: &Command) -> String {
    let mut words = vec![cmd.get_program().to_string_lossy().into_owned()];
    words.extend(cmd.get_args().map(|a| a.to_string_lossy().into_owned()));
    words.join(" ")
}

const USAGE: &str = "\
usage: cargo xtask chrony [--check | --build SUITE]

Downloads the distribution's `chrony` package (apt-get download; root is not needed)
and unpacks it with dpkg-deb -x into target/chrony/<version>/ (target/chrony/default
points at it), with the lib* packages it depends on that this host lacks, so that
chronyd and chronyc run from there (checked with ldd and --version). Nothing is
installed or removed, no service is started, the clock is never touched. A second
run finds it done and does nothing.

The fixture uses, first match wins: CHRONY_DIR=DIR (a version directory), an installed
chronyd/chronyc (PATH, /usr/sbin, ...), then target/chrony/default.

options:
  --check          only print which chronyd and chronyc the fixture would use (fails if none)
  --build SUITE    build chronyd and chronyc from Debian's `chrony` source package of SUITE
                   (trixie: 4.6.1, sid: 4.9) into target/chrony/<version>/, for CHRONY_DIR;
                   target/chrony/default is left alone. apt-get source with a private apt
                   state in target/chrony/apt-src/, the tree and build in
                   target/chrony/src/<version>/, ./configure (NTS with gnutls and nettle; no
                   libcap, seccomp or editline) and make chronyd chronyc. Needs dpkg-dev,
                   gcc, libc6-dev, make, pkg-config, libgnutls28-dev and nettle-dev. A second
                   run finds the version built and does nothing.
";

/// `cargo xtask chrony [--check | --build SUITE]` (`args` excludes `chrony`).
pub fn run_cli(args: &[String]) -> Result {
    match args {
        [] => {
            let dir = provision()?;
            let chrony = Chrony::from_dir(&dir, Origin::Unpacked)?;
            println!("unpacked: {}", chrony.describe());
            match Chrony::find() {
                Ok(used) if used != chrony => println!(
                    "note: the fixture uses {} (it comes first in the lookup)",
                    used.describe()
                ),
                _ => {}
            }
            Ok(())
        }
        [flag] if flag == "--check" => {
            let chrony = Chrony::find()?;
            println!("the fixture uses {}", chrony.describe());
            println!("{}", verify(&chrony)?);
            Ok(())
        }
        [flag, suite] if flag == "--build" => {
            let dir = crate::source_build::build(suite)?;
            let chrony = Chrony::from_dir(&dir, Origin::Override)?;
            println!("ready: {}", chrony.describe());
            Ok(())
        }
        [flag] if flag == "-h" || flag == "--help" => {
            print!("{USAGE}");
            Ok(())
        }
        _ => Err(format!("unknown arguments {args:?}\n\n{USAGE}").into()),
    }
}

/// The chronyd and chronyc the fixture will use, unpacking Debian's package first when the lookup finds none.
pub fn ensure() -> Result<Chrony> {
    match Chrony::find() {
        Ok(chrony) => {
            verify(&chrony)?;
            Ok(chrony)
        }
        Err(e) if std::env::var_os(CHRONY_DIR_ENV).is_some() => Err(e.into()),
        Err(_) => {
            println!("no chronyd/chronyc found: unpacking the chrony package under target/chrony/");
            provision()?;
            let chrony = Chrony::find()?;
            verify(&chrony)?;
            Ok(chrony)
        }
    }
}

/// `target/chrony/default`, made when missing or unusable; returns the version directory it points at.
pub fn provision() -> Result<PathBuf> {
    let base = unpacked_root();
    let default = base.join("default");
    if let Ok(chrony) = Chrony::from_dir(&default, Origin::Unpacked) {
        match verify(&chrony) {
            Ok(version) => {
                let dir = fs::canonicalize(&default)?;
                println!(
                    "{} -> {} is ready ({version}): nothing to do",
                    display_rel(&default),
                    display_rel(&dir)
                );
                return Ok(dir);
            }
            Err(e) => println!(
                "{} is not usable ({e}): unpacking again",
                display_rel(&default)
            ),
        }
    }
    for tool in ["apt-get", "apt-cache", "dpkg-deb"] {
        if !on_path(tool) {
            return Err(format!(
                "`cargo xtask chrony` needs {tool} (Debian or Ubuntu); elsewhere install chrony, or set \
                 {CHRONY_DIR_ENV} to a directory holding chronyd and chronyc"
            )
            .into());
        }
    }
    fs::create_dir_all(&base)?;
    let apt = Apt::choose(&base, "chrony")?;
    let work = base.join(format!(".work-{}", std::process::id()));
    if work.exists() {
        fs::remove_dir_all(&work)?;
    }
    let (debs, tree) = (work.join("debs"), work.join("tree"));
    fs::create_dir_all(&debs)?;
    fs::create_dir_all(&tree)?;
    let result = unpack_all(&apt, &debs, &tree).and_then(|(version, unpacked)| {
        let dest = base.join(&version);
        if dest.exists() {
            fs::remove_dir_all(&dest)?;
        }
        fs::rename(&tree, &dest)?;
        let chrony = Chrony::from_dir(&dest, Origin::Unpacked)?;
        let checked = verify(&chrony)?;
        // Keep the packages (provenance, and for a look with dpkg-deb -I).
        let cache = base.join("debs");
        fs::create_dir_all(&cache)?;
        for deb in fs::read_dir(&debs)?.filter_map(|e| e.ok()) {
            fs::rename(deb.path(), cache.join(deb.file_name()))?;
        }
        // Point `default` at it atomically (a relative link: it also works under a bind mount elsewhere).
        let tmp = base.join(format!(".default-{}", std::process::id()));
        let _ = fs::remove_file(&tmp);
        std::os::unix::fs::symlink(&version, &tmp)?;
        fs::rename(&tmp, &default)?;
        println!(
            "unpacked {} into {} ({checked}); {} -> {version}. Nothing was installed.",
            unpacked.join(", "),
            display_rel(&dest),
            display_rel(&default)
        );
        Ok(dest)
    });
    let _ = fs::remove_dir_all(&work);
    result
}

/// Downloads and unpacks chrony and the missing `lib*` packages into `tree`; writes the manifest. Returns the
/// upstream version and the packages unpacked.
fn unpack_all(apt: &Apt, debs: &Path, tree: &Path) -> Result<(String, Vec<String>)> {
    let chrony = apt.download("chrony", debs)?;
    let full = deb_field(&chrony, "Version")?;
    let version = upstream_version(&full);
    run(Command::new("dpkg-deb").arg("-x").arg(&chrony).arg(tree))?;
    let mut unpacked = vec![format!("chrony {full}")];
    let mut seen = HashSet::new();
    let mut queue: VecDeque<String> = missing_lib_depends(&chrony)?.into();
    while let Some(pkg) = queue.pop_front() {
        if !seen.insert(pkg.clone()) {
            continue;
        }
        let deb = apt.download(&pkg, debs)?;
        run(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(tree))?;
        unpacked.push(format!("{pkg} {}", deb_field(&deb, "Version")?));
        queue.extend(missing_lib_depends(&deb)?);
    }
    let libs = library_dirs(tree)?;
    let find = |name: &str| {
        ["usr/sbin", "usr/bin", "sbin", "bin"]
            .iter()
            .map(|d| format!("{d}/{name}"))
            .find(|p| tree.join(p).is_file())
            .ok_or_else(|| format!("the chrony package {full} has no {name}"))
    };
    let manifest = format!(
        "# Written by `cargo xtask chrony`: the distribution's chrony package and the lib* packages this host\n\
         # lacked, unpacked with dpkg-deb -x (nothing installed). Paths are relative to this directory.\n\
         VERSION={version}\n\
         PACKAGES={}\n\
         CHRONYD={}\n\
         CHRONYC={}\n\
         LIBRARY_PATH={}\n",
        unpacked.join(", "),
        find("chronyd")?,
        find("chronyc")?,
        libs.join(":")
    );
    fs::write(tree.join(MANIFEST), manifest)?;
    Ok((version, unpacked))
}

/// chronyd and chronyc load all their libraries (ldd) and run (`--version`); returns chronyd's version line.
pub fn verify(chrony: &Chrony) -> Result<String> {
    if on_path("ldd") {
        for program in [&chrony.chronyd, &chrony.chronyc] {
            let mut ldd = Command::new("ldd");
            ldd.arg(program);
            chrony.apply_env(&mut ldd);
            let out = output(&mut ldd)?;
            let missing: Vec<&str> = out.lines().filter(|l| l.contains("not found")).collect();
            if !missing.is_empty() {
                return Err(
                    format!("{} cannot load: {}", program.display(), missing.join("; ")).into(),
                );
            }
        }
    }
    let mut chronyc = chrony.chronyc_command();
    output(chronyc.arg("--version"))?;
    let mut chronyd = chrony.chronyd_command();
    let version = output(chronyd.arg("--version"))?;
    Ok(version.lines().next().unwrap_or("").trim().to_string())
}

/// apt-get and apt-cache, on the system's package lists or on a private state under target/chrony/apt.
struct Apt {
    options: Vec<String>,
}

impl Apt {
    /// The system's lists when they know `pkg`; otherwise a private state, updated now.
    fn choose(base: &Path, pkg: &str) -> Result<Apt> {
        let mut options = vec!["-q".to_string()];
        if is_root() {
            // target/ may be under a private home the _apt sandbox user cannot write to; apt would fall back
            // to this anyway, with a warning per file.
            options.extend(["-o".into(), "APT::Sandbox::User=root".into()]);
        }
        let system = Apt {
            options: options.clone(),
        };
        if system.knows(pkg) {
            println!("the system's package lists know `{pkg}`");
            return Ok(system);
        }
        let state = base.join("apt");
        let lists = state.join("lists");
        let cache = state.join("cache");
        fs::create_dir_all(lists.join("partial"))?;
        fs::create_dir_all(cache.join("archives/partial"))?;
        options.extend([
            "-o".into(),
            format!("Dir::State::Lists={}", lists.display()),
            "-o".into(),
            format!("Dir::Cache={}", cache.display()),
            "-o".into(),
            "Debug::NoLocking=1".into(),
            // As in source_build: a snapshot mirror's Release may be past its date; signatures are still checked.
            "-o".into(),
            "Acquire::Check-Valid-Until=false".into(),
        ]);
        let private = Apt { options };
        if !private.knows(pkg) {
            println!(
                "the system's package lists do not know `{pkg}`: updating a private apt state in {}",
                display_rel(&state)
            );
            run(private.get().arg("update"))?;
        }
        if !private.knows(pkg) {
            return Err(format!(
                "no apt source of this host provides the package `{pkg}` \
                 (see /etc/apt/sources.list and /etc/apt/sources.list.d/)"
            )
            .into());
        }
        Ok(private)
    }

    fn get(&self) -> Command {
        let mut cmd = Command::new("apt-get");
        cmd.args(&self.options);
        cmd
    }

    fn knows(&self, pkg: &str) -> bool {
        Command::new("apt-cache")
            .args(&self.options)
            .args(["show", "--no-all-versions", pkg])
            .stderr(std::process::Stdio::null())
            .output()
            .is_ok_and(|o| {
                o.status.success() && String::from_utf8_lossy(&o.stdout).contains("Package:")
            })
    }

    /// `apt-get download PKG` into `dir`; the .deb it wrote.
    fn download(&self, pkg: &str, dir: &Path) -> Result<PathBuf> {
        let before: HashSet<PathBuf> = debs_in(dir)?.into_iter().collect();
        run(self.get().current_dir(dir).args(["download", pkg]))?;
        let new: Vec<PathBuf> = debs_in(dir)?
            .into_iter()
            .filter(|p| !before.contains(p))
            .collect();
        match new.as_slice() {
            [one] => Ok(one.clone()),
            _ => Err(format!(
                "`apt-get download {pkg}` left {} new .deb files in {}",
                new.len(),
                display_rel(dir)
            )
            .into()),
        }
    }
}

/// `apt-get download PKG` into `dir` (any user may: nothing is installed), on the system's package lists or,
/// when they do not know `pkg`, on the private apt state chrony's unpacking uses (target/chrony/apt); returns
/// the .deb. For other programs the tests run unpacked, e.g. `cargo xtask prometheus`.
pub fn download_deb(pkg: &str, dir: &Path) -> Result<PathBuf> {
    let base = unpacked_root();
    fs::create_dir_all(&base)?;
    Apt::choose(&base, pkg)?.download(pkg, dir)
}

fn debs_in(dir: &Path) -> Result<Vec<PathBuf>> {
    Ok(fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "deb"))
        .collect())
}

fn deb_field(deb: &Path, field: &str) -> Result<String> {
    Ok(
        output(Command::new("dpkg-deb").arg("-f").arg(deb).arg(field))?
            .trim()
            .to_string(),
    )
}

/// `1:4.3-2+deb12u3` -> `4.3`: no epoch, no Debian revision.
pub(crate) fn upstream_version(full: &str) -> String {
    let no_epoch = full.split_once(':').map_or(full, |(_, v)| v);
    no_epoch
        .rsplit_once('-')
        .map_or(no_epoch, |(v, _)| v)
        .to_string()
}

/// The `lib*` packages among a package's Depends and Pre-Depends that the host does not have installed.
fn missing_lib_depends(deb: &Path) -> Result<Vec<String>> {
    let mut deps = deb_field(deb, "Pre-Depends")?;
    deps.push_str(", ");
    deps.push_str(&deb_field(deb, "Depends")?);
    Ok(lib_alternatives(&deps)
        .into_iter()
        .filter(|alternatives| !alternatives.iter().any(|p| dpkg_installed(p)))
        .filter_map(|alternatives| alternatives.into_iter().next())
        .collect())
}

/// The dependency groups whose first alternative is a `lib*` package, as package names (versions and
/// architecture qualifiers dropped).
fn lib_alternatives(field: &str) -> Vec<Vec<String>> {
    field
        .split(',')
        .map(|group| {
            group
                .split('|')
                .filter_map(|alt| alt.split_whitespace().next())
                .map(|name| name.split(':').next().unwrap_or(name).to_string())
                .filter(|name| !name.is_empty())
                .collect::<Vec<String>>()
        })
        .filter(|alts| alts.first().is_some_and(|n| n.starts_with("lib")))
        .collect()
}

/// Installed on the host, per dpkg (`dpkg -s` also succeeds for removed packages, so read the status).
fn dpkg_installed(pkg: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${db:Status-Status}\\n", pkg])
        .stderr(std::process::Stdio::null())
        .output()
        .is_ok_and(|o| {
            o.status.success()
                && String::from_utf8_lossy(&o.stdout)
                    .lines()
                    .any(|l| l == "installed")
        })
}

/// The directories of `tree` (relative) that hold shared libraries.
fn library_dirs(tree: &Path) -> Result<Vec<String>> {
    fn walk(dir: &Path, tree: &Path, found: &mut Vec<String>) -> Result {
        let mut has_lib = false;
        let mut entries: Vec<_> = fs::read_dir(dir)?.filter_map(|e| e.ok()).collect();
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let kind = entry.file_type()?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if kind.is_dir() {
                walk(&entry.path(), tree, found)?;
            } else if name.contains(".so") {
                has_lib = true;
            }
        }
        if has_lib {
            let rel = dir.strip_prefix(tree).unwrap_or(dir);
            found.push(rel.display().to_string());
        }
        Ok(())
    }
    let mut found = Vec::new();
    walk(tree, tree, &mut found)?;
    Ok(found)
}

/// Whether `program` is a file in one of PATH's directories.
pub fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
}

/// Whether this process runs as root (apt's sandbox user is then set to root).
pub fn is_root() -> bool {
    output(Command::new("id").arg("-u")).is_ok_and(|uid| uid.trim() == "0")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_versions() {
        assert_eq!(upstream_version("4.3-2+deb12u3"), "4.3");
        assert_eq!(upstream_version("1:4.6.1-3+deb13u2"), "4.6.1");
        assert_eq!(upstream_version("4.9"), "4.9");
    }

    #[test]
    fn only_lib_groups_count() {
        let deps = "adduser, iproute2, libc6 (>= 2.34), libcap2 (>= 1:2.10), libfoo1:any | libbar2, \
                    tzdata | tzdata-legacy";
        assert_eq!(
            lib_alternatives(deps),
            vec![
                vec!["libc6".to_string()],
                vec!["libcap2".to_string()],
                vec!["libfoo1".to_string(), "libbar2".to_string()],
            ]
        );
        assert!(lib_alternatives("").is_empty());
    }
}
