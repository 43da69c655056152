//! sourcestats, selectdata, activity, serverstats, rtcdata and smoothing against chronyc's CSV
//! (`chronyc -c`) on real chronyd daemons, and what chronyd refuses over UDP.

mod common;

use std::time::{Duration, Instant};

use chrony_core::{AuthData, AuthMode, Connection, Error, SelectData, SourceStats};
use chronyd_fixture::{Fixture, Mode};
use common::{Varies, each_line_equal_when_stable, start};

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

/// sourcestats' offset (column 6 of chronyc's CSV): chronyd moves its estimate on by the
/// source's frequency to the moment of each request.
const SOURCESTATS_EXTRAPOLATED: &[Varies] = &[Varies::Extrapolated(6)];

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
        SOURCESTATS_EXTRAPOLATED,
        || c.source_stats().unwrap(),
        sourcestats_csv,
    );
    assert_eq!(stats.len(), 5 + fx.unresolved_names().len());
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
        &[],
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
        SOURCESTATS_EXTRAPOLATED,
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
        &[],
        || shared.query::<Vec<SelectData>>().unwrap(),
        selectdata_csv,
    );
}

#[test]
fn activity_equals_chronyc() {
    let fx = start(Mode::Sources);
    let mut c = unix(&fx);
    let line = |a: &chrony_core::Activity| {
        vec![format!(
            "{},{},{},{},{}",
            a.online, a.offline, a.burst_online, a.burst_offline, a.unresolved
        )]
    };
    let a = equal_when_stable(&fx, &["-c", "activity"], || c.activity().unwrap(), line);
    // Three NTP sources, online or in their initial burst, and the unresolved one; reference clocks are
    // not counted.
    assert_eq!(a.online + a.burst_online, 3, "{a:?}");
    let unresolved = u32::try_from(fx.unresolved_names().len()).unwrap();
    assert_eq!(
        (a.offline, a.burst_offline, a.unresolved),
        (0, 0, unresolved)
    );
    // Open over UDP (compared with chronyc again: a burst may end in between).
    let mut udp = Connection::open(&fx.udp_v4()).unwrap();
    equal_when_stable(&fx, &["-c", "activity"], || udp.activity().unwrap(), line);
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
    // chronyd computes the offset, frequency and times for the moment of each request: each of
    // ours lies between two chronyc reads around it (within the last digit chronyc prints). The
    // wander changes only with a new sample: a read where it stayed the same around ours is
    // compared, and one that a clock update moved outside the bracket is done again.
    let (mut compared, mut last) = (None, String::new());
    'read: for _ in 0..200 {
        let before = chronyc(&fx, &["-c", "smoothing"]);
        let s = c.smoothing().unwrap().expect("smoothtime is on");
        let after = chronyc(&fx, &["-c", "smoothing"]);
        let (b, a): (Vec<&str>, Vec<&str>) = (
            before.trim().split(',').collect(),
            after.trim().split(',').collect(),
        );
        if b[4] != a[4] {
            last = format!("wander {} then {}", b[4], a[4]);
            continue;
        }
        assert_eq!(b[0], if s.active { "Yes" } else { "No" });
        assert_eq!(
            b[1],
            if s.leap_only {
                "(leap second only)"
            } else {
                ""
            }
        );
        for (i, ours, decimals) in [
            (2, s.offset, 9),
            (3, s.freq_ppm, 6),
            (4, s.wander_ppm, 6),
            (5, s.last_update_ago, 1),
            (6, s.remaining_time, 1),
        ] {
            let (x, y): (f64, f64) = (b[i].parse().unwrap(), a[i].parse().unwrap());
            let digit = 10f64.powi(-decimals);
            if !(x.min(y) - digit <= ours && ours <= x.max(y) + digit) {
                last = format!("field {i}: {ours} outside [{x}, {y}]");
                continue 'read;
            }
        }
        compared = Some(s);
        break;
    }
    let s = compared.unwrap_or_else(|| panic!("never between two chronyc reads: {last}"));
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

