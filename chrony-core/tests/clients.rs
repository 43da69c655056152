//! The clients report (chronyd's access log) against `chronyc -n -c clients` (and `-k`) on a real
//! chronyd: the daemon under test (command hits over UDP), the NTP server it polls with NTS (NTP
//! and NTS-KE hits) and a daemon nothing polls (an empty log); what chronyd refuses over UDP, what
//! a chronyd with `noclientlog` answers, and what a library without the report does.

mod common;

use chrony_core::{Client, Connection, Error};
use chronyd_fixture::{Fixture, Mode};
use common::start;

/// `chronyc -n -c clients [-k]` on the daemon under test: per client, its address and nine numbers
/// in chronyc's columns.
fn chronyc_clients(fx: &Fixture, nke: bool) -> Vec<(String, Vec<i64>)> {
    parse_clients(&fx.chronyc(&clients_args(nke)).unwrap())
}

fn clients_args(nke: bool) -> Vec<&'static str> {
    let mut args = vec!["-n", "-c", "clients"];
    if nke {
        args.push("-k");
    }
    args
}

fn parse_clients(csv: &str) -> Vec<(String, Vec<i64>)> {
    csv.lines()
        .map(|l| {
            let cols: Vec<&str> = l.split(',').collect();
            assert_eq!(cols.len(), 10, "{l}");
            let numbers = cols[1..].iter().map(|c| c.parse().unwrap()).collect();
            (cols[0].to_owned(), numbers)
        })
        .collect()
}

/// A client as chronyc prints it: no data is 127, never is 4294967295.
fn columns(c: &Client, nke: bool) -> Vec<i64> {
    let log2 = |v: Option<i8>| i64::from(v.unwrap_or(127));
    let ago = |v: Option<u32>| i64::from(v.unwrap_or(u32::MAX));
    let (hits, drops, interval, last) = if nke {
        (c.nke_hits, c.nke_drops, c.nke_interval, c.last_nke_hit_ago)
    } else {
        (c.cmd_hits, c.cmd_drops, c.cmd_interval, c.last_cmd_hit_ago)
    };
    vec![
        i64::from(c.ntp_hits),
        i64::from(c.ntp_drops),
        log2(c.ntp_interval),
        log2(c.ntp_timeout_interval),
        ago(c.last_ntp_hit_ago),
        i64::from(hits),
        i64::from(drops),
        log2(interval),
        ago(last),
    ]
}

/// Every value of `ours` lies between chronyc's two reads around it (hits grow and "ago" values
/// change with each request), client by client in the same order.
fn assert_bracketed(
    ours: &[Client],
    before: &[(String, Vec<i64>)],
    after: &[(String, Vec<i64>)],
    nke: bool,
) {
    let names = |rows: &[(String, Vec<i64>)]| rows.iter().map(|r| r.0.clone()).collect::<Vec<_>>();
    let mine: Vec<String> = ours.iter().map(|c| c.address.to_string()).collect();
    assert_eq!(mine, names(before), "the same clients in the same order");
    assert_eq!(names(after), names(before));
    for (c, ((_, b), (_, a))) in ours.iter().zip(before.iter().zip(after)) {
        for (k, v) in columns(c, nke).iter().enumerate() {
            let (lo, hi) = (b[k].min(a[k]), b[k].max(a[k]));
            assert!(
                (lo..=hi).contains(v),
                "{} column {}: {v} not in {lo}..={hi}",
                c.address,
                k + 2
            );
        }
    }
}

#[test]
fn clients_equal_chronyc_between_two_reads() {
    let fx = start(Mode::Synced);
    // A command over UDP makes 127.0.0.1 a client (the unix socket has no address to log).
    fx.chronyc_tracking_udp().unwrap();
    let path = fx.socket_path();
    let mut c = Connection::open(path.to_str().unwrap()).unwrap();
    if !common::knows_clients() {
        let e = c.clients().unwrap_err();
        assert!(
            matches!(e, Error::UnsupportedByLibrary { report: "clients" }),
            "{e:?}"
        );
        return;
    }
    for nke in [false, true] {
        let before = chronyc_clients(&fx, nke);
        let ours = c.clients().unwrap().expect("client logging is on");
        let after = chronyc_clients(&fx, nke);
        assert_bracketed(&ours, &before, &after, nke);
        let local = ours.iter().find(|c| c.address.to_string() == "127.0.0.1");
        assert!(local.is_some_and(|l| l.cmd_hits >= 1), "{ours:?}");
    }
    let shared = chrony_core::SharedConnection::new(path.to_str(), &Default::default());
    let before = chronyc_clients(&fx, false);
    let ours = shared.clients().unwrap().unwrap();
    let after = chronyc_clients(&fx, false);
    assert_bracketed(&ours, &before, &after, false);
    let before = chronyc_clients(&fx, false);
    let ours = chrony_core::clients(Some(&path)).unwrap().unwrap();
    let after = chronyc_clients(&fx, false);
    assert_bracketed(&ours, &before, &after, false);
    // chronyd refuses the client log over UDP.
    for address in [fx.udp_v4(), fx.udp_v6()] {
        let e = Connection::open(&address).unwrap().clients().unwrap_err();
        assert!(matches!(e, Error::NotAuthorised { .. }), "{address}: {e:?}");
        assert_eq!(e.code(), -3);
    }
}

