//! `cargo xtask bench`: every way of asking chronyd for its tracking report,
//! timed side by side in one run against one fixture daemon, over the unix
//! socket and over UDP. Nothing is asserted: the numbers go to
//! target/bench/results.json and a chart (and, after a full run, to
//! docs/bench-results.json and docs/bench.png, which the README shows).
//!
//! The runners, each pinned with the daemon to one CPU core (`taskset`),
//! because wake-ups across cores make round trips jump between about 12 and
//! 42 µs on the 2-core machines this runs on:
//! - chrony-core/examples/bench.rs (release): the raw floor (std-only
//!   persistent socket), the one-call API, `Connection` open+query+drop and
//!   reused, and `chronyc -c tracking` as a subprocess;
//! - pychrony-py/bench/bench.py with this project's release wheel in
//!   target/bench-venv, and again with pychrony 2.0.3 from PyPI in
//!   target/bench-peer-venv (both import as `pychrony`); also the memory and
//!   import + first call measurements;
//! - pychrony-py/bench/report.py merges the samples, computes the ratios and
//!   goals, prints the table and draws the chart (matplotlib, Agg).
//!
//! The runners take turns in several rounds (and the cases within a runner
//! in blocks), so a change of machine load hits every case alike.

use crate::pyenv::{WheelBuild, install_wheel};
use crate::util::{Result, output, root, run};
use chronyd_fixture::{Fixture, Mode};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const USAGE: &str = "\
usage: cargo xtask bench [--quick] [--cpu N] [--rounds N]

Times the tracking query side by side on one fixture chronyd (unix socket and UDP):
a raw socket floor, chrony-core (one-call API, reused Connection), pychrony (release wheel:
get_tracking, reused ChronyConnection), pychrony 2.0.3 from PyPI (open+query+close, reused)
and `chronyc -c tracking`; plus memory and import + first call. Client processes and the
daemon share one CPU core (taskset). Writes target/bench/results.json and target/bench/bench.png;
a full run also copies them to docs/bench-results.json and docs/bench.png.

options:
  --quick       a smoke run: few samples, dev builds (CI's bench-smoke stage); docs/ is left alone
  --cpu N       the core for the clients and the daemon (default 1)
  --rounds N    runner rounds (default 4; 1 with --quick)
";

/// Venvs and outputs, relative to the workspace root.
const BENCH_VENV: &str = "target/bench-venv";
const PEER_VENV: &str = "target/bench-peer-venv";
const WHEEL_DIR: &str = "target/bench-wheels";
/// maturin's cargo target dir (its environment differs from plain cargo's).
const MATURIN_TARGET: &str = "target/bench-python";
const OUT_DIR: &str = "target/bench";
/// The peer, exactly as published on PyPI (a wheel bundling libchrony 0.2).
const PEER: &str = "pychrony==2.0.3";
const MATPLOTLIB: &str = "matplotlib==3.11.2";

struct Plan {
    quick: bool,
    cpu: usize,
    rounds: usize,
    /// Per case in total (split over the rounds).
    samples: usize,
    spawn_samples: usize,
    memory_calls: usize,
    startup_repeat: usize,
}

fn parse(args: &[String]) -> Result<Option<Plan>> {
    let mut quick = false;
    let mut cpu = 1;
    let mut rounds = None;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "-h" | "--help" => {
                print!("{USAGE}");
                return Ok(None);
            }
            "--quick" => quick = true,
            "--cpu" => cpu = it.next().ok_or("--cpu needs N")?.parse()?,
            "--rounds" => rounds = Some(it.next().ok_or("--rounds needs N")?.parse()?),
            other => return Err(format!("unknown argument `{other}`\n\n{USAGE}").into()),
        }
    }
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    if cpu >= cpus {
        return Err(format!("--cpu {cpu}: this machine has CPUs 0..{}", cpus - 1).into());
    }
    let rounds: usize = rounds.unwrap_or(if quick { 1 } else { 4 }).max(1);
    Ok(Some(if quick {
        Plan {
            quick,
            cpu,
            rounds,
            samples: 200,
            spawn_samples: 20,
            memory_calls: 2_000,
            startup_repeat: 3,
        }
    } else {
        Plan {
            quick,
            cpu,
            rounds,
            samples: 2_000,
            spawn_samples: 200,
            memory_calls: 100_000,
            startup_repeat: 20,
        }
    }))
}

