//! `AsyncConnection` (feature `tokio`) in the fault matrix, on real
//! daemons: missing socket, nothing listening, a frozen chronyd timing out
//! at its deadline, a restarted one, permission denied as `nobody`, a
//! cancelled call whose late reply must not answer the next one, and
//! several daemons polled at once with some frozen.

mod common;

use std::future::Future;
use std::time::{Duration, Instant};

use chrony_core::{AsyncConnection, Connection, Error, Options};
use chronyd_fixture::wire::{self, Request};
use chronyd_fixture::{FakeChronyd, Fixture, Mode};
use common::{client_dirs, compare, start, with_full_queue};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn run<F: Future>(f: F) -> F::Output {
    runtime().block_on(f)
}

fn options(timeout: Duration) -> Options {
    Options::new().with_timeout(timeout)
}

#[test]
fn missing_socket_is_the_blocking_connection_s_error() {
    let fx = start(Mode::Unsynced);
    let path = fx.dir().join("missing.sock");
    let e = run(AsyncConnection::open(path.to_str().unwrap())).unwrap_err();
    let want = Connection::open(path.to_str().unwrap()).unwrap_err();
    assert!(
        matches!(&e, Error::NotFound { tried, .. } if tried == std::slice::from_ref(&path)),
        "{e:?}"
    );
    assert_eq!(e.code(), -2);
    assert_eq!(e.to_string(), want.to_string());
    assert!(client_dirs(fx.dir()).is_empty());
}

#[test]
fn udp_port_with_nothing_listening_is_refused() {
    // Only a pending socket error says so: the reactor must report it at
    // once (else only the send of the first resend, after 1 s, would).
    for host in ["127.0.0.1", "[::1]"] {
        let probe = std::net::UdpSocket::bind(format!("{host}:0")).unwrap();
        let port = probe.local_addr().unwrap().port();
        drop(probe);
        let address = format!("{host}:{port}");
        let (e, elapsed) = run(async {
            let mut c = AsyncConnection::open(&address).await.unwrap();
            let start = Instant::now();
            (c.tracking().await.unwrap_err(), start.elapsed())
        });
        assert!(
            matches!(e, Error::ConnectionRefused { .. }),
            "{address}: {e:?}"
        );
        assert!(elapsed < Duration::from_secs(1), "{address}: {elapsed:?}");
        assert_eq!(e.code(), -1);
        assert!(
            e.to_string().contains("nothing listens on that UDP port"),
            "{e}"
        );
    }
}

#[test]
fn frozen_daemon_times_out_at_its_deadline() {
    let fx = start(Mode::Unsynced);
    let timeout = Duration::from_millis(500);
    let addresses = [fx.socket_path().to_str().unwrap().to_owned(), fx.udp_v4()];
    let rt = runtime();
    for address in &addresses {
        let mut c = rt
            .block_on(AsyncConnection::open_with(Some(address), &options(timeout)))
            .unwrap();
        rt.block_on(c.tracking()).unwrap();
        fx.freeze().unwrap();
        for what in ["tracking", "snapshot"] {
            let start = Instant::now();
            let e = rt.block_on(async {
                match what {
                    "tracking" => c.tracking().await.map(drop),
                    _ => c.snapshot().await.map(drop),
                }
            });
            let elapsed = start.elapsed();
            let e = e.expect_err("a frozen chronyd cannot answer");
            assert!(
                matches!(e, Error::Timeout { .. }),
                "{address} {what}: {e:?}"
            );
            assert_eq!(e.code(), -6);
            assert!(
                e.to_string().contains("did not answer within 500 ms"),
                "{e}"
            );
            assert!(elapsed >= timeout, "{address} {what}: {elapsed:?}");
            assert!(
                elapsed < timeout + Duration::from_millis(100),
                "{address} {what}: {elapsed:?}"
            );
        }
        fx.thaw().unwrap();
        let t = rt
            .block_on(c.tracking())
            .expect("answers again once thawed");
        compare(&t, &fx.chronyc_tracking().unwrap(), false).unwrap();
    }
}