#[test]
fn clients_without_the_report_in_the_library_sends_nothing() {
    // A UDP "chronyd" that only listens: any request would arrive here.
    let server = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    server.set_nonblocking(true).unwrap();
    if libchrony_sys::knows_report(libchrony_sys::CLIENTS) {
        eprintln!(
            "not checked: {}: the linked library has the clients report",
            std::thread::current().name().unwrap_or("this test")
        );
        return;
    }
    let mut c = Connection::open(&server.local_addr().unwrap().to_string()).unwrap();
    for e in [
        c.clients().unwrap_err(),
        c.query::<Option<Vec<Client>>>().unwrap_err(),
    ] {
        assert!(
            matches!(e, Error::UnsupportedByLibrary { report: "clients" }),
            "{e:?}"
        );
        assert_eq!(e.code(), -4);
    }
    let mut buf = [0u8; 520];
    assert_eq!(
        server.recv(&mut buf).unwrap_err().kind(),
        std::io::ErrorKind::WouldBlock,
        "nothing was sent"
    );
}

#[test]
fn the_servers_clients_show_ntp_and_nts_ke_hits_equal_to_chronyc() {
    if !common::knows_clients() {
        return;
    }
    // The daemon under test polls the server 16 times a second and made one NTS key exchange.
    let fx = start(Mode::Nts);
    let path = fx.server_socket_path().unwrap();
    let mut c = Connection::open(path.to_str().unwrap()).unwrap();
    for nke in [false, true] {
        let server = || parse_clients(&fx.chronyc_server(&clients_args(nke)).unwrap());
        // Each poll changes the hits and may move the interval either way: compare a read that
        // chronyc's reads around it show unchanged.
        let mut last = None;
        let ours = (0..200)
            .find_map(|_| {
                let before = server();
                let ours = c.clients().unwrap().expect("client logging is on");
                let after = server();
                let same = before == after;
                last = Some((before, after));
                same.then_some(ours)
            })
            .unwrap_or_else(|| panic!("the server's clients never stayed the same: {last:?}"));
        let (theirs, _) = last.unwrap();
        let mine: Vec<(String, Vec<i64>)> = ours
            .iter()
            .map(|c| (c.address.to_string(), columns(c, nke)))
            .collect();
        assert_eq!(mine, theirs, "nke {nke}");
        let local = ours.iter().find(|c| c.address.to_string() == "127.0.0.1");
        let local = local.unwrap_or_else(|| panic!("127.0.0.1 polls the server: {ours:?}"));
        assert!(local.ntp_hits >= 1, "{local:?}");
        assert!(local.nke_hits >= 1, "{local:?}");
    }
}

#[test]
fn a_daemon_without_clients_has_an_empty_log() {
    // Nothing polls the unsynchronised daemon, and commands over its unix socket have no address.
    let fx = start(Mode::Unsynced);
    assert_eq!(fx.chronyc(&clients_args(false)).unwrap(), "");
    if !common::knows_clients() {
        return;
    }
    let path = fx.socket_path();
    let ours = Connection::open(path.to_str().unwrap()).unwrap().clients();
    assert_eq!(ours.unwrap(), Some(vec![]));
    assert_eq!(fx.chronyc(&clients_args(false)).unwrap(), "");
}

#[test]
fn noclientlog_is_none_as_chronyc_says_client_logging_is_not_active() {
    let fx = start(Mode::NoClientLog);
    let theirs = fx.chronyc_output(&["-n", "clients"]).unwrap();
    let stdout = String::from_utf8_lossy(&theirs.stdout);
    assert_eq!(theirs.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("519 Client logging is not active in the daemon"),
        "{stdout}"
    );
    let path = fx.socket_path();
    let mut c = Connection::open(path.to_str().unwrap()).unwrap();
    if !common::knows_clients() {
        let e = c.clients().unwrap_err();
        assert!(
            matches!(e, Error::UnsupportedByLibrary { report: "clients" }),
            "{e:?}"
        );
        return;
    }
    assert_eq!(c.clients().unwrap(), None);
    // The connection stays usable after the refusal.
    assert_eq!(c.clients().unwrap(), None);
    let shared = chrony_core::SharedConnection::new(path.to_str(), &Default::default());
    assert_eq!(shared.clients().unwrap(), None);
    assert_eq!(chrony_core::clients(Some(&path)).unwrap(), None);
}