/// An IPv4 address as chronyc prints its reference ID (IPv6 sources get a hash, which the
/// fixture has none of).
fn ipv4_refid(ip: Option<std::net::IpAddr>) -> String {
    match ip {
        Some(std::net::IpAddr::V4(v4)) => format!("{:08X}", u32::from(v4)),
        Some(other) => panic!("no IPv6 sources in the fixture: {other}"),
        None => "00000000".into(),
    }
}

fn ntpdata_csv(d: &chrony_core::NtpData) -> String {
    let t = d.ref_time.duration_since(std::time::UNIX_EPOCH).unwrap();
    let refid_text = if d.stratum <= 1 {
        d.reference_id
            .to_be_bytes()
            .iter()
            .filter(|b| (0x20..0x7f).contains(*b))
            .map(|&b| char::from(b))
            .collect()
    } else {
        String::new()
    };
    let yes = |b: bool| if b { "Yes" } else { "No" };
    let tests = d.flags.tests_text().replace(' ', ",");
    let mut line = format!(
        "{},{},{},{},{},{},{},{},{},{},{:.0},{},{:.9},{:.6},{:.6},{:08X},{},{}.{:09},{:.9},{:.9},{:.9},{:.9},{:.2},{},{},{},{},{},{},{},{},{}",
        d.remote_address,
        ipv4_refid(Some(d.remote_address)),
        d.remote_port,
        d.local_address
            .map_or("[UNSPEC]".to_string(), |a| a.to_string()),
        ipv4_refid(d.local_address),
        d.leap_status,
        d.version,
        d.mode,
        d.stratum,
        d.poll,
        2f64.powi(d.poll.into()),
        d.precision,
        2f64.powi(d.precision.into()),
        d.root_delay,
        d.root_dispersion,
        d.reference_id,
        refid_text,
        t.as_secs(),
        t.subsec_nanos(),
        d.offset,
        d.peer_delay,
        d.peer_dispersion,
        d.response_time,
        d.jitter_asymmetry,
        tests,
        yes(d.flags.interleaved()),
        yes(d.flags.authenticated()),
        d.tx_timestamping,
        d.rx_timestamping,
        d.total_tx,
        d.total_rx,
        d.total_valid_rx,
        d.total_good_rx
    );
    for newer in [
        d.total_kernel_tx,
        d.total_kernel_rx,
        d.total_hw_tx,
        d.total_hw_rx,
    ]
    .into_iter()
    .flatten()
    {
        line.push_str(&format!(",{newer}"));
    }
    line
}

/// `chronyc -c authdata`'s line for a source.
fn authdata_csv(a: &AuthData) -> String {
    format!(
        "{},{},{},{},{},{},{},{},{},{}",
        a.address,
        a.mode,
        a.key_id,
        a.key_type,
        a.key_length,
        a.last_ke_ago.unwrap_or(u32::MAX),
        a.ke_attempts,
        u8::from(a.nak),
        a.cookies,
        a.cookie_length
    )
}

/// authdata's `Last` (seconds since the key exchange) is computed for each request; its cookie
/// count is one lower while an NTS poll is in flight (chronyd spends a cookie on the request and
/// gets one back with the reply), between two chronyc reads that both show the full count.
const AUTHDATA_PER_REQUEST: &[Varies] = &[Varies::Extrapolated(5), Varies::Transient(8)];

#[test]
fn authdata_of_an_nts_source_equals_chronyc() {
    let fx = start(Mode::Nts);
    let mut c = unix(&fx);
    let auth = each_line_equal_when_stable(
        &fx,
        &["-c", "authdata", "-a"],
        AUTHDATA_PER_REQUEST,
        || c.auth_data().unwrap(),
        authdata_csv,
    );
    let [nts] = auth.as_slice() else {
        panic!("one source expected: {auth:?}")
    };
    // Synchronised means the key exchange is done: chronyd holds cookies of the server's length.
    assert_eq!(nts.mode, AuthMode::Nts, "{nts:?}");
    assert!(
        nts.last_ke_ago.is_some() && nts.cookies > 0 && nts.cookie_length > 0,
        "{nts:?}"
    );
    assert!(
        nts.key_type != 0 && nts.key_length > 0 && !nts.nak,
        "{nts:?}"
    );
    // Refused over UDP as for any source.
    let mut udp = Connection::open(&fx.udp_v4()).unwrap();
    assert_eq!(udp.auth_data().unwrap_err().code(), -3);
}

