//! What a real chronyd cannot be made to do: a fake server on a unix socket
//! that answers with scripted replies (corrupt values, short replies, error
//! statuses, other address families, stale datagrams) or not at all (to
//! check the resend schedule).

use std::os::unix::net::UnixDatagram;
use std::time::{Duration, Instant, SystemTime};

use chronyd_fixture::{FakeChronyd, wire};

use chrony_core::{Connection, Error, LeapStatus, Options, ReferenceAddress};
use libchrony_sys::Guarantee;

mod common;

type Reply = wire::Tracking;

/// A fake chronyd on a unix socket with a scripted answer per request.
struct Fake(FakeChronyd);

impl std::ops::Deref for Fake {
    type Target = FakeChronyd;
    fn deref(&self) -> &FakeChronyd {
        &self.0
    }
}

impl Fake {
    fn start(script: impl Fn(&[u8]) -> Vec<Vec<u8>> + Send + 'static) -> Fake {
        Fake(FakeChronyd::start(script))
    }

    fn connect(&self, timeout: Duration) -> Connection {
        let options = Options::new().with_timeout(timeout);
        Connection::open_with(Some(self.address()), &options).unwrap()
    }

    fn join(self) -> chronyd_fixture::fake::Received {
        self.0.join()
    }
}

fn query(reply: Reply) -> chrony_core::Result<chrony_core::TrackingStatus> {
    let fake = Fake::start(move |req| vec![reply.bytes(req)]);
    let mut c = fake.connect(Duration::from_secs(1));
    let r = c.tracking();
    drop(c);
    assert!(
        std::fs::read_dir(fake.dir()).unwrap().count() == 1,
        "only the server socket is left"
    );
    r
}

#[test]
fn a_full_reply_with_legitimate_odd_values() {
    let t = query(Reply {
        leap: 2,
        ..Reply::default()
    })
    .unwrap();
    assert_eq!(t.reference_id, 0x0A00_0001);
    assert_eq!(t.reference_id_name, "10.0.0.1");
    assert_eq!(
        t.reference_address,
        ReferenceAddress::Ip("10.0.0.1".parse().unwrap())
    );
    assert_eq!(t.stratum, 3);
    assert_eq!(t.leap_status, LeapStatus::DeleteSecond);
    assert!(t.is_leap_pending());
    assert_eq!(
        t.ref_time,
        SystemTime::UNIX_EPOCH + Duration::new(1_795_959_909, 214_976_262)
    );
    assert_eq!(
        [
            t.offset,
            t.last_offset,
            t.rms_offset,
            t.frequency,
            t.residual_freq,
            t.skew,
            t.root_delay,
            t.root_dispersion,
            t.update_interval
        ],
        [0.5, -0.25, 0.125, -1.5, 0.0, 2.0, -1.0, 0.75, 64.0],
        "every float in wire order; a negative root delay passes"
    );
}

