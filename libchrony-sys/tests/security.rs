//! The bundled C library's client socket against a local user (see
//! docs/security.md): only chronyd, the socket's connected peer, can send to
//! it; anyone else gets EPERM, even knowing the path. `chrony_close_socket`
//! removes only what it can verify as its own (and not in a forked child:
//! fork.rs).
//! The private directories, their modes and the removal on close are tested
//! in open_errors.rs; the client directory swapped for a symlink or another
//! directory in chrony-core's tests/security.rs (one table of attacks for
//! both implementations); forged, stale and foreign replies in
//! fake_server.rs and the fuzz corpus.

mod common;

use std::os::fd::{FromRawFd, IntoRawFd};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};

use common::{bound_path, close, given, open, server_dir};
use libchrony_sys::Guarantee;

#[test]
fn only_the_connected_peer_can_send_to_the_client_socket() {
    let dir = PathBuf::from(format!("/tmp/lcsec.{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir(&dir).unwrap();
    let server_path = dir.join("chronyd.sock");
    let server = UnixDatagram::bind(&server_path).unwrap();
    let fd = open(server_path.to_str().unwrap()).expect("chrony_open_socket");

    // SAFETY: fd is the open socket chrony_open_socket returned; it is
    // handed back with into_raw_fd before chrony_close_socket closes it.
    let client = unsafe { UnixDatagram::from_raw_fd(fd) };
    let client_path = client
        .local_addr()
        .unwrap()
        .as_pathname()
        .expect("a bound client socket")
        .to_path_buf();
    let fd = client.into_raw_fd();

    let forger = UnixDatagram::unbound().unwrap();
    let e = forger
        .send_to(b"forged reply", &client_path)
        .expect_err("a stranger cannot send to the client socket");
    assert_eq!(e.raw_os_error(), Some(libc::EPERM), "{e}");
    let bound_forger = UnixDatagram::bind(dir.join("forger.sock")).unwrap();
    let e = bound_forger
        .send_to(b"forged reply", &client_path)
        .expect_err("nor from a bound socket");
    assert_eq!(e.raw_os_error(), Some(libc::EPERM), "{e}");
    server
        .send_to(b"from the peer", &client_path)
        .expect("the peer (chronyd) can");

    close(fd);
    assert!(!client_path.exists(), "removed on close");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// What `chrony_close_socket` finds where its files should be, tampered with
/// (as only root or our own user could): anything that is not exactly what
/// `chrony_open_socket` left (a directory owned by us with mode 0711, a
/// socket owned by us, not a symlink) is left alone, and so is what it
/// contains.
#[test]
fn close_removes_only_what_it_can_verify() {
    if !given(Guarantee::VerifiedClientSocket) {
        return;
    }
    type Tamper = fn(outer: &Path, inner: &Path, socket: &Path, victim: &Path);
    let cases: [(&str, Tamper); 6] = [
        ("outer directory mode 0755", |outer, _, _, _| {
            std::fs::set_permissions(outer, std::fs::Permissions::from_mode(0o755)).unwrap()
        }),
        ("inner directory mode 0700", |_, inner, _, _| {
            std::fs::set_permissions(inner, std::fs::Permissions::from_mode(0o700)).unwrap()
        }),
        ("outer directory owned by another user", |outer, _, _, _| {
            std::os::unix::fs::chown(outer, Some(65534), Some(65534)).unwrap()
        }),
        ("socket owned by another user", |_, _, socket, _| {
            std::os::unix::fs::lchown(socket, Some(65534), Some(65534)).unwrap()
        }),
        ("socket replaced by a regular file", |_, _, socket, _| {
            std::fs::remove_file(socket).unwrap();
            std::fs::write(socket, "a file").unwrap();
        }),
        (
            "socket replaced by a symlink to a victim socket",
            |_, _, socket, victim| {
                std::fs::remove_file(socket).unwrap();
                std::os::unix::fs::symlink(victim, socket).unwrap();
            },
        ),
    ];
    for (i, (what, tamper)) in cases.into_iter().enumerate() {
        let (dir, _server) = server_dir(&format!("ver{i}"));
        let victim = dir.join("victim.sock");
        let _victim = UnixDatagram::bind(&victim).unwrap();
        let fd = open(dir.join("chronyd.sock").to_str().unwrap()).expect("chrony_open_socket");
        let socket = bound_path(fd);
        let inner = socket.parent().unwrap().to_path_buf();
        let outer = inner.parent().unwrap().to_path_buf();
        tamper(&outer, &inner, &socket, &victim);
        close(fd);
        assert!(
            std::fs::symlink_metadata(&socket).is_ok(),
            "{what}: the entry at the socket's place stays"
        );
        assert!(victim.exists(), "{what}: the victim stays");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