#[test]
fn ntpdata_and_authdata_equal_chronyc() {
    let fx = start(Mode::Sources);
    sampled(&fx);
    let mut c = unix(&fx);
    // Every NTP source, not the reference clocks.
    let all = each_line_equal_when_stable(
        &fx,
        &["-c", "ntpdata"],
        &[],
        || c.ntp_data_all().unwrap(),
        ntpdata_csv,
    );
    let addresses: Vec<String> = all.iter().map(|d| d.remote_address.to_string()).collect();
    assert_eq!(addresses, ["127.0.0.1", "127.0.0.2", "127.0.0.3"]);
    assert_eq!(all[2].local_address, None, "no response from 127.0.0.3 yet");
    assert_eq!(all[2].mode, chrony_core::NtpMode::Unknown(0));
    assert_eq!(all[0].mode, chrony_core::NtpMode::Server);
    // Tests 1-3 and 5-7 (duplicates, origin, synchronised source, distance) pass on loopback; the
    // delay tests A-D depend on the machine's load, so only chronyc's text is compared for them.
    assert!(
        all[0].flags.tests_text().starts_with("111 111 "),
        "{:?}",
        all[0].flags
    );

    // One source by its address, as `chronyc ntpdata ADDRESS`.
    let one = "127.0.0.2".parse().unwrap();
    each_line_equal_when_stable(
        &fx,
        &["-c", "ntpdata", "127.0.0.2"],
        &[],
        || vec![c.ntp_data(one).unwrap().expect("a source")],
        ntpdata_csv,
    );
    let shared = chrony_core::SharedConnection::new(
        Some(fx.socket_path().to_str().unwrap()),
        &Default::default(),
    );
    assert!(
        shared
            .ntp_data_interruptible(one, &mut || false)
            .unwrap()
            .is_some()
    );
    let path = fx.socket_path();
    let pooled = chrony_core::ntp_data(Some(&path), &Default::default(), one, &mut || false);
    assert_eq!(pooled.unwrap().unwrap().remote_address, one);
    // Not a source: None, where chronyc says "No such source".
    let none = "127.0.0.9".parse().unwrap();
    assert_eq!(c.ntp_data(none).unwrap(), None);
    assert!(fx.chronyc(&["-c", "ntpdata", "127.0.0.9"]).is_err());

    let auth = each_line_equal_when_stable(
        &fx,
        &["-c", "authdata", "-a"],
        AUTHDATA_PER_REQUEST,
        || c.auth_data().unwrap(),
        authdata_csv,
    );
    // The unresolved source too, as chronyc -a lists it.
    assert_eq!(auth.len(), 3 + fx.unresolved_names().len());
    assert!(auth.iter().all(|a| a.mode == AuthMode::None));

    // Both refused over UDP.
    let mut udp = Connection::open(&fx.udp_v4()).unwrap();
    assert_eq!(udp.ntp_data_all().unwrap_err().code(), -3);
    assert_eq!(udp.auth_data().unwrap_err().code(), -3);
}

/// (address, name) of every NTP source, in chronyc's order: the name column of `chronyc -n -c
/// sources -a` and of `chronyc -N -c sources -a`, without the reference clocks (mode `#`).
fn chronyc_source_names(fx: &Fixture) -> Vec<(String, String)> {
    let column = |flag: &str| -> Vec<(String, String)> {
        chronyc(fx, &[flag, "-c", "sources", "-a"])
            .lines()
            .map(|l| {
                let cols: Vec<&str> = l.split(',').collect();
                assert_eq!(cols.len(), 10, "{l}");
                (cols[0].to_owned(), cols[2].to_owned())
            })
            .collect()
    };
    let (addresses, names) = (column("-n"), column("-N"));
    assert_eq!(addresses.len(), names.len());
    addresses
        .into_iter()
        .zip(names)
        .filter(|((mode, _), _)| mode != "#")
        .map(|((_, address), (_, name))| (address, name))
        .collect()
}

