//! `cargo xtask build-wheels` and `cargo xtask test-wheels`: the release
//! artifacts of the Python package, built the way users get them and tested
//! after installing them.
//!
//! build-wheels: an abi3 wheel (CPython >= 3.10) for manylinux2014 x86_64,
//! linked by `zig cc` against glibc 2.17 (no Docker: zig comes from the
//! `ziglang` package on PyPI, which maturin runs as `python -m ziglang` from the
//! venv first on PATH), and the sdist; both checked with `auditwheel show` and
//! `twine check --strict`.
//!
//! test-wheels: the wheel installed into a fresh venv and the Python suite run
//! against it; the sdist built from scratch by pip in another fresh venv and
//! smoke-tested against a fixture chronyd.

use crate::pyenv::{pip_install, with_venv};
use crate::python;
use crate::util::{Result, display_rel, output, root, run};
use chronyd_fixture::{Fixture, Mode};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The venv with the build and check tools, relative to the workspace root.
const VENV: &str = "target/wheels-venv";
/// Pinned: maturin as in the ci venv; zig 0.17 (0.14 and 0.15 make the cc crate warn about
/// the glibc-versioned target triple).
const TOOLS: &[&str] = &[
    "maturin==1.16.0",
    "ziglang==0.17.1",
    "auditwheel==6.8.2",
    "twine==7.0.0",
];
/// Where the wheel and the sdist go (emptied by build-wheels).
const OUT: &str = "target/wheels";
/// The fresh venvs of test-wheels, and the sdist build's cargo target dir.
const TEST_DIR: &str = "target/test-wheels";
/// The one platform built here; the release workflow builds the others.
const TARGET: &str = "x86_64-unknown-linux-gnu";
/// What `auditwheel show` must find the wheel consistent with (manylinux2014).
const PLATFORM_TAG: &str = "manylinux_2_17_x86_64";
// ---- commands ----------------------------------------------------------------

pub fn build_cli(args: &[String]) -> Result {
    if !args.is_empty() {
        return Err("usage: cargo xtask build-wheels".into());
    }
    let artifacts = build()?;
    println!(
        "\nbuilt and checked:\n  {} ({})\n  {} ({})",
        display_rel(&artifacts.wheel),
        size_text(&artifacts.wheel)?,
        display_rel(&artifacts.sdist),
        size_text(&artifacts.sdist)?
    );
    Ok(())
}

pub fn test_cli(args: &[String]) -> Result {
    if !args.is_empty() {
        return Err(
            "usage: cargo xtask test-wheels   (builds them first when target/wheels is empty)"
                .into(),
        );
    }
    let artifacts = match Artifacts::find(&root().join(OUT)) {
        Ok(found) => {
            println!(
                "testing {} and {} (run `cargo xtask build-wheels` to rebuild them)",
                display_rel(&found.wheel),
                display_rel(&found.sdist)
            );
            found
        }
        Err(_) => build()?,
    };
    test(&artifacts)
}

// ---- build-wheels ------------------------------------------------------------

struct Artifacts {
    wheel: PathBuf,
    sdist: PathBuf,
}

impl Artifacts {
    /// Exactly one wheel and one sdist in `dir`.
    fn find(dir: &Path) -> Result<Artifacts> {
        let files: Vec<PathBuf> = match fs::read_dir(dir) {
            Ok(entries) => entries.filter_map(|e| e.ok().map(|e| e.path())).collect(),
            Err(e) => return Err(format!("cannot read {}: {e}", display_rel(dir)).into()),
        };
        let pick = |suffix: &str| -> Result<PathBuf> {
            let found: Vec<&PathBuf> = files
                .iter()
                .filter(|p| p.to_string_lossy().ends_with(suffix))
                .collect();
            match found.as_slice() {
                [one] => Ok((*one).clone()),
                _ => Err(format!(
                    "expected one *{suffix} in {}, found {}",
                    display_rel(dir),
                    found.len()
                )
                .into()),
            }
        };
        Ok(Artifacts {
            wheel: pick(".whl")?,
            sdist: pick(".tar.gz")?,
        })
    }
}

