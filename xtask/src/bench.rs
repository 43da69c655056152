//! `cargo xtask bench` ([`USAGE`]): nothing is asserted. Each runner is pinned with the daemon to
//! one core: wake-ups across cores make round trips jump between about 12 and 42 µs on the 2-core
//! machines this runs on. The runners take turns in rounds (and the cases within a runner in
//! blocks), so a change of machine load hits every case alike. The many-daemon cases poll
//! [`MANY`] more daemons, pinned to the other core (see [`start_many`]): on their loopback ports
//! (`udp`), and again through relays that hold each datagram [`LAN_DELAY`] each way (`lan`, see
//! [`LatencyRelays`]), the time a fleet's answers take that concurrency saves.

use crate::pyenv::{build_wheel, install_wheel, venv};
use crate::util::{Args, Result, bail, cmd, output, remove_dir, root, run};
use chronyd_fixture::relay::LatencyRelays;
use chronyd_fixture::{Fixture, Mode};
use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const USAGE: &str = "\
usage: cargo xtask bench [--quick] [--cpu N] [--rounds N]

Times every way of reading chronyd side by side on one fixture chronyd (the cases: the README's
Performance). Writes target/bench/results.json and target/bench/bench.png; a full run also copies
them to docs/bench-results.json and docs/bench.png.

