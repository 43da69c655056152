//! The fault matrix on real daemons: each fault gives the right variant and code.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrony_core::{Connection, Error, Options};
use chronyd_fixture::Mode;
use common::{client_dirs, example_binary, start, with_full_queue};

fn one_call(path: &Path) -> Error {
    chrony_core::tracking(Some(path)).expect_err("the query must fail")
}

fn open(path: &Path) -> Error {
    Connection::open(path.to_str().unwrap()).expect_err("the open must fail")
}

#[test]
fn missing_socket_path() {
    let fx = start(Mode::Unsynced);
    let path = fx.dir().join("missing.sock");
    for e in [one_call(&path), open(&path)] {
        assert!(
            matches!(&e, Error::NotFound { tried, .. } if tried == std::slice::from_ref(&path)),
            "{e:?}"
        );
        assert_eq!(e.code(), -2);
        assert_eq!(e.raw_os_error(), Some(libc::ENOENT));
        assert!(e.to_string().contains("is chronyd running?"), "{e}");
    }
    assert!(client_dirs(fx.dir()).is_empty());
}

#[test]
fn missing_directory() {
    let path = PathBuf::from("/nonexistent-chrony-core-test/chronyd.sock");
    for e in [one_call(&path), open(&path)] {
        assert!(matches!(e, Error::NotFound { .. }), "{e:?}");
        assert_eq!(e.code(), -2);
        assert!(
            e.to_string()
                .contains("/nonexistent-chrony-core-test/chronyd.sock"),
            "{e}"
        );
    }
}

#[test]
fn regular_file_is_refused() {
    let fx = start(Mode::Unsynced);
    let path = fx.dir().join("file.sock");
    std::fs::write(&path, b"not a socket").unwrap();
    for e in [one_call(&path), open(&path)] {
        assert!(matches!(e, Error::ConnectionRefused { .. }), "{e:?}");
        assert_eq!(e.code(), -1);
        assert_eq!(e.raw_os_error(), Some(libc::ECONNREFUSED));
    }
    assert!(
        client_dirs(fx.dir()).is_empty(),
        "nothing created for a refused path"
    );
}

#[test]
fn stale_socket_after_sigkill() {
    let mut fx = start(Mode::Unsynced);
    let path = fx.socket_path();
    chrony_core::tracking(Some(&path)).unwrap();
    fx.kill9().unwrap();
    assert!(path.exists(), "SIGKILL leaves the socket behind");
    for e in [one_call(&path), open(&path)] {
        assert!(matches!(e, Error::ConnectionRefused { .. }), "{e:?}");
        assert_eq!(e.code(), -1);
        assert!(
            e.to_string()
                .contains("chronyd is not running (stale socket)"),
            "{e}"
        );
    }
    chrony_core::drain_pool();
}

/// Runs the example as `nobody`; returns (exit code, stdout, stderr).
fn run_as_nobody(args: &[&str]) -> (i32, String, String) {
    let mut cmd = chronyd_fixture::nobody_command(&example_binary()).unwrap();
    let out = cmd.args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn directory_not_searchable_by_nobody() {
    let fx = start(Mode::Unsynced);
    let mode = std::fs::metadata(fx.dir()).unwrap().permissions().mode();
    assert_eq!(
        mode & 0o005,
        0,
        "the fixture directory is not searchable by others"
    );
    let (code, _, stderr) = run_as_nobody(&[fx.socket_path().to_str().unwrap()]);
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("permission denied"), "{stderr}");
    assert!(stderr.contains("127.0.0.1:323"), "{stderr}");
    // The UDP command port serves tracking to any local user.
    let (code, stdout, stderr) = run_as_nobody(&[&fx.udp_v4()]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("Reference ID    : 00000000"), "{stdout}");
}

