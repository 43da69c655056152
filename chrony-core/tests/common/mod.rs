//! Helpers shared by the test binaries.
#![allow(dead_code)]

use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::thread::sleep;
use std::time::{Duration, UNIX_EPOCH};

use chrony_core::TrackingStatus;
use chronyd_fixture::{ChronycTracking, Fixture, Mode};

/// Whether the linked C library gives `g`, for a test that checks it; if
/// not, the test says on stderr what it did not check
/// (`chronyd_fixture::check_guarantee`; libchrony-sys's tests do the same).
/// chrony-core itself relies on none of them.
pub fn given(g: libchrony_sys::Guarantee) -> bool {
    chronyd_fixture::check_guarantee(g.is_given(), &format!("{g:?}: {}", g.description()))
}

/// Whether the linked C library has the sourcename report (this crate's
/// extension; a system libchrony 0.2 lacks it), for a test that reads it;
/// if not, the test says so on stderr as for a guarantee (a failure with
/// `CHRONY_TEST_REQUIRE_GUARANTEES=1`).
pub fn knows_sourcename() -> bool {
    chronyd_fixture::check_guarantee(
        libchrony_sys::knows_report(libchrony_sys::SOURCENAME),
        "the sourcename report (an extension of this crate's C library)",
    )
}

/// Whether the linked C library has the clients report (as
/// [`knows_sourcename`]).
#[allow(dead_code)]
pub fn knows_clients() -> bool {
    chronyd_fixture::check_guarantee(
        libchrony_sys::knows_report(libchrony_sys::CLIENTS),
        "the clients report (an extension of this crate's C library)",
    )
}

/// Starts a fixture; fails (never skips) when chronyd is missing.
pub fn start(mode: Mode) -> Fixture {
    assert!(
        chronyd_fixture::chronyd_available(),
        "{}",
        chronyd_fixture::Chrony::find().unwrap_err()
    );
    Fixture::start(mode).unwrap_or_else(|e| panic!("fixture {mode:?}: {e}"))
}

/// Compares `ours` with one `chronyc -c tracking` line, column by column in
/// chronyc's formats. `tolerant` allows the two values chronyd computes per
/// request (current correction, root dispersion) to differ slightly.
pub fn compare(ours: &TrackingStatus, c: &ChronycTracking, tolerant: bool) -> Result<(), String> {
    let cols: Vec<&str> = c.raw.split(',').collect();
    assert_eq!(cols.len(), 14, "{}", c.raw);
    let t = ours.ref_time.duration_since(UNIX_EPOCH).unwrap();
    let exact = [
        (0, format!("{:08X}", ours.reference_id)),
        (1, ours.reference_id_name.clone()),
        (2, ours.stratum.to_string()),
        (3, format!("{}.{:09}", t.as_secs(), t.subsec_nanos())),
        (5, format!("{:.9}", ours.last_offset)),
        (6, format!("{:.9}", ours.rms_offset)),
        (7, format!("{:.3}", ours.frequency)),
        (8, format!("{:.3}", ours.residual_freq)),
        (9, format!("{:.3}", ours.skew)),
        (10, format!("{:.9}", ours.root_delay)),
        (12, format!("{:.1}", ours.update_interval)),
        (13, ours.leap_status.to_string()),
    ];
    let mut diffs = Vec::new();
    for (i, ours) in exact {
        if cols[i] != ours {
            diffs.push(format!(
                "column {}: chronyc {:?}, ours {:?}",
                i + 1,
                cols[i],
                ours
            ));
        }
    }
    for (i, v) in [(4, ours.offset), (11, ours.root_dispersion)] {
        let ok = if tolerant {
            (cols[i].parse::<f64>().unwrap() - v).abs() < 1e-3
        } else {
            cols[i] == format!("{v:.9}")
        };
        if !ok {
            diffs.push(format!(
                "column {}: chronyc {:?}, ours {v:.9}",
                i + 1,
                cols[i]
            ));
        }
    }
    if diffs.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{}\n  chronyc: {}\n  ours: {ours:?}",
            diffs.join("\n  "),
            c.raw
        ))
    }
}

