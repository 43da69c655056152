//! `cargo xtask fuzz`: the libFuzzer harness `libchrony-sys/fuzz/fuzz_replies.c`
//! (the bundled C library's reply parser fed arbitrary datagrams), and
//! `--capture`, which records the seed corpus from real chronyd daemons.
//!
//! The harness is built with `clang -fsanitize=fuzzer,address,undefined` together
//! with the bundled C sources into `target/fuzz/`. Before fuzzing, the checked-in corpus is
//! replayed through the same harness built as a plain program (`replay_main.c`)
//! under ASan and UBSan, so a regression fails in a second. New inputs go to
//! `target/fuzz/corpus/` (the checked-in corpus is only read); a crash is saved
//! in `target/fuzz/artifacts/` and fails the command: add it to
//! `libchrony-sys/fuzz/corpus/` once fixed (the test `fuzz_corpus` replays it).
//!
//! Input layout: see the comment at the top of `fuzz_replies.c`.

use crate::util::{Result, root, run};
use std::io::{BufRead, BufReader};
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

const USAGE: &str = "\
usage: cargo xtask fuzz [--time SECONDS] [--replay-only]
       cargo xtask fuzz --capture

  --time SECONDS   fuzz for this long (default 60) after replaying the corpus
  --replay-only    only replay libchrony-sys/fuzz/corpus under ASan/UBSan
  --capture        (re)write libchrony-sys/fuzz/corpus/ from real chronyd daemons (root)
";

/// Compiler flags both builds share.
const CFLAGS: &[&str] = &[
    "-g",
    "-O1",
    "-fno-omit-frame-pointer",
    "-fno-sanitize-recover=all",
];

pub fn run_cli(args: &[String]) -> Result {
    let mut seconds: u64 = 60;
    let mut capture_only = false;
    let mut replay_only = false;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "-h" | "--help" => {
                print!("{USAGE}");
                return Ok(());
            }
            "--time" => {
                let v = it.next().ok_or("--time needs SECONDS")?;
                seconds = v
                    .parse()
                    .map_err(|_| format!("--time: `{v}` is not seconds"))?;
            }
            "--capture" => capture_only = true,
            "--replay-only" => replay_only = true,
            other => return Err(format!("unknown argument `{other}`\n\n{USAGE}").into()),
        }
    }
    if capture_only {
        return capture(&corpus_dir());
    }
    replay()?;
    if replay_only {
        return Ok(());
    }
    fuzz(seconds)
}

/// The CI stage: replay, then 60 s of fuzzing.
pub fn stage() -> Result {
    replay()?;
    fuzz(60)
}

fn sys_dir() -> PathBuf {
    root().join("libchrony-sys")
}

fn corpus_dir() -> PathBuf {
    sys_dir().join("fuzz/corpus")
}

fn out_dir() -> PathBuf {
    root().join("target/fuzz")
}

/// The bundled library's sources (the list libchrony-sys/build.rs compiles).
fn c_sources() -> Result<Vec<PathBuf>> {
    let csrc = sys_dir().join("csrc");
    Ok(crate::system_lib::C_SOURCES
        .iter()
        .map(|f| csrc.join(f))
        .collect())
}

/// clang with the shared flags, `csrc/` on the include path, and the harness.
fn clang(sanitizers: &str, extra: &[PathBuf], out: &Path) -> Result {
    std::fs::create_dir_all(out_dir())?;
    let mut cmd = Command::new(std::env::var("CLANG").unwrap_or_else(|_| "clang".into()));
    cmd.arg(format!("-fsanitize={sanitizers}"))
        .args(CFLAGS)
        .arg("-I")
        .arg(sys_dir().join("csrc"))
        .arg(sys_dir().join("fuzz/fuzz_replies.c"))
        .args(extra)
        .args(c_sources()?)
        .arg("-o")
        .arg(out);
    run(&mut cmd).map_err(|e| {
        format!(
            "{e}\n(the fuzz build needs clang and its sanitizer/libFuzzer runtimes: on Debian 12 \
             `apt-get install --no-install-recommends clang libclang-rt-14-dev`; \
             `cargo xtask ci --stage install` probes and installs them)"
        )
        .into()
    })
}

