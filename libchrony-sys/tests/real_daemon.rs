//! The library against a real chronyd 4.3 (the `chronyd-fixture` crate): every
//! report over the unix socket, 127.0.0.1 and ::1, compared with the fact
//! tables and with `chronyc -c tracking` on the same daemon.

mod common;

use std::time::Duration;

use chronyd_fixture::{ChronycTracking, Fixture, Mode};
use common::tables::{self, assert_layout};
use common::{Conn, Record, Value, given};
use libchrony_sys::{self as sys, Guarantee};

fn start(mode: Mode) -> Fixture {
    Fixture::start(mode).unwrap_or_else(|e| panic!("starting chronyd ({mode:?}): {e}"))
}

fn unix_address(fx: &Fixture) -> String {
    fx.socket_path().to_str().expect("UTF-8 path").to_string()
}

/// The unix socket path, 127.0.0.1:PORT and [::1]:PORT.
fn transports(fx: &Fixture) -> [String; 3] {
    [unix_address(fx), fx.udp_v4(), fx.udp_v6()]
}

fn leap_text(leap: u64) -> &'static str {
    match leap {
        0 => "Normal",
        1 => "Insert second",
        2 => "Delete second",
        3 => "Not synchronised",
        _ => "Invalid",
    }
}

/// chronyc's name column for an unspecified address: the printable refid bytes.
fn refid_text(refid: u64) -> String {
    (0..4)
        .rev()
        .map(|i| (refid >> (8 * i)) as u8)
        .filter(|b| b.is_ascii_graphic() || *b == b' ')
        .map(char::from)
        .collect()
}

/// Compares a tracking record with chronyc's CSV line: exact (as chronyc
/// formats them) for everything but current correction and root dispersion,
/// which chronyd computes per request; those must lie between `before` and
/// `after` (read around the chronyc call), within `tolerance`.
fn assert_tracking_matches(before: &Record, after: &Record, t: &ChronycTracking, tolerance: f64) {
    let cols: Vec<&str> = t.raw.split(',').collect();
    assert_eq!(cols.len(), 14, "chronyc line {:?}", t.raw);
    let r = before;
    assert_layout(r, tables::TRACKING, "tracking");
    assert_eq!(
        r.u("reference ID"),
        u64::from(t.ref_id),
        "refid; chronyc {:?}",
        t.raw
    );
    let name = r
        .s("address")
        .unwrap_or_else(|| refid_text(r.u("reference ID")));
    assert_eq!(name, t.name, "name; chronyc {:?}", t.raw);
    assert_eq!(r.u("stratum"), u64::from(t.stratum));
    assert_eq!(leap_text(r.u("leap status")), t.leap);
    let (sec, nsec) = r.t("reference time");
    assert_eq!(format!("{sec}.{nsec:09}"), cols[3], "reference time");
    for (field, col, digits) in [
        ("last offset", 5, 9),
        ("RMS offset", 6, 9),
        ("frequency offset", 7, 3),
        ("residual frequency", 8, 3),
        ("skew", 9, 3),
        ("root delay", 10, 9),
        ("last update interval", 12, 1),
    ] {
        assert_eq!(
            format!("{:.*}", digits, r.f(field)),
            cols[col],
            "{field}; chronyc {:?}",
            t.raw
        );
    }
    for (field, theirs) in [
        ("current correction", t.correction),
        ("root dispersion", t.root_dispersion),
    ] {
        let (lo, hi) = {
            let (a, b) = (before.f(field), after.f(field));
            (a.min(b) - tolerance, a.max(b) + tolerance)
        };
        assert!(
            (lo..=hi).contains(&theirs),
            "{field}: chronyc {theirs} outside [{lo}, {hi}]"
        );
    }
}

/// Reads tracking around a `chronyc -c tracking` call until no clock update
/// landed in between (same reference time before and after), then compares.
fn compare_with_chronyc(fx: &Fixture, address: &str, tolerance: f64) {
    let conn = Conn::open(address);
    for _ in 0..50 {
        let before = conn.record("tracking", 0).expect("tracking");
        let theirs = fx.chronyc_tracking().expect("chronyc -c tracking");
        let after = conn.record("tracking", 0).expect("tracking");
        if before.t("reference time") != after.t("reference time") {
            continue;
        }
        for field in ["last offset", "RMS offset", "frequency offset", "skew"] {
            assert_eq!(before.f(field), after.f(field), "{field} without an update");
        }
        assert_tracking_matches(&before, &after, &theirs, tolerance);
        return;
    }
    panic!("a clock update landed during each of 50 comparisons");
}