options:
  --quick       a smoke run: few samples, dev builds (CI's bench-smoke stage); docs/ is left alone
  --cpu N       the core for the clients and the daemon (default 1)
  --rounds N    runner rounds (default 4; 1 with --quick)
";

const BENCH_VENV: &str = "target/bench-venv";
const PEER_VENV: &str = "target/bench-peer-venv";
const OUT_DIR: &str = "target/bench";
/// The peer, exactly as published on PyPI (a wheel bundling libchrony 0.2).
const PEER: &str = "pychrony==2.0.3";
const MATPLOTLIB: &str = "matplotlib==3.11.2";
/// The daemons of the many-daemon cases (issue 14: 16 polled at once vs one after another).
const MANY: usize = 16;
/// How long the `lan` relays hold each datagram, each way: a LAN's round trip of about 1 ms.
const LAN_DELAY: std::time::Duration = std::time::Duration::from_micros(500);

pub fn run_cli(args: &[String]) -> Result {
    let args = Args::parse(args, USAGE, "--quick --cpu= --rounds=")?;
    let (quick, cpu) = (args.flag("--quick"), args.number("--cpu", 1)?);
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    if cpu >= cpus {
        bail!("--cpu {cpu}: this machine has CPUs 0..{}", cpus - 1);
    }
    let rounds: usize = args.number("--rounds", if quick { 1 } else { 4 })?.max(1);
    // Samples per case (split over the rounds), subprocess samples, memory calls, startup repeats.
    let counts = [(200, 20, 2_000, 3), (2_000, 200, 100_000, 20)];
    let (samples, spawn_samples, memory_calls, startup_repeat) = counts[usize::from(!quick)];
    let root = root();
    let date = output(cmd("date -u +%Y-%m-%dT%H:%M:%SZ"))?;
    let date = date.trim().to_string();
    let load_start = loadavg();
    println!("bench: {date}, load average {load_start} (at start)");

    // 1. The programs: release builds; with --quick (CI's smoke run) dev builds, which CI has made
    //    by then. The maturin pin of the python stage, so both build the same way.
    let pin = crate::python::pin;
    let tools = [pin("maturin"), pin("prometheus_client"), MATPLOTLIB].join(" ");
    let bench_python = venv(BENCH_VENV, &tools)?;
    let peer_python = venv(PEER_VENV, PEER)?;
    check_peer_bundles_libchrony(&peer_python)?;
    // With the async cases; the library's default build stays without tokio.
    let rust_bench = crate::util::build_example("bench", !quick, &["tokio"])?;
    install_wheel(&bench_python, &bench_wheel(&bench_python, quick)?)?;

    // 2. One daemon for everything, pinned to the clients' core; its NTP servers and the
    //    refclock feeder elsewhere.
    let out = root.join(OUT_DIR);
    let raw = out.join("raw");
    remove_dir(&raw)?;
    fs::create_dir_all(&raw)?;
    let fx = Fixture::start(Mode::EightSources)?;
    let sources = fx.chronyc(&["-c", "sources", "-a"])?.lines().count();
    if sources != 8 {
        bail!(
            "the bench's fixture (mode {}) has {sources} sources, not 8",
            fx.mode()
        );
    }
    run(cmd(&format!("taskset -pc {cpu} {}", fx.pid())))?;
    let helpers = [fx.server_pid(), fx.server2_pid(), fx.feeder_pid()];
    to_other_core(cpu, cpus, helpers.into_iter().flatten())?;
    let many = start_many(cpu, cpus)?;
    let many_udp: Vec<String> = many.iter().map(Fixture::udp_v4).collect();
    let relays = LatencyRelays::start(&many_udp, LAN_DELAY)?;
    to_other_core(cpu, cpus, relays.thread_ids.iter().copied())?;
    let many_lan = relays.addresses.join(",");
    let many_udp = many_udp.join(",");
    let socket = fx.socket_path().to_string_lossy().into_owned();
    let udp = fx.udp_v4();
    let script = root.join("pychrony-py/bench/bench.py");
    let script = &[script.as_os_str()];
    // `taskset -c CPU PROGRAM PATHS... WORDS... --json raw/JSON`: a runner pinned to the core.
    let pinned = |program: &Path, paths: &[&OsStr], words: String, json: String| {
        let mut cmd = cmd(&format!("taskset -c {cpu}"));
        cmd.arg(program).args(paths).args(words.split_whitespace());
        cmd.arg("--json").arg(raw.join(json));
        cmd
    };

    // 3. The runners take turns, round after round (the order rotates).
    let per_round = |total: usize, r: usize| total / rounds + usize::from(r < total % rounds);
    for r in 0..rounds {
        let load = loadavg();
        println!("\n==== round {}/{rounds} (load average {load})", r + 1);
        let n = per_round(samples, r);
        for k in 0..3 {
            let (python, imp) = match (r + k) % 3 {
                0 => {
                    let chronyc = [OsStr::new("--chronyc"), fx.chrony().chronyc.as_os_str()];
                    let spawn = per_round(spawn_samples, r);
                    let words = format!("--socket {socket} --udp {udp} --samples {n}");
                    let words = format!("{words} --spawn-samples {spawn} --many {many_udp}");
                    let words = format!("{words} --many-lan {many_lan}");
                    let json = format!("rust-{r}.json");
                    let mut rust = pinned(&rust_bench, &chronyc, words, json);
                    // The fixture's chronyc, with the library path it may need (inherited by chronyc).
                    fx.chrony().apply_env(&mut rust);
                    run(rust)?;
                    continue;
                }
                1 => (&bench_python, "ours"),
                _ => (&peer_python, "peer"),
            };
            let words = format!("run --impl {imp} --socket {socket} --udp {udp} --samples {n}");
            // pychrony.aio's many-daemon cases (ours only; the peer has no asyncio).
            let words = match imp {
                "ours" => format!("{words} --many {many_udp} --many-lan {many_lan}"),
                _ => words,
            };
            let json = format!("python-{imp}-{r}.json");
            run(pinned(python, script, words, json))?;
        }
    }

    // 4. Memory and import + first call, in fresh interpreters.
    println!("\n==== memory and import + first call");
    // Instruction counts do not depend on the load (full runs, when valgrind is there).
    let callgrind = !quick && crate::util::succeeds("valgrind --version");
    let callgrind = if callgrind { "--callgrind" } else { "" };
    for (python, imp) in [(&bench_python, "ours"), (&peer_python, "peer")] {
        let (calls, repeat) = (memory_calls, startup_repeat);
        let memory = format!("memory --impl {imp} --socket {socket} --calls {calls}");
        run(pinned(python, script, memory, format!("memory-{imp}.json")))?;
        let startup = format!("startup --impl {imp} --socket {socket} --repeat {repeat}");
        let startup = format!("{startup} {callgrind}");
        let json = format!("startup-{imp}.json");
        run(pinned(python, script, startup, json))?;
    }
    let load_end = loadavg();
    println!("\nbench: load average {load_end} (at end)");
    let leftovers = socket_dir_leftovers(fx.dir());
    let chrony = fx.chrony().clone();
    drop(fx);
    drop(relays);
    drop(many);

    // 5. The report; report.py adds the machine's facts (CPU, kernel, versions).
    let facts = format!(
        "date={date}\nloadavg_start={load_start}\nloadavg_end={load_end}\nquick={quick}\n\
         cpu_pinned={cpu}\nsources={sources}\nrounds={rounds}\nsamples_per_case={samples}\n\
         subprocess_samples_per_case={spawn_samples}\nmemory_calls={memory_calls}\n\
         startup_repeat={startup_repeat}\nmany_daemons={MANY}\nlan_delay_us={}",
        LAN_DELAY.as_micros()
    );
    let (results, chart) = (out.join("results.json"), out.join("bench.png"));
    let mut report = Command::new(&bench_python);
    // The unpacked chronyd's libraries, for its --version.
    chrony.apply_env(&mut report);
    report.arg(root.join("pychrony-py/bench/report.py"));
    for fact in facts.lines() {
        report.arg("--fact").arg(fact);
    }
    for name in &leftovers {
        report.arg("--leftover").arg(name);
    }
    for (option, path) in [
        ("--chronyd", &chrony.chronyd),
        ("--peer-python", &peer_python),
        ("--raw", &raw),
        ("--results", &results),
        ("--chart", &chart),
    ] {
        report.arg(option).arg(path);
    }
    run(report)?;
    if quick {
        println!("quick run: docs/bench.png and docs/bench-results.json left alone");
    } else {
        fs::copy(&chart, root.join("docs/bench.png"))?;
        fs::copy(&results, root.join("docs/bench-results.json"))?;
        println!("copied to docs/bench.png and docs/bench-results.json");
    }
    println!("load average: {load_start} at start, {load_end} at end (2-core machine, shared)");
    Ok(())
}

/// [`MANY`] fixture chronyd in the cheapest mode that answers tracking (`Mode::Unsynced`: no NTP
/// server of its own, no refclock), each on its own loopback UDP command port. Pinned to the core
/// the clients do not use (on a 1-core machine, left where they are): the client's core then
/// runs only the client, as when it polls a fleet elsewhere; the daemons' own work is serialised
/// on the other core (a fleet would answer in parallel), which only slows the concurrent case.
fn start_many(cpu: usize, cpus: usize) -> Result<Vec<Fixture>> {
    let started = std::time::Instant::now();
    let many = (0..MANY).map(|_| Fixture::start(Mode::Unsynced));
    let many = many.collect::<std::io::Result<Vec<_>>>()?;
    to_other_core(cpu, cpus, many.iter().map(Fixture::pid))?;
    let took = started.elapsed().as_secs_f64();
    println!("bench: {MANY} more chronyd (mode unsynced) started in {took:.1} s");
    Ok(many)
}

/// Pins `pids` to a core other than `cpu` (on a 1-core machine, leaves them where they are).
fn to_other_core(cpu: usize, cpus: usize, pids: impl Iterator<Item = u32>) -> Result {
    let other_cpu = usize::from(cpu == 0);
    for pid in pids.filter(|_| cpus > 1) {
        output(cmd(&format!("taskset -pc {other_cpu} {pid}")))?;
    }
    Ok(())
}

fn loadavg() -> String {
    let loadavg = fs::read_to_string("/proc/loadavg").unwrap_or_else(|_| "?".into());
    let loads: Vec<&str> = loadavg.split_whitespace().take(3).collect();
    loads.join(" ")
}

/// pychrony 2.0.3 must be the wheel bundling libchrony, not an sdist built against some other.
fn check_peer_bundles_libchrony(python: &Path) -> Result {
    let show = "-m pip show -f --disable-pip-version-check pychrony".split(' ');
    let files = output(Command::new(python).args(show))?;
    let bundled = |l: &str| l.trim().starts_with("pychrony.libs/libchrony");
    if !files.lines().any(bundled) {
        let why = "does not bundle libchrony (pychrony.libs/libchrony*.so missing)";
        bail!("{PEER_VENV}: {PEER} {why}");
    }
    println!("{PEER_VENV}: {PEER} is the wheel with its bundled libchrony");
    Ok(())
}

/// A release wheel, or with `quick` a dev build made as the python stage makes its own (its
/// interpreter and target dir when they exist, so CI finds it built).
fn bench_wheel(python: &Path, quick: bool) -> Result<PathBuf> {
    let ci_python = root().join(crate::python::VENV).join("bin/python");
    let (interpreter, target_dir) = match (quick, ci_python.exists()) {
        (false, _) => (python.to_path_buf(), "target/bench-python"),
        (true, true) => (ci_python, crate::python::CARGO_TARGET),
        (true, false) => (python.to_path_buf(), "target/bench-python-dev"),
    };
    let args: &[&str] = if quick { &[] } else { &["--release"] };
    let out = "target/bench-wheels";
    build_wheel(python, &interpreter, out, target_dir, args, None)
}

/// What is left in the daemon's socket directory besides the fixture's own files: none expected.
fn socket_dir_leftovers(dir: &Path) -> Vec<String> {
    let fixture_files = ".conf .log .pid .stderr .drift .env";
    // The refclocks' sockets, which chronyd binds itself (the feeder sends to one of them).
    let daemon_files = ["chronyd.sock", "refclock.sock", "unfed.sock"];
    let fixture_file = |n: &&str| fixture_files.split(' ').any(|e| n.ends_with(e));
    let files = crate::util::files(dir).unwrap_or_default();
    let names = files.iter().filter_map(|f| f.file_name()?.to_str());
    let names = names.filter(|n| !fixture_file(n) && !daemon_files.contains(n));
    let names: Vec<String> = names.map(String::from).collect();
    if !names.is_empty() {
        println!("left in the socket directory: {}", names.join(" "));
    }
    names
}
