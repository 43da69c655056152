//! `cargo xtask build-wheels` and `test-wheels`: the release artifacts, built the way users get
//! them (an abi3 manylinux2014 x86_64 wheel linked by `zig cc` against glibc 2.17, no Docker: maturin
//! runs PyPI's `ziglang` from the venv first on PATH; the sdist) and tested installed.

use crate::pyenv::{fresh_venv, pip_install, pytest, venv_tool};
use crate::util::{Args, Result, bail, display_rel, env_or, files, only_file, output};
use crate::util::{python_prints, remove_dir, root, run};
use chronyd_fixture::{Fixture, Mode};
use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const VENV: &str = "target/wheels-venv";
/// Pinned besides the ci venv's maturin: zig 0.17 (0.14 and 0.15 make the cc crate warn about
/// the glibc-versioned target triple).
const TOOLS: &str = "ziglang==0.17.1 auditwheel==6.8.2 twine==7.0.0";
const OUT: &str = "target/wheels";
const TEST_DIR: &str = "target/test-wheels";
const TARGET: &str = "x86_64-unknown-linux-gnu";
/// What `auditwheel show` must find the wheel consistent with (manylinux2014).
const PLATFORM_TAG: &str = "manylinux_2_17_x86_64";
/// What the sdist needs to build from scratch: the C sources and both crates below pychrony-py.
const SDIST_NEEDS: &str = "/pyproject.toml /libchrony-sys/csrc/chrony.h /libchrony-sys/build.rs \
    /libchrony-sys/src/bindings.rs /chrony-core/src/lib.rs /python/pychrony/__init__.py \
    /python/pychrony/py.typed /Cargo.lock /LICENSE-MIT /LICENSE-APACHE /LICENSES-THIRD-PARTY.md";

pub fn build_cli(args: &[String]) -> Result {
    Args::parse(args, "usage: cargo xtask build-wheels\n", "")?;
    let (wheel, sdist) = build()?;
    let size = |file: &Path| -> Result<String> {
        let (name, bytes) = (display_rel(file), fs::metadata(file)?.len());
        let kib = bytes as f64 / 1024.0;
        Ok(format!("{name} ({bytes} bytes, {kib:.1} KiB)"))
    };
    let (wheel, sdist) = (size(&wheel)?, size(&sdist)?);
    println!("\nbuilt and checked:\n  {wheel}\n  {sdist}");
    Ok(())
}

pub fn test_cli(args: &[String]) -> Result {
    let usage =
        "usage: cargo xtask test-wheels   (builds them first when target/wheels is empty)\n";
    Args::parse(args, usage, "")?;
    let (wheel, sdist) = match artifacts(&root().join(OUT)) {
        Ok((wheel, sdist)) => {
            let (w, s) = (display_rel(&wheel), display_rel(&sdist));
            println!("testing {w} and {s} (run `cargo xtask build-wheels` to rebuild them)");
            (wheel, sdist)
        }
        Err(_) => build()?,
    };
    test(&wheel, &sdist)
}

pub fn artifacts(dir: &Path) -> Result<(PathBuf, PathBuf)> {
    Ok((only_file(dir, ".whl")?, only_file(dir, ".tar.gz")?))
}

fn build() -> Result<(PathBuf, PathBuf)> {
    if std::env::consts::ARCH != "x86_64" {
        let arch = std::env::consts::ARCH;
        let only = format!("and runs on x86_64 hosts only (this is {arch})");
        let others = "the release workflow builds the other platforms";
        bail!("build-wheels makes the {TARGET} wheel {only}; {others}");
    }
    let tools = format!("{} {TOOLS}", crate::python::pin("maturin"));
    let python = crate::pyenv::venv(VENV, &tools)?;
    let tool = |name: &str| venv_tool(&python, name);
    let out = root().join(OUT);
    remove_dir(&out)?;
    // 1. The wheel: release profile, zig as the linker and C compiler, glibc 2.17. 2. The sdist.
    let maturin = |args: &str| {
        let mut maturin = tool("maturin");
        maturin.current_dir(root().join("pychrony-py"));
        run(maturin.args(args.split(' ')).arg(&out))
    };
    let zig = "--zig --compatibility manylinux2014";
    maturin(&format!("build --release {zig} --target {TARGET} --out"))?;
    maturin("sdist --out")?;
    let (wheel, sdist) = artifacts(&out)?;

    check_wheel_name(&wheel)?;
    let shown = output(tool("auditwheel").arg("show").arg(&wheel))?;
    print!("{shown}");
    if !shown.contains(PLATFORM_TAG) {
        let wheel = display_rel(&wheel);
        let why = format!("auditwheel does not find {wheel} consistent with {PLATFORM_TAG}");
        bail!("{why} (manylinux2014)");
    }
    let listing = output(Command::new("tar").arg("tzf").arg(&sdist))?;
    let listed = |want: &&str| listing.lines().any(|l| l.ends_with(want));
    let missing = SDIST_NEEDS.split_whitespace().filter(|w| !listed(w));
    let missing: Vec<&str> = missing.collect();
    if !missing.is_empty() {
        let (sdist, missing) = (display_rel(&sdist), missing.join(", "));
        bail!("{sdist} lacks {missing}: it would not build from scratch");
    }
    let files = listing.lines().count();
    println!("sdist holds the C sources and the crates ({files} files)");
    let mut twine = tool("twine");
    run(twine.args(["check", "--strict"]).args([&wheel, &sdist]))?;
    Ok((wheel, sdist))
}

