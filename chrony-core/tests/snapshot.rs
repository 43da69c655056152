//! `Connection::snapshot` against a real chronyd (Mode::Sources: NTP
//! servers and a reference clock): its values equal the sequential
//! `Connection` methods' on the same daemon (static fields compared exactly
//! once two sequential reads around it agree; the command counter
//! bracketed), and over UDP the parts chronyd refuses are absent with
//! `NotAuthorised` while the rest is there. `Connection::snapshot_of` sends
//! only the requests of the parts asked for (chronyd's command counter), its
//! parts equal the full snapshot's, and the others are `NotRequested`.

mod common;

use chrony_core::{Connection, Error, Options, Parts, SharedConnection, Snapshot, SourceAddress};
use chronyd_fixture::{Fixture, Mode};
use common::{Reads, snapshot_lines, start};

fn unix(fx: &Fixture) -> Connection {
    Connection::open(fx.socket_path().to_str().unwrap()).unwrap()
}

#[test]
fn snapshot_equals_the_sequential_reads() {
    let fx = start(Mode::Sources);
    let mut c = unix(&fx);
    let mut seen = Vec::new();
    for _ in 0..200 {
        let before = Reads::blocking(&mut c).lines();
        let cmd_before = c.server_stats().unwrap().cmd_hits;
        let snap = c.snapshot().unwrap();
        let cmd_after = c.server_stats().unwrap().cmd_hits;
        let after = Reads::blocking(&mut c).lines();
        if before != after {
            seen.push(after);
            continue;
        }
        assert_eq!(snapshot_lines(&snap), before);
        // Each request counts: the snapshot's serverstats lies between.
        let cmd = snap.server_stats.as_ref().unwrap().cmd_hits;
        assert!(
            cmd_before < cmd && cmd < cmd_after,
            "{cmd_before} < {cmd} < {cmd_after}"
        );
        // The reference clock and at least one NTP source are there.
        let sources = snap.sources.as_ref().unwrap();
        assert!(
            sources
                .iter()
                .any(|p| p.ntp_data.as_ref().unwrap().is_some())
        );
        assert!(
            sources
                .iter()
                .any(|p| p.source.address.to_string() == "GPS")
        );
        // The one-call function and SharedConnection give the same sources.
        let addresses = |s: &Snapshot| -> Vec<String> {
            let list = s.sources.as_ref().unwrap();
            list.iter().map(|p| p.source.address.to_string()).collect()
        };
        let one = chrony_core::snapshot(Some(&fx.socket_path())).unwrap();
        assert_eq!(addresses(&one), addresses(&snap));
        let path = fx.socket_path();
        let shared = SharedConnection::new(path.to_str(), &Options::default());
        assert_eq!(addresses(&shared.snapshot().unwrap()), addresses(&snap));
        return;
    }
    panic!("the daemon never stood still between two reads: {seen:#?}");
}

#[test]
fn over_udp_refused_parts_are_absent_with_the_reason() {
    let fx = start(Mode::Sources);
    let mut c = Connection::open(&fx.udp_v4()).unwrap();
    let snap = c.snapshot().unwrap();
    let refused = |e: Option<&Error>, what: &str| {
        assert!(
            matches!(e, Some(Error::NotAuthorised { .. })),
            "{what}: {e:?}"
        );
    };
    refused(snap.server_stats.as_ref().err(), "serverstats");
    assert!(snap.tracking.is_ok(), "{:?}", snap.tracking);
    assert!(snap.activity.is_ok(), "{:?}", snap.activity);
    assert!(snap.smoothing.is_ok() && snap.rtc_data.is_ok(), "{snap:?}");
    let sources = snap.sources.as_ref().unwrap();
    assert_eq!(sources.len(), c.sources().unwrap().len());
    for p in sources {
        assert!(p.stats.is_ok(), "{:?}", p.stats);
        refused(p.select_data.as_ref().err(), "selectdata");
        if matches!(p.source.address, SourceAddress::Ip(_)) {
            refused(p.ntp_data.as_ref().err(), "ntpdata");
            refused(p.auth_data.as_ref().err(), "authdata");
        }
    }
}

