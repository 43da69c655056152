//! sourcestats, selectdata, activity, serverstats, rtcdata and smoothing against chronyc's CSV
//! (`chronyc -c`) on real chronyd daemons, and what chronyd refuses over UDP.

mod common;

use std::time::{Duration, Instant};

use chrony_core::{Connection, Error, SelectData, SourceStats};
use chronyd_fixture::{Fixture, Mode};
use common::{each_line_equal_when_stable, start};

fn chronyc(fx: &Fixture, args: &[&str]) -> String {
    fx.chronyc(args).unwrap()
}

fn unix(fx: &Fixture) -> Connection {
    Connection::open(fx.socket_path().to_str().unwrap()).unwrap()
}

/// Reads with `read` between two runs of `chronyc -c ARGS` until both runs print the same (chronyd
/// takes samples every few milliseconds), then requires `lines` of ours to equal chronyc's.
fn equal_when_stable<T>(
    fx: &Fixture,
    args: &[&str],
    mut read: impl FnMut() -> T,
    lines: impl Fn(&T) -> Vec<String>,
) -> T {
    let mut last = String::new();
    for _ in 0..200 {
        let before = chronyc(fx, args);
        let ours = read();
        let after = chronyc(fx, args);
        if before == after {
            let theirs: Vec<&str> = before.lines().collect();
            assert_eq!(lines(&ours), theirs, "ours vs chronyc {}", args.join(" "));
            return ours;
        }
        last = format!("{before}\n---\n{after}");
    }
    panic!(
        "chronyc {} never printed the same twice in a row: {last}",
        args.join(" ")
    );
}

/// Waits until chronyc's sourcestats has some samples of every reachable source.
fn sampled(fx: &Fixture) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let out = chronyc(fx, &["-c", "sourcestats", "-a"]);
        let n = |name: &str| {
            out.lines()
                .find(|l| l.starts_with(&format!("{name},")))
                .and_then(|l| l.split(',').nth(1))
                .and_then(|v| v.parse::<u32>().ok())
                .unwrap_or(0)
        };
        if n("127.0.0.1") >= 4 && n("127.0.0.2") >= 4 && n("GPS") >= 4 {
            return;
        }
        assert!(Instant::now() < deadline, "no samples yet: {out}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn sourcestats_csv(s: &SourceStats) -> String {
    format!(
        "{},{},{},{},{:.3},{:.3},{:.9},{:.9}",
        s.address, s.samples, s.runs, s.span, s.resid_freq, s.skew, s.offset, s.std_dev
    )
}

fn selectdata_csv(s: &SelectData) -> String {
    let chars = |o: chrony_core::SelectOptions| {
        o.to_string()
            .chars()
            .map(String::from)
            .collect::<Vec<_>>()
            .join(",")
    };
    format!(
        "{},{},{},{},{},{},{:.1},{:.9},{:.9},{}",
        s.state.as_char(),
        s.address,
        if s.authentication { 'Y' } else { 'N' },
        chars(s.configured_options),
        chars(s.effective_options),
        s.last_sample_ago.unwrap_or(u32::MAX),
        s.score,
        s.low_limit,
        s.high_limit,
        s.leap_status
    )
}

#[test]
fn per_source_reports_equal_chronyc() {
    let fx = start(Mode::Sources);
    sampled(&fx);
    let mut c = unix(&fx);
    let stats = each_line_equal_when_stable(
        &fx,
        &["-c", "sourcestats", "-a"],
        || c.source_stats().unwrap(),
        sourcestats_csv,
    );
    assert_eq!(stats.len(), 5);
    assert!(
        stats
            .iter()
            .any(|s| s.address.to_string() == "GPS" && s.reference_id == 0x4750_5300)
    );
    assert!(stats.iter().all(|s| s.offset_err.is_finite()));
    let gps = stats
        .iter()
        .find(|s| s.address.to_string() == "GPS")
        .unwrap();
    assert!(gps.has_sufficient_samples(4));

    let select = each_line_equal_when_stable(
        &fx,
        &["-c", "selectdata", "-a"],
        || c.select_data().unwrap(),
        selectdata_csv,
    );
    let by_name = |n: &str| select.iter().find(|s| s.address.to_string() == n).unwrap();
    assert_eq!(
        by_name("127.0.0.1").state,
        chrony_core::SelectState::Selected
    );
    assert!(
        by_name("127.0.0.1")
            .configured_options
            .contains(chrony_core::SelectOptions::PREFER)
    );
    assert_eq!(
        by_name("127.0.0.2").state,
        chrony_core::SelectState::Ignored
    );
    assert!(
        by_name("127.0.0.2")
            .configured_options
            .contains(chrony_core::SelectOptions::NOSELECT)
    );

    // The one-call API and a shared connection read the same lists.
    let path = fx.socket_path();
    each_line_equal_when_stable(
        &fx,
        &["-c", "sourcestats", "-a"],
        || {
            chrony_core::query::<Vec<SourceStats>>(Some(&path), &Default::default(), &mut || false)
                .unwrap()
        },
        sourcestats_csv,
    );
    let shared =
        chrony_core::SharedConnection::new(Some(path.to_str().unwrap()), &Default::default());
    each_line_equal_when_stable(
        &fx,
        &["-c", "selectdata", "-a"],
        || shared.query::<Vec<SelectData>>().unwrap(),
        selectdata_csv,
    );
}