pub fn run_cli(args: &[String]) -> Result {
    let Some(plan) = parse(args)? else {
        return Ok(());
    };
    let root = root();
    let date = output(Command::new("date").args(["-u", "+%Y-%m-%dT%H:%M:%SZ"]))?;
    let date = date.trim();
    let load_start = loadavg();
    println!("bench: {date}, load average {load_start} (at start)");

    // 1. The programs. A full run: release builds. --quick (a smoke run, CI's last stage): dev
    //    builds, which CI has made by then (`cargo test` builds the examples, the python stage the
    //    wheel), so the smoke run costs seconds.
    let bench_python = crate::pyenv::venv(BENCH_VENV, &[maturin_pin(), MATPLOTLIB])?;
    let peer_python = crate::pyenv::venv(PEER_VENV, &[PEER])?;
    check_peer_bundles_libchrony(&peer_python)?;
    let rust_bench = crate::util::build_example("bench", !plan.quick)?;
    install_wheel(&bench_python, &build_wheel(&bench_python, plan.quick)?)?;

    // 2. One daemon for everything, pinned to the clients' core; its NTP server elsewhere.
    let out = root.join(OUT_DIR);
    let raw = out.join("raw");
    if raw.exists() {
        fs::remove_dir_all(&raw)?;
    }
    fs::create_dir_all(&raw)?;
    let fx = Fixture::start(Mode::Synced)?;
    let cpu = plan.cpu.to_string();
    run(Command::new("taskset").args(["-pc", &cpu, &fx.pid().to_string()]))?;
    let other_cpu = usize::from(plan.cpu == 0).to_string();
    if let Some(server) = fx.server_pid() {
        if std::thread::available_parallelism().map_or(1, usize::from) > 1 {
            run(Command::new("taskset").args(["-pc", &other_cpu, &server.to_string()]))?;
        }
    }
    let socket = fx.socket_path();
    let socket = socket.to_str().ok_or("non-UTF-8 socket path")?.to_string();
    let udp = fx.udp_v4();
    let script = root.join("pychrony-py/bench/bench.py");
    let pinned = |program: &Path| {
        let mut cmd = Command::new("taskset");
        cmd.args(["-c", &cpu]).arg(program);
        cmd
    };

    // 3. The runners take turns, round after round (the order rotates).
    let per_round =
        |total: usize, r: usize| total / plan.rounds + usize::from(r < total % plan.rounds);
    for r in 0..plan.rounds {
        println!(
            "\n==== round {}/{} (load average {})",
            r + 1,
            plan.rounds,
            loadavg()
        );
        for k in 0..3 {
            match (r + k) % 3 {
                0 => {
                    // The fixture's chronyc, with the library path it may need (inherited by chronyc).
                    let mut cmd = pinned(&rust_bench);
                    fx.chrony().apply_env(&mut cmd);
                    run(cmd
                        .args(["--socket", &socket, "--udp", &udp])
                        .arg("--chronyc")
                        .arg(&fx.chrony().chronyc)
                        .args(["--samples", &per_round(plan.samples, r).to_string()])
                        .args([
                            "--spawn-samples",
                            &per_round(plan.spawn_samples, r).to_string(),
                        ])
                        .arg("--json")
                        .arg(raw.join(format!("rust-{r}.json"))))?
                }
                which => {
                    let (python, imp) = if which == 1 {
                        (&bench_python, "ours")
                    } else {
                        (&peer_python, "peer")
                    };
                    run(pinned(python)
                        .arg(&script)
                        .args(["run", "--impl", imp, "--socket", &socket, "--udp", &udp])
                        .args(["--samples", &per_round(plan.samples, r).to_string()])
                        .arg("--json")
                        .arg(raw.join(format!("python-{imp}-{r}.json"))))?
                }
            }
        }
    }

    // 4. Memory and import + first call, in fresh interpreters.
    println!("\n==== memory and import + first call");
    // Instruction counts do not depend on the load (full runs, when valgrind is there).
    let has_valgrind = Command::new("valgrind")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    let callgrind: &[&str] = if !plan.quick && has_valgrind {
        &["--callgrind"]
    } else {
        &[]
    };
    for (python, imp) in [(&bench_python, "ours"), (&peer_python, "peer")] {
        run(pinned(python)
            .arg(&script)
            .args(["memory", "--impl", imp, "--socket", &socket])
            .args(["--calls", &plan.memory_calls.to_string()])
            .arg("--json")
            .arg(raw.join(format!("memory-{imp}.json"))))?;
        run(pinned(python)
            .arg(&script)
            .args(["startup", "--impl", imp, "--socket", &socket])
            .args(["--repeat", &plan.startup_repeat.to_string()])
            .args(callgrind)
            .arg("--json")
            .arg(raw.join(format!("startup-{imp}.json"))))?;
    }
    let load_end = loadavg();
    println!("\nbench: load average {load_end} (at end)");
    let leftovers = socket_dir_leftovers(fx.dir());
    let chrony = fx.chrony().clone();
    drop(fx);

    // 5. The report; report.py adds the machine's facts (CPU, kernel, versions).
    let facts = [
        ("date", date.to_string()),
        ("loadavg_start", load_start.clone()),
        ("loadavg_end", load_end.clone()),
        ("quick", plan.quick.to_string()),
        ("cpu_pinned", plan.cpu.to_string()),
        ("rounds", plan.rounds.to_string()),
        ("samples_per_case", plan.samples.to_string()),
        (
            "subprocess_samples_per_case",
            plan.spawn_samples.to_string(),
        ),
        ("memory_calls", plan.memory_calls.to_string()),
        ("startup_repeat", plan.startup_repeat.to_string()),
    ];
    let results = out.join("results.json");
    let chart = out.join("bench.png");
    let mut report = Command::new(&bench_python);
    // The unpacked chronyd's libraries, for its --version.
    chrony.apply_env(&mut report);
    report.arg(root.join("pychrony-py/bench/report.py"));
    for (key, value) in facts {
        report.arg("--fact").arg(format!("{key}={value}"));
    }
    for name in &leftovers {
        report.arg("--leftover").arg(name);
    }
    run(report
        .arg("--chronyd")
        .arg(&chrony.chronyd)
        .arg("--peer-python")
        .arg(&peer_python)
        .arg("--raw")
        .arg(&raw)
        .arg("--results")
        .arg(&results)
        .arg("--chart")
        .arg(&chart))?;
    if plan.quick {
        println!("quick run: docs/bench.png and docs/bench-results.json left alone");
    } else {
        fs::copy(&chart, root.join("docs/bench.png"))?;
        fs::copy(&results, root.join("docs/bench-results.json"))?;
        println!("copied to docs/bench.png and docs/bench-results.json");
    }
    println!("load average: {load_start} at start, {load_end} at end (2-core machine, shared)");
    Ok(())
}