/// The corpus through the harness as a plain program, under ASan and UBSan.
fn replay() -> Result {
    let bin = out_dir().join("replay_replies");
    clang(
        "address,undefined",
        &[sys_dir().join("fuzz/replay_main.c")],
        &bin,
    )?;
    run(Command::new(&bin)
        .env("ASAN_OPTIONS", "detect_leaks=1")
        .arg(corpus_dir()))
    .map_err(|e| format!("{e}\na corpus input fails: see the sanitizer report above").into())
}

fn fuzz(seconds: u64) -> Result {
    let bin = out_dir().join("fuzz_replies");
    clang("fuzzer,address,undefined", &[], &bin)?;
    let work = out_dir().join("corpus");
    let artifacts = out_dir().join("artifacts");
    std::fs::create_dir_all(&work)?;
    std::fs::create_dir_all(&artifacts)?;
    let mut cmd = Command::new(&bin);
    cmd.arg(format!("-max_total_time={seconds}"))
        .arg("-print_final_stats=1")
        .arg("-max_len=4096")
        .arg("-timeout=10")
        .arg(format!("-artifact_prefix={}/", artifacts.display()))
        .arg(&work)
        .arg(corpus_dir())
        .stdin(Stdio::null())
        .stderr(Stdio::piped());
    println!("$ {}", crate::util::describe(&cmd));
    let mut child = cmd.spawn()?;
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
        if line.starts_with("#") && !line.contains("pulse") && !line.contains("NEW") {
            continue; // the progress lines are many; `NEW` and pulses stay
        }
        eprintln!("{line}");
    }
    let status = child.wait()?;
    println!("fuzz: {execs} executions in {seconds} s, {rate} exec/s");
    if !status.success() {
        return Err(format!(
            "the fuzzer found a failing input ({status}): see the report above and {}",
            artifacts.display()
        )
        .into());
    }
    Ok(())
}

// ---- corpus capture ---------------------------------------------------------

const FLAG_COUNT: u8 = 0x01;
const FLAG_PATCH: u8 = 0x02;
const FLAG_RESEND: u8 = 0x04;
const FLAG_SEQPACKET: u8 = 0x08;

/// A report as the harness indexes it (chrony_get_report_name order), its
/// request command, its longest reply and how a record is asked for.
struct Report {
    name: &'static str,
    index: u8,
    command: u16,
    reply_len: usize,
    arg: Arg,
}

#[derive(Clone, Copy, PartialEq)]
enum Arg {
    None,
    Index,
    Address,
}

#[rustfmt::skip]
const REPORTS: &[Report] = &[
    Report { name: "tracking", index: 0, command: 33, reply_len: 104, arg: Arg::None },
    Report { name: "sources", index: 1, command: 15, reply_len: 76, arg: Arg::Index },
    Report { name: "sourcestats", index: 2, command: 34, reply_len: 84, arg: Arg::Index },
    Report { name: "selectdata", index: 3, command: 69, reply_len: 76, arg: Arg::Index },
    Report { name: "activity", index: 4, command: 44, reply_len: 48, arg: Arg::None },
    Report { name: "authdata", index: 5, command: 67, reply_len: 52, arg: Arg::Address },
    Report { name: "ntpdata", index: 6, command: 57, reply_len: 172, arg: Arg::Address },
    Report { name: "serverstats", index: 7, command: 54, reply_len: 196, arg: Arg::None },
    Report { name: "rtcdata", index: 8, command: 35, reply_len: 56, arg: Arg::None },
    Report { name: "smoothing", index: 9, command: 51, reply_len: 52, arg: Arg::None },
];

const REQ_N_SOURCES: u16 = 14;
const REQ_SOURCESTATS: u16 = 34;

/// One datagram to chronyd and its answer (the sequence is checked).
fn exchange(sock: &UnixDatagram, command: u16, arg: &[u8], reply_len: usize) -> Result<Vec<u8>> {
    let mut req = vec![0u8; (20 + arg.len()).max(reply_len)];
    req[0] = 6; // protocol version
    req[1] = 1; // request
    req[4..6].copy_from_slice(&command.to_be_bytes());
    let seq: u32 = std::process::id() ^ (u32::from(command) << 16) ^ 0x5a5a_0000;
    req[8..12].copy_from_slice(&seq.to_be_bytes());
    req[20..20 + arg.len()].copy_from_slice(arg);
    sock.send(&req)?;
    let mut buf = [0u8; 2048];
    loop {
        let n = sock.recv(&mut buf)?;
        if n >= 28 && buf[16..20] == seq.to_be_bytes() {
            return Ok(buf[..n].to_vec());
        }
    }
}

