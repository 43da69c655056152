//! Which chronyd and chronyc the fixture runs, and how.
//!
//! Lookup order, first match wins (see [`Chrony::find`]):
//! 1. `CHRONY_DIR` ([`CHRONY_DIR_ENV`]) set: the chronyd and chronyc of that version directory, and nothing
//!    else (a wrong directory is an error, never a silent fall-back);
//! 2. an installed chronyd and chronyc: PATH, then /usr/sbin, /usr/bin, /sbin, /bin, /usr/local/{sbin,bin};
//! 3. the version directory `cargo xtask chrony` unpacked Debian's package into: `<workspace>/target/chrony/default`
//!    (a symlink to `target/chrony/<version>/`).
//!
//! A version directory holds a manifest `chrony.env` ([`MANIFEST`]) of `KEY=VALUE` lines, paths relative to the
//! directory: `CHRONYD=usr/sbin/chronyd`, `CHRONYC=usr/bin/chronyc`, and `LIBRARY_PATH=dir:dir` when the programs
//! need libraries unpacked next to them (the fixture then sets `LD_LIBRARY_PATH` for the processes it starts).
//! Without a manifest, chronyd and chronyc are looked for in the directory itself and in its `bin`, `sbin`,
//! `usr/bin`, `usr/sbin`, `usr/local/bin` and `usr/local/sbin` (a build directory or an install prefix).

use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The environment variable that points the fixture at one version directory.
pub const CHRONY_DIR_ENV: &str = "CHRONY_DIR";

/// The manifest file of a version directory.
pub const MANIFEST: &str = "chrony.env";

/// The system directories searched after PATH (a non-root PATH may lack the sbin ones).
const SYSTEM_DIRS: [&str; 6] = [
    "/usr/sbin",
    "/usr/bin",
    "/sbin",
    "/bin",
    "/usr/local/sbin",
    "/usr/local/bin",
];

/// Subdirectories of a version directory without a manifest that may hold chronyd and chronyc.
const VERSION_SUBDIRS: [&str; 7] = [
    "",
    "bin",
    "sbin",
    "usr/bin",
    "usr/sbin",
    "usr/local/bin",
    "usr/local/sbin",
];

/// Where a [`Chrony`] was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The directory named by `CHRONY_DIR`.
    Override,
    /// An installed chrony (PATH or the system directories).
    Installed,
    /// The package `cargo xtask chrony` unpacked under the workspace's `target/chrony/`.
    Unpacked,
}

/// A chronyd and a chronyc to run, with the library directories they need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chrony {
    /// Absolute path of chronyd.
    pub chronyd: PathBuf,
    /// Absolute path of chronyc.
    pub chronyc: PathBuf,
    /// Directories to put first on `LD_LIBRARY_PATH` (empty: none needed).
    pub library_path: Vec<PathBuf>,
    /// Where they were found.
    pub origin: Origin,
    /// The version directory (not for [`Origin::Installed`]).
    pub dir: Option<PathBuf>,
}

/// The directory `cargo xtask chrony` unpacks versions into: `<workspace>/target/chrony` (the workspace's own
/// `target/`, whatever `CARGO_TARGET_DIR` a build uses).
pub fn unpacked_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("chronyd-fixture is inside the workspace")
        .join("target/chrony")
}

/// The version directory the lookup falls back to: `<workspace>/target/chrony/default`.
pub fn default_unpacked_dir() -> PathBuf {
    unpacked_root().join("default")
}

/// The path of `name`: PATH first, then the usual system directories.
pub(crate) fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .filter(|d| d.is_absolute())
        .chain(SYSTEM_DIRS.map(PathBuf::from))
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// `find_program(name)`, or the bare name (so the spawn error names what is missing).
pub(crate) fn program(name: &str) -> PathBuf {
    find_program(name).unwrap_or_else(|| name.into())
}

impl Chrony {
    /// The chronyd and chronyc the fixture uses now (the lookup order is in the module docs). The error says
    /// what was tried and which command provides them.
    pub fn find() -> io::Result<Chrony> {
        lookup(
            std::env::var_os(CHRONY_DIR_ENV),
            find_program,
            &default_unpacked_dir(),
        )
    }