/// chronyd's queue, full when the call starts (`common::with_full_queue`, emptied after 100 ms):
/// what it refused goes again as soon as there is room, not at the attempt's end (1 s), after
/// this deadline (800 ms). Nothing here wakes up every 100 ms as `poll`'s slices do, so a
/// pipelined snapshot waited for the attempt's end too.
#[test]
fn requests_refused_by_a_full_queue_go_when_there_is_room() {
    let fx = start(Mode::Unsynced);
    let rt = runtime();
    let path = fx.socket_path();
    let timeout = options(Duration::from_millis(800));
    let mut c = rt
        .block_on(AsyncConnection::open_with(path.to_str(), &timeout))
        .unwrap();
    let t = with_full_queue(&fx, || rt.block_on(c.tracking()))
        .unwrap_or_else(|e| panic!("tracking: {e}"));
    assert_eq!(t.stratum, 0);
    let snapshot = with_full_queue(&fx, || rt.block_on(c.snapshot()))
        .unwrap_or_else(|e| panic!("snapshot: {e}"));
    assert_eq!(snapshot.tracking.unwrap().stratum, 0);
}

#[test]
fn a_snapshot_of_a_stopped_daemon_fails_whole_and_the_next_reaches_the_restarted_one() {
    // The pipelined batch's rules are the blocking connection's (batch.rs):
    // a send the socket refuses ends the snapshot with that error.
    let mut fx = start(Mode::Unsynced);
    let rt = runtime();
    let mut c = rt
        .block_on(AsyncConnection::open(fx.socket_path().to_str().unwrap()))
        .unwrap();
    rt.block_on(c.snapshot()).unwrap();
    fx.kill9().unwrap();
    let e = rt.block_on(c.snapshot()).unwrap_err();
    assert!(matches!(e, Error::ConnectionRefused { .. }), "{e:?}");
    fx.restart().unwrap();
    let snapshot = rt
        .block_on(c.snapshot())
        .expect("the next snapshot reaches the restarted chronyd");
    compare(
        &snapshot.tracking.unwrap(),
        &fx.chronyc_tracking().unwrap(),
        false,
    )
    .unwrap();
}

#[test]
fn restarted_daemon_answers_the_next_call() {
    // The reconnect is the blocking connection's (reading.rs): a new client
    // socket, registered anew with the reactor, within the same deadline.
    let mut fx = start(Mode::Unsynced);
    let rt = runtime();
    let mut c = rt
        .block_on(AsyncConnection::open(fx.socket_path().to_str().unwrap()))
        .unwrap();
    rt.block_on(c.tracking()).unwrap();
    fx.restart().unwrap();
    let t = rt
        .block_on(c.tracking())
        .expect("an AsyncConnection reconnects after a restart");
    compare(&t, &fx.chronyc_tracking().unwrap(), false).unwrap();
    let snapshot = rt.block_on(c.snapshot()).unwrap();
    compare(
        &snapshot.tracking.unwrap(),
        &fx.chronyc_tracking().unwrap(),
        false,
    )
    .unwrap();
}

/// Set (to a socket path) in the copy of this test binary that
/// [`permission_denied_as_nobody_is_the_blocking_connection_s_error`] runs as `nobody`.
const AS_NOBODY: &str = "CHRONY_CORE_TEST_ASYNC_AS_NOBODY";
/// What that copy prints, with the error's message, once its checks passed.
const NOBODY_CHECKED: &str = "checked as nobody:";

