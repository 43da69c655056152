//! The soak test: tracking calls from 4 threads against a
//! sandboxed chronyd (`chronyd-fixture`, synced mode) that is restarted every
//! 2 s and SIGSTOPped for 1 s every third cycle, through chrony-core:
//!
//! - thread 0 and 1: the one-call API over the unix socket (the pool);
//! - thread 2: one `Connection` over the unix socket, kept across restarts;
//! - thread 3: one `Connection` over UDP (127.0.0.1), kept across restarts.
//!
//! Every call must return a valid status or one of the errors the README
//! documents for a daemon that is restarting or stopped (`ConnectionRefused`
//! -1, `NotFound` -2, `Timeout` -6), within the deadline (`--timeout-ms`, 500)
//! plus 100 ms. The N calls are paced over at least `--min-seconds` (10), so
//! that they meet several restarts and freezes; the run needs at least 3
//! restarts and 1 freeze. Then the connections are dropped and the pool
//! drained, and: open fds are what they were before the first call, RSS at
//! the end is at most 5% above RSS after warm-up (two restarts and a freeze), and
//! the socket directory holds no client files. A summary is printed; any
//! failed check fails the test. Nothing the measurement keeps grows with N
//! (latencies go into a preallocated histogram).

//!
//! It takes 10 s or more, so it is `#[ignore]`d: `cargo xtask soak` (and CI's
//! `soak` stage) runs it with its parameters in `CHRONY_SOAK_CALLS`,
//! `CHRONY_SOAK_MIN_SECONDS` and `CHRONY_SOAK_TIMEOUT_MS`, or by hand:
//! `cargo test -p chrony-core --test soak -- --ignored --nocapture`.

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

use chrony_core::{Connection, Error, Options};
use chronyd_fixture::{Fixture, Mode};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const THREADS: usize = 4;
const RESTART_EVERY: Duration = Duration::from_secs(2);
const FREEZE_FOR: Duration = Duration::from_secs(1);
const MIN_RESTARTS: usize = 3;
const SLACK: Duration = Duration::from_millis(100);

/// What the chaos thread is doing, for the report of a late call.
static PHASE: AtomicU8 = AtomicU8::new(0);
const PHASES: [&str; 3] = ["running", "frozen", "restarting"];

fn phase() -> &'static str {
    PHASES[usize::from(PHASE.load(Ordering::Relaxed)).min(2)]
}

/// Call latencies: 1 µs buckets below 10 ms, 1 ms buckets up to 10 s.
struct Histogram(Vec<u64>);

const FINE: usize = 10_000;

impl Histogram {
    fn new() -> Self {
        // Written once, so its pages are resident before the warm-up sample
        // (a calloc'ed vector would grow RSS as buckets are first hit).
        let mut v = vec![1u64; 2 * FINE + 1];
        v.iter_mut().for_each(|x| *x = 0);
        Histogram(std::hint::black_box(v))
    }
    fn add(&mut self, d: Duration) {
        let us = d.as_micros() as usize;
        let i = if us < FINE {
            us
        } else {
            (FINE + us / 1000).min(2 * FINE)
        };
        self.0[i] += 1;
    }
    fn merge(&mut self, other: &Histogram) {
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            *a += b;
        }
    }
    /// The latency at quantile q, in ms.
    fn quantile_ms(&self, q: f64) -> f64 {
        let total: u64 = self.0.iter().sum();
        let target = ((total as f64) * q).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, n) in self.0.iter().enumerate() {
            seen += n;
            if seen >= target {
                return if i < FINE {
                    i as f64 / 1000.0
                } else {
                    (i - FINE) as f64
                };
            }
        }
        0.0
    }
}

#[derive(Default)]
struct Tally {
    ok: u64,
    unsynchronised: u64,
    /// "code variant" -> count
    errors: BTreeMap<String, u64>,
    /// Calls that broke the contract, with what happened.
    violations: Vec<String>,
    max_latency: Duration,
    latencies: Option<Histogram>,
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count())
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.split_whitespace().next()?.parse().ok())
        })
        .unwrap_or(0)
}

fn client_files(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok()?.file_name().into_string().ok())
                .filter(|n| n.starts_with("chrony-core.") || n.starts_with("libchrony."))
                .collect()
        })
        .unwrap_or_default()
}

/// "-1 ConnectionRefused" and the like.
fn error_key(e: &Error) -> String {
    let debug = format!("{e:?}");
    let variant: String = debug
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect();
    format!("{} {variant}", e.code())
}

fn expected_error(e: &Error) -> bool {
    matches!(
        e,
        Error::ConnectionRefused { .. } | Error::NotFound { .. } | Error::Timeout { .. }
    )
}