#[test]
fn activity_equals_chronyc() {
    let fx = start(Mode::Sources);
    let mut c = unix(&fx);
    let a = equal_when_stable(
        &fx,
        &["-c", "activity"],
        || c.activity().unwrap(),
        |a| {
            vec![format!(
                "{},{},{},{},{}",
                a.online, a.offline, a.burst_online, a.burst_offline, a.unresolved
            )]
        },
    );
    // Three NTP sources, online or in their initial burst; reference clocks are not counted.
    assert_eq!(a.online + a.burst_online, 3, "{a:?}");
    assert_eq!((a.offline, a.burst_offline, a.unresolved), (0, 0, 0));
    // Open over UDP.
    assert_eq!(
        Connection::open(&fx.udp_v4()).unwrap().activity().unwrap(),
        a
    );
}

#[test]
fn serverstats_equal_chronyc_with_the_command_counter_bracketed() {
    let fx = start(Mode::Sources);
    let mut c = unix(&fx);
    let fields =
        |out: &str| -> Vec<u64> { out.trim().split(',').map(|v| v.parse().unwrap()).collect() };
    let before = fields(&chronyc(&fx, &["-c", "serverstats"]));
    let s = c.server_stats().unwrap();
    let after = fields(&chronyc(&fx, &["-c", "serverstats"]));
    // chronyc's order: NTP received, NTP dropped, command received, command dropped, log
    // records dropped, NTS-KE accepted, NTS-KE dropped, authenticated, interleaved, timestamps
    // held, timestamp span, then (4.4+) the six timestamp counters.
    let ours = [
        Some(s.ntp_hits),
        Some(s.ntp_drops),
        Some(s.cmd_hits),
        Some(s.cmd_drops),
        Some(s.log_drops),
        s.nke_hits,
        s.nke_drops,
        s.ntp_auth_hits,
        s.ntp_interleaved_hits,
        s.ntp_timestamps,
        s.ntp_span_seconds,
        s.ntp_daemon_rx_timestamps,
        s.ntp_daemon_tx_timestamps,
        s.ntp_kernel_rx_timestamps,
        s.ntp_kernel_tx_timestamps,
        s.ntp_hw_rx_timestamps,
        s.ntp_hw_tx_timestamps,
    ];
    let ours: Vec<u64> = ours.into_iter().flatten().collect();
    assert_eq!(
        ours.len(),
        before.len(),
        "as many counters as this chronyc prints"
    );
    for (i, v) in ours.iter().enumerate() {
        if i == 2 {
            // Every command counts, ours and chronyc's included.
            assert!(
                before[2] < *v && *v < after[2],
                "{} < {v} < {}",
                before[2],
                after[2]
            );
        } else {
            assert_eq!((before[i], after[i]), (*v, *v), "counter {i}");
        }
    }
    // Refused over UDP, with a message that says what to do.
    let e = Connection::open(&fx.udp_v4())
        .unwrap()
        .server_stats()
        .unwrap_err();
    assert!(matches!(e, Error::NotAuthorised { .. }), "{e:?}");
    assert_eq!(e.code(), -3);
    assert!(e.to_string().contains("unix socket"), "{e}");
    let e = Connection::open(&fx.udp_v4())
        .unwrap()
        .select_data()
        .unwrap_err();
    assert_eq!(e.code(), -3, "{e}");
}

#[test]
fn smoothing_equals_chronyc_and_is_none_when_off() {
    let fx = start(Mode::Sources);
    let mut c = unix(&fx);
    // chronyd computes the smoothing for the time of each request: every number of ours lies
    // between two chronyc reads around it (within the last digit chronyc prints).
    let before = chronyc(&fx, &["-c", "smoothing"]);
    let s = c.smoothing().unwrap().expect("smoothtime is on");
    let after = chronyc(&fx, &["-c", "smoothing"]);
    let (b, a): (Vec<&str>, Vec<&str>) = (
        before.trim().split(',').collect(),
        after.trim().split(',').collect(),
    );
    assert_eq!(b[0], if s.active { "Yes" } else { "No" });
    assert_eq!(
        b[1],
        if s.leap_only {
            "(leap second only)"
        } else {
            ""
        }
    );
    for (i, (ours, decimals)) in [
        (s.offset, 9),
        (s.freq_ppm, 6),
        (s.wander_ppm, 6),
        (s.last_update_ago, 1),
        (s.remaining_time, 1),
    ]
    .into_iter()
    .enumerate()
    {
        let (x, y): (f64, f64) = (b[i + 2].parse().unwrap(), a[i + 2].parse().unwrap());
        let digit = 10f64.powi(-decimals);
        assert!(
            x.min(y) - digit <= ours && ours <= x.max(y) + digit,
            "field {}: {ours} outside [{x}, {y}]",
            i + 2
        );
    }
    assert!(!s.leap_only);
    let plain = start(Mode::Unsynced);
    assert_eq!(unix(&plain).smoothing().unwrap(), None);
    assert!(
        plain.chronyc(&["-c", "smoothing"]).is_err(),
        "chronyc agrees: not enabled"
    );
}

#[test]
fn rtcdata_is_none_without_an_rtc_driver() {
    let fx = start(Mode::Unsynced);
    assert_eq!(unix(&fx).rtc_data().unwrap(), None);
    let e = fx.chronyc(&["-c", "rtcdata"]).unwrap_err();
    assert!(e.to_string().contains("RTC"), "chronyc agrees: {e}");
    // Open over UDP too.
    assert_eq!(
        Connection::open(&fx.udp_v4()).unwrap().rtc_data().unwrap(),
        None
    );
}
