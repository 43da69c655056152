//! `cargo xtask ci`: everything CI checks, in stages that fail fast, each
//! timed, with a summary table at the end. `.ci/run` is `exec cargo xtask ci`.

use crate::util::{Executable, Result, cargo, display_rel, executables, output, root, run};
use crate::{
    actionlint, bindgen_cmd, fuzz, python, sanitize, soak, socket_discovery, system_lib, valgrind,
};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

struct Stage {
    name: &'static str,
    about: &'static str,
    run: fn() -> Result,
}

/// In the order they run: cheap checks first, so a typo fails in seconds.
const STAGES: &[Stage] = &[
    Stage {
        name: "install",
        about: "probes what the stages need (a table); installs the Debian packages of the failed \
                probes (apt-get --no-install-recommends, as root), unpacks chrony under target/chrony \
                (cargo xtask chrony: never installed), then the Python venv under target/",
        run: crate::install::stage,
    },
    Stage {
        name: "fmt",
        about: "cargo fmt --all -- --check",
        run: fmt,
    },
    Stage {
        name: "ruff",
        about: "ruff format --check and ruff check on pychrony-py (the package, its tests, examples and bench)",
        run: ruff,
    },
    Stage {
        name: "bindgen",
        about: "cargo xtask bindgen --check (bindings.rs matches chrony.h)",
        run: bindgen,
    },
    Stage {
        name: "strict-c",
        about: "libchrony-sys's C built with CFLAGS=-Werror (cc adds -Wall -Wextra)",
        run: strict_c,
    },
    Stage {
        name: "clippy",
        about: "cargo clippy --workspace --all-targets -- -D warnings",
        run: clippy,
    },
    Stage {
        name: "docs",
        about: "cargo doc --workspace --no-deps with RUSTDOCFLAGS=-D warnings",
        run: docs,
    },
    Stage {
        name: "actionlint",
        about: "actionlint on .github/workflows, and ci.yml has a step for every stage",
        run: actionlint::check_workflows,
    },
    Stage {
        name: "test",
        about: "bundled mode: cargo test --workspace (pychrony-py's Rust unit tests included)",
        run: test_bundled,
    },
    Stage {
        name: "system",
        about: "system mode: system-lib into target/system-prefix, then the sys and core tests \
                with LIBCHRONY_NO_VENDOR=1 (linkage checked with ldd; every guarantee beyond \
                libchrony 0.2 required: CHRONY_TEST_REQUIRE_GUARANTEES=1)",
        run: test_system,
    },
    Stage {
        name: "sanitize",
        about: "libchrony-sys tests with its C built under -fsanitize=address,undefined",
        run: sanitize::stage,
    },
    Stage {
        name: "fuzz",
        about: "libFuzzer (clang) on the C reply parser: corpus replayed, then 60 s of fuzzing",
        run: fuzz::stage,
    },
    Stage {
        name: "valgrind",
        about: "cargo xtask valgrind: the sys and core test binaries under memcheck (0 errors, \
                0 bytes definitely lost)",
        run: valgrind::stage,
    },
    Stage {
        name: "soak",
        about: "cargo xtask soak --calls 2000: 4 threads while chronyd restarts every 2 s and is \
                SIGSTOPped; deadlines, errors, fds, RSS, leftover files",
        run: soak::stage,
    },
    Stage {
        name: "python",
        about: "wheels built with maturin (bundled, system), the default one installed into the venv; pytest (stubtest and mypy --strict included)",
        run: python_stage,
    },
    Stage {
        name: "discovery",
        about: "cargo xtask test-socket-discovery: default socket discovery against real chronyd at \
                /run and /var/run in a private mount namespace, Rust and Python APIs (root)",
        run: socket_discovery::stage,
    },
    Stage {
        name: "bench-smoke",
        about: "cargo xtask bench --quick: the benchmark runs end to end (numbers are not checked)",
        run: bench_smoke,
    },
    Stage {
        name: "fresh",
        about: "cargo xtask fresh: bash .ci/run again on a brand-new debootstrap minbase Debian 12 \
                root (a clone of HEAD: committed changes only; private mount and pid namespaces); \
                skipped inside such a root",
        run: crate::fresh::stage,
    },
];

