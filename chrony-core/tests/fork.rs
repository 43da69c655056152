//! `fork()`: parent and child both query; each gets its own answers, and the
//! child leaves the parent's files alone; a fork while other threads use the
//! one-call API leaves the child a usable pool. Children only use this crate
//! and `exit()` (no printing, no panics) since they are forked from a
//! multi-threaded process.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chrony_core::Connection;
use chronyd_fixture::{FakeChronyd, Mode, wire};
use common::{client_dirs, start};

/// The tests drain the process-wide pool: one at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn parent_and_child_both_query() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let fx = start(Mode::Synced);
    let path = fx.socket_path();
    let mut connection = Connection::open(path.to_str().unwrap()).unwrap();
    connection.tracking().unwrap();
    chrony_core::tracking(Some(&path)).unwrap(); // a pooled connection
    let before = client_dirs(fx.dir());
    assert_eq!(before.len(), 2, "{before:?}");

    // SAFETY: the child only queries chronyd through this crate (whose locks
    // are fork-safe) and then calls exit().
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let mut ok = true;
        for _ in 0..common::scaled(200) {
            ok &= connection
                .tracking()
                .is_ok_and(|t| t.reference_id_name == "127.0.0.1");
            ok &= chrony_core::tracking(Some(&path)).is_ok_and(|t| t.stratum == 2);
        }
        drop(connection);
        // exit() runs the at-exit handler that drains the child's pool.
        // SAFETY: ends the child process; nothing runs after it.
        unsafe { libc::exit(if ok { 0 } else { 1 }) };
    }
    // The parent queries at the same time.
    for _ in 0..common::scaled(200) {
        assert_eq!(
            connection.tracking().unwrap().reference_id_name,
            "127.0.0.1"
        );
        assert_eq!(chrony_core::tracking(Some(&path)).unwrap().stratum, 2);
    }
    assert_eq!(wait_child(pid), 0, "the child got valid answers");

    let after = client_dirs(fx.dir());
    assert_eq!(
        after, before,
        "the child removed none of the parent's files and left none of its own"
    );
    assert!(
        !after
            .iter()
            .any(|d| d.starts_with(&format!("chrony-core.{pid}.")))
    );
    connection
        .tracking()
        .expect("the parent's connection still works");
    chrony_core::tracking(Some(&path)).expect("the parent's pooled connection still works");
    drop(connection);
    chrony_core::drain_pool();
    assert!(client_dirs(fx.dir()).is_empty());
}

/// Waits up to 20 s for the child; a child still running then (deadlocked)
/// is killed and the test fails. Returns its exit status.
fn wait_child(pid: libc::pid_t) -> i32 {
    let start = Instant::now();
    loop {
        let mut status = 0;
        // SAFETY: polls the child just forked; `status` is a valid out-pointer.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if r == pid {
            assert!(libc::WIFEXITED(status), "child status {status:#x}");
            return libc::WEXITSTATUS(status);
        }
        assert_eq!(r, 0, "waitpid failed");
        if start.elapsed() > Duration::from_secs(20) {
            // SAFETY: kills and reaps our own child.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
                libc::waitpid(pid, &mut status, 0);
            }
            panic!("the child hung (a lock copied in its held state?)");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn fork_while_other_threads_use_the_pool() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let fx = start(Mode::Unsynced);
    let path = fx.socket_path();
    let stop = AtomicBool::new(false);
    /// Stops the querying threads however the scope ends (a panic too).
    struct StopOnDrop<'a>(&'a AtomicBool);
    impl Drop for StopOnDrop<'_> {
        fn drop(&mut self) {
            self.0.store(true, Ordering::Relaxed);
        }
    }
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    chrony_core::tracking(Some(&path)).unwrap();
                }
            });
        }
        let _stop = StopOnDrop(&stop);
        for _ in 0..common::scaled(300) {
            std::thread::sleep(Duration::from_millis(1));
            // SAFETY: the child only uses this crate and exit(), see above.
            let pid = unsafe { libc::fork() };
            assert!(pid >= 0, "fork failed");
            if pid == 0 {
                let ok = (0..20)
                    .all(|_| chrony_core::tracking(Some(&path)).is_ok_and(|t| t.stratum == 0));
                // SAFETY: ends the child process.
                unsafe { libc::exit(if ok { 0 } else { 1 }) };
            }
            assert_eq!(wait_child(pid), 0, "the child's calls succeeded");
        }
    });
    chrony_core::drain_pool();
    assert!(
        client_dirs(fx.dir()).is_empty(),
        "{:?}",
        client_dirs(fx.dir())
    );
}

