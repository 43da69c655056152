//! A forked child and the bundled C library's client socket: the child's
//! close of its inherited fd must leave the parent's files alone. Its own
//! binary because valgrind's leak check in a child forked from a
//! multi-threaded test harness reports the other threads' memory as lost
//! (`cargo xtask valgrind` runs targets named `fork` without the leak check).

mod common;

use common::{bound_path, close, given, open, server_dir};
use libchrony_sys::Guarantee;

/// A forked child that closes its inherited copy of the fd leaves the
/// parent's files alone: the parent's socket still gets replies, and the
/// parent's own close removes everything.
#[test]
fn a_forked_child_closing_the_socket_leaves_the_parents_files() {
    if !given(Guarantee::VerifiedClientSocket) {
        return;
    }
    let (dir, server) = server_dir("fork");
    let fd = open(dir.join("chronyd.sock").to_str().unwrap()).expect("chrony_open_socket");
    let client_path = bound_path(fd);
    // SAFETY: the child only makes system calls (through chrony_close_socket)
    // and _exit; it touches no lock another thread of the test may hold.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork: errno {}", common::errno());
    if pid == 0 {
        // SAFETY: fd is the child's inherited copy, closed once.
        unsafe { libchrony_sys::chrony_close_socket(fd) };
        // SAFETY: ends the child without running the parent's atexit handlers.
        unsafe { libc::_exit(0) };
    }
    let mut status = 0;
    // SAFETY: pid is our child; status is a valid out-pointer.
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0);

    assert!(client_path.exists(), "the child left the parent's socket");
    server
        .send_to(b"reply", &client_path)
        .expect("still reachable");
    let mut buf = [0u8; 16];
    // SAFETY: buf is valid for its length; fd is the parent's open socket.
    let n = unsafe { libc::recv(fd, buf.as_mut_ptr().cast(), buf.len(), libc::MSG_DONTWAIT) };
    assert_eq!(n, 5, "the parent's socket got the reply");
    close(fd);
    assert_eq!(
        common::list_dir(&dir),
        ["chronyd.sock"],
        "the parent removed it all"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