#[test]
fn tracking_equals_chronyc_on_a_synced_daemon_over_every_transport() {
    let fx = start(Mode::Synced);
    for address in transports(&fx) {
        compare_with_chronyc(&fx, &address, 1e-4);
        let conn = Conn::open(&address);
        let r = conn.record("tracking", 0).unwrap();
        assert_eq!(r.u("reference ID"), 0x7F00_0001, "{address}");
        assert_eq!(r.s("address").as_deref(), Some("127.0.0.1"), "{address}");
        assert_eq!(r.get("address").content, sys::CHRONY_CONTENT_ADDRESS);
        assert_eq!(r.u("stratum"), 2);
        assert_eq!(r.u("leap status"), 0);
        assert!(r.t("reference time").0 > 1_600_000_000);
    }
}

#[test]
fn tracking_on_an_unsynchronised_daemon_is_exact() {
    let fx = start(Mode::Unsynced);
    for address in transports(&fx) {
        let conn = Conn::open(&address);
        let r = conn.record("tracking", 0).unwrap();
        let t = fx.chronyc_tracking().unwrap();
        // Every value is static: no tolerance at all.
        assert_tracking_matches(&r, &r, &t, 0.0);
        assert_eq!(r.u("reference ID"), 0);
        assert_eq!(r.s("address"), None);
        assert_eq!(r.get("address").ty, sys::CHRONY_TYPE_STRING);
        assert_eq!(r.get("address").content, sys::CHRONY_CONTENT_NONE);
        assert_eq!(r.u("stratum"), 0);
        assert_eq!(r.u("leap status"), 3);
        assert_eq!(r.t("reference time"), (0, 0));
        assert_eq!(r.f("root delay"), 1.0);
        assert_eq!(r.f("root dispersion"), 1.0);
        assert_eq!(r.f("residual frequency"), 0.0);
        assert_eq!(r.f("skew"), 0.0);
        let idx = conn.field_index("leap status");
        assert_eq!(
            conn.constant_name(idx, 3).as_deref(),
            Some("not synchronized")
        );
    }
}

#[test]
fn tracking_in_local_mode() {
    let fx = start(Mode::Local { stratum: 5 });
    compare_with_chronyc(&fx, &unix_address(&fx), 1e-4);
    let conn = Conn::open(&unix_address(&fx));
    let r = conn.record("tracking", 0).unwrap();
    let t = fx.chronyc_tracking().unwrap();
    assert_eq!(r.u("reference ID"), 0x7F7F_0101);
    assert_eq!(r.s("address"), None);
    assert_eq!(r.u("stratum"), 5);
    assert_eq!(r.u("leap status"), 0);
    assert_eq!(t.name, "");
}

