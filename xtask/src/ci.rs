//! `cargo xtask ci` ([`USAGE`]); `.ci/run` is `exec cargo xtask ci`.

use crate::util::{Args, Executable, Result, cargo, display_rel, output};
use crate::util::{bail, env_or, hint, prepend_env, python_prints, root, run};
use crate::{actionlint, bench, fresh, fuzz, install, python, sanitize, soak, socket_discovery};
use crate::{bindgen_cmd, system_lib, valgrind, versions};
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

pub struct Stage {
    pub name: &'static str,
    about: &'static str,
    run: fn() -> Result,
}

macro_rules! stages {
    ($($name:literal => $run:expr, $about:literal;)*) => {
        &[$(Stage { name: $name, about: $about, run: $run }),*]
    };
}

/// In the order they run: cheap checks first, so a typo fails in seconds.
pub const STAGES: &[Stage] = stages! {
    "install" => install::stage, "probes what the stages need; installs the Debian packages of \
        the failed ones (as root), unpacks chrony under target/chrony, makes the Python venv";
    "fmt" => fmt, "cargo fmt --all -- --check";
    "ruff" => ruff, "ruff format --check and ruff check on pychrony-py";
    "bindgen" => bindgen, "cargo xtask bindgen --check (bindings.rs matches chrony.h)";
    "strict-c" => strict_c, "libchrony-sys's C built with CFLAGS=-Werror (cc adds -Wall -Wextra)";
    "clippy" => clippy, "cargo clippy -D warnings: the workspace, and chrony-core with tokio";
    "docs" => || run(cargo("doc --workspace --no-deps").env("RUSTDOCFLAGS", "-D warnings")),
        "cargo doc --workspace --no-deps with RUSTDOCFLAGS=-D warnings";
    "actionlint" => actionlint::check_workflows, "cargo xtask actionlint";
    "test" => test_bundled, "bundled mode: cargo test --workspace, then chrony-core's async \
        tests and doc tests with --features tokio";
    "system" => test_system, "system mode: the sys and core tests against system-lib's \
        libchrony.so.0 (LIBCHRONY_NO_VENDOR=1, linkage checked, every guarantee required)";
    "sanitize" => sanitize::stage,
        "libchrony-sys tests with its C built under -fsanitize=address,undefined";
    "fuzz" => || fuzz::run_cli(&[]), "cargo xtask fuzz: the corpus replayed, 60 s of fuzzing";
    "valgrind" => || valgrind::run(None), "cargo xtask valgrind";
    "soak" => || soak::run_cli(&[]), "cargo xtask soak --calls 2000";
    "python" => || python::stage(&crate::util::xtask_bin()?), "wheels built with maturin \
        (bundled, system), the default one installed into the venv; pytest (stubtest, mypy)";
    "versions" => || versions::stage(&crate::util::xtask_bin()?), "the sys and core tests and \
        the Python report tests against chrony 4.6.1 and 4.9 built from source";
    "discovery" => socket_discovery::stage, "cargo xtask test-socket-discovery (root)";
    "bench-smoke" => || bench::run_cli(&["--quick".into()]),
        "cargo xtask bench --quick: the benchmark runs end to end (numbers are not checked)";
    "fresh" => fresh::stage, "cargo xtask fresh (skipped inside a fresh root)";
};

const USAGE: &str = "\
usage: cargo xtask ci [--stage NAME]... [--skip-install]

Runs every stage in order and stops at the first failure; prints a summary.

options:
  --stage NAME    run only this stage (repeatable; `install` runs only when named)
  --skip-install  do not run the install stage

Needs root and, before anything runs, a Rust toolchain (rustfmt, clippy), gcc, libc6-dev and
ca-certificates; the install stage provides the rest. `cargo xtask fresh` runs all of this on a
brand-new Debian 12 root.

stages:
";

pub fn run_cli(args: &[String]) -> Result {
    let mut usage = USAGE.to_string();
    for stage in STAGES {
        usage.push_str(&format!("  {:<10} {}\n", stage.name, stage.about));
    }
    let args = Args::parse(args, &usage, "--stage= --skip-install")?;
    let only: Vec<&str> = args.values("--stage").collect();
    if let Some(name) = only.iter().find(|n| !STAGES.iter().any(|s| s.name == **n)) {
        bail!("unknown stage `{name}`\n\n{usage}");
    }
    let skip_install = args.flag("--skip-install");
    let chosen = |s: &&Stage| only.is_empty() || only.contains(&s.name);
    let mut selected: Vec<&Stage> = STAGES.iter().filter(chosen).collect();
    selected.retain(|s| !(skip_install && s.name == "install"));
    // Before any stage can relink target/debug/xtask.
    crate::util::xtask_bin()?;
    run_stages(&selected)
}

