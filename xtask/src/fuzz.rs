//! `cargo xtask fuzz`: libFuzzer on libchrony-sys/fuzz/fuzz_replies.c (the C reply parser; input
//! layout at its top), with ASan and UBSan. The checked-in corpus is replayed first through the
//! harness built as a plain program, so a regression fails in a second. A crash is saved in
//! target/fuzz/artifacts/: add it to the corpus once fixed (the test `fuzz_corpus` replays it).

use crate::system_lib::C_SOURCES;
use crate::util::{Args, Result, bail, cargo, env_or, hint, root, run};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const USAGE: &str = "\
usage: cargo xtask fuzz [--time SECONDS] [--replay-only]
       cargo xtask fuzz --capture

  --time SECONDS   fuzz for this long (default 60) after replaying the corpus
  --replay-only    only replay libchrony-sys/fuzz/corpus under ASan/UBSan
  --capture        (re)write libchrony-sys/fuzz/corpus/ from real chronyd daemons (root)
";

const CFLAGS: &str = "-g -O1 -fno-omit-frame-pointer -fno-sanitize-recover=all";

pub fn run_cli(args: &[String]) -> Result {
    let args = Args::parse(args, USAGE, "--time= --capture --replay-only")?;
    let seconds = args.number("--time", 60)?;
    if args.flag("--capture") {
        let mut capture = cargo("run -p libchrony-sys --example capture_corpus --");
        return run(capture.arg(sys_dir().join("fuzz/corpus")));
    }
    replay()?;
    if args.flag("--replay-only") {
        return Ok(());
    }
    fuzz(seconds)
}

fn sys_dir() -> PathBuf {
    root().join("libchrony-sys")
}

/// clang with the shared flags: the harness, `extra` and the bundled library's sources.
fn clang(sanitizers: &str, extra: &[PathBuf], out: &Path) -> Result {
    std::fs::create_dir_all(root().join("target/fuzz"))?;
    let csrc = sys_dir().join("csrc");
    let mut cmd = Command::new(env_or("CLANG", "clang"));
    cmd.arg(format!("-fsanitize={sanitizers}"));
    cmd.args(CFLAGS.split(' ')).arg("-I").arg(&csrc);
    cmd.arg(sys_dir().join("fuzz/fuzz_replies.c"));
    cmd.args(extra).args(C_SOURCES.iter().map(|f| csrc.join(f)));
    let how = "on Debian 12 `apt-get install --no-install-recommends clang libclang-rt-14-dev`; \
               `cargo xtask ci --stage install` probes and installs them";
    let needs = format!("(the fuzz build needs clang and its sanitizer/libFuzzer runtimes: {how})");
    hint(run(cmd.arg("-o").arg(out)), &needs)
}

fn replay() -> Result {
    let bin = root().join("target/fuzz/replay_replies");
    let main = sys_dir().join("fuzz/replay_main.c");
    clang("address,undefined", &[main], &bin)?;
    let mut replay = Command::new(&bin);
    replay.env("ASAN_OPTIONS", "detect_leaks=1");
    let replayed = run(replay.arg(sys_dir().join("fuzz/corpus")));
    let failing = "a corpus input fails: see the sanitizer report above";
    hint(replayed, failing)
}

fn fuzz(seconds: u64) -> Result {
    let out = root().join("target/fuzz");
    let (bin, work) = (out.join("fuzz_replies"), out.join("corpus"));
    let artifacts = out.join("artifacts");
    clang("fuzzer,address,undefined", &[], &bin)?;
    std::fs::create_dir_all(&work)?;
    std::fs::create_dir_all(&artifacts)?;
    let mut cmd = Command::new(&bin);
    cmd.arg(format!("-max_total_time={seconds}"));
    cmd.args(["-print_final_stats=1", "-max_len=4096", "-timeout=10"]);
    cmd.arg(format!("-artifact_prefix={}/", artifacts.display()));
    cmd.arg(&work).arg(sys_dir().join("fuzz/corpus"));
    println!("$ {}", crate::util::describe(&cmd));
    let mut child = cmd.stdin(Stdio::null()).stderr(Stdio::piped()).spawn()?;
    let (mut execs, mut rate) = (String::new(), String::new());
    // libFuzzer reports on stderr: pass it through, keep the final stats.
    for line in BufReader::new(child.stderr.take().expect("piped")).lines() {
        let line = line?;
        if let Some(v) = line.strip_prefix("stat::number_of_executed_units:") {
            execs = v.trim().to_string();
        }
        if let Some(v) = line.strip_prefix("stat::average_exec_per_sec:") {
            rate = v.trim().to_string();
        }
        // The progress lines are many; `NEW` and pulses stay.
        if !line.starts_with('#') || line.contains("pulse") || line.contains("NEW") {
            eprintln!("{line}");
        }
    }
    let status = child.wait()?;
    println!("fuzz: {execs} executions in {seconds} s, {rate} exec/s");
    if !status.success() {
        let found = format!("the fuzzer found a failing input ({status})");
        bail!("{found}: see the report above and {}", artifacts.display());
    }
    Ok(())
}