#[test]
fn every_report_over_the_unix_socket() {
    let fx = start(Mode::Synced);
    let conn = Conn::open(&unix_address(&fx));

    assert_eq!(conn.count("tracking"), Ok(1));
    let tracking = conn.record("tracking", 0).unwrap();
    assert_layout(&tracking, tables::TRACKING, "tracking");

    assert_eq!(conn.count("sources"), Ok(1));
    let sources = conn.record("sources", 0).unwrap();
    assert_layout(&sources, tables::SOURCES, "sources");
    assert_eq!(sources.s("address").as_deref(), Some("127.0.0.1"));
    // The fixture polls with minpoll/maxpoll -4: a negative int16 on the wire.
    if given(Guarantee::SignedInt16) {
        assert_eq!(sources.i("poll"), -4);
    }
    assert_eq!(sources.u("stratum"), 1);
    assert_eq!(sources.u("mode"), 0);
    let mode = conn.field_index("mode");
    assert_eq!(conn.constant_name(mode, 0).as_deref(), Some("client"));
    let state = conn.field_index("state");
    assert!(
        conn.constant_name(state, sources.u("state")).is_some(),
        "state {} has a name",
        sources.u("state")
    );
    assert!(sources.u("reachability") > 0);

    assert_eq!(conn.count("sourcestats"), Ok(1));
    let stats = conn.record("sourcestats", 0).unwrap();
    assert_layout(&stats, tables::SOURCESTATS, "sourcestats");
    assert_eq!(stats.u("reference ID"), 0x7F00_0001);
    assert_eq!(stats.s("address").as_deref(), Some("127.0.0.1"));
    assert!(stats.u("samples") >= 1);

    assert_eq!(conn.count("selectdata"), Ok(1));
    let select = conn.record("selectdata", 0).unwrap();
    assert_layout(&select, tables::SELECTDATA, "selectdata");
    assert_eq!(select.u("reference ID"), 0x7F00_0001);
    assert_eq!(select.s("address").as_deref(), Some("127.0.0.1"));
    let state = conn.field_index("state");
    assert!(
        conn.constant_name(state, select.u("state")).is_some(),
        "selectdata state {:?} has a name",
        char::from(select.u("state") as u8)
    );

    assert_eq!(conn.count("activity"), Ok(1));
    let activity = conn.record("activity", 0).unwrap();
    assert_layout(&activity, tables::ACTIVITY, "activity");
    // Right after start the iburst may still run: the source counts as
    // "burst online-return" until it ends.
    assert_eq!(
        activity.u("online sources") + activity.u("burst online-return sources"),
        1,
        "{activity:?}"
    );
    assert_eq!(activity.u("offline sources"), 0);
    assert_eq!(activity.u("unresolved sources"), 0);

    assert_eq!(conn.count("authdata"), Ok(1));
    let auth = conn.record("authdata", 0).unwrap();
    assert_layout(&auth, tables::AUTHDATA, "authdata");
    assert_eq!(auth.u("mode"), 0);
    let mode = conn.field_index("mode");
    assert_eq!(conn.constant_name(mode, 0).as_deref(), Some("none"));

    // ntpdata takes two round trips (sourcestats for the address, then ntpdata).
    assert_eq!(conn.count("ntpdata"), Ok(1));
    let ntp = conn.record("ntpdata", 0).unwrap();
    // chronyd 4.6 made ntpdata reply 26 and 4.4 serverstats reply 25 (chrony-versions.md).
    let version = chronyd_fixture::Chrony::find().unwrap().version().unwrap();
    if version >= (4, 6) {
        assert_layout(
            &ntp,
            &tables::ntpdata26(),
            "ntpdata (chronyd 4.6+: reply 26)",
        );
    } else {
        assert_layout(
            &ntp,
            &tables::ntpdata16(),
            "ntpdata (chronyd 4.3: reply 16)",
        );
    }
    assert_eq!(ntp.s("remote address").as_deref(), Some("127.0.0.1"));
    assert_eq!(ntp.s("local address").as_deref(), Some("127.0.0.1"));
    assert_eq!(ntp.u("mode"), 4);
    assert_eq!(ntp.u("stratum"), 1);
    assert_eq!(ntp.u("version"), 4);
    assert_eq!(ntp.i("poll"), -4, "int8 poll is sign-extended");
    assert!(ntp.i("precision") < 0, "precision {}", ntp.i("precision"));
    assert!(ntp.u("received valid messages") >= 1);
    assert_ne!(ntp.u("remote port"), 0);

    assert_eq!(conn.count("serverstats"), Ok(1));
    let server = conn.record("serverstats", 0).unwrap();
    if version >= (4, 4) {
        assert_layout(
            &server,
            &tables::serverstats25(),
            "serverstats (chronyd 4.4+: reply 25)",
        );
    } else {
        assert_layout(
            &server,
            &tables::serverstats24(),
            "serverstats (chronyd 4.3: reply 24)",
        );
    }
    assert!(server.u("received command requests") >= 1);

    for report in ["rtcdata", "smoothing"] {
        assert_eq!(conn.count(report), Ok(1));
        assert_eq!(
            conn.record(report, 0),
            Err(sys::CHRONY_DISABLED),
            "{report}"
        );
        assert_eq!(conn.number_fields(), 0);
        assert!(!conn.needs_response());
    }
}

#[test]
fn udp_serves_only_the_open_reports() {
    let fx = start(Mode::Synced);
    for address in [fx.udp_v4(), fx.udp_v6()] {
        let conn = Conn::open(&address);
        for report in ["tracking", "sources", "sourcestats", "activity"] {
            let n = conn
                .count(report)
                .unwrap_or_else(|e| panic!("{report}: {e}"));
            assert_eq!(n, 1, "{report} over {address}");
            let r = conn
                .record(report, 0)
                .unwrap_or_else(|e| panic!("{report} over {address}: {e}"));
            assert!(!r.0.is_empty());
        }
        for report in ["selectdata", "authdata", "ntpdata", "serverstats"] {
            assert_eq!(
                conn.count(report).unwrap(),
                1,
                "{report} count over {address}"
            );
            assert_eq!(
                conn.record(report, 0),
                Err(sys::CHRONY_UNAUTHORIZED),
                "{report} over {address}"
            );
            assert_eq!(conn.number_fields(), 0);
        }
        for report in ["rtcdata", "smoothing"] {
            assert_eq!(
                conn.record(report, 0),
                Err(sys::CHRONY_DISABLED),
                "{report}"
            );
        }
    }
}

