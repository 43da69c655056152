//! `fork()`: parent and child both query; each gets its own answers, and the
//! child leaves the parent's files alone. Alone in its binary: a fork in a
//! process where other tests run threads could copy a held lock.

mod common;

use chrony_core::Connection;
use chronyd_fixture::Mode;
use common::{client_dirs, start};

#[test]
fn parent_and_child_both_query() {
    let fx = start(Mode::Synced);
    let path = fx.socket_path();
    let mut connection = Connection::open(path.to_str().unwrap()).unwrap();
    connection.tracking().unwrap();
    chrony_core::tracking(Some(&path)).unwrap(); // a pooled connection
    let before = client_dirs(fx.dir());
    assert_eq!(before.len(), 2, "{before:?}");

    // SAFETY: the child only queries chronyd through this crate and then
    // calls exit(); this binary runs no other test thread that could hold a
    // lock across the fork.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let mut ok = true;
        for _ in 0..200 {
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
    for _ in 0..200 {
        assert_eq!(
            connection.tracking().unwrap().reference_id_name,
            "127.0.0.1"
        );
        assert_eq!(chrony_core::tracking(Some(&path)).unwrap().stratum, 2);
    }
    let mut status = 0;
    // SAFETY: waits for the child just forked; `status` is a valid out-pointer.
    let r = unsafe { libc::waitpid(pid, &mut status, 0) };
    assert_eq!(r, pid);
    assert!(libc::WIFEXITED(status), "child status {status:#x}");
    assert_eq!(libc::WEXITSTATUS(status), 0, "the child got valid answers");

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