fn usage() -> String {
    let mut s = String::from(
        "usage: cargo xtask ci [--stage NAME]... [--skip-install]\n\n\
         Runs every stage in order and stops at the first failure; prints a summary.\n\n\
         options:\n  \
         --stage NAME    run only this stage (repeatable; `install` runs only when named)\n  \
         --skip-install  do not run the install stage\n\n\
         Needs root and, before anything runs, a Rust toolchain (rustfmt, clippy), gcc, libc6-dev and\n\
         ca-certificates; the install stage provides the rest. `cargo xtask fresh` runs all of this on a\n\
         brand-new Debian 12 root.\n\n\
         stages:\n",
    );
    for stage in STAGES {
        s.push_str(&format!("  {:<10} {}\n", stage.name, stage.about));
    }
    s
}

pub fn run_cli(args: &[String]) -> Result {
    let mut only: Vec<&str> = Vec::new();
    let mut skip_install = false;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "-h" | "--help" => {
                print!("{}", usage());
                return Ok(());
            }
            "--skip-install" => skip_install = true,
            "--stage" => {
                let name = it.next().ok_or("--stage needs a NAME")?;
                only.push(name);
            }
            other => match other.strip_prefix("--stage=") {
                Some(name) => only.push(name),
                None => return Err(format!("unknown argument `{other}`\n\n{}", usage()).into()),
            },
        }
    }
    for name in &only {
        if !STAGES.iter().any(|s| s.name == *name) {
            return Err(format!("unknown stage `{name}`\n\n{}", usage()).into());
        }
    }
    let selected: Vec<&Stage> = STAGES
        .iter()
        .filter(|s| {
            if only.is_empty() {
                !(skip_install && s.name == "install")
            } else {
                only.contains(&s.name) && !(skip_install && s.name == "install")
            }
        })
        .collect();
    // Before any stage can relink target/debug/xtask.
    crate::util::xtask_bin()?;
    run_stages(&selected)
}

enum Outcome {
    Ok(Duration),
    Failed(Duration),
    NotRun,
}

fn run_stages(stages: &[&Stage]) -> Result {
    let total = Instant::now();
    let mut outcomes: Vec<(&str, Outcome)> = Vec::new();
    let mut failure = None;
    for (i, stage) in stages.iter().enumerate() {
        if failure.is_some() {
            outcomes.push((stage.name, Outcome::NotRun));
            continue;
        }
        println!(
            "\n==== [{}/{}] {}: {}",
            i + 1,
            stages.len(),
            stage.name,
            stage.about
        );
        let start = Instant::now();
        let result = (stage.run)();
        let took = start.elapsed();
        match result {
            Ok(()) => {
                println!("==== {} ok ({:.1} s)", stage.name, took.as_secs_f64());
                outcomes.push((stage.name, Outcome::Ok(took)));
            }
            Err(err) => {
                println!(
                    "==== {} FAILED ({:.1} s): {err}",
                    stage.name,
                    took.as_secs_f64()
                );
                outcomes.push((stage.name, Outcome::Failed(took)));
                failure = Some(format!("stage `{}` failed: {err}", stage.name));
            }
        }
    }
    println!("\n==== summary");
    println!("{:<10} {:>8}  result", "stage", "seconds");
    for (name, outcome) in &outcomes {
        match outcome {
            Outcome::Ok(t) => println!("{name:<10} {:>8.1}  ok", t.as_secs_f64()),
            Outcome::Failed(t) => println!("{name:<10} {:>8.1}  FAILED", t.as_secs_f64()),
            Outcome::NotRun => println!("{name:<10} {:>8}  not run", "-"),
        }
    }
    println!("{:<10} {:>8.1}", "total", total.elapsed().as_secs_f64());
    let count = |f: fn(&Outcome) -> bool| outcomes.iter().filter(|(_, o)| f(o)).count();
    println!(
        "stages: {} passed, {} failed, {} skipped",
        count(|o| matches!(o, Outcome::Ok(_))),
        count(|o| matches!(o, Outcome::Failed(_))),
        count(|o| matches!(o, Outcome::NotRun)),
    );
    match failure {
        None => Ok(()),
        Some(msg) => Err(format!(
            "{msg}\n(re-run just that stage with `cargo xtask ci --stage {}`)",
            outcomes
                .iter()
                .find(|(_, o)| matches!(o, Outcome::Failed(_)))
                .map_or("NAME", |(name, _)| name)
        )
        .into()),
    }
}