/// Reads chronyc, then `query`, then chronyc again, and accepts when `query`
/// matches either chronyc read; retries a few times in case a clock update
/// landed in between. Returns the matching status.
pub fn check_against_chronyc(
    fx: &Fixture,
    tolerant: bool,
    mut query: impl FnMut() -> chrony_core::Result<TrackingStatus>,
) -> TrackingStatus {
    let mut last = String::new();
    for _ in 0..10 {
        let before = fx.chronyc_tracking().expect("chronyc tracking");
        let ours = query().unwrap_or_else(|e| panic!("query failed: {e} ({e:?})"));
        let after = fx.chronyc_tracking().expect("chronyc tracking");
        match compare(&ours, &before, tolerant).or_else(|e1| {
            compare(&ours, &after, tolerant).map_err(|e2| format!("{e1}\n  (second read) {e2}"))
        }) {
            Ok(()) => return ours,
            Err(e) => last = e,
        }
        sleep(Duration::from_millis(30));
    }
    panic!("no match with chronyc after 10 tries:\n  {last}");
}

/// The example binary `tracking`, built by cargo for the tests.
pub fn example_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let path = exe.parent().unwrap().join("../examples/tracking");
    assert!(
        path.is_file(),
        "example binary missing: {}; run `cargo test -p chrony-core` without a target filter \
         (it builds the examples), or `cargo build -p chrony-core --example tracking` first",
        path.display()
    );
    path
}

/// Runs `call` while `fx`'s chronyd cannot take a request: frozen, its unix socket's queue filled
/// (`net.unix.max_dgram_qlen` datagrams, 10 by default, as many clients at once can fill it) until a
/// send would block; 100 ms later it is thawed and empties the queue.
pub fn with_full_queue<T>(fx: &Fixture, call: impl FnOnce() -> T) -> T {
    let filler = UnixDatagram::unbound().unwrap();
    filler.connect(fx.socket_path()).unwrap();
    filler.set_nonblocking(true).unwrap();
    fx.freeze().unwrap();
    let mut queued = 0;
    let full = loop {
        match filler.send(b"not a request") {
            Ok(_) if queued < 10_000 => queued += 1,
            Ok(_) => panic!("chronyd's queue took 10,000 datagrams"),
            Err(e) => break e,
        }
    };
    assert_eq!(full.kind(), std::io::ErrorKind::WouldBlock, "{full}");
    std::thread::scope(|s| {
        s.spawn(|| {
            sleep(Duration::from_millis(100));
            fx.thaw().unwrap();
        });
        call()
    })
}

/// Entries of `dir` whose name starts with `chrony-core.`.
pub fn client_dirs(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with("chrony-core."))
        .collect()
}

/// `n` divided by `CHRONY_TEST_SCALE_DOWN` (default 1, so `n`), at least 1:
/// `cargo xtask valgrind` sets it so that tests of thousands of calls stay
/// within minutes under memcheck. Counts that a test's claim depends on (the
/// default is what the README states) stay as they are without it.
pub fn scaled(n: usize) -> usize {
    let divisor = std::env::var("CHRONY_TEST_SCALE_DOWN")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|d| *d > 0)
        .unwrap_or(1);
    (n / divisor).max(1)
}

/// `-0.000` as `0.000`: a value that rounds to zero may change sign with a new sample while
/// every printed digit stays the same (a reference clock's residual frequency over a span of 0 s
/// flips around zero 16 times a second), so "printed the same before and after" cannot vouch for
/// that sign.
fn unsigned_zero(text: &str) -> String {
    match text.strip_prefix('-') {
        Some(rest) if !rest.is_empty() && rest.chars().all(|c| c == '0' || c == '.') => rest.into(),
        _ => text.into(),
    }
}

/// A CSV column that chronyd may print differently from one request to the next while the
/// source itself stays put.
#[derive(Clone, Copy, Debug)]
pub enum Varies {
    /// Computed for the moment of each request (sourcestats' offset: its estimate moved on by
    /// its frequency): left out of "the same", and ours must lie between chronyc's two values,
    /// within the last digit it prints.
    Extrapolated(usize),
    /// May change and change back between chronyc's two reads (authdata's NTS cookie count is
    /// one lower while a poll is in flight, 16 times a second): chronyc's two values must be the
    /// same, and ours must equal them, but a read where it does not is done again rather than
    /// failed, as ours may have fallen in between.
    Transient(usize),
}