#[test]
fn address_families() {
    let v6 = |addr: [u8; 16]| Reply {
        family: 2,
        addr,
        ..Reply::default()
    };
    let mut a = [0u8; 16];
    a[0] = 0x20;
    a[1] = 0x01;
    a[2] = 0x0d;
    a[3] = 0xb8;
    a[15] = 1;
    assert_eq!(query(v6(a)).unwrap().reference_id_name, "2001:db8::1");
    let compat = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4];
    assert_eq!(
        query(v6(compat)).unwrap().reference_id_name,
        "::1.2.3.4",
        "as inet_ntop"
    );
    let t = query(Reply {
        family: 3,
        addr: [0, 0, 0, 42, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        ..Reply::default()
    })
    .unwrap();
    assert_eq!(t.reference_address, ReferenceAddress::Id(42));
    assert_eq!(t.reference_id_name, "ID#0000000042");
    let t = query(Reply {
        family: 0,
        ref_id: 0x5050_5300,
        stratum: 1,
        ..Reply::default()
    })
    .unwrap();
    assert_eq!(t.reference_address, ReferenceAddress::Unspecified);
    assert_eq!(t.reference_id_name, "PPS");
    // An IPv4 refid whose bytes are printable is still shown as the address.
    let t = query(Reply {
        ref_id: 0x4142_4344,
        addr: [65, 66, 67, 68, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        ..Reply::default()
    })
    .unwrap();
    assert_eq!(t.reference_id_name, "65.66.67.68");
    // A family this library does not know (a future chronyd's): chronyc
    // treats it as unspecified and shows the reference ID's characters.
    let t = query(Reply {
        family: 7,
        ref_id: 0x4750_5300,
        ..Reply::default()
    })
    .unwrap();
    assert_eq!(t.reference_address, ReferenceAddress::Unspecified);
    assert_eq!(t.reference_id_name, "GPS");
}

#[test]
fn stratum_16_from_a_chronyd_following_a_stratum_15_server_is_accepted() {
    let t = query(Reply {
        stratum: 16,
        ..Reply::default()
    })
    .unwrap();
    assert_eq!(t.stratum, 16);
    assert!(!t.is_synchronized(), "stratum 16 is NTP's unsynchronised");
}

#[test]
fn corrupt_values_are_rejected() {
    for (what, reply) in [
        (
            "stratum 17",
            Reply {
                stratum: 17,
                ..Reply::default()
            },
        ),
        (
            "leap 4",
            Reply {
                leap: 4,
                ..Reply::default()
            },
        ),
    ] {
        let e = query(reply).unwrap_err();
        assert!(matches!(e, Error::InvalidValue { .. }), "{what}: {e:?}");
        assert_eq!(e.code(), -4, "{what}");
    }
}

#[test]
fn reference_time_of_a_32_bit_server() {
    let t = query(Reply {
        ref_time: (0x7fff_ffff, 1_000, 2_000_000_000),
        ..Reply::default()
    })
    .unwrap();
    assert_eq!(
        t.ref_time,
        SystemTime::UNIX_EPOCH + Duration::new(1_000, 999_999_999)
    );
}

#[test]
fn short_reply_is_incomplete() {
    let e = query(Reply {
        len: 60,
        ..Reply::default()
    })
    .unwrap_err();
    assert!(matches!(e, Error::IncompleteData { .. }), "{e:?}");
    assert_eq!(e.code(), -5);
    assert_eq!(e.chrony_err(), Some(14));
}

#[test]
fn error_statuses() {
    for (status, code, variant) in [
        (2u16, -3, "NotAuthorised"),
        (1, -4, "Protocol"),
        (3, -4, "Unsupported"),
        (4, -4, "Protocol"),
        (18, -4, "Protocol"),
    ] {
        let e = query(Reply {
            status,
            len: 28,
            code: 1,
            ..Reply::default()
        })
        .unwrap_err();
        assert_eq!(e.code(), code, "status {status}: {e:?}");
        assert!(
            format!("{e:?}").starts_with(variant),
            "status {status}: {e:?}"
        );
    }
    let e = query(Reply {
        code: 99,
        ..Reply::default()
    })
    .unwrap_err();
    assert!(matches!(e, Error::Protocol { chrony_err: 13, .. }), "{e:?}");
    assert!(e.to_string().contains("too new"), "{e}");
}

#[test]
fn stale_and_foreign_datagrams_are_ignored() {
    let fake = Fake::start(|req| {
        let good = Reply::default().bytes(req);
        let mut stale = good.clone();
        stale[16] ^= 0xff; // another sequence
        let mut foreign = good.clone();
        foreign[1] = 1; // not a reply
        vec![stale, foreign, b"garbage".to_vec(), good]
    });
    let mut c = fake.connect(Duration::from_secs(1));
    for _ in 0..20 {
        assert_eq!(c.tracking().unwrap().stratum, 3);
    }
}

#[test]
fn unanswered_requests_are_resent_as_chronyc_does() {
    let fake = Fake::start(|_| Vec::new());
    let mut c = fake.connect(Duration::from_millis(3500));
    let start = Instant::now();
    let e = c.tracking().unwrap_err();
    let elapsed = start.elapsed();
    assert!(matches!(e, Error::Timeout { .. }), "{e:?}");
    assert!(
        elapsed >= Duration::from_millis(3500) && elapsed < Duration::from_millis(3600),
        "{elapsed:?}"
    );
    drop(c);
    let requests = fake.join();
    assert_eq!(requests.len(), 3, "sent at 0 s, 1 s and 3 s");
    let at: Vec<f64> = requests
        .iter()
        .map(|(t, _)| (*t - start).as_secs_f64())
        .collect();
    for (got, want) in at.iter().zip([0.0, 1.0, 3.0]) {
        assert!((got - want).abs() < 0.1, "request times {at:?}");
    }
    // The attempt counter is the C library's (libchrony 0.2 sends 0 always).
    if common::given(Guarantee::Resend) {
        let attempts: Vec<u16> = requests
            .iter()
            .map(|(_, r)| u16::from_be_bytes([r[6], r[7]]))
            .collect();
        assert_eq!(attempts, [0, 1, 2]);
    }
    let sequences: std::collections::HashSet<&[u8]> =
        requests.iter().map(|(_, r)| &r[8..12]).collect();
    assert_eq!(sequences.len(), 3, "a new sequence per attempt");
    for (_, r) in &requests {
        assert_eq!(r.len(), 104, "padded to the reply length");
        assert_eq!(u16::from_be_bytes([r[4], r[5]]), 33, "REQ_TRACKING");
    }
}

#[test]
fn a_late_reply_to_an_earlier_attempt_is_accepted() {
    // Answers only the first attempt, 1.2 s late (after the resend). A
    // library without the guarantee (libchrony 0.2) sends attempt 0 every
    // time and accepts only the newest sequence: the reply to the resend,
    // 2.2 s in, is the one it takes. chrony-core gets the answer either way.
    let fake = Fake::start(|req| {
        if req[6..8] == [0, 0] {
            std::thread::sleep(Duration::from_millis(1200));
            vec![Reply::default().bytes(req)]
        } else {
            Vec::new()
        }
    });
    let mut c = fake.connect(Duration::from_secs(3));
    let start = Instant::now();
    assert_eq!(c.tracking().unwrap().stratum, 3);
    if common::given(Guarantee::Resend) {
        assert!(start.elapsed() < Duration::from_millis(1500));
    }
}

/// The server answers the first request 2 s late with stratum 7, later ones
/// at once with stratum 3.
fn late_first_answer() -> Fake {
    let first = std::sync::atomic::AtomicBool::new(true);
    Fake::start(move |req| {
        if first.swap(false, std::sync::atomic::Ordering::SeqCst) {
            std::thread::sleep(Duration::from_secs(2));
            vec![
                Reply {
                    stratum: 7,
                    ..Reply::default()
                }
                .bytes(req),
            ]
        } else {
            vec![Reply::default().bytes(req)]
        }
    })
}

#[test]
fn a_late_reply_to_a_timed_out_call_never_answers_the_next_call() {
    let fake = late_first_answer();
    let mut c = fake.connect(Duration::from_secs(1));
    let e = c.tracking().unwrap_err();
    assert!(matches!(e, Error::Timeout { .. }), "{e:?}");
    // The late stratum-7 reply arrives at 2 s and waits in the socket.
    std::thread::sleep(Duration::from_secs(3));
    let t = c.tracking().unwrap();
    assert_eq!(t.stratum, 3, "the answer to this call's own request");
    drop(c);
    let requests = fake.join();
    assert_eq!(requests.len(), 2);
    assert_eq!(
        u16::from_be_bytes([requests[1].1[6], requests[1].1[7]]),
        0,
        "a fresh request (attempt 0), not a resend of the abandoned one"
    );
}

#[test]
fn a_late_reply_to_a_timed_out_call_never_answers_the_next_call_shared() {
    let fake = late_first_answer();
    let options = Options::new().with_timeout(Duration::from_secs(1));
    let c = chrony_core::SharedConnection::new(Some(fake.address()), &options);
    let e = c.tracking().unwrap_err();
    assert!(matches!(e, Error::Timeout { .. }), "{e:?}");
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(c.tracking().unwrap().stratum, 3);
}

#[test]
fn only_chronyd_can_send_to_the_client_socket() {
    let fake = Fake::start(|_| Vec::new());
    let _c = fake.connect(Duration::from_millis(300));
    let client_dir = std::fs::read_dir(fake.dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.is_dir())
        .expect("the client directory");
    // A connected unix datagram socket accepts datagrams from its peer only.
    let other = UnixDatagram::unbound().unwrap();
    let e = other
        .send_to(b"spoofed reply", client_dir.join("s"))
        .unwrap_err();
    assert_eq!(e.raw_os_error(), Some(libc::EPERM), "{e}");
}

#[test]
fn a_flood_of_stale_datagrams_cannot_stretch_the_deadline() {
    // chronyd's socket answers the first request with 2 s of datagrams that
    // are not the reply, sent without pause.
    let dir = std::env::temp_dir().join(format!("ccflood-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir(&dir).unwrap();
    let path = dir.join("chronyd.sock");
    let server = UnixDatagram::bind(&path).unwrap();
    server
        .set_write_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let flooder = std::thread::spawn(move || {
        let mut buf = [0u8; 1024];
        let (n, from) = server.recv_from(&mut buf).unwrap();
        let mut stale = Reply::default().bytes(&buf[..n]);
        stale[16] ^= 0xff;
        let to = from.as_pathname().unwrap().to_owned();
        let end = Instant::now() + Duration::from_secs(2);
        // Three senders, so the client's queue never runs dry.
        std::thread::scope(|s| {
            let senders: Vec<_> = (0..3)
                .map(|_| {
                    let server = server.try_clone().unwrap();
                    let (stale, to) = (&stale, &to);
                    s.spawn(move || {
                        let mut sent = 0u64;
                        while Instant::now() < end && server.send_to(stale, to).is_ok() {
                            sent += 1;
                        }
                        sent
                    })
                })
                .collect();
            senders.into_iter().map(|t| t.join().unwrap()).sum::<u64>()
        })
    });
    let options = Options::new().with_timeout(Duration::from_millis(300));
    let mut c = Connection::open_with(Some(path.to_str().unwrap()), &options).unwrap();
    let start = Instant::now();
    let mut calls = 0;
    let e = c
        .tracking_interruptible(&mut || {
            calls += 1;
            false
        })
        .unwrap_err();
    let elapsed = start.elapsed();
    assert!(matches!(e, Error::Timeout { .. }), "{e:?}");
    assert!(elapsed < Duration::from_millis(400), "{elapsed:?}");
    assert!(
        calls >= 2,
        "interrupted is called while datagrams keep coming: {calls}"
    );
    drop(c);
    assert!(flooder.join().unwrap() > 1000, "the flood happened");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_shared_connection_serves_a_call_made_from_inside_its_own_call() {
    // As a Python signal handler run by the `interrupted` callback: the
    // first request is never answered, the nested call's is.
    let first = std::sync::atomic::AtomicBool::new(true);
    let fake = Fake::start(move |req| {
        if first.swap(false, std::sync::atomic::Ordering::SeqCst) {
            Vec::new()
        } else {
            vec![Reply::default().bytes(req)]
        }
    });
    let options = Options::new().with_timeout(Duration::from_millis(800));
    let c = chrony_core::SharedConnection::new(Some(fake.address()), &options);
    let mut nested = None;
    let start = Instant::now();
    let e = c
        .tracking_interruptible(&mut || {
            if nested.is_none() && start.elapsed() > Duration::from_millis(200) {
                nested = Some(c.tracking().map(|t| t.stratum));
            }
            false
        })
        .unwrap_err();
    assert!(matches!(e, Error::Timeout { .. }), "{e:?}");
    assert_eq!(nested.expect("the callback ran").unwrap(), 3);
    assert_eq!(c.tracking().unwrap().stratum, 3, "usable afterwards");
}

#[test]
fn closing_a_shared_connection_stops_the_call_in_flight() {
    let fake = Fake::start(|_| Vec::new());
    let options = Options::new().with_timeout(Duration::from_secs(5));
    let c = std::sync::Arc::new(chrony_core::SharedConnection::new(
        Some(fake.address()),
        &options,
    ));
    c.open().unwrap();
    let worker = {
        let c = c.clone();
        std::thread::spawn(move || c.tracking())
    };
    std::thread::sleep(Duration::from_millis(200));
    let start = Instant::now();
    c.close();
    assert!(start.elapsed() < Duration::from_millis(300));
    let e = worker.join().unwrap().unwrap_err();
    assert!(matches!(e, Error::Closed { .. }), "{e:?}");
    assert_eq!(e.code(), -1);
    assert!(!c.is_open());
    let left = std::fs::read_dir(fake.dir()).unwrap().count();
    assert_eq!(left, 1, "close() returned with the client files removed");
}

/// A fake chronyd serving a source list that `lists` scripts: the nth `N_SOURCES` request gets
/// the nth list's length (the last one from then on), and each record request the record of the
/// list announced last, or "no such source" past its end.
fn source_list_fake(lists: Vec<Vec<wire::SourceData>>) -> Fake {
    use wire::command;
    let mut counts = 0;
    let mut current = 0;
    Fake(FakeChronyd::start(move |req| {
        match wire::Request(req).command() {
            command::N_SOURCES => {
                current = counts.min(lists.len() - 1);
                counts += 1;
                vec![wire::n_sources(req, lists[current].len() as u32)]
            }
            command::SOURCE_DATA => match lists[current].get(wire::request_index(req) as usize) {
                Some(source) => vec![source.bytes(req)],
                None => vec![no_such_source(req)],
            },
            other => panic!("unexpected command {other}"),
        }
    }))
}

/// chronyd's answer to an index or address it has no source for.
fn no_such_source(req: &[u8]) -> Vec<u8> {
    wire::reply(
        req,
        wire::reply_code::NULL,
        wire::status::NO_SUCH_SOURCE,
        wire::REPLY_HEADER_LEN,
    )
}

fn source(last_octet: u8) -> wire::SourceData {
    let mut s = wire::SourceData::default();
    s.addr[3] = last_octet;
    s
}

fn addresses(list: &[chrony_core::Source]) -> Vec<String> {
    list.iter().map(|s| s.address.to_string()).collect()
}

#[test]
fn a_source_list_that_shrinks_mid_read_is_read_again_whole() {
    // The first count says 3, but index 2 is gone by the time it is asked for; then 2.
    let mut counts = 0u32;
    let fake = Fake(FakeChronyd::start(move |req| {
        match wire::Request(req).command() {
            wire::command::N_SOURCES => {
                counts += 1;
                vec![wire::n_sources(req, if counts == 1 { 3 } else { 2 })]
            }
            _ => match wire::request_index(req) {
                i @ 0..=1 => vec![source(i as u8 + 1).bytes(req)],
                _ => vec![no_such_source(req)],
            },
        }
    }));
    let mut c = fake.connect(Duration::from_secs(2));
    let list = c.sources().unwrap();
    assert_eq!(addresses(&list), ["10.0.0.1", "10.0.0.2"]);
    drop(c);
    let received = fake.join();
    let commands: Vec<u16> = received
        .iter()
        .map(|(_, r)| wire::Request(r).command())
        .collect();
    // count, 0, 1, 2 (no such source), count, 0, 1, count
    assert_eq!(commands, [14, 15, 15, 15, 14, 15, 15, 14]);
}

#[test]
fn a_source_list_that_grows_mid_read_is_read_again_whole() {
    // Counted 2, read 2, counted 3 after: read again, all 3 from one list.
    let fake = source_list_fake(vec![
        vec![source(1), source(2)],
        vec![source(1), source(2), source(3)],
    ]);
    let mut c = fake.connect(Duration::from_secs(2));
    let list = c.sources().unwrap();
    assert_eq!(addresses(&list), ["10.0.0.1", "10.0.0.2", "10.0.0.3"]);
}

#[test]
fn a_source_list_that_never_stops_changing_is_an_error_not_a_mix() {
    let lists: Vec<Vec<wire::SourceData>> =
        (1..=8).map(|n| (1..=n).map(source).collect()).collect();
    let fake = source_list_fake(lists);
    let mut c = fake.connect(Duration::from_secs(2));
    let e = c.sources().unwrap_err();
    assert!(
        matches!(e, Error::SourcesChanged { attempts: 3, .. }),
        "{e:?}"
    );
    assert_eq!(e.code(), -5);
    assert!(e.to_string().contains("changed its list of sources"), "{e}");
    assert!(e.to_string().contains("try again"), "{e}");
}

#[test]
fn unknown_source_states_and_modes_are_kept_not_refused() {
    let odd = wire::SourceData {
        state: 9,
        mode: 7,
        poll: -6,
        since_sample: u32::MAX,
        ..wire::SourceData::default()
    };
    let fake = source_list_fake(vec![vec![odd]]);
    let mut c = fake.connect(Duration::from_secs(2));
    let list = c.sources().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].state, chrony_core::SourceState::Unknown(9));
    assert_eq!(list[0].mode, chrony_core::SourceMode::Unknown(7));
    assert_eq!(list[0].state.symbol(), ' ');
    assert_eq!(list[0].poll, -6);
    assert_eq!(list[0].last_sample_ago, None);
    // An address family this library does not know is kept too.
    let other = wire::SourceData {
        family: 9,
        ..wire::SourceData::default()
    };
    let fake = source_list_fake(vec![vec![other]]);
    let mut c = fake.connect(Duration::from_secs(2));
    assert_eq!(
        c.sources().unwrap()[0].address,
        chrony_core::SourceAddress::Unknown
    );
}

#[test]
fn a_report_this_chronyd_does_not_know_is_unsupported() {
    let fake = Fake::start(|req| {
        vec![wire::reply(
            req,
            wire::reply_code::NULL,
            wire::status::INVALID,
            wire::REPLY_HEADER_LEN,
        )]
    });
    let mut c = fake.connect(Duration::from_secs(2));
    let e = c.sources().unwrap_err();
    assert!(
        matches!(
            e,
            Error::Unsupported {
                report: "sources",
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(e.code(), -4);
    assert!(
        e.to_string().contains("does not know the sources report"),
        "{e}"
    );
    let e = c.tracking().unwrap_err();
    assert!(
        matches!(
            e,
            Error::Unsupported {
                report: "tracking",
                ..
            }
        ),
        "{e:?}"
    );
}

#[test]
fn an_rtc_report_is_decoded() {
    // No machine here has an RTC chronyd can track: a crafted RPY_RTC (7) reply.
    let fake = Fake::start(|req| {
        let mut r = wire::reply(req, 7, wire::status::SUCCESS, 56);
        wire::put_timespec(&mut r, 28, (0, 1_795_959_909, 5));
        wire::put_u16(&mut r, 40, 12);
        wire::put_u16(&mut r, 42, 5);
        wire::put_u32(&mut r, 44, 3600);
        wire::put_u32(&mut r, 48, wire::float(-0.25));
        wire::put_u32(&mut r, 52, wire::float(1.5));
        vec![r]
    });
    let rtc = fake
        .connect(Duration::from_secs(1))
        .rtc_data()
        .unwrap()
        .unwrap();
    assert_eq!(
        rtc.ref_time,
        SystemTime::UNIX_EPOCH + Duration::new(1_795_959_909, 5)
    );
    assert_eq!((rtc.samples, rtc.runs, rtc.span), (12, 5, 3600));
    assert_eq!((rtc.offset, rtc.freq_offset), (-0.25, 1.5));
    assert!(rtc.is_calibrated());
}

#[test]
fn serverstats_of_chrony_4_4_and_later_have_every_counter() {
    // chrony 4.3 (the fixture's) sends reply 24 with 11 counters; 4.4+ reply 25 with 17 64-bit
    // counters and reserved words of 0xFF.
    let fake = Fake::start(|req| {
        let mut r = wire::reply(req, 25, wire::status::SUCCESS, 196);
        for k in 0..17u32 {
            wire::put_u32(&mut r, 28 + 8 * k as usize, k); // high word
            wire::put_u32(&mut r, 32 + 8 * k as usize, 1000 + k);
        }
        r[164..196].fill(0xff);
        vec![r]
    });
    let s = fake.connect(Duration::from_secs(1)).server_stats().unwrap();
    let v = |k: u64| (k << 32) | (1000 + k);
    assert_eq!(s.ntp_hits, v(0));
    assert_eq!(s.nke_hits, Some(v(1)));
    assert_eq!(s.cmd_hits, v(2));
    assert_eq!(s.log_drops, v(6));
    assert_eq!(s.ntp_span_seconds, Some(v(10)));
    assert_eq!(s.ntp_hw_tx_timestamps, Some(v(16)));
    // chrony 3.5's reply 14: five counters, the rest None.
    let fake = Fake::start(|req| {
        let mut r = wire::reply(req, 14, wire::status::SUCCESS, 48);
        for k in 0..5u32 {
            wire::put_u32(&mut r, 28 + 4 * k as usize, 7 + k);
        }
        vec![r]
    });
    let s = fake.connect(Duration::from_secs(1)).server_stats().unwrap();
    assert_eq!(
        (
            s.ntp_hits,
            s.cmd_hits,
            s.ntp_drops,
            s.cmd_drops,
            s.log_drops
        ),
        (7, 8, 9, 10, 11)
    );
    assert_eq!(
        (s.nke_hits, s.ntp_auth_hits, s.ntp_daemon_rx_timestamps),
        (None, None, None)
    );
}

/// REQ_NTP_SOURCE_NAME and its reply RPY_NTP_SOURCE_NAME (284 bytes, the name at 28), kept
/// here rather than in `chronyd_fixture::wire` while this is their only user.
const NTP_SOURCE_NAME: u16 = 65;
const NTP_SOURCE_NAME_REPLY: u16 = 19;
const NTP_SOURCE_NAME_REPLY_LEN: usize = 284;

/// A fake chronyd serving the sources `list(n)` (after n counts; address bytes and family, UNSPEC
/// for a reference clock) to the counts and sourcestats lookups, and `name_of(the IPAddr asked
/// about)` to the sourcename requests (`None`: "no such source").
fn source_name_fake(
    list: impl Fn(u32) -> Vec<(Vec<u8>, u16)> + Send + 'static,
    name_of: impl Fn(&[u8]) -> Option<Vec<u8>> + Send + 'static,
) -> Fake {
    let mut counts = 0;
    Fake(FakeChronyd::start(move |req| {
        let sources = list(counts);
        match wire::Request(req).command() {
            wire::command::N_SOURCES => {
                counts += 1;
                vec![wire::n_sources(req, sources.len() as u32)]
            }
            wire::command::SOURCESTATS => match sources.get(wire::request_index(req) as usize) {
                Some((addr, family)) => {
                    let mut r = wire::reply(req, wire::reply_code::SOURCESTATS, 0, 84);
                    wire::put_ip(&mut r, 32, addr, *family);
                    vec![r]
                }
                None => vec![no_such_source(req)],
            },
            NTP_SOURCE_NAME => match name_of(&req[20..40]) {
                Some(name) => {
                    let mut r =
                        wire::reply(req, NTP_SOURCE_NAME_REPLY, 0, NTP_SOURCE_NAME_REPLY_LEN);
                    r[28..28 + name.len()].copy_from_slice(&name);
                    vec![r]
                }
                None => vec![no_such_source(req)],
            },
            other => panic!("unexpected command {other}"),
        }
    }))
}

fn ipv4(last_octet: u8) -> (Vec<u8>, u16) {
    (vec![10, 0, 0, last_octet], wire::family::INET4)
}

#[test]
fn source_names_of_resolved_unresolved_and_reference_clock_sources() {
    if !common::knows_sourcename() {
        return;
    }
    let v6 = vec![0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    let list = move |_| {
        vec![
            ipv4(1),
            (vec![0, 0, 0, 5], wire::family::ID),
            (vec![], wire::family::UNSPEC),
            (v6.clone(), wire::family::INET6),
        ]
    };
    let fake = source_name_fake(list, |addr| {
        Some(match (addr[3], wire::get_u16(addr, 16)) {
            (1, wire::family::INET4) => b"pool.ntp.org".to_vec(),
            (5, wire::family::ID) => b"ntp.example.net".to_vec(),
            _ => b"2001:db8::1".to_vec(),
        })
    });
    let mut c = fake.connect(Duration::from_secs(2));
    let names = c.source_names().unwrap();
    let got: Vec<(chrony_core::SourceAddress, &str)> =
        names.iter().map(|n| (n.address, n.name.as_str())).collect();
    use chrony_core::SourceAddress::{Ip, Unresolved};
    assert_eq!(
        got,
        [
            (Ip("10.0.0.1".parse().unwrap()), "pool.ntp.org"),
            (Unresolved(5), "ntp.example.net"),
            // The reference clock has no name: it is not listed.
            (Ip("2001:db8::1".parse().unwrap()), "2001:db8::1"),
        ]
    );
    assert_eq!(
        c.source_name(Unresolved(5)).unwrap().as_deref(),
        Some("ntp.example.net")
    );
    assert_eq!(c.source_name(Unresolved(6)).unwrap(), None);
}

#[test]
fn a_name_without_its_nul_is_incomplete_and_one_not_utf8_is_invalid() {
    if !common::knows_sourcename() {
        return;
    }
    // chronyd cuts a name of 256 bytes or more to 256 and sends no NUL.
    let fake = source_name_fake(|_| vec![ipv4(1)], |_| Some(vec![b'a'; 256]));
    let e = fake
        .connect(Duration::from_secs(2))
        .source_names()
        .unwrap_err();
    assert!(matches!(e, Error::IncompleteData { .. }), "{e:?}");
    assert_eq!(e.code(), -5);
    assert!(e.to_string().contains("terminating NUL"), "{e}");

    let fake = source_name_fake(|_| vec![ipv4(1)], |_| Some(b"caf\xe9".to_vec()));
    let e = fake
        .connect(Duration::from_secs(2))
        .source_names()
        .unwrap_err();
    assert!(
        matches!(e, Error::InvalidValue { field: "name", .. }),
        "{e:?}"
    );
    assert_eq!(e.code(), -4);
    assert!(e.to_string().contains("not UTF-8"), "{e}");
}

#[test]
fn a_source_removed_between_its_address_and_its_name_reads_the_list_again() {
    if !common::knows_sourcename() {
        return;
    }
    // 10.0.0.2 goes away after its lookup: chronyd has no name for it, and the next count says 1.
    let removed = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let gone = removed.clone();
    let list = move |_| {
        if gone.load(std::sync::atomic::Ordering::SeqCst) {
            vec![ipv4(1)]
        } else {
            vec![ipv4(1), ipv4(2)]
        }
    };
    let fake = source_name_fake(list, move |addr| {
        if addr[3] == 2 {
            removed.store(true, std::sync::atomic::Ordering::SeqCst);
            return None;
        }
        Some(b"one".to_vec())
    });
    let mut c = fake.connect(Duration::from_secs(2));
    let names = c.source_names().unwrap();
    assert_eq!(names.len(), 1);
    assert_eq!(names[0].name, "one");
    drop(c);
    let commands: Vec<u16> = fake
        .join()
        .iter()
        .map(|(_, r)| wire::Request(r).command())
        .collect();
    // count, lookup 0, name, lookup 1, name (no such source), count, lookup 0, name, count
    assert_eq!(commands, [14, 34, 65, 34, 65, 14, 34, 65, 14]);
}

/// A fake chronyd whose client table has `slots` slots, the clients at the given ones (slot, last
/// address octet, NTP hits), answering as chronyd does: from the first slot asked for, up to
/// `n_clients` clients, and the slot after the last one examined. `status` instead, when not 0.
fn clients_fake(slots: u32, clients: Vec<(u32, u8, u32)>, status: u16) -> Fake {
    Fake::start(move |req| {
        assert_eq!(
            wire::Request(req).command(),
            68,
            "CLIENT_ACCESSES_BY_INDEX3"
        );
        assert_eq!(wire::get_u32(req, 32), 0, "never a reset");
        if status != 0 {
            return vec![wire::reply(req, 1, status, 28)];
        }
        let (first, wanted) = (wire::get_u32(req, 20), wire::get_u32(req, 24));
        let mut r = wire::reply(req, 21, 0, 520);
        wire::put_u32(&mut r, 28, slots);
        let found: Vec<&(u32, u8, u32)> = clients
            .iter()
            .filter(|c| c.0 >= first)
            .take(wanted as usize)
            .collect();
        let next = match found.last() {
            Some(c) if found.len() == wanted as usize => c.0 + 1,
            _ if wanted == 0 => first,
            _ => slots,
        };
        wire::put_u32(&mut r, 32, next);
        wire::put_u32(&mut r, 36, found.len() as u32);
        for (k, &&(_, octet, hits)) in found.iter().enumerate() {
            let b = 40 + 60 * k;
            wire::put_ip(&mut r, b, &[192, 0, 2, octet], wire::family::INET4);
            wire::put_u32(&mut r, b + 20, hits);
            // No NTS-KE or command data: 127 and never, as chronyd sends.
            r[b + 44..b + 48].copy_from_slice(&[0xfa, 127, 127, 127]);
            wire::put_u32(&mut r, b + 48, 7);
            wire::put_u32(&mut r, b + 52, u32::MAX);
            wire::put_u32(&mut r, b + 56, u32::MAX);
        }
        vec![r]
    })
}

#[test]
fn the_client_log_is_walked_past_empty_slots() {
    if !common::knows_clients() {
        return;
    }
    let fake = clients_fake(16, vec![(2, 1, 10), (3, 2, 20), (9, 3, 30)], 0);
    let clients = fake
        .connect(Duration::from_secs(2))
        .clients()
        .unwrap()
        .unwrap();
    let got: Vec<(String, u32)> = clients
        .iter()
        .map(|c| (c.address.to_string(), c.ntp_hits))
        .collect();
    assert_eq!(
        got,
        [
            ("192.0.2.1".to_string(), 10),
            ("192.0.2.2".to_string(), 20),
            ("192.0.2.3".to_string(), 30)
        ]
    );
    let c = &clients[0];
    assert_eq!(c.ntp_interval, Some(-6));
    assert_eq!(
        (c.nke_interval, c.cmd_interval, c.ntp_timeout_interval),
        (None, None, None)
    );
    assert_eq!(c.last_ntp_hit_ago, Some(7));
    assert_eq!((c.last_nke_hit_ago, c.last_cmd_hit_ago), (None, None));
    // The count, then slots 0 (client in 2), 3, 4 (client in 9), 10 (none left).
    assert_eq!(fake.join().len(), 5);
}

#[test]
fn a_client_walk_that_does_not_move_on_is_an_error_not_a_loop() {
    if !common::knows_clients() {
        return;
    }
    // Every answer is the client in slot 0 with "next" 0, whatever was asked.
    let fake = Fake::start(|req| {
        let mut r = wire::reply(req, 21, 0, 520);
        wire::put_u32(&mut r, 28, 16);
        wire::put_u32(&mut r, 36, wire::get_u32(req, 24).min(1));
        wire::put_ip(&mut r, 40, &[192, 0, 2, 1], wire::family::INET4);
        vec![r]
    });
    // The C library refuses the reply (CHRONY_INVALID_RESPONSE) before a second request.
    let e = fake.connect(Duration::from_secs(2)).clients().unwrap_err();
    assert!(matches!(e, Error::IncompleteData { .. }), "{e:?}");
    assert_eq!(e.code(), -5);
    assert!(e.to_string().contains("slot asked for"), "{e}");
    // The count and slot 0 only.
    assert_eq!(fake.join().len(), 2);
}

/// Whether `fd` has a datagram waiting (a zero-timeout `poll()`, which receives nothing).
fn readable(fd: std::os::fd::RawFd) -> bool {
    let mut pfd = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd for the length of the call; `fd` is the call's open socket.
    let n = unsafe { libc::poll(&mut pfd, 1, 0) };
    assert!(n >= 0, "poll: {}", std::io::Error::last_os_error());
    n == 1 && pfd.revents & libc::POLLIN != 0
}

/// A tracking `LoopCall` on a UDP socket of the test's own (so it sends exactly when the test
/// says), stepped once: its request received. Returns the socket, the client's address, the call
/// waiting, and the good and a stale reply (another sequence) to that request.
fn a_waiting_loop_call() -> (
    std::net::UdpSocket,
    std::net::SocketAddr,
    chrony_core::LoopCall<chrony_core::TrackingStatus>,
    Vec<u8>,
    Vec<u8>,
) {
    let fake = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    fake.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let address = fake.local_addr().unwrap().to_string();
    let c = chrony_core::LoopConnection::new(Some(&address), &Options::new());
    let mut call = c.query();
    assert!(call.step().is_none(), "nothing was answered yet");
    let mut buf = [0u8; 2048];
    let (n, client) = fake.recv_from(&mut buf).unwrap();
    let good = Reply::default().bytes(&buf[..n]);
    let mut stale = good.clone();
    stale[16] ^= 0xff; // another sequence
    (fake, client, call, good, stale)
}

/// A `LoopCall` step takes the datagrams that are in already without going back to the event
/// loop, but a bounded run of them only: a flood of stale replies hands the loop back between
/// steps, with datagrams still waiting; the call still ends with its own answer.
#[test]
fn a_loop_step_takes_a_bounded_run_of_the_datagrams_in_already() {
    const STALE: usize = 100; // more than a step takes; few enough for a socket's buffer
    let (fake, client, mut call, good, stale) = a_waiting_loop_call();
    for _ in 0..STALE {
        fake.send_to(&stale, client).unwrap();
    }
    assert!(readable(
        call.fd().expect("a waiting call names its socket")
    ));
    assert!(call.step().is_none(), "only stale replies are in");
    assert!(
        readable(call.fd().unwrap()),
        "the step took every waiting datagram instead of handing the loop back"
    );
    fake.send_to(&good, client).unwrap();
    let mut steps = 0;
    let status = loop {
        if let Some(outcome) = call.step() {
            break outcome.unwrap();
        }
        steps += 1;
        assert!(steps < 1000, "the call never took its answer");
        std::thread::sleep(Duration::from_millis(1));
    };
    assert_eq!(status.stratum, 3);
}

/// An answer that is in already is taken in the same step, behind a stale reply: no trip
/// through the event loop in between (the round trip that chronyd on the caller's core makes
/// shorter than that trip).
#[test]
fn a_loop_step_takes_the_answer_behind_a_stale_reply() {
    let (fake, client, mut call, good, stale) = a_waiting_loop_call();
    fake.send_to(&stale, client).unwrap();
    fake.send_to(&good, client).unwrap();
    while !readable(call.fd().unwrap()) {
        std::thread::sleep(Duration::from_millis(1));
    }
    let outcome = call.step().expect("the answer was in when the step began");
    assert_eq!(outcome.unwrap().stratum, 3);
}