/// A corpus file: report, flags, then each datagram with its u16 length.
fn input(report: u8, flags: u8, datagrams: &[&[u8]]) -> Vec<u8> {
    let mut v = vec![report, flags];
    for d in datagrams {
        v.extend_from_slice(&(d.len() as u16).to_be_bytes());
        v.extend_from_slice(d);
    }
    v
}

fn capture(dir: &Path) -> Result {
    use chronyd_fixture::{Fixture, Mode};
    std::fs::create_dir_all(dir)?;
    let mut written = 0;
    for (tag, mode) in [
        ("synced", Mode::Synced),
        ("refclock", Mode::Refclock { leap: 0 }),
    ] {
        let fx = Fixture::start(mode)?;
        if mode == Mode::Synced {
            // ntpdata wants a few NTP exchanges behind it.
            std::thread::sleep(Duration::from_secs(2));
        }
        let client = fx.dir().join("capture.sock");
        let sock = UnixDatagram::bind(&client)?;
        sock.connect(fx.socket_path())?;
        sock.set_read_timeout(Some(Duration::from_secs(3)))?;
        let mut save = |name: String, data: Vec<u8>| -> Result {
            std::fs::write(dir.join(&name), data)?;
            println!("{tag}: {name}");
            written += 1;
            Ok(())
        };
        let count = exchange(&sock, REQ_N_SOURCES, &[], 32)?;
        save(
            format!("{tag}-sources-count"),
            input(1, FLAG_PATCH | FLAG_COUNT, &[&count]),
        )?;
        for r in REPORTS {
            let index0 = 0u32.to_be_bytes();
            let datagrams: Vec<Vec<u8>> = match r.arg {
                Arg::None => vec![exchange(&sock, r.command, &[], r.reply_len)?],
                Arg::Index => vec![exchange(&sock, r.command, &index0, r.reply_len)?],
                Arg::Address => {
                    let stats = exchange(&sock, REQ_SOURCESTATS, &index0, 84)?;
                    let mut v = vec![stats.clone()];
                    // A refclock has no address: the lookup ends the exchange.
                    if stats.len() >= 52 && stats[48..50] != [0, 0] {
                        v.push(exchange(&sock, r.command, &stats[32..52], r.reply_len)?);
                    }
                    v
                }
            };
            let d: Vec<&[u8]> = datagrams.iter().map(Vec::as_slice).collect();
            save(format!("{tag}-{}", r.name), input(r.index, FLAG_PATCH, &d))?;
            if tag == "synced" {
                // The same replies resent once, and over a seqpacket pair.
                save(
                    format!("{tag}-{}-resend", r.name),
                    input(r.index, FLAG_PATCH | FLAG_RESEND, &d),
                )?;
                save(
                    format!("{tag}-{}-seqpacket", r.name),
                    input(r.index, FLAG_PATCH | FLAG_SEQPACKET, &d),
                )?;
            }
        }
        drop(sock);
        let _ = std::fs::remove_file(&client);
        if mode == Mode::Synced {
            // Over UDP, chronyd refuses ntpdata: a real "not authorised" reply.
            let udp = std::net::UdpSocket::bind("127.0.0.1:0")?;
            udp.connect(fx.udp_v4())?;
            udp.set_read_timeout(Some(Duration::from_secs(3)))?;
            let mut req = vec![0u8; 172];
            req[0] = 6;
            req[1] = 1;
            req[4..6].copy_from_slice(&57u16.to_be_bytes());
            req[8..12].copy_from_slice(&0x1234_5678u32.to_be_bytes());
            req[20 + 16..20 + 18].copy_from_slice(&1u16.to_be_bytes());
            udp.send(&req)?;
            let mut buf = [0u8; 2048];
            let n = udp.recv(&mut buf)?;
            save(
                format!("{tag}-ntpdata-udp-unauthorised"),
                input(6, FLAG_PATCH, &[&buf[..n]]),
            )?;
        }
    }
    println!("{written} corpus files in {}", dir.display());
    Ok(())
}