fn build() -> Result<Artifacts> {
    if std::env::consts::ARCH != "x86_64" {
        return Err(format!(
            "build-wheels makes the {TARGET} wheel and runs on x86_64 hosts only (this is {}); \
             the release workflow builds the other platforms",
            std::env::consts::ARCH
        )
        .into());
    }
    let root = root();
    let pkg = root.join("pychrony-py");
    let python = crate::pyenv::venv(VENV, TOOLS)?;
    let bin = python.parent().expect("venv/bin").to_path_buf();
    let out = root.join(OUT);
    if out.exists() {
        fs::remove_dir_all(&out)?;
    }

    // 1. The wheel: release profile, zig as the linker and C compiler, glibc 2.17.
    run(with_venv(Command::new(bin.join("maturin")), &bin)
        .current_dir(&pkg)
        .args([
            "build",
            "--release",
            "--zig",
            "--compatibility",
            "manylinux2014",
            "--target",
            TARGET,
            "--out",
        ])
        .arg(&out))?;
    // 2. The sdist.
    run(with_venv(Command::new(bin.join("maturin")), &bin)
        .current_dir(&pkg)
        .args(["sdist", "--out"])
        .arg(&out))?;
    let artifacts = Artifacts::find(&out)?;

    // 3. The checks.
    check_wheel_name(&artifacts.wheel)?;
    let shown = output(
        with_venv(Command::new(bin.join("auditwheel")), &bin)
            .arg("show")
            .arg(&artifacts.wheel),
    )?;
    print!("{shown}");
    if !shown.contains(PLATFORM_TAG) {
        return Err(format!(
            "auditwheel does not find {} consistent with {PLATFORM_TAG} (manylinux2014)",
            display_rel(&artifacts.wheel)
        )
        .into());
    }
    check_sdist_contents(&artifacts.sdist)?;
    run(with_venv(Command::new(bin.join("twine")), &bin)
        .args(["check", "--strict"])
        .arg(&artifacts.wheel)
        .arg(&artifacts.sdist))?;
    Ok(artifacts)
}

/// `pychrony-<v>-cp310-abi3-<platform>.whl`: one wheel for CPython 3.10 and later.
fn check_wheel_name(wheel: &Path) -> Result {
    let name = wheel
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if name.starts_with("pychrony-") && name.contains("-cp310-abi3-") && name.contains(PLATFORM_TAG)
    {
        println!("wheel tags ok: {name}");
        Ok(())
    } else {
        Err(
            format!("unexpected wheel name {name}: want pychrony-*-cp310-abi3-{PLATFORM_TAG}*")
                .into(),
        )
    }
}

/// The sdist must build from scratch: it needs the C sources and both crates below pychrony-py.
fn check_sdist_contents(sdist: &Path) -> Result {
    let listing = output(Command::new("tar").arg("tzf").arg(sdist))?;
    let needed = [
        "/pyproject.toml",
        "/libchrony-sys/csrc/chrony.h",
        "/libchrony-sys/build.rs",
        "/libchrony-sys/src/bindings.rs",
        "/chrony-core/src/lib.rs",
        "/python/pychrony/__init__.py",
        "/python/pychrony/py.typed",
        "/Cargo.lock",
        "/LICENSE-MIT",
        "/LICENSE-APACHE",
        "/LICENSES-THIRD-PARTY.md",
    ];
    let missing: Vec<&str> = needed
        .iter()
        .copied()
        .filter(|want| !listing.lines().any(|l| l.ends_with(want)))
        .collect();
    if missing.is_empty() {
        println!(
            "sdist holds the C sources and the crates ({} files)",
            listing.lines().count()
        );
        Ok(())
    } else {
        Err(format!(
            "{} lacks {}: it would not build from scratch",
            display_rel(sdist),
            missing.join(", ")
        )
        .into())
    }
}

// ---- test-wheels -------------------------------------------------------------

fn test(artifacts: &Artifacts) -> Result {
    let root = root();
    let xtask_bin = std::env::current_exe()?;
    // The suite runs real chronyd daemons: an installed chrony, or Debian's package unpacked under target/.
    let chrony = chronyd_fixture::unpack::ensure()?;
    println!("chronyd: {}", chrony.describe());
    let base_python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    let dir = root.join(TEST_DIR);
    fs::create_dir_all(&dir)?;

    // 1. The wheel in a fresh venv; the whole Python suite against the installed package.
    println!("\n==== wheel: fresh venv, pip install, pytest");
    let venv = fresh_venv(&base_python, &dir.join("wheel-venv"))?;
    let test_tools: Vec<&str> = python::TOOLS
        .iter()
        .copied()
        .filter(|t| !t.starts_with("maturin"))
        .collect();
    run(pip_install(&venv).arg(&artifacts.wheel).args(&test_tools))?;
    let bin = venv.parent().expect("venv/bin").to_path_buf();
    run(with_venv(Command::new(&venv), &bin)
        .current_dir(&root)
        .env("XTASK_BIN", &xtask_bin)
        // The system-libchrony wheel is the ci `python` stage's subject, not a release artifact.
        .env("PYCHRONY_SKIP_SYSTEM_BUILD", "1")
        .args(["-m", "pytest", "-p", "no:cacheprovider"])
        .arg(root.join("pychrony-py/tests")))?;

    // One fixture chronyd for the smoke tests below; dropped (stopped) at the end.
    let fixture =
        Fixture::start(Mode::Synced).map_err(|e| format!("cannot start a fixture chronyd: {e}"))?;
    let socket = fixture.socket_path();
    let udp = fixture.udp_v4();

    // 2. The same wheel under other interpreters, to show the abi3 tag holds.
    for other in extra_pythons(&base_python) {
        println!("\n==== wheel under {other}: fresh venv, pip install, smoke test");
        let name = Path::new(&other)
            .file_name()
            .map_or("other".into(), |n| n.to_string_lossy().into_owned());
        let venv = fresh_venv(&other, &dir.join(format!("wheel-venv-{name}")))?;
        run(pip_install(&venv).arg(&artifacts.wheel))?;
        smoke(&venv, &socket, &udp)?;
    }

    // 3. The sdist, built from scratch by pip in a fresh venv, then the smoke test.
    println!("\n==== sdist: fresh venv, pip install (a release build from source), smoke test");
    let venv = fresh_venv(&base_python, &dir.join("sdist-venv"))?;
    run(Command::new(&venv)
        // A kept target dir makes repeated runs cheaper; the sources still come from the sdist.
        .env("CARGO_TARGET_DIR", dir.join("sdist-target"))
        .args([
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "--no-cache-dir",
            "-q",
        ])
        .arg(&artifacts.sdist))?;
    smoke(&venv, &socket, &udp)?;
    drop(fixture);

    println!(
        "\ntest-wheels: {} passed the Python suite; {} built from source and passed the smoke test",
        display_rel(&artifacts.wheel),
        display_rel(&artifacts.sdist)
    );
    Ok(())
}