fn soak(calls: usize, min_duration: Duration, timeout: Duration) -> Result {
    let mut fx = Fixture::start(Mode::Synced)?;
    let dir = fx.dir().to_path_buf();
    let socket = fx.socket_path();
    let udp = fx.udp_v4();
    let options = Options::new().with_timeout(timeout);
    println!(
        "soak: {calls} calls over at least {} s, {THREADS} threads (one-call API x2, unix Connection, UDP \
         Connection), timeout {} ms; chronyd {} restarted every {} s, SIGSTOPped for {} s \
         every third cycle",
        min_duration.as_secs(),
        timeout.as_millis(),
        socket.display(),
        RESTART_EVERY.as_secs(),
        FREEZE_FOR.as_secs()
    );

    let fds_before = open_fds();
    let done = AtomicUsize::new(0);
    let finished = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let restarts = AtomicUsize::new(0);
    let freezes = AtomicUsize::new(0);
    let rss_warm = AtomicU64::new(0);
    let fds_max = AtomicUsize::new(fds_before);
    let tally = Arc::new(Mutex::new(Tally::default()));
    let start = Instant::now();
    // Each thread's calls are paced to this interval.
    let interval = min_duration.mul_f64(THREADS as f64 / calls.max(1) as f64);

    let chaos_result: Result = std::thread::scope(|s| {
        for t in 0..THREADS {
            let (socket, udp, options, tally) = (&socket, &udp, &options, tally.clone());
            let (done, stop, finished) = (&done, &stop, &finished);
            s.spawn(move || {
                let mut connection: Option<Connection> = None;
                let mut local = Tally {
                    latencies: Some(Histogram::new()),
                    ..Tally::default()
                };
                let mut next = Instant::now();
                while !stop.load(Ordering::Relaxed) && done.fetch_add(1, Ordering::Relaxed) < calls
                {
                    next += interval;
                    if let Some(wait) = next.checked_duration_since(Instant::now()) {
                        std::thread::sleep(wait);
                    }
                    let begin = Instant::now();
                    let phase_before = phase();
                    let result = match t {
                        0 | 1 => chrony_core::tracking_with(Some(socket), options),
                        _ => {
                            let address = if t == 2 {
                                socket.to_str().expect("utf-8 path")
                            } else {
                                udp.as_str()
                            };
                            let c = match connection.take() {
                                Some(c) => Ok(c),
                                None => Connection::open_with(Some(address), options),
                            };
                            c.and_then(|mut c| {
                                let r = c.tracking();
                                connection = Some(c);
                                r
                            })
                        }
                    };
                    let took = begin.elapsed();
                    local.max_latency = local.max_latency.max(took);
                    if let Some(h) = local.latencies.as_mut() {
                        h.add(took);
                    }
                    if took > options.timeout + SLACK {
                        local.violations.push(format!(
                            "thread {t}: a call took {took:?} (chronyd {phase_before}, then {}): \
                             {result:?}",
                            phase()
                        ));
                    }
                    match result {
                        Ok(status) => {
                            local.ok += 1;
                            local.unsynchronised += u64::from(!status.is_synchronized());
                        }
                        Err(e) => {
                            *local.errors.entry(error_key(&e)).or_default() += 1;
                            if !expected_error(&e) {
                                local
                                    .violations
                                    .push(format!("thread {t}: unexpected error: {e:?}"));
                            }
                        }
                    }
                    finished.fetch_add(1, Ordering::Relaxed);
                }
                drop(connection);
                let mut total = tally.lock().unwrap();
                total.ok += local.ok;
                total.unsynchronised += local.unsynchronised;
                for (k, v) in local.errors {
                    *total.errors.entry(k).or_default() += v;
                }
                total.violations.extend(local.violations);
                total.max_latency = total.max_latency.max(local.max_latency);
                match (total.latencies.as_mut(), local.latencies) {
                    (Some(a), Some(b)) => a.merge(&b),
                    (None, b) => total.latencies = b,
                    _ => {}
                }
            });
        }
        // A monitor: the highest fd count seen, and progress every 5 s.
        s.spawn(|| {
            let mut last = Instant::now();
            while !stop.load(Ordering::Relaxed) {
                fds_max.fetch_max(open_fds(), Ordering::Relaxed);
                if last.elapsed() >= Duration::from_secs(5) {
                    last = Instant::now();
                    println!(
                        "  {:>6.1} s: {} calls, {} restarts, {} freezes, RSS {} KiB",
                        start.elapsed().as_secs_f64(),
                        finished.load(Ordering::Relaxed),
                        restarts.load(Ordering::Relaxed),
                        freezes.load(Ordering::Relaxed),
                        rss_kib()
                    );
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        // The chaos, on this thread (it owns the fixture).
        let result = (|| -> Result {
            let mut cycle = 0usize;
            let all_done = || finished.load(Ordering::Relaxed) >= calls;
            loop {
                let slept = Instant::now();
                while slept.elapsed() < RESTART_EVERY && !all_done() {
                    std::thread::sleep(Duration::from_millis(20));
                }
                if all_done() {
                    if restarts.load(Ordering::Relaxed) < MIN_RESTARTS
                        || freezes.load(Ordering::Relaxed) < 1
                    {
                        return Err(format!(
                            "the calls ended before {MIN_RESTARTS} restarts and a freeze: \
                             raise --min-seconds"
                        )
                        .into());
                    }
                    return Ok(());
                }
                if cycle % 3 == 1 {
                    fx.freeze()?;
                    PHASE.store(1, Ordering::Relaxed);
                    std::thread::sleep(FREEZE_FOR);
                    fx.thaw()?;
                    PHASE.store(0, Ordering::Relaxed);
                    freezes.fetch_add(1, Ordering::Relaxed);
                }
                PHASE.store(2, Ordering::Relaxed);
                fx.restart()?;
                PHASE.store(0, Ordering::Relaxed);
                restarts.fetch_add(1, Ordering::Relaxed);
                cycle += 1;
                if cycle == 2 {
                    // Every path has run once: restarts, and the timeouts of a freeze.
                    rss_warm.store(rss_kib(), Ordering::Relaxed);
                }
            }
        })();
        stop.store(true, Ordering::Relaxed);
        result
    });
    chaos_result?;
    let elapsed = start.elapsed();
    let rss_end = rss_kib();
    chrony_core::drain_pool();
    let fds_after = open_fds();
    let left = client_files(&dir);
    let rss_warm = rss_warm.load(Ordering::Relaxed);

    let t = std::mem::take(&mut *tally.lock().unwrap());
    let pct = |q: f64| t.latencies.as_ref().map_or(0.0, |h| h.quantile_ms(q));
    let total = finished.load(Ordering::Relaxed);
    let errors: u64 = t.errors.values().sum();
    println!("\n==== soak summary");
    println!(
        "calls        {total} in {:.1} s ({:.0}/s); {} restarts, {} freezes",
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64(),
        restarts.load(Ordering::Relaxed),
        freezes.load(Ordering::Relaxed)
    );
    println!(
        "ok           {} ({} synchronised, {} not yet synchronised after a restart)",
        t.ok,
        t.ok - t.unsynchronised,
        t.unsynchronised
    );
    println!("errors       {errors}");
    for (k, v) in &t.errors {
        println!("  {k:<24} {v}");
    }
    println!(
        "latency      median {:.3} ms, p99 {:.3} ms, max {:.1} ms (limit {} ms)",
        pct(0.5),
        pct(0.99),
        t.max_latency.as_secs_f64() * 1000.0,
        (timeout + SLACK).as_millis()
    );
    println!(
        "open fds     before {fds_before}, highest during {}, after {fds_after}",
        fds_max.load(Ordering::Relaxed)
    );
    let drift = if rss_warm > 0 {
        (rss_end as f64 - rss_warm as f64) / rss_warm as f64 * 100.0
    } else {
        0.0
    };
    println!("RSS          after warm-up {rss_warm} KiB, end {rss_end} KiB ({drift:+.1}%)");
    println!(
        "socket dir   {} client files left",
        if left.is_empty() {
            "no".to_string()
        } else {
            format!("{left:?}")
        }
    );

    let mut failures = Vec::new();
    if total as u64 != t.ok + errors || total != calls {
        failures.push(format!(
            "{calls} calls wanted, {total} made, {} outcomes",
            t.ok + errors
        ));
    }
    if !t.violations.is_empty() {
        let n = t.violations.len();
        let shown: Vec<&String> = t.violations.iter().take(10).collect();
        failures.push(format!("{n} calls broke the contract, e.g. {shown:#?}"));
    }
    if t.ok == 0 {
        failures.push("no call succeeded".into());
    }
    if fds_after != fds_before {
        failures.push(format!("open fds {fds_before} before, {fds_after} after"));
    }
    // Growth is what a leak looks like. In the small test process RSS can also
    // fall by more than 5% (the allocator returns the restarts' buffers).
    if drift > 5.0 {
        failures.push(format!("RSS grew {drift:+.1}% (limit +5%)"));
    }
    if !left.is_empty() {
        failures.push(format!("client files left in {}: {left:?}", dir.display()));
    }
    drop(fx);
    if failures.is_empty() {
        println!("soak: ok");
        Ok(())
    } else {
        Err(format!("soak failed:\n  {}", failures.join("\n  ")).into())
    }
}

/// A parameter from the environment, or its default.
fn param(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v:?} is not a number")),
        Err(_) => default,
    }
}

#[test]
#[ignore = "10 s or more: `cargo xtask soak` runs it"]
fn soak_restarts_and_freezes() {
    let calls = param("CHRONY_SOAK_CALLS", 2000) as usize;
    let min_seconds = param("CHRONY_SOAK_MIN_SECONDS", 10);
    let timeout_ms = param("CHRONY_SOAK_TIMEOUT_MS", 500);
    if let Err(e) = soak(
        calls,
        Duration::from_secs(min_seconds),
        Duration::from_millis(timeout_ms),
    ) {
        panic!("{e}");
    }
}
