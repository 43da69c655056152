//! Every field of the tracking report against `chronyc -c tracking`, on real
//! daemons in each state, over the unix socket and both UDP addresses.

mod common;

use chrony_core::{Connection, LeapStatus, ReferenceAddress, Transport};
use chronyd_fixture::Mode;
use common::{check_against_chronyc, start};

/// Checks all transports of one fixture; returns the one-call status.
fn all_transports(fx: &chronyd_fixture::Fixture, tolerant: bool) -> chrony_core::TrackingStatus {
    let path = fx.socket_path();
    let one_call = check_against_chronyc(fx, tolerant, || chrony_core::tracking(Some(&path)));

    let mut unix = Connection::open(path.to_str().unwrap()).unwrap();
    assert_eq!(unix.transport(), Transport::Unix);
    assert_eq!(unix.address(), path.to_str().unwrap());
    check_against_chronyc(fx, tolerant, || unix.tracking());

    let mut v4 = Connection::open(&fx.udp_v4()).unwrap();
    assert_eq!(v4.transport(), Transport::Udp);
    assert_eq!(v4.address(), fx.udp_v4());
    check_against_chronyc(fx, tolerant, || v4.tracking());

    let mut v6 = Connection::open(&fx.udp_v6()).unwrap();
    assert_eq!(v6.address(), fx.udp_v6());
    check_against_chronyc(fx, tolerant, || v6.tracking());
    one_call
}

#[test]
fn synced_daemon() {
    let fx = start(Mode::Synced);
    let t = all_transports(&fx, true);
    assert_eq!(t.reference_id, 0x7F00_0001);
    assert_eq!(t.reference_id_name, "127.0.0.1");
    assert_eq!(
        t.reference_address,
        ReferenceAddress::Ip("127.0.0.1".parse().unwrap())
    );
    assert_eq!(t.stratum, 2);
    assert_eq!(t.leap_status, LeapStatus::Normal);
    assert!(t.is_synchronized());
    assert!(!t.is_leap_pending());
}

#[test]
fn unsynced_daemon_every_value_exact() {
    let fx = start(Mode::Unsynced);
    let t = all_transports(&fx, false);
    assert_eq!(t.reference_id, 0);
    assert_eq!(t.reference_id_name, "");
    assert_eq!(t.reference_address, ReferenceAddress::Unspecified);
    assert_eq!(t.stratum, 0);
    assert_eq!(t.leap_status, LeapStatus::Unsynchronised);
    assert_eq!(t.ref_time, std::time::UNIX_EPOCH);
    assert_eq!((t.root_delay, t.root_dispersion), (1.0, 1.0));
    assert!(!t.is_synchronized());
    assert!(!t.is_leap_pending());
}

#[test]
fn refclock_is_named_gps() {
    let fx = start(Mode::Refclock { leap: 0 });
    let t = all_transports(&fx, true);
    assert_eq!(t.reference_id, 0x4750_5300);
    assert_eq!(t.reference_id_name, "GPS");
    assert_eq!(t.reference_address, ReferenceAddress::Unspecified);
    assert_eq!(t.stratum, 1);
    assert!(t.is_synchronized());
}

#[test]
fn refclock_announcing_a_leap_second() {
    let fx = start(Mode::Refclock { leap: 1 });
    let t = all_transports(&fx, true);
    assert_eq!(t.reference_id_name, "GPS");
    assert_eq!(t.leap_status, LeapStatus::InsertSecond);
    assert_eq!(t.leap_status.as_u8(), 1);
    assert!(t.is_leap_pending());
}

#[test]
fn local_stratum_has_an_empty_name() {
    let fx = start(Mode::Local { stratum: 10 });
    let t = all_transports(&fx, true);
    assert_eq!(t.reference_id, 0x7F7F_0101);
    assert_eq!(t.reference_id_name, "");
    assert_eq!(t.reference_address, ReferenceAddress::Unspecified);
    assert_eq!(t.stratum, 10);
    assert_eq!(t.leap_status, LeapStatus::Normal);
    assert!(t.is_synchronized());
}