/// Compares a per-source list with `chronyc ARGS` (on the fixture's unix socket), one source at
/// a time, column by column of the CSV: a source's line of ours must equal chronyc's whenever
/// chronyc printed that line the same before and after our read, until every source has been
/// compared so (with sources sampled 16 times a second, the whole list is rarely the same twice).
/// The `varies` columns are compared as [`Varies`] says (a read that falls outside is done again,
/// as chronyd may have slewed or polled in between); a source never compared is a failure.
pub fn each_line_equal_when_stable<T>(
    fx: &Fixture,
    args: &[&str],
    varies: &[Varies],
    mut read: impl FnMut() -> Vec<T>,
    line: impl Fn(&T) -> String,
) -> Vec<T> {
    let (mut extrapolated, mut transient) = (Vec::new(), Vec::new());
    for v in varies {
        match v {
            Varies::Extrapolated(j) => extrapolated.push(*j),
            Varies::Transient(j) => transient.push(*j),
        }
    }
    let mut done = std::collections::BTreeSet::new();
    let mut last = String::new();
    for _ in 0..400 {
        let before = fx.chronyc(args).unwrap();
        let ours = read();
        let after = fx.chronyc(args).unwrap();
        let ours_lines: Vec<String> = ours.iter().map(&line).collect();
        let (b, a): (Vec<&str>, Vec<&str>) = (before.lines().collect(), after.lines().collect());
        assert_eq!(
            b.len(),
            ours_lines.len(),
            "as many sources as chronyc: {before}"
        );
        for (i, ours_line) in ours_lines.iter().enumerate() {
            let fields = |l: &str| l.split(',').map(str::to_owned).collect::<Vec<_>>();
            let (bf, af, of) = (
                fields(b[i]),
                fields(a.get(i).copied().unwrap_or("")),
                fields(ours_line),
            );
            let columns = |f: &[String], leave_out: &[usize]| {
                f.iter()
                    .enumerate()
                    .filter(|(j, _)| !extrapolated.contains(j) && !leave_out.contains(j))
                    .map(|(_, v)| unsigned_zero(v))
                    .collect::<Vec<_>>()
            };
            if columns(&bf, &[]) != columns(&af, &[]) {
                last = format!("source {i}: {} then {}", b[i], a.get(i).unwrap_or(&""));
                continue;
            }
            assert_eq!(
                columns(&of, &transient),
                columns(&bf, &transient),
                "source {i} vs chronyc {}: {ours_line} vs {}",
                args.join(" "),
                b[i]
            );
            if let Some(j) = transient.iter().find(|&&j| of.get(j) != bf.get(j)) {
                last = format!(
                    "source {i} column {j}: ours {:?} where chronyc printed {:?} before and after",
                    of.get(*j),
                    bf.get(*j)
                );
                continue;
            }
            // A clock update in between moves every source's offset (chronyd slews their
            // estimates): a value outside the bracket is read again, and never equal is a failure.
            let outside = extrapolated.iter().find(|&&j| {
                let (x, y, ours) = (number(&bf[j]), number(&af[j]), number(&of[j]));
                let digit = last_digit(&bf[j]).max(last_digit(&af[j]));
                !(x.min(y) - digit <= ours && ours <= x.max(y) + digit)
            });
            if let Some(j) = outside {
                last = format!(
                    "source {i} column {j}: ours {} outside chronyc's {} and {}",
                    of[*j], bf[*j], af[*j]
                );
                continue;
            }
            done.insert(i);
        }
        if done.len() == b.len() {
            return ours;
        }
    }
    panic!(
        "chronyc {} never showed each source the same twice in a row around a read of ours that \
         matched it (compared: {done:?}; last difference: {last})",
        args.join(" ")
    );
}

fn number(text: &str) -> f64 {
    text.parse()
        .unwrap_or_else(|e| panic!("not a number in chronyc's CSV: {text:?}: {e}"))
}

/// The value of one unit in the last digit of a number as chronyc prints it (`0.000123`,
/// `1.234e-05`).
fn last_digit(text: &str) -> f64 {
    let (mantissa, exponent) = match text.split_once(['e', 'E']) {
        Some((m, e)) => (m, e.parse::<i32>().unwrap_or(0)),
        None => (text, 0),
    };
    let decimals = mantissa.split_once('.').map_or(0, |(_, d)| d.len()) as i32;
    10f64.powi(exponent - decimals)
}