/// The static fields of the `parts` of `s`, one line per part (per source:
/// one per part of each); of a selection (`selected`), asserts that every
/// other part is `NotRequested`.
fn lines_of_parts(s: &Snapshot, parts: &Parts, selected: bool) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = |asked: bool, what: &str, r: Result<String, &Error>| {
        if asked {
            lines.push(format!("{what} {}", r.unwrap()));
        } else if selected {
            assert!(
                matches!(r, Err(Error::NotRequested { part }) if *part == what),
                "{what}: {r:?}"
            );
        }
    };
    let t = s.tracking.as_ref();
    line(
        parts.tracking,
        "tracking",
        t.map(|t| format!("{:x} {}", t.reference_id, t.stratum)),
    );
    line(
        parts.activity,
        "activity",
        s.activity.as_ref().map(|a| format!("{a:?}")),
    );
    // Counters: every request changes them.
    line(
        parts.server_stats,
        "server_stats",
        s.server_stats.as_ref().map(|_| String::new()),
    );
    let smoothing = s.smoothing.as_ref().map(|v| format!("{}", v.is_some()));
    line(parts.smoothing, "smoothing", smoothing);
    line(
        parts.rtc_data,
        "rtc_data",
        s.rtc_data.as_ref().map(|v| format!("{}", v.is_some())),
    );
    line(
        parts.reads_sources(),
        "sources",
        s.sources.as_ref().map(|v| format!("{}", v.len())),
    );
    let listed = s.sources.as_ref().ok().filter(|_| parts.reads_sources());
    for p in listed.map(|v| v.as_slice()).unwrap_or_default() {
        let src = &p.source;
        line(
            true,
            "source",
            Ok(format!("{} {:?} {:?}", src.address, src.mode, src.state)),
        );
        let stats = p.stats.as_ref();
        line(
            parts.stats,
            "stats",
            stats.map(|v| format!("{} {:x}", v.address, v.reference_id)),
        );
        let sel = p.select_data.as_ref();
        let sel = sel.map(|v| format!("{} {:x} {:?}", v.address, v.reference_id, v.state));
        line(parts.select_data, "select_data", sel);
        let ntp = p.ntp_data.as_ref().map(|v| {
            format!(
                "{:?}",
                v.as_ref()
                    .map(|n| (n.remote_address, n.remote_port, n.version, n.mode))
            )
        });
        line(parts.ntp_data, "ntp_data", ntp);
        let auth = p.auth_data.as_ref();
        let auth = auth.map(|v| format!("{:?}", v.as_ref().map(|a| (a.address, a.mode, a.key_id))));
        line(parts.auth_data, "auth_data", auth);
        line(
            parts.name,
            "name",
            p.name.as_ref().map(|v| format!("{v:?}")),
        );
    }
    lines
}