#[test]
fn reference_clock_records() {
    let fx = start(Mode::Refclock { leap: 0 });
    let conn = Conn::open(&unix_address(&fx));
    let r = conn.record("tracking", 0).unwrap();
    let t = fx.chronyc_tracking().unwrap();
    assert_eq!(r.u("reference ID"), 0x4750_5300);
    assert_eq!(r.s("address"), None);
    assert_eq!(r.get("address").content, sys::CHRONY_CONTENT_NONE);
    assert_eq!(refid_text(r.u("reference ID")), t.name);
    assert_eq!(t.name, "GPS");

    assert_eq!(conn.count("sources"), Ok(1));
    let sources = conn.record("sources", 0).unwrap();
    let mut layout = tables::SOURCES.to_vec();
    layout[0] = (
        "reference ID",
        sys::CHRONY_TYPE_UINTEGER,
        sys::CHRONY_CONTENT_REFERENCE_ID,
    );
    assert_layout(&sources, &layout, "sources of a refclock");
    assert_eq!(sources.u("reference ID"), 0x4750_5300);
    assert_eq!(sources.u("mode"), 2);
    let mode = conn.field_index("mode");
    assert_eq!(
        conn.constant_name(mode, 2).as_deref(),
        Some("reference clock")
    );

    let stats = conn.record("sourcestats", 0).unwrap();
    assert_eq!(stats.s("address"), None);
    assert_eq!(stats.get("address").content, sys::CHRONY_CONTENT_NONE);

    // No address to ask with: the chained records end with no fields.
    for report in ["ntpdata", "authdata"] {
        let rec = conn.record(report, 0).unwrap();
        assert!(rec.0.is_empty(), "{report}: {rec:?}");
        assert!(!conn.needs_response());
    }
}

#[test]
fn frozen_daemon_times_out_and_a_resend_is_answered() {
    let fx = start(Mode::Unsynced);
    let conn = Conn::open(&unix_address(&fx));
    assert!(conn.record("tracking", 0).is_ok());

    fx.freeze().unwrap();
    assert_eq!(conn.request_record("tracking", 0), sys::CHRONY_OK);
    assert_eq!(conn.wait_for(Duration::from_millis(300)), Err(u32::MAX));
    assert!(conn.needs_response(), "still waiting after the timeout");
    // Resend (a new sequence; attempt 1 with Guarantee::Resend, else a fresh
    // attempt 0 and the first request forgotten); the daemon wakes and
    // answers both, and the answer to the resend is accepted either way.
    assert_eq!(conn.request_record("tracking", 0), sys::CHRONY_OK);
    fx.thaw().unwrap();
    assert_eq!(conn.wait(), Ok(()));
    assert_eq!(conn.fields().u("leap status"), 3);

    // The second answer is still queued: a fresh request must skip it as stale.
    assert_eq!(conn.record("activity", 0).map(|r| r.0.len()), Ok(5));
    assert_eq!(conn.record("tracking", 0).map(|r| r.u("stratum")), Ok(0));
}

#[test]
fn stopped_daemon_over_udp_gives_recv_failed_with_econnrefused() {
    let mut fx = start(Mode::Unsynced);
    let address = fx.udp_v4();
    fx.stop().unwrap();
    let conn = Conn::open(&address);
    assert_eq!(conn.request_record("tracking", 0), sys::CHRONY_OK);
    assert!(
        common::poll_in(conn.fd, common::TIMEOUT),
        "the ICMP error wakes poll"
    );
    let r = conn.process();
    let errno = common::errno();
    assert_eq!(r, sys::CHRONY_RECV_FAILED);
    assert_eq!(errno, libc::ECONNREFUSED);
    if given(Guarantee::ReceiveErrors) {
        assert!(!conn.needs_response(), "the error ended the exchange");
    }
}

