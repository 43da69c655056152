//! The sources report against `chronyc -c -a sources` on a real chronyd with a realistic source
//! list (`Mode::Sources`: a selected and a `noselect` server, one that never answers, a fed and an
//! unfed reference clock), over the unix socket and UDP, through every API.

mod common;

use std::time::{Duration, Instant};

use chrony_core::{
    Connection, SharedConnection, Source, SourceAddress, SourceMode, SourceState, Transport,
};
use chronyd_fixture::{Fixture, Mode};
use common::{each_line_equal_when_stable, start};

/// One source as a line of `chronyc -c sources`: mode, state, name, stratum, poll, reach (octal),
/// seconds since the last sample (4294967295 for none), adjusted, measured offset and error with
/// 9 decimals.
fn csv(s: &Source) -> String {
    format!(
        "{},{},{},{},{},{:o},{},{:.9},{:.9},{:.9}",
        s.mode.symbol(),
        s.state.symbol(),
        s.address,
        s.stratum,
        s.poll,
        s.reachability,
        s.last_sample_ago.unwrap_or(u32::MAX),
        s.adjusted_offset,
        s.measured_offset,
        s.offset_error
    )
}

fn chronyc_sources(fx: &Fixture) -> String {
    fx.chronyc(&["-c", "sources", "-a"]).unwrap()
}

/// Waits until chronyc shows the list settled: the server at 127.0.0.1 selected and the fed
/// refclock reached by its last 8 polls (a source's state and reach then stay put).
fn settled(fx: &Fixture) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let out = chronyc_sources(fx);
        let ready = out.lines().any(|l| l.starts_with("^,*,127.0.0.1,"))
            && out
                .lines()
                .any(|l| l.starts_with("#,") && l.contains(",GPS,") && l.contains(",377,"))
            && out
                .lines()
                .any(|l| l.contains(",127.0.0.2,") && l.contains(",377,"));
        if ready {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the source list did not settle: {out}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn check_against_chronyc(fx: &Fixture, read: impl FnMut() -> Vec<Source>) -> Vec<Source> {
    each_line_equal_when_stable(fx, &["-c", "sources", "-a"], &[], read, csv)
}

#[test]
fn every_source_equals_chronyc_over_every_transport() {
    let fx = start(Mode::Sources);
    settled(&fx);
    let path = fx.socket_path();

    let mut unix = Connection::open(path.to_str().unwrap()).unwrap();
    let list = check_against_chronyc(&fx, || unix.sources().unwrap());
    let mut udp = Connection::open(&fx.udp_v4()).unwrap();
    assert_eq!(udp.transport(), Transport::Udp);
    check_against_chronyc(&fx, || udp.sources().unwrap());
    let mut v6 = Connection::open(&fx.udp_v6()).unwrap();
    check_against_chronyc(&fx, || v6.sources().unwrap());
    check_against_chronyc(&fx, || chrony_core::sources(Some(&path)).unwrap());
    let shared = SharedConnection::new(Some(path.to_str().unwrap()), &Default::default());
    check_against_chronyc(&fx, || shared.sources().unwrap());

    // What the fixture configured; chronyd adds reference clocks first, and sources whose name is not
    // resolved yet come with an ID (1, 2, ... in the order configured).
    let ip = |s: &str| SourceAddress::Ip(s.parse().unwrap());
    let addresses: Vec<SourceAddress> = list.iter().map(|s| s.address).collect();
    let mut configured = vec![
        SourceAddress::RefClock(0x4750_5300),
        SourceAddress::RefClock(0x4E4F_4E45),
        ip("127.0.0.1"),
        ip("127.0.0.2"),
        ip("127.0.0.3"),
    ];
    for id in 1..=fx.unresolved_names().len() {
        configured.push(SourceAddress::Unresolved(u32::try_from(id).unwrap()));
    }
    assert_eq!(addresses, configured);
    let [gps, unfed, selected, noselect, silent, unresolved @ ..] = &list[..] else {
        unreachable!()
    };
    for source in unresolved {
        assert_eq!(
            (source.state, source.mode),
            (SourceState::Nonselectable, SourceMode::Client)
        );
        assert_eq!((source.reachability, source.last_sample_ago), (0, None));
    }
    assert_eq!(
        (selected.state, selected.mode),
        (SourceState::Selected, SourceMode::Client)
    );
    assert!(selected.is_selected() && selected.is_reachable());
    assert_eq!((selected.stratum, selected.poll), (1, -4));
    assert_eq!(noselect.stratum, 3);
    assert_eq!(noselect.state, SourceState::Nonselectable, "noselect");
    assert!(noselect.is_reachable());
    assert_eq!(silent.reachability, 0);
    assert_eq!(silent.last_sample_ago, None);
    assert!(!silent.is_reachable());
    assert_eq!(gps.mode, SourceMode::RefClock);
    assert_eq!(gps.address.to_string(), "GPS");
    assert_eq!((unfed.mode, unfed.reachability), (SourceMode::RefClock, 0));
    assert_eq!(unfed.address.to_string(), "NONE");
    assert!(list.iter().all(|s| s.flags == 0));
}

#[test]
fn a_daemon_without_sources_has_an_empty_list() {
    let fx = start(Mode::Unsynced);
    let mut c = Connection::open(fx.socket_path().to_str().unwrap()).unwrap();
    assert_eq!(c.sources().unwrap(), []);
    assert_eq!(chronyc_sources(&fx), "");
}

#[test]
fn a_frozen_daemon_times_out_within_one_deadline_for_the_whole_list() {
    let fx = start(Mode::Sources);
    let options = chrony_core::Options::new().with_timeout(Duration::from_millis(600));
    let mut c = Connection::open_with(Some(fx.socket_path().to_str().unwrap()), &options).unwrap();
    assert_eq!(c.sources().unwrap().len(), 5 + fx.unresolved_names().len());
    fx.freeze().unwrap();
    let t = Instant::now();
    let e = c.sources().unwrap_err();
    let took = t.elapsed();
    fx.thaw().unwrap();
    assert_eq!(e.code(), -6, "{e}");
    assert!(took >= Duration::from_millis(600), "{took:?}");
    assert!(
        took < Duration::from_millis(1500),
        "one deadline for the list: {took:?}"
    );
    // Usable again, and never answered by a late reply to the timed-out request.
    assert_eq!(c.sources().unwrap().len(), 5 + fx.unresolved_names().len());
}