/// `<distribution>-<v>-cp310-abi3-<platform>.whl` (the distribution `chrony-monitor` as a wheel
/// spells it, `chrony_monitor`): one wheel for CPython 3.10 and later.
pub fn check_wheel_name(wheel: &Path) -> Result {
    let name = wheel.file_name().unwrap_or_default().to_string_lossy();
    let want = format!("{}-", crate::util::distribution()?.replace('-', "_"));
    let abi3 = name.starts_with(&want) && name.contains("-cp310-abi3-");
    if abi3 && name.contains(PLATFORM_TAG) {
        println!("wheel tags ok: {name}");
        return Ok(());
    }
    Err(format!("unexpected wheel name {name}: want {want}*-cp310-abi3-{PLATFORM_TAG}*").into())
}

fn test(wheel: &Path, sdist: &Path) -> Result {
    let root = root();
    // The suite runs real chronyd daemons: an installed chrony, or Debian's package unpacked under target/.
    let chrony = chronyd_fixture::unpack::ensure()?;
    println!("chronyd: {}", chrony.describe());
    let base_python = env_or("PYTHON", "python3");
    let dir = root.join(TEST_DIR);
    fs::create_dir_all(&dir)?;

    // 1. The wheel in a fresh venv; the whole Python suite against the installed package.
    println!("\n==== wheel: fresh venv, pip install, pytest");
    let venv = fresh_venv(&base_python, &dir.join("wheel-venv"))?;
    let pins = crate::python::TOOLS.split(' ');
    let tools = pins.filter(|t| !t.starts_with("maturin"));
    run(pip_install(&venv).arg(wheel).args(tools))?;
    let mut pytest = pytest(&venv, &std::env::current_exe()?);
    pytest.arg(root.join("pychrony-py/tests"));
    // The system-libchrony wheel is the ci `python` stage's subject, not a release artifact.
    run(pytest.env("PYCHRONY_SKIP_SYSTEM_BUILD", "1"))?;

    // One fixture chronyd for the smoke tests below; dropped (stopped) at the end.
    let fixture = Fixture::start(Mode::Synced);
    let fixture = fixture.map_err(|e| format!("cannot start a fixture chronyd: {e}"))?;
    // tests/smoke.py against the fixture, away from the sources: only the installed package.
    let smoke = |python: &Path| {
        let mut smoke = Command::new(python);
        smoke.current_dir(std::env::temp_dir());
        smoke.arg(root.join("pychrony-py/tests/smoke.py"));
        run(smoke.arg(fixture.socket_path()).arg(fixture.udp_v4()))
    };

    // 2. The same wheel under other interpreters, to show the abi3 tag holds.
    for other in extra_pythons(&base_python) {
        println!("\n==== wheel under {other}: fresh venv, pip install, smoke test");
        let name = Path::new(&other).file_name().unwrap_or("other".as_ref());
        let name = name.to_string_lossy();
        let venv = fresh_venv(&other, &dir.join(format!("wheel-venv-{name}")))?;
        run(pip_install(&venv).arg(wheel))?;
        smoke(&venv)?;
    }

    // 3. The sdist, built from scratch by pip in a fresh venv, then the smoke test.
    println!("\n==== sdist: fresh venv, pip install (a release build from source), smoke test");
    let venv = fresh_venv(&base_python, &dir.join("sdist-venv"))?;
    let mut pip = pip_install(&venv);
    // A kept target dir makes repeated runs cheaper; the sources still come from the sdist.
    pip.env("CARGO_TARGET_DIR", dir.join("sdist-target"));
    run(pip.arg("--no-cache-dir").arg(sdist))?;
    smoke(&venv)?;
    drop(fixture);

    let (wheel, sdist) = (display_rel(wheel), display_rel(sdist));
    let sdist = format!("{sdist} built from source and passed the smoke test");
    println!("\ntest-wheels: {wheel} passed the Python suite; {sdist}");
    Ok(())
}

/// Other interpreters for the wheel: `TEST_WHEELS_PYTHONS` (':'-separated), else CPython 3.10 and
/// 3.13 if at hand, except one with the main interpreter's version.
fn extra_pythons(base: &str) -> Vec<String> {
    let print = "import sys; print(sys.version_info[:2])";
    let version = |py: &str| python_prints(py, print).ok();
    let base_version = version(base);
    let at_hand = || ["3.10", "3.13"].map(find_python).into_iter().flatten();
    let candidates: Vec<String> = match std::env::var("TEST_WHEELS_PYTHONS") {
        Ok(list) => list.split(':').map(String::from).collect(),
        Err(_) => at_hand().collect(),
    };
    let other = |py: &String| version(py).is_some_and(|v| Some(&v) != base_version.as_ref());
    candidates.into_iter().filter(other).collect()
}

/// `python3.N` from pyenv's versions (sorted), /usr/bin or /usr/local/bin.
fn find_python(version: &str) -> Option<String> {
    let exe = format!("python{version}");
    let versions = crate::util::home_dir("PYENV_ROOT", ".pyenv").map(|p| p.join("versions"));
    let mut dirs = versions.and_then(|p| files(&p).ok()).unwrap_or_default();
    let prefix = format!("{version}.");
    let in_version = |name: &OsStr| name.to_string_lossy().starts_with(&prefix);
    dirs.retain(|d| d.file_name().is_some_and(in_version));
    let mut candidates: Vec<PathBuf> = dirs.into_iter().map(|d| d.join("bin").join(&exe)).collect();
    candidates.extend(["/usr/bin", "/usr/local/bin"].map(|d| Path::new(d).join(&exe)));
    let found = candidates.into_iter().find(|p| p.is_file());
    found.map(|p| p.display().to_string())
}