fn run_stages(stages: &[&Stage]) -> Result {
    let total = Instant::now();
    // Per stage: its seconds, if it ran, and its result.
    let mut outcomes: Vec<(&str, Option<f64>, &str)> = Vec::new();
    let mut failure = None;
    for (i, stage) in stages.iter().enumerate() {
        let (name, n) = (stage.name, stages.len());
        if failure.is_some() {
            outcomes.push((name, None, "not run"));
            continue;
        }
        println!("\n==== [{}/{n}] {name}: {}", i + 1, stage.about);
        let start = Instant::now();
        let result = (stage.run)();
        let took = start.elapsed().as_secs_f64();
        if let Err(err) = result {
            println!("==== {name} FAILED ({took:.1} s): {err}");
            let again = format!("re-run just that stage with `cargo xtask ci --stage {name}`");
            failure = Some(format!("stage `{name}` failed: {err}\n({again})"));
            outcomes.push((name, Some(took), "FAILED"));
        } else {
            println!("==== {name} ok ({took:.1} s)");
            outcomes.push((name, Some(took), "ok"));
        }
    }
    let mut rows = Vec::new();
    for (name, took, result) in &outcomes {
        let took = took.map_or("-".into(), |t| format!("{t:.1}"));
        rows.push([name.to_string(), took, result.to_string()]);
    }
    let total = format!("{:.1}", total.elapsed().as_secs_f64());
    rows.push(["total".into(), total, String::new()]);
    let summary = crate::util::table("stage|seconds|result", &rows, &[1]);
    print!("\n==== summary\n{summary}");
    let count = |result| outcomes.iter().filter(|o| o.2 == result).count();
    let (passed, failed, skipped) = (count("ok"), count("FAILED"), count("not run"));
    println!("stages: {passed} passed, {failed} failed, {skipped} skipped");
    failure.map_or(Ok(()), |msg| Err(msg.into()))
}

fn fmt() -> Result {
    let fmt = run(cargo("fmt --all -- --check"));
    hint(fmt, "run `cargo fmt --all` and commit")
}

fn ruff() -> Result {
    let ruff = python::ensure_venv()?.with_file_name("ruff");
    let pkg = root().join("pychrony-py");
    let ruff = |args: &str| run(Command::new(&ruff).current_dir(&pkg).args(args.split(' ')));
    let fix = "run `ruff format` in pychrony-py and commit";
    hint(ruff("format --check ."), fix)?;
    ruff("check .")
}

fn bindgen() -> Result {
    println!("$ cargo xtask bindgen --check   (in this process)");
    bindgen_cmd::run(&["--check".to_string()])
}

fn strict_c() -> Result {
    // Its own target dir: a changed CFLAGS would otherwise rebuild the main one.
    let mut build = cargo("build -p libchrony-sys");
    build.env("CARGO_TARGET_DIR", root().join("target/strict-c"));
    let why = "the C library must compile without warnings under -Wall -Wextra";
    hint(run(build.env("CFLAGS", "-Werror")), why)
}

fn test_bundled() -> Result {
    // pychrony-py's unit tests link libpython: the one pyo3 built against, not the system's.
    let print = "import sysconfig; print(sysconfig.get_config_var('LIBDIR'))";
    let libdir = python_prints(env_or("PYO3_PYTHON", "python3"), print)?;
    let libdir = prepend_env("LD_LIBRARY_PATH", Path::new(&libdir));
    run(cargo("test --workspace").env("LD_LIBRARY_PATH", libdir))?;
    // `--workspace` leaves chrony-core's tokio feature off; only what needs it, on top.
    let async_tests = format!("test -p chrony-core --features tokio {ASYNC_TESTS}");
    run(cargo(&async_tests))?;
    run(cargo("test -p chrony-core --features tokio --doc"))
}

/// chrony-core's test binaries that need its `tokio` feature (`required-features`).
const ASYNC_TESTS: &str = "--test async_reports --test async_faults";