/// Imports, the contract's names, a clean -2 for a missing socket, and real
/// reports from the fixture over the unix socket and UDP. Written to
/// `target/test-wheels/smoke.py`.
/// pychrony-py/tests/smoke.py: the installed package against the fixture.
fn smoke(python: &Path, socket: &Path, udp: &str) -> Result {
    run(Command::new(python)
        // Away from the source tree, so only the installed package can be imported.
        .current_dir(std::env::temp_dir())
        .arg(root().join("pychrony-py/tests/smoke.py"))
        .arg(socket)
        .arg(udp))
}

/// Interpreters besides the main one, each to `pip install` the wheel into its
/// own venv: `TEST_WHEELS_PYTHONS` (':'-separated), else the oldest supported
/// and a newer CPython at hand (3.10 and 3.13, from pyenv, /usr/bin or
/// /usr/local/bin), skipping any with the main interpreter's version.
fn extra_pythons(base: &str) -> Vec<String> {
    let version = |py: &str| {
        output(Command::new(py).args(["-c", "import sys; print(sys.version_info[:2])"])).ok()
    };
    let base_version = version(base);
    let candidates: Vec<String> = match std::env::var("TEST_WHEELS_PYTHONS") {
        Ok(list) => list
            .split(':')
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect(),
        Err(_) => ["3.10", "3.13"]
            .iter()
            .filter_map(|v| find_python(v))
            .collect(),
    };
    candidates
        .into_iter()
        .filter(|py| match version(py) {
            Some(v) => Some(&v) != base_version.as_ref(),
            None => false,
        })
        .collect()
}

/// `python3.N` from pyenv's versions, /usr/bin or /usr/local/bin.
fn find_python(version: &str) -> Option<String> {
    let exe = format!("python{version}");
    let pyenv = std::env::var_os("PYENV_ROOT")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".pyenv")));
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(Ok(entries)) = pyenv.map(|p| fs::read_dir(p.join("versions"))) {
        let mut dirs: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with(&format!("{version}.")))
            })
            .collect();
        dirs.sort();
        candidates.extend(dirs.into_iter().map(|d| d.join("bin").join(&exe)));
    }
    candidates.push(Path::new("/usr/bin").join(&exe));
    candidates.push(Path::new("/usr/local/bin").join(&exe));
    candidates
        .into_iter()
        .find(|p| p.is_file())
        .map(|p| p.display().to_string())
}

// ---- venvs -------------------------------------------------------------------

/// A new, empty venv at `dir` (an old one is removed); returns its interpreter.
fn fresh_venv(base_python: &str, dir: &Path) -> Result<PathBuf> {
    if dir.exists() {
        fs::remove_dir_all(dir)?;
    }
    run(Command::new(base_python).args(["-m", "venv"]).arg(dir))?;
    Ok(dir.join("bin/python"))
}

fn size_text(file: &Path) -> Result<String> {
    let bytes = fs::metadata(file)?.len();
    Ok(format!("{bytes} bytes, {:.1} KiB", bytes as f64 / 1024.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abi3_manylinux2014_wheel_names_pass() {
        let ok = Path::new(
            "/t/pychrony-1.0.0-cp310-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        );
        check_wheel_name(ok).unwrap();
        for bad in [
            "/t/pychrony-1.0.0-cp311-cp311-manylinux_2_17_x86_64.whl",
            "/t/pychrony-1.0.0-cp310-abi3-manylinux_2_34_x86_64.whl",
            "/t/other-1.0.0-cp310-abi3-manylinux_2_17_x86_64.whl",
        ] {
            assert!(check_wheel_name(Path::new(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn artifacts_need_exactly_one_of_each() {
        let dir = std::env::temp_dir().join(format!("xtask-wheels-test-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("a.whl"), "").unwrap();
        assert!(Artifacts::find(&dir).is_err());
        fs::write(dir.join("a.tar.gz"), "").unwrap();
        let found = Artifacts::find(&dir).unwrap();
        assert_eq!(found.wheel, dir.join("a.whl"));
        fs::write(dir.join("b.whl"), "").unwrap();
        assert!(Artifacts::find(&dir).is_err());
        fs::remove_dir_all(&dir).unwrap();
    }
}