#[test]
fn socket_not_writable_by_nobody() {
    let fx = start(Mode::Unsynced);
    // Searchable now, but chronyd's 0755 socket is not writable by nobody.
    std::fs::set_permissions(fx.dir(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let (code, _, stderr) = run_as_nobody(&[fx.socket_path().to_str().unwrap()]);
    assert_eq!(code, 3, "{stderr}");
    assert!(
        stderr.contains("permission denied to connect to"),
        "{stderr}"
    );
    assert!(client_dirs(fx.dir()).is_empty());
}

#[test]
fn frozen_daemon_times_out_within_the_deadline() {
    let fx = start(Mode::Unsynced);
    let path = fx.socket_path();
    let options = Options::new().with_timeout(Duration::from_millis(500));
    let mut unix = Connection::open_with(Some(path.to_str().unwrap()), &options).unwrap();
    let mut udp = Connection::open_with(Some(&fx.udp_v4()), &options).unwrap();
    unix.tracking().unwrap();
    udp.tracking().unwrap();
    fx.freeze().unwrap();
    type Query<'a> = Box<dyn FnMut() -> chrony_core::Result<chrony_core::TrackingStatus> + 'a>;
    let mut queries: Vec<(&str, Query<'_>)> = vec![
        ("unix connection", Box::new(|| unix.tracking())),
        ("udp connection", Box::new(|| udp.tracking())),
        (
            "one call",
            Box::new(|| chrony_core::tracking_with(Some(&path), &options)),
        ),
    ];
    for (what, query) in &mut queries {
        let start = Instant::now();
        let e = query().expect_err("a frozen chronyd cannot answer");
        let elapsed = start.elapsed();
        assert!(matches!(e, Error::Timeout { .. }), "{what}: {e:?}");
        assert_eq!(e.code(), -6);
        assert!(
            e.to_string().contains("did not answer within 500 ms"),
            "{e}"
        );
        assert!(elapsed >= Duration::from_millis(500), "{what}: {elapsed:?}");
        assert!(elapsed < Duration::from_millis(600), "{what}: {elapsed:?}");
    }
    drop(queries);
    fx.thaw().unwrap();
    unix.tracking().expect("answers again once thawed");
    udp.tracking().expect("answers again once thawed");
}

#[test]
fn default_deadline_on_a_frozen_daemon() {
    let fx = start(Mode::Unsynced);
    let mut c = Connection::open(&fx.udp_v6()).unwrap();
    assert_eq!(c.timeout(), chrony_core::DEFAULT_TIMEOUT);
    fx.freeze().unwrap();
    let start = Instant::now();
    let e = c.tracking().unwrap_err();
    let elapsed = start.elapsed();
    fx.thaw().unwrap();
    assert!(matches!(e, Error::Timeout { .. }), "{e:?}");
    assert!(e.to_string().contains("within 3 s"), "{e}");
    assert!(
        elapsed >= Duration::from_secs(3) && elapsed < Duration::from_millis(3100),
        "{elapsed:?}"
    );
}

#[test]
fn briefly_frozen_daemon_answers_within_the_deadline() {
    let fx = start(Mode::Unsynced);
    for address in [fx.socket_path().to_str().unwrap().to_owned(), fx.udp_v4()] {
        let mut c = Connection::open(&address).unwrap();
        fx.freeze().unwrap();
        let start = Instant::now();
        std::thread::scope(|s| {
            s.spawn(|| {
                std::thread::sleep(Duration::from_millis(1500));
                fx.thaw().unwrap();
            });
            let t = c.tracking().unwrap_or_else(|e| panic!("{address}: {e}"));
            assert_eq!(t.stratum, 0);
        });
        let elapsed = start.elapsed();
        assert!(
            elapsed >= Duration::from_millis(1500) && elapsed < Duration::from_millis(2500),
            "{elapsed:?}"
        );
    }
}

/// chronyd's queue, full when the call starts (`common::with_full_queue`, emptied after 100 ms):
/// the request it refused goes again as soon as there is room, not at its attempt's end (1 s),
/// which comes after this call's deadline (800 ms). A pipelined batch, for `poll`'s 100 ms
/// slices, did so before; `async_faults.rs` checks it without them.
#[test]
fn requests_refused_by_a_full_queue_go_when_there_is_room() {
    let fx = start(Mode::Unsynced);
    let path = fx.socket_path();
    let options = Options::new().with_timeout(Duration::from_millis(800));
    let mut conn = Connection::open_with(Some(path.to_str().unwrap()), &options).unwrap();
    let t = with_full_queue(&fx, || conn.tracking()).unwrap_or_else(|e| panic!("connection: {e}"));
    assert_eq!(t.stratum, 0);
    let t = with_full_queue(&fx, || chrony_core::tracking_with(Some(&path), &options))
        .unwrap_or_else(|e| panic!("one call: {e}"));
    assert_eq!(t.stratum, 0);
    let snapshot = with_full_queue(&fx, || conn.snapshot()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(snapshot.tracking.unwrap().stratum, 0);
}

#[test]
fn interrupted_query_stops_early() {
    let fx = start(Mode::Unsynced);
    let mut c = Connection::open(fx.socket_path().to_str().unwrap()).unwrap();
    fx.freeze().unwrap();
    let start = Instant::now();
    let mut calls = 0;
    let e = c
        .tracking_interruptible(&mut || {
            calls += 1;
            start.elapsed() > Duration::from_millis(250)
        })
        .unwrap_err();
    let elapsed = start.elapsed();
    fx.thaw().unwrap();
    assert!(matches!(e, Error::Interrupted), "{e:?}");
    assert_eq!(e.code(), -1);
    assert!(elapsed < Duration::from_millis(400), "{elapsed:?}");
    assert!(calls >= 3, "called every 100 ms at least: {calls}");
}

#[test]
fn restarted_daemon_answers_the_next_call() {
    let mut fx = start(Mode::Unsynced);
    let path = fx.socket_path();
    let mut connection = Connection::open(path.to_str().unwrap()).unwrap();
    connection.tracking().unwrap();
    chrony_core::tracking(Some(&path)).unwrap();
    fx.restart().unwrap();
    connection
        .tracking()
        .expect("a Connection reconnects after a restart");
    chrony_core::tracking(Some(&path)).expect("the pooled one-call API reconnects after a restart");
    // Twice more, for good measure (the pooled connection went back to the pool).
    chrony_core::tracking(Some(&path)).unwrap();
    connection.tracking().unwrap();
}

/// This process's client directories in a fixture's socket directory.
fn our_client_dirs(dir: &Path) -> Vec<std::path::PathBuf> {
    let prefix = format!("chrony-core.{}.", std::process::id());
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        .map(|e| e.path())
        .collect()
}

#[test]
fn restarted_daemon_with_a_recreated_socket_directory_answers_the_next_call() {
    // systemd's RuntimeDirectory= removes /run/chrony with everything in it
    // when chronyd stops and creates it anew: the connection's own bound
    // path is gone, so reconnecting to chronyd's path is not enough.
    let mut fx = start(Mode::Unsynced);
    let path = fx.socket_path();
    let options = chrony_core::Options::new().with_timeout(Duration::from_millis(1500));
    let mut connection = Connection::open_with(Some(path.to_str().unwrap()), &options).unwrap();
    connection.tracking().unwrap();
    fx.stop().unwrap();
    let dirs = our_client_dirs(fx.dir());
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    for dir in dirs {
        std::fs::remove_dir_all(dir).unwrap();
    }
    fx.restart().unwrap();
    connection
        .tracking()
        .expect("a new client socket in the recreated directory");
    assert_eq!(our_client_dirs(fx.dir()).len(), 1);
}

#[test]
fn a_refused_connection_leaves_no_open_client_socket_behind() {
    // chronyd stopped: the kernel disconnects the client socket (mode 0666)
    // at the first send, so anyone could write to it. It must go at once,
    // not wait in place for a chronyd that may never come back.
    let mut fx = start(Mode::Unsynced);
    let path = fx.socket_path();
    let mut connection = Connection::open(path.to_str().unwrap()).unwrap();
    connection.tracking().unwrap();
    fx.stop().unwrap();
    let e = connection.tracking().unwrap_err();
    assert_eq!(e.code(), -2, "chronyd's socket is gone: {e:?}");
    assert_eq!(
        our_client_dirs(fx.dir()),
        Vec::<std::path::PathBuf>::new(),
        "the disconnected client socket and its directory are removed"
    );
    fx.restart().unwrap();
    connection
        .tracking()
        .expect("the next call opens a new one");
}

#[test]
fn udp_port_with_nothing_listening() {
    for host in ["127.0.0.1", "[::1]"] {
        let probe = std::net::UdpSocket::bind(format!("{host}:0")).unwrap();
        let port = probe.local_addr().unwrap().port();
        drop(probe);
        let address = format!("{host}:{port}");
        let mut c = Connection::open(&address).expect("opening UDP cannot tell");
        let e = c.tracking().unwrap_err();
        assert!(
            matches!(e, Error::ConnectionRefused { .. }),
            "{address}: {e:?}"
        );
        assert_eq!(e.code(), -1);
        assert!(
            e.to_string().contains("nothing listens on that UDP port"),
            "{e}"
        );
    }
}

#[test]
fn relative_path() {
    let fx = start(Mode::Unsynced);
    // A path relative to the current directory, without changing it.
    let cwd = std::env::current_dir().unwrap();
    let ups = "../".repeat(cwd.components().count() - 1);
    let relative = format!(
        "{ups}{}",
        fx.socket_path().strip_prefix("/").unwrap().display()
    );
    assert!(!relative.starts_with('/'));
    let t = chrony_core::tracking(Some(Path::new(&relative))).unwrap();
    assert_eq!(t.stratum, 0);
    let mut c = Connection::open(&relative).unwrap();
    assert!(c.address().starts_with('/'), "{}", c.address());
    c.tracking().unwrap();
    // Not a path (no '/', no .sock) and not an IP address.
    let e = Connection::open("chronyd-socket").unwrap_err();
    assert!(matches!(e, Error::InvalidAddress { .. }), "{e:?}");
    assert_eq!(e.code(), -2);
}

#[test]
fn path_too_long() {
    let long = PathBuf::from(format!("/tmp/{}/chronyd.sock", "d".repeat(120)));
    for e in [one_call(&long), open(&long)] {
        assert!(matches!(e, Error::PathTooLong { .. }), "{e:?}");
        assert_eq!(e.code(), -2);
        assert!(e.to_string().contains("107-byte limit"), "{e}");
    }
}

#[test]
fn socket_directory_too_long_for_the_client_socket() {
    // chronyd's socket fits (dir + 13 bytes) but the client socket next to it,
    // `dir/chrony-core.<pid>.<8 hex>/s` (dir + 24 + pid digits), is 108 bytes,
    // one over the limit whatever the pid's length: a clear error naming the
    // path and the limit.
    let pid = std::process::id().to_string();
    let len = 108 - 24 - pid.len();
    let mut dir = format!("/tmp/cc{pid}-");
    dir.push_str(&"l".repeat(len - dir.len()));
    let dir = PathBuf::from(dir);
    assert_eq!(dir.as_os_str().len() + 24 + pid.len(), 108);
    let _ = std::fs::remove_dir_all(&dir);
    let fx = chronyd_fixture::Fixture::start_in(&dir, Mode::Unsynced).unwrap();
    let e = one_call(&fx.socket_path());
    match &e {
        Error::PathTooLong { path, len } => {
            assert!(path.to_str().unwrap().contains("/chrony-core."), "{e}");
            assert!(*len > 107, "{e}");
        }
        _ => panic!("{e:?}"),
    }
    assert_eq!(e.code(), -2);
    assert!(client_dirs(fx.dir()).is_empty());
    // The UDP command port still works.
    Connection::open(&fx.udp_v4()).unwrap().tracking().unwrap();
    drop(fx);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn huge_and_zero_timeouts() {
    let fx = start(Mode::Unsynced);
    let path = fx.socket_path();
    let huge = Options::new().with_timeout(Duration::MAX);
    chrony_core::tracking_with(Some(&path), &huge).unwrap();
    let mut c = Connection::open_with(Some(&fx.udp_v6()), &huge).unwrap();
    c.tracking().unwrap();
    c.set_timeout(Duration::ZERO);
    assert_eq!(c.timeout(), Duration::ZERO);
    // A zero deadline takes only a reply that is already there: none from a
    // frozen daemon, so it gives up at once.
    fx.freeze().unwrap();
    let start = Instant::now();
    let e = c.tracking().unwrap_err();
    fx.thaw().unwrap();
    assert!(matches!(e, Error::Timeout { .. }), "{e:?}");
    assert!(start.elapsed() < Duration::from_millis(50));
}

#[test]
fn invalid_addresses() {
    for address in ["localhost", "[::1]", "127.0.0.1:", "127.0.0.1:99999", ""] {
        let e = Connection::open(address).unwrap_err();
        assert!(
            matches!(e, Error::InvalidAddress { .. }),
            "{address}: {e:?}"
        );
        assert_eq!(e.code(), -2);
    }
}
