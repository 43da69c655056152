//! `Connection::snapshot` against a real chronyd (Mode::Sources: NTP
//! servers and a reference clock): its values equal the sequential
//! `Connection` methods' on the same daemon (static fields compared exactly
//! once two sequential reads around it agree; the command counter
//! bracketed), and over UDP the parts chronyd refuses are absent with
//! `NotAuthorised` while the rest is there.

mod common;

use chrony_core::{Connection, Error, Options, SharedConnection, Snapshot, SourceAddress};
use chronyd_fixture::{Fixture, Mode};
use common::start;

fn unix(fx: &Fixture) -> Connection {
    Connection::open(fx.socket_path().to_str().unwrap()).unwrap()
}

/// The fields that do not change between requests while the daemon is
/// stable, one line per source, then the whole-daemon ones.
fn lines_of(s: &Snapshot) -> Vec<String> {
    let mut lines: Vec<String> = s
        .sources
        .as_ref()
        .unwrap()
        .iter()
        .map(|p| {
            let s = &p.source;
            let stats = p.stats.as_ref().unwrap();
            let sel = p.select_data.as_ref().unwrap();
            let ntp = p.ntp_data.as_ref().unwrap().as_ref();
            let auth = p.auth_data.as_ref().unwrap().as_ref();
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
                p.name.as_ref().unwrap(),
            )
        })
        .collect();
    let t = s.tracking.as_ref().unwrap();
    lines.push(format!("tracking {:x} {}", t.reference_id, t.stratum));
    lines.push(format!("activity {:?}", s.activity.as_ref().unwrap()));
    lines.push(format!(
        "smoothing {} rtc {}",
        s.smoothing.as_ref().unwrap().is_some(),
        s.rtc_data.as_ref().unwrap().is_some()
    ));
    lines
}

/// The same lines from the sequential methods, joined by index (sourcestats,
/// selectdata) or by address (ntpdata, authdata, sourcename), as a snapshot joins them.
fn sequential_lines(c: &mut Connection) -> Vec<String> {
    let sources = c.sources().unwrap();
    let stats = c.source_stats().unwrap();
    let select = c.select_data().unwrap();
    let ntp = c.ntp_data_all().unwrap();
    let auth = c.auth_data().unwrap();
    let names = c.source_names().unwrap();
    let mut lines: Vec<String> = sources
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let ip = match s.address {
                SourceAddress::Ip(ip) => Some(ip),
                _ => None,
            };
            let n = ntp.iter().find(|n| Some(n.remote_address) == ip);
            let a = auth.iter().find(|a| a.address == s.address);
            let name = names.iter().find(|n| n.address == s.address);
            format!(
                "{} {:?} {:?} | {} {:x} | {} {:x} {:?} | {:?} | {:?} | {:?}",
                s.address,
                s.mode,
                s.state,
                stats[i].address,
                stats[i].reference_id,
                select[i].address,
                select[i].reference_id,
                select[i].state,
                n.map(|n| (n.remote_address, n.remote_port, n.version, n.mode)),
                a.map(|a| (a.address, a.mode, a.key_id)),
                name.map(|n| n.name.clone()),
            )
        })
        .collect();
    let t = c.tracking().unwrap();
    lines.push(format!("tracking {:x} {}", t.reference_id, t.stratum));
    lines.push(format!("activity {:?}", c.activity().unwrap()));
    lines.push(format!(
        "smoothing {} rtc {}",
        c.smoothing().unwrap().is_some(),
        c.rtc_data().unwrap().is_some()
    ));
    lines
}

#[test]
fn snapshot_equals_the_sequential_reads() {
    let fx = start(Mode::Sources);
    let mut c = unix(&fx);
    let mut seen = Vec::new();
    for _ in 0..200 {
        let before = sequential_lines(&mut c);
        let cmd_before = c.server_stats().unwrap().cmd_hits;
        let snap = c.snapshot().unwrap();
        let cmd_after = c.server_stats().unwrap().cmd_hits;
        let after = sequential_lines(&mut c);
        if before != after {
            seen.push(after);
            continue;
        }
        assert_eq!(lines_of(&snap), before);
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
