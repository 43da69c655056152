//! `cargo xtask valgrind`: each test binary of libchrony-sys and chrony-core under memcheck, as
//! `cargo test` runs it, with `CHRONY_TEST_SCALE_DOWN=20`; every test process must end with 0
//! errors and 0 bytes definitely lost. `--trace-children=no`: chronyd, chronyc, setpriv and cc are
//! not ours to check. `--child-silent-after-fork=yes`: the fixture's forked helpers would interleave
//! their output. `--leak-check=no` for the `fork` targets: a child forked from a multi-threaded
//! process "definitely loses" the other threads' allocations. No suppression file: the Rust
//! runtime's allocations are "still reachable" or "possibly lost", which are not counted.

use crate::util::{Result, bail, build_executables, cmd, display_rel, root};
use std::path::Path;
use std::process::Stdio;
use std::time::Instant;

const USAGE: &str = "\
usage: cargo xtask valgrind [FILTER]

Runs every test binary of libchrony-sys and chrony-core under valgrind memcheck
(FILTER: only binaries whose name contains it). Needs valgrind (apt-get install valgrind).
";

/// Test counts are divided by this under valgrind (`tests/common` reads it).
const SCALE_DOWN: &str = "20";
/// Besides `--leak-check` and `--log-file` (the module docs say why).
const OPTIONS: &str = "--error-exitcode=1 --errors-for-leak-kinds=definite --track-fds=no \
    --trace-children=no --child-silent-after-fork=yes --num-callers=40";

/// Per test binary, the tests that assert wall-clock bounds, which memcheck's 10-50x slowdown
/// makes meaningless; they run uninstrumented in the `test`, `system` and `sanitize` stages.
const TIMING_TESTS: &str = "\
chrony-core/faults frozen_daemon_times_out_within_the_deadline default_deadline_on_a_frozen_daemon
    briefly_frozen_daemon_answers_within_the_deadline interrupted_query_stops_early
    huge_and_zero_timeouts requests_refused_by_a_full_queue_go_when_there_is_room
chrony-core/scripted unanswered_requests_are_resent_as_chronyc_does
    a_late_reply_to_an_earlier_attempt_is_accepted
    a_flood_of_stale_datagrams_cannot_stretch_the_deadline
    closing_a_shared_connection_stops_the_call_in_flight
chrony-core/sources a_frozen_daemon_times_out_within_one_deadline_for_the_whole_list";

pub fn run_cli(args: &[String]) -> Result {
    let args = crate::util::Args::parse(args, USAGE, "FILTER")?;
    run(args.words.first().map(String::as_str))
}

pub fn run(filter: Option<&str>) -> Result {
    if !crate::util::succeeds("valgrind --version") {
        bail!("valgrind is not installed: apt-get install valgrind");
    }
    // The test executables (`"test":true` artifacts) and their package directories.
    let built = build_executables("test --no-run -p libchrony-sys -p chrony-core")?;
    let tests = built.iter().filter(|e| e.test);
    let tests = tests.filter_map(|e| Some((&*e.path, e.manifest.parent()?)));
    let mut binaries: Vec<(&Path, &Path)> = tests.collect();
    binaries.sort();
    let wanted = |exe: &Path| filter.is_none_or(|f| exe.to_string_lossy().contains(f));
    binaries.retain(|(exe, _)| wanted(Path::new(exe.file_name().unwrap_or_default())));
    if binaries.is_empty() {
        bail!("no test binaries found");
    }
    let logs = root().join("target/valgrind");
    std::fs::create_dir_all(&logs)?;
    // Per test binary: its name, errors, bytes definitely lost, seconds, result.
    let (mut rows, mut failed) = (Vec::new(), Vec::new());
    for (exe, dir) in &binaries {
        let file = exe.file_name().unwrap_or_default().to_string_lossy();
        // `name-<hash>`; the package tells apart tests of the same name (`security`).
        let target = file.rsplit_once('-').map_or(&*file, |(n, _)| n);
        let package = dir.file_name().unwrap_or_default().to_string_lossy();
        let name = format!("{package}/{target}");
        let log = logs.join(format!("{package}-{target}.log"));
        let leak_check = if target == "fork" { "no" } else { "full" };
        let mut cmd = cmd(&format!("valgrind {OPTIONS} --leak-check={leak_check}"));
        cmd.env("CHRONY_TEST_SCALE_DOWN", SCALE_DOWN);
        cmd.arg(format!("--log-file={}", log.display()));
        cmd.arg(exe).current_dir(dir).stdin(Stdio::null());
        let mut binary = "";
        for word in TIMING_TESTS.split_whitespace() {
            if word.contains('/') {
                binary = word;
            } else if binary == name {
                println!("(skipped under valgrind, wall-clock bounds: {name}::{word})");
                cmd.args(["--skip", word]);
            }
        }
        println!("$ {}", crate::util::describe(&cmd));
        let start = Instant::now();
        let status = cmd.status()?;
        let seconds = format!("{:.1}", start.elapsed().as_secs_f64());
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let (errors, lost) = summary(&text);
        let ok = status.success() && errors == 0 && lost == 0;
        if !ok {
            let log = display_rel(&log);
            println!("---- {log} ({status}); valgrind's log:\n{text}");
            failed.push(name.clone());
        }
        let result = if ok { "ok" } else { "FAILED" }.to_string();
        let (errors, lost) = (errors.to_string(), format!("{lost} B"));
        rows.push([name, errors, lost, seconds, result]);
    }
    println!("\n==== valgrind memcheck (logs in {})", display_rel(&logs));
    let columns = "test binary|errors|definitely lost|seconds|result";
    print!("{}", crate::util::table(columns, &rows, &[1, 2, 3]));
    if !failed.is_empty() {
        bail!("under valgrind: {} failed", failed.join(", "));
    }
    Ok(())
}

/// The errors and bytes definitely lost of the log's first `==PID==`, the test process.
pub fn summary(log: &str) -> (u64, u64) {
    let first = log.lines().next().and_then(|l| l.strip_prefix("=="));
    let pid = first.and_then(|l| l.split("==").next()).unwrap_or("");
    let prefix = format!("=={pid}==");
    let number = |line: &str, key: &str| -> Option<u64> {
        let count = line.split(key).nth(1)?.split_whitespace().next()?;
        count.replace(',', "").parse().ok()
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