    /// The chronyd and chronyc of the version directory `dir` (its manifest, or a search of its usual
    /// subdirectories).
    pub fn from_dir(dir: &Path, origin: Origin) -> io::Result<Chrony> {
        if !dir.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("{} is not a directory", dir.display()),
            ));
        }
        // Canonical: `target/chrony/default` is a symlink, and /proc/PID/exe shows resolved paths.
        let dir = std::fs::canonicalize(dir)?;
        let manifest = dir.join(MANIFEST);
        let (chronyd, chronyc, library_path) = match std::fs::read_to_string(&manifest) {
            Ok(text) => {
                let value = |key: &str| {
                    text.lines()
                        .filter_map(|l| l.split_once('='))
                        .find(|(k, _)| k.trim() == key)
                        .map(|(_, v)| v.trim().to_string())
                };
                let path = |key: &str| -> io::Result<PathBuf> {
                    value(key)
                        .filter(|v| !v.is_empty())
                        .map(|v| dir.join(v))
                        .ok_or_else(|| {
                            io::Error::new(
                                io::ErrorKind::InvalidData,
                                format!("{} has no {key}= line", manifest.display()),
                            )
                        })
                };
                let libs = value("LIBRARY_PATH").unwrap_or_default();
                let libs = std::env::split_paths(&libs)
                    .filter(|p| !p.as_os_str().is_empty())
                    .map(|p| dir.join(p))
                    .collect();
                (path("CHRONYD")?, path("CHRONYC")?, libs)
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let find = |name: &str| {
                    VERSION_SUBDIRS
                        .iter()
                        .map(|sub| dir.join(sub).join(name))
                        .find(|p| p.is_file())
                        .unwrap_or_else(|| dir.join(name))
                };
                (find("chronyd"), find("chronyc"), Vec::new())
            }
            Err(e) => {
                return Err(io::Error::new(
                    e.kind(),
                    format!("cannot read {}: {e}", manifest.display()),
                ));
            }
        };
        for p in [&chronyd, &chronyc] {
            if !p.is_file() {
                return Err(io::Error::new(
                    io::ErrorKind::NotFound,
                    format!("{} does not exist", p.display()),
                ));
            }
        }
        Ok(Chrony {
            chronyd,
            chronyc,
            library_path,
            origin,
            dir: Some(dir),
        })
    }

    /// `LD_LIBRARY_PATH` for processes running these programs: [`Chrony::library_path`] first, then the
    /// current value. `None` when no library directory is needed (the variable is then left alone).
    pub fn ld_library_path(&self) -> Option<OsString> {
        if self.library_path.is_empty() {
            return None;
        }
        let mut dirs = self.library_path.clone();
        if let Some(old) = std::env::var_os("LD_LIBRARY_PATH") {
            dirs.extend(std::env::split_paths(&old).filter(|p| !p.as_os_str().is_empty()));
        }
        Some(std::env::join_paths(dirs).unwrap_or_default())
    }

    /// Sets `LD_LIBRARY_PATH` on `cmd` when these programs need it.
    pub fn apply_env(&self, cmd: &mut Command) {
        if let Some(path) = self.ld_library_path() {
            cmd.env("LD_LIBRARY_PATH", path);
        }
    }

    /// A `Command` for chronyd, with the environment it needs.
    pub fn chronyd_command(&self) -> Command {
        let mut cmd = Command::new(&self.chronyd);
        self.apply_env(&mut cmd);
        cmd
    }

    /// A `Command` for chronyc, with the environment it needs.
    pub fn chronyc_command(&self) -> Command {
        let mut cmd = Command::new(&self.chronyc);
        self.apply_env(&mut cmd);
        cmd
    }

    /// chronyd's version as (major, minor), from `chronyd -v` ("chronyd (chrony) version 4.6.1 (+CMDMON ...)"):
    /// for tests whose expectations differ between versions (reply layouts, defaults).
    pub fn version(&self) -> io::Result<(u32, u32)> {
        let out = self.chronyd_command().arg("-v").output()?;
        let text = String::from_utf8_lossy(&out.stdout);
        let bad = || io::Error::other(format!("no version in `chronyd -v`: {text:?}"));
        let word = text
            .split_whitespace()
            .skip_while(|w| *w != "version")
            .nth(1);
        let mut parts = word.ok_or_else(bad)?.split(['.', '-']);
        let mut next = || {
            parts
                .next()
                .and_then(|p| p.parse::<u32>().ok())
                .ok_or_else(bad)
        };
        Ok((next()?, next()?))
    }

    /// One line for logs: the two paths and where they come from.
    pub fn describe(&self) -> String {
        let from = match (self.origin, &self.dir) {
            (Origin::Override, Some(d)) => format!("{CHRONY_DIR_ENV}={}", d.display()),
            (Origin::Unpacked, Some(d)) => format!("unpacked in {}", d.display()),
            _ => "installed".to_string(),
        };
        let mut line = format!(
            "{} and {} ({from})",
            self.chronyd.display(),
            self.chronyc.display()
        );
        if !self.library_path.is_empty() {
            let libs: Vec<String> = self
                .library_path
                .iter()
                .map(|p| p.display().to_string())
                .collect();
            line.push_str(&format!(", libraries from {}", libs.join(":")));
        }
        line
    }
}