/// The permission row of the fault matrix needs a user that is not root: this test runs itself
/// again as `nobody` (a copy of this binary, `setpriv`), on the socket of a daemon whose
/// directory nobody may search (0755) but whose socket (0755) and directory nobody may not
/// write. There, the async open must fail as the blocking one does (-3, same message).
#[test]
fn permission_denied_as_nobody_is_the_blocking_connection_s_error() {
    if let Ok(path) = std::env::var(AS_NOBODY) {
        let e = run(AsyncConnection::open(&path)).unwrap_err();
        let want = Connection::open(&path).unwrap_err();
        assert!(matches!(&e, Error::PermissionDenied { .. }), "{e:?}");
        assert_eq!(e.code(), -3);
        assert_eq!(e.to_string(), want.to_string());
        println!("{NOBODY_CHECKED} {e}");
        return;
    }
    let fx = start(Mode::Unsynced);
    std::fs::set_permissions(
        fx.dir(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let exe = std::env::current_exe().unwrap();
    let out = chronyd_fixture::nobody_command(&exe)
        .unwrap()
        .args([
            "--exact",
            "permission_denied_as_nobody_is_the_blocking_connection_s_error",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(AS_NOBODY, fx.socket_path())
        .current_dir("/")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Not a harness that ran nothing: the copy printed its checked error (after libtest's
    // "test NAME ... ", with --nocapture).
    let line = stdout
        .lines()
        .find_map(|l| l.split_once(NOBODY_CHECKED))
        .map(|(_, error)| error)
        .unwrap_or_else(|| panic!("the copy run as nobody checked nothing:\n{stdout}"));
    assert!(line.contains("permission denied to connect to"), "{line}");
    assert!(client_dirs(fx.dir()).is_empty());
    // chronyd still answers root.
    run(async {
        let mut c = AsyncConnection::open(fx.socket_path().to_str().unwrap())
            .await
            .unwrap();
        c.tracking().await.unwrap()
    });
}

/// Runs `f` while a thread thaws `fx` once `delay` has passed (the
/// runtime's one thread is busy in the call under test).
fn thawing_after<R>(fx: &Fixture, delay: Duration, f: impl FnOnce() -> R) -> R {
    std::thread::scope(|s| {
        s.spawn(|| {
            std::thread::sleep(delay);
            fx.thaw().unwrap();
        });
        f()
    })
}

#[test]
fn a_cancelled_call_s_late_reply_never_answers_the_next_call() {
    // While chronyd is frozen its queue holds the cancelled request; the
    // next call's request queues behind it, so once thawed chronyd answers
    // the cancelled one first. Were that late reply taken, a tracking reply
    // would answer an activity request (or a snapshot's).
    let fx = start(Mode::Unsynced);
    let want_activity = Connection::open(&fx.udp_v4()).unwrap().activity().unwrap();
    let rt = runtime();
    for address in [fx.socket_path().to_str().unwrap().to_owned(), fx.udp_v4()] {
        let mut c = rt.block_on(AsyncConnection::open(&address)).unwrap();
        for next in ["activity", "snapshot"] {
            fx.freeze().unwrap();
            let cancelled = rt.block_on(async {
                tokio::time::timeout(Duration::from_millis(200), c.tracking()).await
            });
            assert!(cancelled.is_err(), "{address}: the call was cancelled");
            let delay = Duration::from_millis(300);
            match next {
                "activity" => {
                    let activity = thawing_after(&fx, delay, || rt.block_on(c.activity()));
                    assert_eq!(activity.unwrap(), want_activity, "{address}");
                }
                _ => {
                    let snapshot = thawing_after(&fx, delay, || rt.block_on(c.snapshot()));
                    let snapshot = snapshot.unwrap();
                    assert_eq!(snapshot.activity.unwrap(), want_activity, "{address}");
                    let tracking = snapshot.tracking.unwrap();
                    compare(&tracking, &fx.chronyc_tracking().unwrap(), false).unwrap();
                }
            }
            assert!(!fx.is_frozen());
        }
        // Cancelled mid-snapshot: the next tracking call is answered by its
        // own reply.
        fx.freeze().unwrap();
        let cancelled = rt.block_on(async {
            tokio::time::timeout(Duration::from_millis(200), c.snapshot()).await
        });
        assert!(cancelled.is_err(), "{address}: the snapshot was cancelled");
        let delay = Duration::from_millis(300);
        let tracking = thawing_after(&fx, delay, || rt.block_on(c.tracking())).unwrap();
        compare(&tracking, &fx.chronyc_tracking().unwrap(), false).unwrap();
    }
}

#[test]
fn a_cancelled_call_s_late_reply_never_answers_the_same_request_again() {
    // Real chronyd answers the same request twice alike, so which reply was
    // taken would not show: a scripted fake (the only fake here) answers the
    // cancelled request late, with stratum 9, just before it answers the
    // next call's request with stratum 3. The bundled library would take a
    // reply to an earlier attempt of an outstanding request as the answer;
    // the next call must be a new request, never a resend of the cancelled one.
    let mut held: Option<Vec<u8>> = None;
    let fake = FakeChronyd::start(move |req| {
        if Request(req).command() != wire::command::TRACKING {
            return vec![];
        }
        match held.take() {
            None => {
                held = Some(req.to_vec());
                vec![]
            }
            Some(cancelled) => {
                let late = wire::Tracking {
                    stratum: 9,
                    ..wire::Tracking::default()
                };
                let answer = wire::Tracking {
                    stratum: 3,
                    ..wire::Tracking::default()
                };
                vec![late.bytes(&cancelled), answer.bytes(req)]
            }
        }
    });
    let rt = runtime();
    let mut c = rt.block_on(AsyncConnection::open(fake.address())).unwrap();
    let cancelled =
        rt.block_on(async { tokio::time::timeout(Duration::from_millis(200), c.tracking()).await });
    assert!(cancelled.is_err(), "the fake holds the first answer back");
    let t = rt.block_on(c.tracking()).unwrap();
    assert_eq!(t.stratum, 3, "the late reply (stratum 9) was taken");
    drop(c);
    let received = fake.join();
    assert_eq!(received.len(), 2, "{received:?}");
    assert!(received.iter().all(|(_, r)| Request(r).attempt() == 0));
}

/// Daemons polled at once; the frozen ones are the first `FROZEN`.
const DAEMONS: usize = 6;
const FROZEN: usize = 2;

#[test]
fn many_daemons_at_once_each_frozen_one_costs_only_its_own_deadline() {
    let fixtures: Vec<Fixture> = (0..DAEMONS).map(|_| start(Mode::Unsynced)).collect();
    let timeout = Duration::from_secs(1);
    let rt = runtime();
    // Half over the unix socket, half over UDP.
    let addresses: Vec<String> = fixtures
        .iter()
        .enumerate()
        .map(|(i, fx)| match i % 2 {
            0 => fx.socket_path().to_str().unwrap().to_owned(),
            _ => fx.udp_v4(),
        })
        .collect();
    let connections: Vec<AsyncConnection> = addresses
        .iter()
        .map(|a| {
            rt.block_on(AsyncConnection::open_with(Some(a), &options(timeout)))
                .unwrap()
        })
        .collect();
    for fx in &fixtures[..FROZEN] {
        fx.freeze().unwrap();
    }
    let start = Instant::now();
    let results = rt.block_on(async {
        let tasks: Vec<_> = connections
            .into_iter()
            .map(|mut c| {
                tokio::spawn(async move {
                    let r = c.tracking().await;
                    (r, start.elapsed())
                })
            })
            .collect();
        let mut results = Vec::new();
        for t in tasks {
            results.push(t.await.unwrap());
        }
        results
    });
    let total = start.elapsed();
    let frozen_done = results[..FROZEN].iter().map(|(_, at)| *at).min().unwrap();
    for (i, (r, at)) in results.iter().enumerate() {
        let address = &addresses[i];
        if i < FROZEN {
            let e = r.as_ref().expect_err("a frozen chronyd cannot answer");
            assert!(matches!(e, Error::Timeout { .. }), "{address}: {e:?}");
            // Its own deadline, not a second one; the slack is for six
            // daemons and this binary's other tests sharing the cores.
            assert!(
                *at >= timeout && *at < timeout + Duration::from_millis(250),
                "{address}: {at:?}"
            );
        } else {
            let t = r.as_ref().unwrap_or_else(|e| panic!("{address}: {e}"));
            compare(t, &fixtures[i].chronyc_tracking().unwrap(), false)
                .unwrap_or_else(|e| panic!("{address}: {e}"));
            // Answered while the frozen ones were still waiting: nobody
            // queued behind them.
            assert!(*at < frozen_done, "{address}: {at:?} vs {frozen_done:?}");
        }
    }
    // The frozen ones waited side by side: one deadline, not one each.
    assert!(
        total < timeout * FROZEN as u32,
        "{total:?} for {FROZEN} frozen daemons"
    );
    for fx in &fixtures[..FROZEN] {
        fx.thaw().unwrap();
    }
}
