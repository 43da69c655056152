//! The fuzz corpus (`fuzz/corpus/`: real chronyd 4.3 replies, and every input
//! the fuzzer ever failed on once fixed) replayed through the libFuzzer
//! harness `fuzz/fuzz_replies.c`, built as a plain program with
//! `fuzz/replay_main.c` and the bundled C sources by the system C compiler
//! (`$CC`, default `cc`) with `$CFLAGS`: under the `sanitize` CI stage that
//! means AddressSanitizer and UBSan. The harness drives the C library only
//! through its public API, so the replay covers whatever `csrc/` is checked
//! out, in either build mode of the crate.

use std::path::{Path, PathBuf};
use std::process::Command;

fn sys_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn build_replay() -> PathBuf {
    let dir = sys_dir();
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("replay_replies");
    let mut cc = Command::new(std::env::var("CC").unwrap_or_else(|_| "cc".into()));
    if let Ok(flags) = std::env::var("CFLAGS") {
        cc.args(flags.split_whitespace());
    }
    let mut sources: Vec<PathBuf> = std::fs::read_dir(dir.join("csrc"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "c"))
        .collect();
    sources.sort();
    cc.args(["-std=gnu11", "-O1", "-g", "-Wall", "-Werror", "-I"])
        .arg(dir.join("csrc"))
        .arg(dir.join("fuzz/fuzz_replies.c"))
        .arg(dir.join("fuzz/replay_main.c"))
        .args(&sources)
        .arg("-lm")
        .arg("-o")
        .arg(&out);
    let status = cc.status().expect("run the C compiler");
    assert!(status.success(), "{cc:?} failed: {status}");
    out
}

#[test]
fn corpus_replays_cleanly() {
    let corpus = sys_dir().join("fuzz/corpus");
    let files = std::fs::read_dir(&corpus).unwrap().count();
    assert!(files >= 40, "the seed corpus is checked in: {files} files");
    let bin = build_replay();
    let out = Command::new(&bin).arg(&corpus).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "replay failed ({}): {stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout.trim(), format!("replayed {files} inputs"));
}