/// The lookup with its inputs spelled out (for tests): the override's value, how to find an installed program,
/// and the version directory `cargo xtask chrony` provides.
fn lookup(
    override_dir: Option<OsString>,
    installed: impl Fn(&str) -> Option<PathBuf>,
    unpacked: &Path,
) -> io::Result<Chrony> {
    if let Some(dir) = override_dir.filter(|d| !d.is_empty()) {
        let dir = PathBuf::from(dir);
        return Chrony::from_dir(&dir, Origin::Override).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!(
                    "{CHRONY_DIR_ENV}={} holds no usable chronyd and chronyc: {e} (unset it to use an \
                     installed chrony or the one `cargo xtask chrony` unpacks)",
                    dir.display()
                ),
            )
        });
    }
    if let (Some(chronyd), Some(chronyc)) = (installed("chronyd"), installed("chronyc")) {
        return Ok(Chrony {
            chronyd,
            chronyc,
            library_path: Vec::new(),
            origin: Origin::Installed,
            dir: None,
        });
    }
    Chrony::from_dir(unpacked, Origin::Unpacked).map_err(|e| {
        io::Error::new(
            io::ErrorKind::NotFound,
            format!(
                "chronyd and chronyc not found: {CHRONY_DIR_ENV} is not set, chrony is not installed (PATH, \
                 {}), and nothing usable is unpacked at {} ({e}). Run `cargo xtask chrony`: it downloads \
                 Debian's chrony package and unpacks it under target/chrony/ (nothing is installed); or set \
                 {CHRONY_DIR_ENV} to a directory holding chronyd and chronyc",
                SYSTEM_DIRS.join(", "),
                unpacked.display()
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    /// A version directory with empty "programs" (never run here) and an optional manifest.
    fn version_dir(tag: &str, manifest: Option<&str>) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("chrprog.{tag}.{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("usr/sbin")).unwrap();
        std::fs::create_dir_all(dir.join("usr/bin")).unwrap();
        for p in ["usr/sbin/chronyd", "usr/bin/chronyc"] {
            std::fs::write(dir.join(p), "").unwrap();
            std::fs::set_permissions(dir.join(p), std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        if let Some(m) = manifest {
            std::fs::write(dir.join(MANIFEST), m).unwrap();
        }
        dir
    }

    fn installed(name: &str) -> Option<PathBuf> {
        Some(PathBuf::from(format!("/usr/sbin/{name}")))
    }

    fn nothing_installed(_: &str) -> Option<PathBuf> {
        None
    }

    #[test]
    fn the_override_wins_over_an_installed_chrony() {
        let dir = version_dir("override", None);
        let c = lookup(
            Some(dir.clone().into()),
            installed,
            Path::new("/nonexistent"),
        )
        .unwrap();
        assert_eq!(c.origin, Origin::Override);
        assert_eq!(c.chronyd, dir.join("usr/sbin/chronyd"));
        assert_eq!(c.chronyc, dir.join("usr/bin/chronyc"));
        assert!(c.library_path.is_empty() && c.ld_library_path().is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_wrong_override_is_an_error_not_a_fall_back() {
        let e = lookup(
            Some("/nonexistent-chrony-dir".into()),
            installed,
            Path::new("/nonexistent"),
        )
        .unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("CHRONY_DIR=/nonexistent-chrony-dir"), "{msg}");
    }

    #[test]
    fn installed_wins_over_unpacked_and_unpacked_comes_last() {
        let dir = version_dir(
            "unpacked",
            Some(
                "CHRONYD=usr/sbin/chronyd\nCHRONYC=usr/bin/chronyc\nLIBRARY_PATH=lib/a:usr/lib/b\n",
            ),
        );
        let c = lookup(None, installed, &dir).unwrap();
        assert_eq!(c.origin, Origin::Installed);
        assert_eq!(c.chronyd, PathBuf::from("/usr/sbin/chronyd"));
        // An empty override counts as unset.
        let c = lookup(Some("".into()), nothing_installed, &dir).unwrap();
        assert_eq!(c.origin, Origin::Unpacked);
        assert_eq!(c.library_path, [dir.join("lib/a"), dir.join("usr/lib/b")]);
        let ld = c.ld_library_path().unwrap();
        assert!(
            ld.to_string_lossy()
                .starts_with(&format!("{}:", dir.join("lib/a").display())),
            "{ld:?}"
        );
        // Only one of the two installed: not an installed chrony.
        let c = lookup(
            None,
            |n: &str| (n == "chronyc").then(|| PathBuf::from("/usr/bin/chronyc")),
            &dir,
        )
        .unwrap();
        assert_eq!(c.origin, Origin::Unpacked);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn nothing_found_names_the_command_to_run() {
        let msg = lookup(None, nothing_installed, Path::new("/nonexistent/default"))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("cargo xtask chrony"), "{msg}");
        assert!(msg.contains("CHRONY_DIR"), "{msg}");
    }

    #[test]
    fn a_manifest_without_chronyd_is_an_error() {
        let dir = version_dir("bad", Some("CHRONYC=usr/bin/chronyc\n"));
        let msg = Chrony::from_dir(&dir, Origin::Override)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("no CHRONYD="), "{msg}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