#[test]
fn sessions_on_one_daemon_are_independent() {
    let fx = start(Mode::Synced);
    let a = Conn::open(&unix_address(&fx));
    let b = Conn::open(&fx.udp_v4());
    assert!(a.record("tracking", 0).is_ok());
    assert!(b.record("sources", 0).is_ok());
    let pa = a.string_ptr(a.field_index("address"));
    let pb = b.string_ptr(b.field_index("address"));
    assert!(!pa.is_null() && !pb.is_null());
    if given(Guarantee::SessionStrings) {
        assert_ne!(pa, pb, "each session formats into its own buffer");
    }
    assert_eq!(a.fields().s("address").as_deref(), Some("127.0.0.1"));
    assert_eq!(b.fields().s("address").as_deref(), Some("127.0.0.1"));
    assert_eq!(
        a.fields().get("address").value,
        Value::S(Some("127.0.0.1".into()))
    );
}

#[test]
fn sessions_in_parallel_threads() {
    // With one process-wide string buffer (libchrony 0.2) this is a data race.
    if !given(Guarantee::SessionStrings) {
        return;
    }
    let fx = start(Mode::Synced);
    let path = unix_address(&fx);
    let v4 = fx.udp_v4();
    std::thread::scope(|scope| {
        for i in 0..4 {
            let address = if i % 2 == 0 { path.clone() } else { v4.clone() };
            scope.spawn(move || {
                let conn = Conn::open(&address);
                for _ in 0..50 {
                    let r = conn.record("tracking", 0).unwrap();
                    assert_eq!(r.s("address").as_deref(), Some("127.0.0.1"));
                    let s = conn.record("sources", 0).unwrap();
                    assert_eq!(s.s("address").as_deref(), Some("127.0.0.1"));
                }
            });
        }
    });
}

/// The names of `chronyc -N -c sources -a` (the third column), in index order.
fn chronyc_names(fx: &Fixture) -> Vec<String> {
    let out = fx.chronyc(&["-N", "-c", "sources", "-a"]).unwrap();
    out.lines()
        .map(|line| {
            let cols: Vec<&str> = line.split(',').collect();
            assert_eq!(cols.len(), 10, "chronyc line {line:?}");
            cols[2].to_string()
        })
        .collect()
}

#[test]
fn sourcename_equals_chronyc_n_over_every_transport() {
    let fx = start(Mode::Sources);
    let theirs = chronyc_names(&fx);
    // Three NTP servers and two reference clocks (chronyd-fixture's Mode::Sources), and the servers
    // configured by a name that never resolves (named too, with an ID for an address).
    let unresolved = fx.unresolved_names().len();
    assert_eq!(theirs.len(), 5 + unresolved, "{theirs:?}");
    for address in transports(&fx) {
        let conn = Conn::open(&address);
        if !common::knows_sourcename() {
            assert_eq!(
                conn.record("sourcename", 0),
                Err(sys::CHRONY_UNKNOWN_REPORT)
            );
            return;
        }
        assert_eq!(conn.count("sourcename"), Ok(theirs.len() as i32));
        let mut ntp = 0;
        for (i, name) in theirs.iter().enumerate() {
            let source = conn.record("sources", i as i32).unwrap();
            let rec = conn.record("sourcename", i as i32).unwrap();
            if source.u("mode") == 2 {
                // A reference clock: no address to ask with, no fields;
                // chronyc shows its refid.
                assert!(rec.0.is_empty(), "{address} {i}: {rec:?}");
                assert_eq!(refid_text(source.u("reference ID")), *name);
                continue;
            }
            ntp += 1;
            assert_layout(&rec, tables::SOURCENAME, "sourcename");
            assert_eq!(rec.s("name").as_ref(), Some(name), "{address} {i}");
            assert_eq!(rec.s("address"), source.s("address"), "{address} {i}");
        }
        assert_eq!(ntp, 3 + unresolved, "{address}");
    }
    // The daemon served the same list throughout.
    assert_eq!(chronyc_names(&fx), theirs);
}

/// `chronyc -n -c clients` (with `-k` the NTS-KE columns replace the command
/// ones): per client address, its nine numbers in chronyc's column order.
fn chronyc_clients(fx: &Fixture, nke: bool) -> Vec<(String, Vec<i64>)> {
    let mut args = vec!["-n", "-c", "clients"];
    if nke {
        args.push("-k");
    }
    let out = fx.chronyc(&args).unwrap();
    out.lines()
        .map(|line| {
            let cols: Vec<&str> = line.split(',').collect();
            assert_eq!(cols.len(), 10, "chronyc line {line:?}");
            let numbers = cols[1..]
                .iter()
                .map(|c| c.parse().unwrap_or_else(|e| panic!("{line:?}: {e}")))
                .collect();
            (cols[0].to_string(), numbers)
        })
        .collect()
}

