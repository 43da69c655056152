//! `cargo xtask valgrind`: the test suites of libchrony-sys and chrony-core
//! under valgrind's memcheck, each test binary on its own:
//!
//! ```text
//! valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite
//!          --track-fds=no --trace-children=no --child-silent-after-fork=yes BINARY
//! ```
//!
//! The binaries come from `cargo test --no-run --message-format=json` (the
//! examples the tests run are built by the same command). Each runs in its
//! package directory, as `cargo test` would, with `CHRONY_TEST_SCALE_DOWN=20`,
//! which the tests that make thousands of calls divide their counts by.
//! The result is 0 errors and 0 bytes definitely lost in every test process,
//! or the command fails; a summary table is printed either way.
//!
//! - `--trace-children=no`: the fixtures exec chronyd, chronyc, setpriv and
//!   the C compiler; those are not ours to check.
//! - `--child-silent-after-fork=yes`: the fixture's feeder and guardian are
//!   forked (not exec'd) children that never return to the test; their output
//!   would interleave with the test's. A forked child that the test itself
//!   checks (fork.rs) still exits with valgrind's error code on an error, and
//!   the test fails on that exit status.
//! - A test target named `fork` (chrony-core's and libchrony-sys's: tests
//!   that fork live there and nowhere else) runs with `--leak-check=no`: its children are forked from a
//!   multi-threaded process, and every allocation of the threads that do not
//!   exist in the child is unreachable there, so memcheck would call it
//!   "definitely lost" at the child's exit (an artefact of fork, not a leak).
//!   Memory errors are still checked in its parent and children; the leak
//!   checks of the same code paths come from process.rs and the others.
//!
//! No suppression file: the Rust runtime's own allocations (thread-locals,
//! the test harness's threads) are "still reachable" or "possibly lost",
//! which `--errors-for-leak-kinds=definite` does not count.

use crate::util::{Result, cargo, display_rel, output, root};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Instant;

const USAGE: &str = "\
usage: cargo xtask valgrind [FILTER]

Runs every test binary of libchrony-sys and chrony-core under valgrind memcheck
(FILTER: only binaries whose name contains it). Needs valgrind (apt-get install valgrind).
";

/// Test counts are divided by this under valgrind (`tests/common` reads it).
const SCALE_DOWN: &str = "20";

/// Tests whose assertions are wall-clock bounds (a deadline met within
/// 100 ms, a resend at 1 s and 3 s). memcheck slows code 10-50x, so those
/// bounds say nothing there; memcheck is about memory. They run, uninstrumented,
/// in the `test`, `system` and `sanitize` stages. Each skip is printed.
const TIMING_TESTS: &[(&str, &[&str])] = &[
    (
        "chrony-core/faults",
        &[
            "frozen_daemon_times_out_within_the_deadline",
            "default_deadline_on_a_frozen_daemon",
            "briefly_frozen_daemon_answers_within_the_deadline",
            "interrupted_query_stops_early",
            "huge_and_zero_timeouts",
        ],
    ),
    (
        "chrony-core/scripted",
        &[
            "unanswered_requests_are_resent_as_chronyc_does",
            "a_late_reply_to_an_earlier_attempt_is_accepted",
            "a_flood_of_stale_datagrams_cannot_stretch_the_deadline",
            "closing_a_shared_connection_stops_the_call_in_flight",
        ],
    ),
    (
        "chrony-core/sources",
        &["a_frozen_daemon_times_out_within_one_deadline_for_the_whole_list"],
    ),
];

pub fn run_cli(args: &[String]) -> Result {
    match args {
        [] => run(None),
        [h] if h == "-h" || h == "--help" => {
            print!("{USAGE}");
            Ok(())
        }
        [filter] if !filter.starts_with('-') => run(Some(filter)),
        _ => Err(format!("unexpected arguments {args:?}\n\n{USAGE}").into()),
    }
}

pub fn stage() -> Result {
    run(None)
}

struct TestBinary {
    exe: PathBuf,
    dir: PathBuf,
}

/// The test executables (`"test":true` artifacts) and their package directories.
fn test_binaries(json: &str) -> Vec<TestBinary> {
    crate::util::executables(json)
        .into_iter()
        .filter(|e| e.test)
        .filter_map(|e| {
            Some(TestBinary {
                dir: e.manifest.parent()?.to_path_buf(),
                exe: e.path,
            })
        })
        .collect()
}

struct Outcome {
    name: String,
    ok: bool,
    errors: u64,
    definitely_lost: u64,
    seconds: f64,
}