#[test]
fn sourcename_equals_chronyc_n_over_unix_and_udp() {
    let fx = start(Mode::Sources);
    let theirs = chronyc_source_names(&fx);
    // The three NTP servers of Mode::Sources, configured by address, and the one configured by a name
    // that never resolves (as root), with its ID# address.
    assert_eq!(theirs.len(), 3 + fx.unresolved_names().len(), "{theirs:?}");
    if fx.unresolved_names().len() == 1 {
        assert_eq!(
            theirs.last().unwrap(),
            &(
                "ID#0000000001".to_owned(),
                chronyd_fixture::UNRESOLVABLE_NAME.to_owned()
            )
        );
    }
    let path = fx.socket_path();
    for address in [path.to_str().unwrap().to_owned(), fx.udp_v4(), fx.udp_v6()] {
        let mut c = Connection::open(&address).unwrap();
        if !common::knows_sourcename() {
            let e = c.source_names().unwrap_err();
            assert!(matches!(e, Error::UnsupportedByLibrary { .. }), "{e:?}");
            assert_eq!(e.code(), -4);
            return;
        }
        let ours: Vec<(String, String)> = c
            .source_names()
            .unwrap()
            .into_iter()
            .map(|s| (s.address.to_string(), s.name))
            .collect();
        assert_eq!(ours, theirs, "over {address}");
        for (text, name) in &theirs {
            let source = match text.strip_prefix("ID#") {
                Some(id) => chrony_core::SourceAddress::Unresolved(id.parse().unwrap()),
                None => {
                    let ip: std::net::IpAddr = text.parse().unwrap();
                    assert_eq!(c.source_name(ip).unwrap().as_ref(), Some(name), "{address}");
                    chrony_core::SourceAddress::Ip(ip)
                }
            };
            assert_eq!(c.source_name(source).unwrap().as_ref(), Some(name));
        }
        // Not a source, or a reference clock: no name.
        let none: std::net::IpAddr = "127.0.0.9".parse().unwrap();
        assert_eq!(c.source_name(none).unwrap(), None);
        let gps = chrony_core::SourceAddress::RefClock(0x4750_5300);
        assert_eq!(c.source_name(gps).unwrap(), None);
        assert!(chronyc(&fx, &["-c", "sources", "-a"]).contains("GPS"));
    }
    let shared = chrony_core::SharedConnection::new(path.to_str(), &Default::default());
    let names = shared.source_names().unwrap();
    assert_eq!(names.len(), theirs.len());
    let first: std::net::IpAddr = theirs[0].0.parse().unwrap();
    assert_eq!(
        shared
            .source_name_interruptible(first, &mut || false)
            .unwrap(),
        Some(theirs[0].1.clone())
    );
    let pooled = chrony_core::source_names(Some(&path)).unwrap();
    assert_eq!(pooled, names);
    assert_eq!(
        chronyc_source_names(&fx),
        theirs,
        "the list stayed the same"
    );
}

#[test]
fn sourcename_without_the_report_in_the_library_sends_nothing() {
    // A UDP "chronyd" that only listens: any request would arrive here.
    let server = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    server.set_nonblocking(true).unwrap();
    if libchrony_sys::knows_report(libchrony_sys::SOURCENAME) {
        eprintln!(
            "not checked: {}: the linked library has the sourcename report",
            std::thread::current().name().unwrap_or("this test")
        );
        return;
    }
    let mut c = Connection::open(&server.local_addr().unwrap().to_string()).unwrap();
    for e in [
        c.source_names().unwrap_err(),
        c.source_name("127.0.0.1".parse::<std::net::IpAddr>().unwrap())
            .unwrap_err(),
        c.query::<Vec<chrony_core::SourceName>>().unwrap_err(),
    ] {
        assert!(
            matches!(
                e,
                Error::UnsupportedByLibrary {
                    report: "sourcename"
                }
            ),
            "{e:?}"
        );
        assert!(e.to_string().contains("bundled"), "{e}");
    }
    let mut buf = [0u8; 512];
    assert_eq!(
        server.recv(&mut buf).unwrap_err().kind(),
        std::io::ErrorKind::WouldBlock,
        "nothing was sent"
    );
}