fn clippy() -> Result {
    run(cargo("clippy --workspace --all-targets -- -D warnings"))?;
    let tokio = "clippy -p chrony-core --all-targets --features tokio -- -D warnings";
    run(cargo(tokio))
}

fn test_system() -> Result {
    let lib = system_lib::install(&system_prefix()?)?.join("lib");
    let system_cargo = |args: &str, packages: &str| {
        let mut cmd = cargo(&format!("{args} {packages}"));
        cmd.env("CARGO_TARGET_DIR", root().join("target/system"));
        cmd.env("LIBCHRONY_NO_VENDOR", "1");
        // Our own C library: every guarantee beyond libchrony 0.2 must be tested, none skipped.
        cmd.env(chronyd_fixture::REQUIRE_GUARANTEES_ENV, "1");
        cmd.env("PKG_CONFIG_PATH", lib.join("pkgconfig"));
        cmd.env("LD_LIBRARY_PATH", prepend_env("LD_LIBRARY_PATH", &lib));
        cmd
    };
    // Build first, to check what the test binaries link before running them.
    let build = "test --no-run --message-format=json-render-diagnostics";
    let both = "-p libchrony-sys -p chrony-core";
    let json = output(system_cargo(build, both))?;
    check_linkage(&crate::util::executables(&json), &lib)?;
    run(system_cargo("test", both))?;
    // Without the shared-fd extension the async connection reads one request at a time.
    let async_tests = format!("test --features tokio {ASYNC_TESTS}");
    run(system_cargo(&async_tests, "-p chrony-core"))
}

/// Where the system stage installs libchrony: clients that tests run as `nobody` must load it
/// too, so target/system-prefix if `nobody` can reach it, else a directory of ours in the temp
/// dir, named after the checkout so that PKG_CONFIG_PATH, and so the build, stays the same.
fn system_prefix() -> Result<PathBuf> {
    let root = root();
    let inside = root.join("target/system-prefix");
    // Every existing ancestor must let other users through (o+x).
    let ancestors = inside.ancestors().filter_map(|dir| fs::metadata(dir).ok());
    if ancestors.into_iter().all(|meta| meta.mode() & 0o001 != 0) {
        return Ok(inside);
    }
    let safe = |c: char| if c.is_ascii_alphanumeric() { c } else { '-' };
    let name: String = root.to_string_lossy().chars().map(safe).collect();
    let outside = std::env::temp_dir().join(format!("libchrony-system{name}"));
    // Never install into a directory someone else made (a fixed name in /tmp).
    let me = fs::metadata("/proc/self")?.uid();
    match fs::symlink_metadata(&outside) {
        Ok(meta) if !meta.is_dir() || meta.uid() != me => {
            let outside = outside.display();
            bail!("{outside} exists and is not a directory of ours: remove it");
        }
        Ok(_) => {}
        Err(_) => fs::create_dir(&outside)?,
    }
    fs::set_permissions(&outside, fs::Permissions::from_mode(0o755))?;
    let (root, dir) = (root.display(), outside.display());
    println!("{root} is not searchable by other users: installing into {dir}");
    Ok(outside)
}

/// No test binary may load another libchrony than the prefix's, and one of libchrony-sys's must
/// load it (one that calls no C function may drop it: --as-needed): the system mode links it.
fn check_linkage(executables: &[Executable], lib: &Path) -> Result {
    let expected = lib.join("libchrony.so.0").to_string_lossy().into_owned();
    let mut sys_linked = 0;
    for Executable { path, manifest, .. } in executables {
        let is_sys = manifest.ends_with("libchrony-sys/Cargo.toml");
        let mut ldd = Command::new("ldd");
        ldd.arg(path)
            .env("LD_LIBRARY_PATH", prepend_env("LD_LIBRARY_PATH", lib));
        let name = display_rel(path);
        match output(ldd)?.lines().find(|l| l.contains("libchrony")) {
            Some(l) if l.contains(&expected) => {
                println!("{name}: {}", l.trim());
                sys_linked += usize::from(is_sys);
            }
            Some(l) => bail!("{name} loads `{}`, not {expected}", l.trim()),
            None => println!("{name}: no libchrony (calls no C function)"),
        }
    }
    if sys_linked == 0 {
        let why = "the system mode did not link the shared library";
        bail!("no libchrony-sys test binary loads {expected}: {why}");
    }
    Ok(())
}
