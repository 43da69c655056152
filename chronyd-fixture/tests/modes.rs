//! Each mode reaches its expected chronyc state, on both transports.

use std::time::Instant;

use chronyd_fixture::{Fixture, Mode, chronyd_available};

fn start(mode: Mode) -> Fixture {
    assert!(
        chronyd_available(),
        "{}",
        chronyd_fixture::Chrony::find().unwrap_err()
    );
    let t0 = Instant::now();
    let fx = Fixture::start(mode).unwrap_or_else(|e| panic!("start {mode}: {e}"));
    eprintln!("{mode}: ready after {:?}", t0.elapsed());
    fx
}

#[test]
fn synced() {
    let fx = start(Mode::Synced);
    let t = fx.chronyc_tracking().unwrap();
    assert_eq!(
        (t.ref_id, t.name.as_str(), t.stratum, t.leap.as_str()),
        (0x7F00_0001, "127.0.0.1", 2, "Normal")
    );
    let u = fx.chronyc_tracking_udp().unwrap();
    assert_eq!((u.ref_id, u.stratum), (0x7F00_0001, 2));
    // The server's own command socket: the daemon under test polls it, so it logs 127.0.0.1 as a client.
    let clients = fx.chronyc_server(&["-n", "-c", "clients"]).unwrap();
    assert!(
        clients.lines().any(|l| l.starts_with("127.0.0.1,")),
        "{clients}"
    );
    assert!(fx.socket_path().starts_with(fx.dir()));
    assert!(fx.dir().as_os_str().len() < 40);
    assert_eq!(fx.udp_v4(), format!("127.0.0.1:{}", fx.cmd_port()));
    assert_eq!(fx.udp_v6(), format!("[::1]:{}", fx.cmd_port()));
}

#[test]
fn unsynced_values_are_static() {
    let fx = start(Mode::Unsynced);
    let t = fx.chronyc_tracking().unwrap();
    assert_eq!(
        (t.ref_id, t.name.as_str(), t.stratum, t.leap.as_str()),
        (0, "", 0, "Not synchronised")
    );
    assert_eq!(
        (t.ref_time, t.root_delay, t.root_dispersion),
        (0.0, 1.0, 1.0)
    );
    let u = fx.chronyc_tracking_udp().unwrap();
    assert_eq!(t.raw, u.raw);
}

#[test]
fn local_stratum_10() {
    let fx = start(Mode::Local { stratum: 10 });
    let t = fx.chronyc_tracking().unwrap();
    assert_eq!(
        (t.ref_id, t.name.as_str(), t.stratum, t.leap.as_str()),
        (0x7F7F_0101, "", 10, "Normal")
    );
}

#[test]
fn refclock_gps() {
    let fx = start(Mode::Refclock { leap: 0 });
    let t = fx.chronyc_tracking().unwrap();
    assert_eq!(
        (t.ref_id, t.name.as_str(), t.stratum, t.leap.as_str()),
        (0x4750_5300, "GPS", 1, "Normal")
    );
    assert!(fx.feeder_pid().is_some());
}

#[test]
fn refclock_leap_insert() {
    let fx = start(Mode::Refclock { leap: 1 });
    let t = fx.chronyc_tracking().unwrap();
    assert_eq!(
        (t.ref_id, t.name.as_str(), t.stratum, t.leap.as_str()),
        (0x4750_5300, "GPS", 1, "Insert second")
    );
    assert!(fx.faketime_offset().is_some_and(|o| o < 0));
}

#[test]
fn refclock_leap_delete_survives_restart() {
    let mut fx = start(Mode::Refclock { leap: 2 });
    assert_eq!(fx.chronyc_tracking().unwrap().leap, "Delete second");
    let (offset, feeder) = (fx.faketime_offset(), fx.feeder_pid());
    fx.restart().unwrap();
    assert_eq!(fx.faketime_offset(), offset);
    assert_ne!(fx.feeder_pid(), feeder);
    let t = fx.chronyc_tracking_udp().unwrap();
    assert_eq!((t.ref_id, t.leap.as_str()), (0x4750_5300, "Delete second"));
    // The faked clock reads June 30, 22:xx UTC.
    let day_secs = (t.ref_time as i64).rem_euclid(86_400);
    assert!(
        (22 * 3600..23 * 3600).contains(&day_secs),
        "ref time {}",
        t.ref_time
    );
}

#[test]
fn no_client_log_is_unsynced_and_keeps_no_client_log() {
    let fx = start(Mode::NoClientLog);
    let t = fx.chronyc_tracking().unwrap();
    assert_eq!(
        (t.ref_id, t.stratum, t.leap.as_str()),
        (0, 0, "Not synchronised")
    );
    let out = fx.chronyc_output(&["-n", "clients"]).unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("519 Client logging is not active in the daemon"),
        "{stdout}"
    );
    assert!(fx.server_socket_path().is_none());
}

#[test]
fn eight_sources() {
    let fx = start(Mode::EightSources);
    let t = fx.chronyc_tracking().unwrap();
    assert_eq!((t.ref_id, t.stratum), (0x7F00_0001, 2));
    let sources = fx.chronyc(&["-n", "-c", "sources", "-a"]).unwrap();
    let names: Vec<&str> = sources
        .lines()
        .map(|l| l.split(',').nth(2).unwrap_or(l))
        .collect();
    let expected = ["GPS", "NONE", "127.0.0.1", "127.0.0.2", "127.0.0.3"];
    let silent = ["127.0.0.4", "127.0.0.5", "127.0.0.6"];
    assert_eq!(names, [&expected[..], &silent[..]].concat(), "{sources}");
    // Nothing answers on the three added addresses.
    for line in sources
        .lines()
        .filter(|l| silent.iter().any(|s| l.contains(s)))
    {
        assert_eq!(line.split(',').nth(5), Some("0"), "reach of {line}");
    }
    assert!(fx.server2_pid().is_some() && fx.feeder_pid().is_some());
    assert_eq!("sources:8".parse::<Mode>(), Ok(Mode::EightSources));
}