/// A fake chronyd on a unix socket that answers every tracking request with
/// the requesting process's pid as the reference ID, read from the path the
/// request came from (`<dir>/chrony-core.<pid>.<random>/s`). So a process that
/// reads a reference ID other than its own pid got another process's reply.
fn pid_echo_server() -> FakeChronyd {
    FakeChronyd::start_with_sender(|request, from| {
        let pid: u32 = from
            .parent()
            .and_then(|d| d.file_name()?.to_str()?.split('.').nth(1)?.parse().ok())
            .expect("a client path chrony-core.<pid>.<random>/s");
        let reply = wire::Tracking {
            ref_id: pid,
            ..wire::Tracking::default()
        };
        vec![reply.bytes(request)]
    })
}

/// A connection opened before fork() and used by parent and child at once
/// never hands one process the other's reply: every answer each process gets
/// carries its own pid (the server echoes the requester's pid), and no call
/// times out, over many concurrent rounds.
#[test]
fn pre_fork_connection_never_delivers_the_other_process_reply() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let server = pid_echo_server();
    let options = chrony_core::Options::new().with_timeout(Duration::from_secs(2));
    let mut connection = Connection::open_with(Some(server.address()), &options).unwrap();
    let me = std::process::id();
    assert_eq!(connection.tracking().unwrap().reference_id, me);
    let rounds = common::scaled(1000);

    // SAFETY: the child only queries through this crate, then calls exit().
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let child = std::process::id();
        // 0 all good, 2 another process's reply, 3 an error (a timeout).
        let mut code = 0;
        for _ in 0..rounds {
            match connection.tracking() {
                Ok(t) if t.reference_id == child => {}
                Ok(_) => code = 2,
                Err(_) => code = 3,
            }
        }
        drop(connection);
        // SAFETY: ends the child process.
        unsafe { libc::exit(code) };
    }
    let mut foreign = 0;
    for i in 0..rounds {
        let t = connection
            .tracking()
            .unwrap_or_else(|e| panic!("parent, round {i}: {e}"));
        foreign += usize::from(t.reference_id != me);
    }
    let child = wait_child(pid);
    drop(connection);
    let answered = server.join().len();
    assert_eq!(foreign, 0, "the parent got replies meant for the child");
    assert_eq!(
        child, 0,
        "the child (2: got the parent's reply, 3: an error or timeout)"
    );
    assert!(answered >= 2 * rounds, "{answered} answers");
}

/// The same over UDP against a real chronyd: the pre-fork UDP connection is
/// used by both processes at once (the child replaces the socket before its
/// first query); every call of both succeeds within its deadline.
#[test]
fn pre_fork_udp_connection_used_by_both_processes() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let fx = start(Mode::Synced);
    let options = chrony_core::Options::new().with_timeout(Duration::from_secs(2));
    let mut connection = Connection::open_with(Some(&fx.udp_v4()), &options).unwrap();
    connection.tracking().unwrap();
    let rounds = common::scaled(500);
    // SAFETY: the child only queries through this crate, then calls exit().
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let ok = (0..rounds).all(|_| {
            connection
                .tracking()
                .is_ok_and(|t| t.reference_id_name == "127.0.0.1")
        });
        // SAFETY: ends the child process.
        unsafe { libc::exit(if ok { 0 } else { 1 }) };
    }
    for i in 0..rounds {
        let t = connection
            .tracking()
            .unwrap_or_else(|e| panic!("parent, round {i}: {e}"));
        assert_eq!(t.reference_id_name, "127.0.0.1");
    }
    assert_eq!(wait_child(pid), 0, "every call of the child succeeded");
}
