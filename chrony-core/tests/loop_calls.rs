//! `LoopConnection` on real daemons, stepped by the simplest loop there is
//! (a step at each wake-up, or every millisecond): the same answers as the
//! blocking connection, the deadline of a frozen chronyd, and a dropped
//! call that leaves the connection usable. `pychrony-py/tests/test_aio.py`
//! drives it from asyncio, with the socket watched too.

mod common;

use std::time::{Duration, Instant};

use chrony_core::{
    Connection, LoopCall, LoopConnection, Options, Result, Snapshot, TrackingStatus,
};
use chronyd_fixture::Mode;
use common::{Reads, client_dirs, snapshot_lines, start};

/// Steps `call` until it is over, sleeping until its wake-up (at most 1 ms
/// at a time, standing in for the socket's readability).
fn run<T>(mut call: LoopCall<T>) -> Result<T> {
    loop {
        if let Some(outcome) = call.step() {
            return outcome;
        }
        assert!(call.fd().is_some(), "a call that waits names its socket");
        let until = call.wakeup().expect("a call that waits has a wake-up");
        let nap = until.saturating_duration_since(Instant::now());
        std::thread::sleep(nap.min(Duration::from_millis(1)));
    }
}

#[test]
fn the_reports_are_the_blocking_connection_s() {
    let fx = start(Mode::Sources);
    let path = fx.socket_path();
    let c = LoopConnection::new(path.to_str(), &Options::new());
    let mut blocking = Connection::open(path.to_str().unwrap()).unwrap();
    for _ in 0..200 {
        let before = Reads::blocking(&mut blocking).lines();
        let snapshot: Snapshot = run(c.query()).unwrap();
        if Reads::blocking(&mut blocking).lines() == before {
            assert_eq!(snapshot_lines(&snapshot), before);
            let ours: TrackingStatus = run(c.query()).unwrap();
            assert_eq!(ours.reference_id, blocking.tracking().unwrap().reference_id);
            assert!(c.is_open() && c.address().as_deref() == path.to_str());
            c.close();
            assert!(!c.is_open());
            assert_eq!(
                client_dirs(fx.dir()).len(),
                1,
                "only the blocking one's is left"
            );
            return;
        }
    }
    panic!("the daemon never stood still between two rounds of blocking reads");
}

#[test]
fn a_frozen_chronyd_times_out_at_the_deadline_and_a_dropped_call_leaves_the_connection_usable() {
    let fx = start(Mode::Unsynced);
    let timeout = Duration::from_millis(500);
    let c = LoopConnection::new(Some(&fx.udp_v4()), &Options::new().with_timeout(timeout));
    let want = run(c.query::<TrackingStatus>()).unwrap();
    fx.freeze().unwrap();
    let begun = Instant::now();
    let e = run(c.query::<TrackingStatus>()).unwrap_err();
    let elapsed = begun.elapsed();
    assert_eq!(e.code(), -6, "{e}");
    assert!(timeout <= elapsed && elapsed < timeout + Duration::from_millis(200));
    // A call stepped once (its request sent) and dropped: the next call,
    // after the thaw, gets its own answer.
    let mut dropped = c.query::<chrony_core::Activity>();
    assert!(dropped.step().is_none());
    drop(dropped);
    fx.thaw().unwrap();
    assert_eq!(run(c.query::<TrackingStatus>()).unwrap(), want);
}
