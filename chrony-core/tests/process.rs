//! Process-wide behaviour of the one-call API: the pool, open fds, files left
//! in the socket directory, threads, exit and stale directories. Tests here
//! touch process-global state, so each takes `SERIAL`.

mod common;

use std::os::unix::net::UnixDatagram;
use std::process::Command;
use std::sync::Mutex;

use chrony_core::{Connection, LeapStatus};
use chronyd_fixture::Mode;
use common::{client_dirs, example_binary, scaled, start};

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

#[test]
fn ten_thousand_calls_reuse_one_client_socket() {
    let _serial = serial();
    let fx = start(Mode::Unsynced);
    let path = fx.socket_path();
    chrony_core::tracking(Some(&path)).unwrap();
    let dirs = client_dirs(fx.dir());
    assert_eq!(dirs.len(), 1, "one pooled client socket: {dirs:?}");
    let fds = open_fds();
    // 10,000 (fewer under valgrind: see `scaled`).
    for i in 0..scaled(10_000) {
        let t = chrony_core::tracking(Some(&path)).unwrap_or_else(|e| panic!("call {i}: {e}"));
        assert_eq!(t.leap_status, LeapStatus::Unsynchronised);
        if i % 1000 == 0 {
            assert_eq!(open_fds(), fds, "open fds after {i} calls");
        }
    }
    assert_eq!(open_fds(), fds, "open fds after all the calls");
    assert_eq!(
        client_dirs(fx.dir()),
        dirs,
        "the same client socket throughout"
    );
    chrony_core::drain_pool();
    assert_eq!(
        client_dirs(fx.dir()),
        Vec::<String>::new(),
        "nothing left after the pool is drained"
    );
    assert!(open_fds() < fds, "the pooled socket is closed");
}

#[test]
fn eight_threads_at_once() {
    let _serial = serial();
    let fx = start(Mode::Synced);
    let path = fx.socket_path();
    let barrier = std::sync::Barrier::new(8);
    std::thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| {
                barrier.wait();
                for i in 0..scaled(500) {
                    let t = chrony_core::tracking(Some(&path))
                        .unwrap_or_else(|e| panic!("call {i}: {e}"));
                    assert_eq!(t.reference_id_name, "127.0.0.1");
                    assert_eq!(t.stratum, 2);
                }
            });
        }
    });
    let dirs = client_dirs(fx.dir());
    assert!(
        !dirs.is_empty() && dirs.len() <= 8,
        "at most one client socket per thread: {dirs:?}"
    );
    chrony_core::drain_pool();
    assert!(client_dirs(fx.dir()).is_empty());
}

#[test]
fn connections_and_one_calls_side_by_side() {
    let _serial = serial();
    let fx = start(Mode::Local { stratum: 5 });
    let path = fx.socket_path();
    let mut connection = Connection::open(path.to_str().unwrap()).unwrap();
    for _ in 0..100 {
        assert_eq!(connection.tracking().unwrap().stratum, 5);
        assert_eq!(chrony_core::tracking(Some(&path)).unwrap().stratum, 5);
    }
    assert_eq!(client_dirs(fx.dir()).len(), 2);
    drop(connection);
    chrony_core::drain_pool();
    assert!(client_dirs(fx.dir()).is_empty(), "Drop removes every file");
}

#[test]
fn nothing_left_after_a_normal_exit() {
    let _serial = serial();
    let fx = start(Mode::Unsynced);
    let out = Command::new(example_binary())
        .arg(fx.socket_path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("Leap status     : Not synchronised"),
        "{stdout}"
    );
    assert!(
        client_dirs(fx.dir()).is_empty(),
        "the at-exit handler drained the pool"
    );
}

#[test]
fn stale_client_directories_of_dead_processes_are_removed() {
    let _serial = serial();
    let fx = start(Mode::Unsynced);
    // A dead process's client directory, as a SIGKILL leaves it.
    let stale = fx.dir().join("chrony-core.999999999.deadbeef");
    std::fs::create_dir(&stale).unwrap();
    drop(UnixDatagram::bind(stale.join("s")).unwrap());
    // A live one (this process's connection) must stay.
    let mut live = Connection::open(fx.socket_path().to_str().unwrap()).unwrap();
    live.tracking().unwrap();
    let live_dirs: Vec<String> = client_dirs(fx.dir())
        .into_iter()
        .filter(|d| d.starts_with(&format!("chrony-core.{}.", std::process::id())))
        .collect();
    assert_eq!(live_dirs.len(), 1);
    // A new process cleans up once, on its first use of the directory.
    let out = Command::new(example_binary())
        .arg(fx.socket_path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!stale.exists(), "stale directory removed");
    assert_eq!(client_dirs(fx.dir()), live_dirs, "the live one kept");
    live.tracking().unwrap();
}

#[test]
fn default_socket_discovery() {
    let _serial = serial();
    // No chronyd on the default paths on this machine: the error names both.
    let mut any_default = false;
    for p in chrony_core::DEFAULT_SOCKET_PATHS {
        any_default |= std::path::Path::new(p).exists();
    }
    if any_default {
        // A system chronyd: discovery must find it.
        assert!(chrony_core::discover_socket().is_ok());
        return;
    }
    let e = chrony_core::discover_socket().unwrap_err();
    assert_eq!(e.code(), -2, "{e:?}");
    let m = e.to_string();
    assert!(
        m.contains("/run/chrony/chronyd.sock, /var/run/chrony/chronyd.sock"),
        "{m}"
    );
    assert!(m.contains("is chronyd running?"), "{m}");
    let e = chrony_core::tracking(None).unwrap_err();
    assert_eq!(e.code(), -2);
    let e = Connection::open_with(None, &chrony_core::Options::new()).unwrap_err();
    assert_eq!(e.code(), -2);
}

#[test]
fn the_example_piped_into_a_reader_that_has_gone_exits_quietly() {
    // As `tracking | head -1` when head exits first: the write gets EPIPE.
    let _serial = serial();
    let fx = start(Mode::Unsynced);
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors pipe(2) writes.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: both fds were just created by pipe(2) and are owned here only.
    let (reader, writer) = unsafe {
        use std::os::fd::FromRawFd;
        (
            std::os::fd::OwnedFd::from_raw_fd(fds[0]),
            std::os::fd::OwnedFd::from_raw_fd(fds[1]),
        )
    };
    drop(reader);
    let out = Command::new(example_binary())
        .arg(fx.socket_path())
        .stdout(writer)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{:?}: {stderr}", out.status);
    assert!(!stderr.contains("panicked"), "{stderr}");
}