fn run(filter: Option<&str>) -> Result {
    if Command::new("valgrind")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .map_or(true, |s| !s.success())
    {
        return Err("valgrind is not installed: apt-get install valgrind".into());
    }
    let json = output(cargo().args([
        "test",
        "--no-run",
        "-p",
        "libchrony-sys",
        "-p",
        "chrony-core",
        "--message-format=json-render-diagnostics",
    ]))?;
    let mut binaries = test_binaries(&json);
    binaries.sort_by(|a, b| a.exe.cmp(&b.exe));
    if let Some(f) = filter {
        binaries.retain(|b| {
            b.exe
                .file_name()
                .is_some_and(|n| n.to_string_lossy().contains(f))
        });
    }
    if binaries.is_empty() {
        return Err("no test binaries found".into());
    }
    let logs = root().join("target/valgrind");
    std::fs::create_dir_all(&logs)?;
    let mut outcomes = Vec::new();
    for b in &binaries {
        let file = b.exe.file_name().unwrap().to_string_lossy().into_owned();
        // `name-<hash>`: the target name; the package tells apart tests of the
        // same name (both crates have a `security` test).
        let target = file.rsplit_once('-').map_or(file.as_str(), |(n, _)| n);
        let package = b.dir.file_name().map_or("".into(), |p| p.to_string_lossy());
        let name = format!("{package}/{target}");
        let log = logs.join(format!("{package}-{target}.log"));
        let mut cmd = Command::new("valgrind");
        cmd.current_dir(&b.dir)
            .env("CHRONY_TEST_SCALE_DOWN", SCALE_DOWN)
            .args([
                "--error-exitcode=1",
                "--errors-for-leak-kinds=definite",
                "--track-fds=no",
                "--trace-children=no",
                "--child-silent-after-fork=yes",
                "--num-callers=40",
            ])
            .arg(if target == "fork" {
                "--leak-check=no"
            } else {
                "--leak-check=full"
            })
            .arg(format!("--log-file={}", log.display()))
            .arg(&b.exe)
            .stdin(Stdio::null());
        for (binary, tests) in TIMING_TESTS {
            if *binary == name {
                for test in *tests {
                    println!("(skipped under valgrind, wall-clock bounds: {name}::{test})");
                    cmd.args(["--skip", test]);
                }
            }
        }
        println!("$ {}", crate::util::describe(&cmd));
        let start = Instant::now();
        let status = cmd.status()?;
        let seconds = start.elapsed().as_secs_f64();
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let (errors, definitely_lost) = summary(&text);
        let ok = status.success() && errors == 0 && definitely_lost == 0;
        if !ok {
            println!(
                "---- {} ({status}); valgrind's log:\n{text}",
                display_rel(&log)
            );
        }
        outcomes.push(Outcome {
            name,
            ok,
            errors,
            definitely_lost,
            seconds,
        });
    }
    println!("\n==== valgrind memcheck (logs in {})", display_rel(&logs));
    println!(
        "{:<28} {:>7} {:>16} {:>8}  result",
        "test binary", "errors", "definitely lost", "seconds"
    );
    for o in &outcomes {
        println!(
            "{:<28} {:>7} {:>14} B {:>8.1}  {}",
            o.name,
            o.errors,
            o.definitely_lost,
            o.seconds,
            if o.ok { "ok" } else { "FAILED" }
        );
    }
    let failed: Vec<&str> = outcomes
        .iter()
        .filter(|o| !o.ok)
        .map(|o| o.name.as_str())
        .collect();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("under valgrind: {} failed", failed.join(", ")).into())
    }
}

/// The test process's error count and bytes definitely lost: the log's first
/// `==PID==` is the test process (forked children are silent).
fn summary(log: &str) -> (u64, u64) {
    let pid = log
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("=="))
        .and_then(|l| l.split("==").next())
        .unwrap_or("");
    let prefix = format!("=={pid}==");
    let number = |line: &str, key: &str| -> Option<u64> {
        let rest = line.split(key).nth(1)?;
        rest.split_whitespace()
            .next()?
            .replace(',', "")
            .parse()
            .ok()
    };
    let (mut errors, mut lost) = (0, 0);
    for line in log.lines().filter(|l| l.starts_with(&prefix)) {
        if let Some(n) = number(line, "ERROR SUMMARY:") {
            errors += n;
        }
        if let Some(n) = number(line, "definitely lost:") {
            lost += n;
        }
    }
    (errors, lost)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_reads_the_test_process_only() {
        let log = "==10== Memcheck, a memory error detector\n\
                   ==11==    definitely lost: 48 bytes in 1 blocks\n\
                   ==10==    definitely lost: 1,024 bytes in 2 blocks\n\
                   ==10== ERROR SUMMARY: 3 errors from 1 contexts (suppressed: 0 from 0)\n";
        assert_eq!(summary(log), (3, 1024));
    }
}