#[test]
fn a_selection_sends_only_its_requests_and_equals_the_full_snapshot() {
    let fx = start(Mode::Sources);
    let mut c = unix(&fx);
    let n = c.sources().unwrap().len();
    assert!(n >= 2, "the fixture has several sources");
    let mut tracking = Parts::NONE;
    tracking.tracking = true;
    let mut stats = Parts::NONE;
    stats.stats = true;
    let mut exporter = Parts::NONE;
    (exporter.tracking, exporter.sources, exporter.server_stats) = (true, true, true);
    let mut keyed = Parts::NONE;
    (keyed.ntp_data, keyed.auth_data, keyed.name) = (true, true, true);
    keyed.activity = true;
    // (parts, the requests they need): the first batch's reports, then
    // for the sources the count, each source's records and the count again.
    // The library asks for more behind ntpdata, authdata and sourcename
    // (None: fewer than the full snapshot's, counted first).
    let cases = [
        (Parts::ALL, None),
        (Parts::NONE, Some(0)),
        (tracking, Some(1)),
        (stats, Some(1 + 2 * n + 1)),
        (exporter, Some(2 + 1 + n + 1)),
        (keyed, None),
    ];
    let mut full_requests = None;
    for (parts, requests) in cases {
        let mut seen = Vec::new();
        let ok = (0..200).any(|_| {
            let full = c.snapshot().unwrap();
            // Two serverstats in a row: what the counter moves by itself.
            let a = c.server_stats().unwrap().cmd_hits;
            let b = c.server_stats().unwrap().cmd_hits;
            let snap = c.snapshot_of(&parts).unwrap();
            let after = c.server_stats().unwrap().cmd_hits;
            let full_after = c.snapshot().unwrap();
            if snapshot_lines(&full) != snapshot_lines(&full_after) {
                seen.push(snapshot_lines(&full_after));
                return false;
            }
            let sent = after - b - (b - a);
            match (requests, full_requests) {
                (Some(r), _) => assert_eq!(sent, r as u64, "{parts:?}"),
                (None, None) => full_requests = Some(sent),
                (None, Some(all)) => assert!(0 < sent && sent < all, "{parts:?}: {sent}"),
            }
            assert_eq!(
                lines_of_parts(&snap, &parts, true),
                lines_of_parts(&full, &parts, false),
                "{parts:?}"
            );
            true
        });
        assert!(
            ok,
            "the daemon never stood still between two reads: {seen:#?}"
        );
    }
    // The pooled function and SharedConnection select the same way.
    let path = fx.socket_path();
    let one = chrony_core::snapshot_of(Some(&path), &Options::default(), &tracking, &mut || false)
        .unwrap();
    lines_of_parts(&one, &tracking, true);
    let shared = SharedConnection::new(path.to_str(), &Options::default());
    lines_of_parts(
        &shared
            .snapshot_of_interruptible(&exporter, &mut || false)
            .unwrap(),
        &exporter,
        true,
    );
}

/// A snapshot on `c` fails whole with `code`, as `tracking` does: no part
/// is there to hide that chronyd could not be reached at all.
fn fails_whole(c: &mut Connection, code: i32, what: &str) {
    let mut tracking = Parts::NONE;
    tracking.tracking = true;
    for parts in [Parts::ALL, tracking] {
        match c.snapshot_of(&parts) {
            Err(e) => assert_eq!(e.code(), code, "{what}: {e:?}"),
            Ok(snap) => panic!("{what}: a snapshot with every part failed: {snap:?}"),
        }
    }
    assert_eq!(c.tracking().unwrap_err().code(), code, "{what}");
}

#[test]
fn a_kept_connection_to_a_stopped_daemon_fails_whole_and_reaches_the_restarted_one() {
    let mut fx = start(Mode::Sources);
    let mut unix = unix(&fx);
    let mut udp = Connection::open(&fx.udp_v4()).unwrap();
    unix.snapshot().unwrap();
    udp.snapshot().unwrap();
    // SIGKILL: the socket file stays behind, nothing answers on it.
    fx.kill9().unwrap();
    fails_whole(&mut unix, -1, "unix, stale socket");
    fx.restart().unwrap();
    unix.snapshot()
        .expect("a kept Connection reaches the restarted chronyd")
        .tracking
        .expect("tracking of the restarted chronyd");
    // SIGTERM: chronyd removes its socket; its UDP port is closed.
    fx.stop().unwrap();
    fails_whole(&mut unix, -2, "unix, socket gone");
    fails_whole(&mut udp, -1, "udp, port closed");
    fx.restart().unwrap();
    for (c, what) in [(&mut unix, "unix"), (&mut udp, "udp")] {
        let snap = c.snapshot().unwrap_or_else(|e| panic!("{what}: {e}"));
        snap.tracking.unwrap_or_else(|e| panic!("{what}: {e}"));
        assert!(!snap.sources.unwrap().is_empty(), "{what}");
    }
}