/// The 1, 5 and 15 minute load averages.
fn loadavg() -> String {
    fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

/// The maturin pin the python stage uses, so both build the same way.
fn maturin_pin() -> &'static str {
    crate::python::TOOLS
        .iter()
        .find(|t| t.starts_with("maturin=="))
        .copied()
        .unwrap_or("maturin")
}

/// pychrony 2.0.3 must come as the wheel that bundles libchrony (auditwheel's
/// pychrony.libs/), not as an sdist built against some system library.
fn check_peer_bundles_libchrony(python: &Path) -> Result {
    let files = output(Command::new(python).args([
        "-m",
        "pip",
        "show",
        "-f",
        "--disable-pip-version-check",
        "pychrony",
    ]))?;
    if files
        .lines()
        .any(|l| l.trim().starts_with("pychrony.libs/libchrony"))
    {
        println!("{PEER_VENV}: {PEER} is the wheel with its bundled libchrony");
        Ok(())
    } else {
        Err(format!(
            "{PEER_VENV}: {PEER} does not bundle libchrony (pychrony.libs/libchrony*.so missing)"
        )
        .into())
    }
}

/// A wheel in an emptied target/bench-wheels. Release mode, or with `quick` a
/// dev build made the way the python stage makes its own (its interpreter and
/// target dir when they exist, so CI finds it built).
fn build_wheel(python: &Path, quick: bool) -> Result<PathBuf> {
    // python.rs's VENV and CARGO_TARGET.
    let ci_python = root().join("target/ci-venv/bin/python");
    let (interpreter, target_dir) = match (quick, ci_python.exists()) {
        (false, _) => (python.to_path_buf(), MATURIN_TARGET),
        (true, true) => (ci_python, "target/ci-python"),
        (true, false) => (python.to_path_buf(), "target/bench-python-dev"),
    };
    WheelBuild {
        venv_python: python,
        interpreter: &interpreter,
        out: WHEEL_DIR,
        target_dir,
        args: if quick { &[] } else { &["--release"] },
        pkg_config_path: None,
    }
    .build()
}

/// Client sockets or directories left in the daemon's socket directory (the
/// fixture's own files excepted): none is expected.
fn socket_dir_leftovers(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| {
                    let fixture_file = [".conf", ".log", ".pid", ".stderr", ".drift", ".env"]
                        .iter()
                        .any(|ext| n.ends_with(ext));
                    !fixture_file && n != "chronyd.sock"
                })
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    if !names.is_empty() {
        println!("left in the socket directory: {}", names.join(" "));
    }
    names
}