// ---- stages ---------------------------------------------------------------

fn fmt() -> Result {
    run(cargo().args(["fmt", "--all", "--", "--check"]))
        .map_err(|e| format!("{e}\nrun `cargo fmt --all` and commit").into())
}

fn ruff() -> Result {
    let python = python::ensure_venv()?;
    let ruff = python.with_file_name("ruff");
    let pkg = root().join("pychrony-py");
    run(Command::new(&ruff)
        .current_dir(&pkg)
        .args(["format", "--check", "."]))
    .map_err(|e| {
        format!(
            "{e}
run `ruff format` in pychrony-py and commit"
        )
        .into()
    })
    .and_then(|()| run(Command::new(&ruff).current_dir(&pkg).args(["check", "."])))
}

fn bindgen() -> Result {
    println!("$ cargo xtask bindgen --check   (in this process)");
    bindgen_cmd::run(&["--check".to_string()])
}

fn strict_c() -> Result {
    // Its own target dir: a changed CFLAGS would otherwise rebuild the main one.
    run(cargo()
        .env("CARGO_TARGET_DIR", root().join("target/strict-c"))
        .env("CFLAGS", "-Werror")
        .args(["build", "-p", "libchrony-sys"]))
    .map_err(|e| {
        format!("{e}\nthe C library must compile without warnings under -Wall -Wextra").into()
    })
}

fn clippy() -> Result {
    run(cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))
}

fn docs() -> Result {
    run(cargo()
        .env("RUSTDOCFLAGS", "-D warnings")
        .args(["doc", "--workspace", "--no-deps"]))
}

fn test_bundled() -> Result {
    // pychrony-py's unit tests link libpython (no `extension-module` there): let
    // them load the one pyo3 built against, not whichever the system may have.
    let libdir = python_libdir()?;
    run(cargo()
        .env("LD_LIBRARY_PATH", prepend_env("LD_LIBRARY_PATH", &libdir))
        .args(["test", "--workspace"]))
}

/// The directory of the libpython that pyo3 links (the `python3` on PATH, or $PYO3_PYTHON).
fn python_libdir() -> Result<PathBuf> {
    let python = std::env::var("PYO3_PYTHON").unwrap_or_else(|_| "python3".into());
    let dir = output(Command::new(python).args([
        "-c",
        "import sysconfig; print(sysconfig.get_config_var('LIBDIR'))",
    ]))?;
    Ok(PathBuf::from(dir.trim()))
}

fn test_system() -> Result {
    let root = root();
    let prefix = system_lib::install(&system_prefix()?)?;
    let lib = prefix.join("lib");
    let system_cargo = |args: &[&str]| {
        let mut cmd = cargo();
        cmd.env("CARGO_TARGET_DIR", root.join("target/system"))
            .env("LIBCHRONY_NO_VENDOR", "1")
            // The system library here is our own C library: every guarantee
            // beyond libchrony 0.2 must be there and be tested, none skipped.
            .env(chronyd_fixture::REQUIRE_GUARANTEES_ENV, "1")
            .env("PKG_CONFIG_PATH", lib.join("pkgconfig"))
            .env("LD_LIBRARY_PATH", prepend_env("LD_LIBRARY_PATH", &lib))
            .args(args);
        cmd
    };
    let packages = ["-p", "libchrony-sys", "-p", "chrony-core"];

    // Build first, to check what the test binaries link before running them.
    let mut build = system_cargo(&[
        "test",
        "--no-run",
        "--message-format=json-render-diagnostics",
    ]);
    build.args(packages);
    let json = output(&mut build)?;
    check_linkage(&executables(&json), &lib)?;

    let mut test = system_cargo(&["test"]);
    test.args(packages);
    run(&mut test)
}