/// Every report read one by one, to set beside a snapshot: [`Reads::lines`] and
/// [`snapshot_lines`] give the fields of both that stay put while the daemon is stable.
pub struct Reads {
    pub sources: Vec<chrony_core::Source>,
    pub stats: Vec<chrony_core::SourceStats>,
    pub select: Vec<chrony_core::SelectData>,
    pub ntp: Vec<chrony_core::NtpData>,
    pub auth: Vec<chrony_core::AuthData>,
    pub names: Vec<chrony_core::SourceName>,
    pub tracking: TrackingStatus,
    pub activity: chrony_core::Activity,
    pub smoothing: bool,
    pub rtc: bool,
}

impl Reads {
    /// Through the blocking `Connection`, in the snapshot's order.
    pub fn blocking(c: &mut chrony_core::Connection) -> Reads {
        Reads {
            sources: c.sources().unwrap(),
            stats: c.source_stats().unwrap(),
            select: c.select_data().unwrap(),
            ntp: c.ntp_data_all().unwrap(),
            auth: c.auth_data().unwrap(),
            names: c.source_names().unwrap(),
            tracking: c.tracking().unwrap(),
            activity: c.activity().unwrap(),
            smoothing: c.smoothing().unwrap().is_some(),
            rtc: c.rtc_data().unwrap().is_some(),
        }
    }

    /// One line per source, joined by index (sourcestats, selectdata) or by address (ntpdata,
    /// authdata, sourcename) as a snapshot joins them, then the whole-daemon ones.
    pub fn lines(&self) -> Vec<String> {
        let mut lines: Vec<String> = self
            .sources
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let ip = match s.address {
                    chrony_core::SourceAddress::Ip(ip) => Some(ip),
                    _ => None,
                };
                let n = self.ntp.iter().find(|n| Some(n.remote_address) == ip);
                let a = self.auth.iter().find(|a| a.address == s.address);
                let name = self.names.iter().find(|n| n.address == s.address);
                source_line(
                    s,
                    &self.stats[i],
                    &self.select[i],
                    n,
                    a,
                    name.map(|n| n.name.as_str()),
                )
            })
            .collect();
        lines.extend(daemon_lines(
            &self.tracking,
            &self.activity,
            self.smoothing,
            self.rtc,
        ));
        lines
    }
}

/// [`Reads::lines`] of a snapshot.
pub fn snapshot_lines(s: &chrony_core::Snapshot) -> Vec<String> {
    let mut lines: Vec<String> = s
        .sources
        .as_ref()
        .unwrap()
        .iter()
        .map(|p| {
            source_line(
                &p.source,
                p.stats.as_ref().unwrap(),
                p.select_data.as_ref().unwrap(),
                p.ntp_data.as_ref().unwrap().as_ref(),
                p.auth_data.as_ref().unwrap().as_ref(),
                p.name.as_ref().unwrap().as_deref(),
            )
        })
        .collect();
    lines.extend(daemon_lines(
        s.tracking.as_ref().unwrap(),
        s.activity.as_ref().unwrap(),
        s.smoothing.as_ref().unwrap().is_some(),
        s.rtc_data.as_ref().unwrap().is_some(),
    ));
    lines
}

fn source_line(
    s: &chrony_core::Source,
    stats: &chrony_core::SourceStats,
    sel: &chrony_core::SelectData,
    ntp: Option<&chrony_core::NtpData>,
    auth: Option<&chrony_core::AuthData>,
    name: Option<&str>,
) -> String {
    format!(
        "{} {:?} {:?} | {} {:x} | {} {:x} {:?} | {:?} | {:?} | {:?}",
        s.address,
        s.mode,
        s.state,
        stats.address,
        stats.reference_id,
        sel.address,
        sel.reference_id,
        sel.state,
        ntp.map(|n| (n.remote_address, n.remote_port, n.version, n.mode)),
        auth.map(|a| (a.address, a.mode, a.key_id)),
        name,
    )
}

fn daemon_lines(
    t: &TrackingStatus,
    activity: &chrony_core::Activity,
    smoothing: bool,
    rtc: bool,
) -> [String; 3] {
    [
        format!("tracking {:x} {}", t.reference_id, t.stratum),
        format!("activity {activity:?}"),
        format!("smoothing {smoothing} rtc {rtc}"),
    ]
}
