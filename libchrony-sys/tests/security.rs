//! The bundled C library's client socket against a local user (see
//! docs/security.md): only chronyd, the socket's connected peer, can send to
//! it; anyone else gets EPERM, even knowing the path. The private directories,
//! their modes and the removal on close are tested in open_errors.rs; forged,
//! stale and foreign replies in fake_server.rs and the fuzz corpus.

mod common;

use std::os::fd::{FromRawFd, IntoRawFd};
use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;

use common::{close, open};

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