fn python_stage() -> Result {
    let xtask_bin = crate::util::xtask_bin()?;
    python::stage(&xtask_bin)
}

fn bench_smoke() -> Result {
    crate::bench::run_cli(&["--quick".to_string()])
}

// ---- helpers ----------------------------------------------------------------

/// Where the system stage installs libchrony. Some tests run a client as
/// `nobody` (a copy in a world-readable directory), and in system mode that
/// client must also load libchrony.so.0: so target/system-prefix when `nobody`
/// can reach it, else (a checkout under a private home) a directory of ours
/// under the temp dir, named after the checkout so that its path, and with it
/// PKG_CONFIG_PATH and the build, stays the same from run to run.
fn system_prefix() -> Result<PathBuf> {
    let root = root();
    let inside = root.join("target/system-prefix");
    if searchable_by_others(&inside) {
        return Ok(inside);
    }
    let name: String = root
        .to_string_lossy()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let outside = std::env::temp_dir().join(format!("libchrony-system{name}"));
    // Never install into a directory someone else made (a fixed name in /tmp).
    let me = std::fs::metadata("/proc/self")?.uid();
    match std::fs::symlink_metadata(&outside) {
        Ok(meta) if !meta.is_dir() || meta.uid() != me => {
            return Err(format!(
                "{} exists and is not a directory of ours: remove it",
                outside.display()
            )
            .into());
        }
        Ok(_) => {}
        Err(_) => std::fs::create_dir(&outside)?,
    }
    std::fs::set_permissions(&outside, std::fs::Permissions::from_mode(0o755))?;
    println!(
        "{} is not searchable by other users: installing into {}",
        root.display(),
        outside.display()
    );
    Ok(outside)
}

/// Whether every existing ancestor of `path` lets other users through (o+x).
fn searchable_by_others(path: &Path) -> bool {
    path.ancestors()
        .filter_map(|dir| std::fs::metadata(dir).ok())
        .all(|meta| meta.mode() & 0o001 != 0)
}

/// `dir` first, then the current value of the path-list variable `var`.
pub fn prepend_env(var: &str, dir: &Path) -> std::ffi::OsString {
    let mut dirs = vec![dir.to_path_buf()];
    if let Some(old) = std::env::var_os(var) {
        dirs.extend(std::env::split_paths(&old));
    }
    std::env::join_paths(dirs).expect("paths without ':'")
}

/// No test binary may load a libchrony other than the prefix's, and at least
/// one of libchrony-sys's must load it: proof that the system mode really links
/// the shared library (a binary that calls no C function may drop it: --as-needed).
fn check_linkage(executables: &[Executable], lib: &Path) -> Result {
    let expected = lib.join("libchrony.so.0").to_string_lossy().into_owned();
    let mut sys_linked = 0;
    for Executable {
        path: exe,
        manifest,
        ..
    } in executables
    {
        let is_sys = manifest
            .parent()
            .is_some_and(|d| d.ends_with("libchrony-sys"));
        let ldd = output(
            Command::new("ldd")
                .arg(exe)
                .env("LD_LIBRARY_PATH", prepend_env("LD_LIBRARY_PATH", lib)),
        )?;
        let name = display_rel(exe);
        match ldd.lines().find(|l| l.contains("libchrony")) {
            Some(l) if l.contains(&expected) => {
                println!("{name}: {}", l.trim());
                sys_linked += usize::from(is_sys);
            }
            Some(l) => {
                return Err(format!("{name} loads `{}`, not {expected}", l.trim()).into());
            }
            None => println!("{name}: no libchrony (calls no C function)"),
        }
    }
    if sys_linked == 0 {
        return Err(format!(
            "no libchrony-sys test binary loads {expected}: the system mode did not link \
             the shared library"
        )
        .into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stage_names_are_unique() {
        for (i, a) in STAGES.iter().enumerate() {
            assert!(
                STAGES[i + 1..].iter().all(|b| b.name != a.name),
                "{}",
                a.name
            );
        }
    }
}