/// Our record's values in chronyc's columns: NTP hits, drops, interval,
/// timeout interval, last hit ago, then the command (or NTS-KE) four.
fn client_columns(rec: &Record, nke: bool) -> Vec<i64> {
    let other = if nke { "NTS-KE" } else { "command" };
    let u = |name: &str| rec.u(name) as i64;
    vec![
        u("NTP hits"),
        u("NTP drops"),
        rec.i("NTP interval"),
        rec.i("NTP timeout interval"),
        u("last NTP hit ago"),
        u(&format!("{other} hits")),
        u(&format!("{other} drops")),
        rec.i(&format!("{other} interval")),
        u(&format!("last {other} hit ago")),
    ]
}

#[test]
fn clients_equal_chronyc_between_two_reads() {
    let fx = start(Mode::Synced);
    // A command over UDP makes 127.0.0.1 a client with a command hit (the
    // unix socket has no address to log).
    fx.chronyc_tracking_udp().unwrap();
    let conn = Conn::open(&unix_address(&fx));
    if !common::knows_clients() {
        assert_eq!(conn.record("clients", 0), Err(sys::CHRONY_UNKNOWN_REPORT));
        return;
    }
    for nke in [false, true] {
        let before = chronyc_clients(&fx, nke);
        let slots = conn.count("clients").unwrap();
        assert!(slots >= before.len() as i32, "{slots} slots");
        let mut ours = Vec::new();
        let mut i = 0;
        while i < slots {
            let rec = conn.record("clients", i).unwrap();
            if rec.0.is_empty() {
                break;
            }
            assert_layout(&rec, tables::CLIENTS, "clients");
            let next = rec.u("next index") as i32;
            assert!(next > i, "next index {next} after slot {i}");
            ours.push((rec.s("address").unwrap(), client_columns(&rec, nke)));
            i = next;
        }
        let after = chronyc_clients(&fx, nke);
        let names =
            |rows: &[(String, Vec<i64>)]| rows.iter().map(|r| r.0.clone()).collect::<Vec<_>>();
        assert_eq!(
            names(&ours),
            names(&before),
            "the same clients, in slot order"
        );
        assert_eq!(names(&after), names(&before));
        assert!(names(&ours).contains(&"127.0.0.1".to_string()), "{ours:?}");
        for ((name, mine), ((_, b), (_, a))) in ours.iter().zip(before.iter().zip(&after)) {
            for (k, v) in mine.iter().enumerate() {
                let (lo, hi) = (b[k].min(a[k]), b[k].max(a[k]));
                assert!(
                    (lo..=hi).contains(v),
                    "{name} column {}: {v} not in {lo}..={hi}",
                    k + 2
                );
            }
        }
        if !nke {
            let local = ours.iter().find(|r| r.0 == "127.0.0.1").unwrap();
            assert!(local.1[5] >= 1, "command hits of 127.0.0.1: {local:?}");
        }
    }
    // chronyd refuses the client log over UDP.
    for address in [fx.udp_v4(), fx.udp_v6()] {
        let conn = Conn::open(&address);
        assert_eq!(
            conn.record("clients", 0),
            Err(sys::CHRONY_UNAUTHORIZED),
            "{address}"
        );
    }
}

#[test]
fn noclientlog_gives_disabled_as_chronyc_says_client_logging_is_not_active() {
    let fx = start(Mode::NoClientLog);
    let theirs = fx.chronyc_output(&["-n", "clients"]).unwrap();
    let stdout = String::from_utf8_lossy(&theirs.stdout);
    assert_eq!(theirs.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("519 Client logging is not active in the daemon"),
        "{stdout}"
    );
    let conn = Conn::open(&unix_address(&fx));
    if !common::knows_clients() {
        assert_eq!(conn.count("clients"), Err(sys::CHRONY_UNKNOWN_REPORT));
        return;
    }
    // chronyd's status 15 (STT_INACTIVE) to the table size request and to a slot request alike.
    assert_eq!(conn.count("clients"), Err(sys::CHRONY_DISABLED));
    assert_eq!(conn.record("clients", 0), Err(sys::CHRONY_DISABLED));
    assert_eq!(conn.number_fields(), 0);
    // The session goes on: the next report is answered.
    assert_layout(
        &conn.record("tracking", 0).unwrap(),
        tables::TRACKING,
        "tracking",
    );
}
