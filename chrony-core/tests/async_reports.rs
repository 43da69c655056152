//! `AsyncConnection` (feature `tokio`) against real chronyd: its reports
//! equal chronyc's and the blocking `Connection`'s on the same daemon
//! (static fields compared exactly once two blocking reads around it
//! agree), over the unix socket and the UDP port.

mod common;

use std::future::Future;

use chrony_core::{AsyncConnection, Connection, Error, Parts, Snapshot};
use chronyd_fixture::Mode;
use common::{Reads, compare, snapshot_lines, start};

/// Runs `f` on a current-thread runtime with I/O and time, as a program's
/// `#[tokio::main(flavor = "current_thread")]` would.
fn run<F: Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

/// A future that must be `Send`, so a call can be spawned on a
/// multi-threaded runtime.
fn send<F: Future + Send>(f: F) -> F {
    f
}

#[test]
fn tracking_equals_chronyc_and_the_blocking_connection() {
    // Unsynchronised: every tracking value is static.
    let fx = start(Mode::Unsynced);
    for address in [fx.socket_path().to_str().unwrap().to_owned(), fx.udp_v4()] {
        let (ours, again) = run(async {
            let mut c = AsyncConnection::open(&address).await.unwrap();
            let ours = send(c.tracking()).await.unwrap();
            (ours, c.tracking().await.unwrap())
        });
        let chronyc = fx.chronyc_tracking().unwrap();
        compare(&ours, &chronyc, false).unwrap_or_else(|e| panic!("{address}: {e}"));
        let blocking = Connection::open(&address).unwrap().tracking().unwrap();
        assert_eq!(ours, blocking, "{address}");
        assert_eq!(
            again, blocking,
            "{address}: a second call on the connection"
        );
    }
}

/// What the async connection reads one by one, as [`Reads::blocking`] reads it.
async fn async_reads(c: &mut AsyncConnection) -> Reads {
    Reads {
        sources: c.sources().await.unwrap(),
        stats: c.source_stats().await.unwrap(),
        select: c.select_data().await.unwrap(),
        ntp: c.ntp_data_all().await.unwrap(),
        auth: c.auth_data().await.unwrap(),
        names: c.source_names().await.unwrap(),
        tracking: c.tracking().await.unwrap(),
        activity: c.activity().await.unwrap(),
        smoothing: c.smoothing().await.unwrap().is_some(),
        rtc: c.rtc_data().await.unwrap().is_some(),
    }
}

#[test]
fn every_report_and_the_snapshot_equal_the_blocking_connection() {
    // NTP servers, reference clocks, smoothing: every report has records.
    let fx = start(Mode::Sources);
    let path = fx.socket_path().to_str().unwrap().to_owned();
    let mut blocking = Connection::open(&path).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut c = rt.block_on(AsyncConnection::open(&path)).unwrap();
    let mut seen = Vec::new();
    for _ in 0..200 {
        let before = Reads::blocking(&mut blocking).lines();
        let mut parts = Parts::NONE;
        (parts.tracking, parts.stats) = (true, true);
        let (reads, snapshot, selected, ntp_one) = rt.block_on(async {
            let reads = async_reads(&mut c).await;
            let snapshot = send(c.snapshot()).await.unwrap();
            let selected = send(c.snapshot_of(&parts)).await.unwrap();
            let ip = reads.ntp.first().map(|n| n.remote_address).unwrap();
            (reads, snapshot, selected, c.ntp_data(ip).await.unwrap())
        });
        let after = Reads::blocking(&mut blocking).lines();
        if before != after {
            seen.push(after);
            continue;
        }
        assert_eq!(reads.lines(), before);
        assert_eq!(snapshot_lines(&snapshot), before);
        // A selection: its parts as the full snapshot's, nothing else.
        let stats_lines = |s: &Snapshot| -> Vec<String> {
            let list = s.sources.as_ref().unwrap();
            let stats = list.iter().map(|p| p.stats.as_ref().unwrap());
            stats
                .map(|v| format!("{} {:x}", v.address, v.reference_id))
                .collect()
        };
        assert_eq!(stats_lines(&selected), stats_lines(&snapshot));
        let t = |s: &Snapshot| s.tracking.as_ref().map(|t| t.reference_id).unwrap();
        assert_eq!(t(&selected), t(&snapshot));
        assert!(matches!(selected.activity, Err(Error::NotRequested { .. })));
        let first = &selected.sources.as_ref().unwrap()[0];
        assert!(matches!(first.name, Err(Error::NotRequested { .. })));
        let ntp_one = ntp_one.expect("the source it listed");
        assert_eq!(
            (ntp_one.remote_address, ntp_one.remote_port, ntp_one.mode),
            (
                reads.ntp[0].remote_address,
                reads.ntp[0].remote_port,
                reads.ntp[0].mode
            )
        );
        let named = reads.names.first().expect("a configured name");
        let name = rt.block_on(c.source_name(named.address)).unwrap();
        assert_eq!(name.as_deref(), Some(named.name.as_str()));
        // The reference clock and at least one NTP source are there.
        assert!(reads.sources.iter().any(|s| s.address.to_string() == "GPS"));
        assert!(!reads.ntp.is_empty());
        return;
    }
    panic!("the daemon never stood still between two reads: {seen:#?}");
}

#[test]
fn over_udp_the_refusals_are_the_blocking_connection_s() {
    let fx = start(Mode::Sources);
    let address = fx.udp_v4();
    let mut blocking = Connection::open(&address).unwrap();
    let (server_stats, select, sources) = run(async {
        let mut c = AsyncConnection::open(&address).await.unwrap();
        (
            c.server_stats().await.unwrap_err(),
            c.select_data().await.unwrap_err(),
            c.sources().await.unwrap(),
        )
    });
    let want = blocking.server_stats().unwrap_err();
    assert_eq!(server_stats.to_string(), want.to_string());
    assert_eq!(server_stats.code(), want.code());
    let want = blocking.select_data().unwrap_err();
    assert_eq!(select.to_string(), want.to_string());
    let addresses = |s: &[chrony_core::Source]| -> Vec<String> {
        s.iter().map(|s| s.address.to_string()).collect()
    };
    assert_eq!(addresses(&sources), addresses(&blocking.sources().unwrap()));
}
