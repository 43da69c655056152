//! The extension `chrony_is_reply_to` / `chrony_process_datagram` (only this
//! crate's C library has it, so only the bundled build compiles these
//! tests): several sessions on one fd, the caller receiving each datagram
//! and handing it to the session it answers. The test plays chronyd on the
//! other end of a socketpair with crafted replies.
#![cfg(libchrony_bundled)]

mod common;

use std::os::fd::AsRawFd;

use chronyd_fixture::wire::{get_u16 as be16, put_ip, reply};
use common::{Conn, TIMEOUT, poll_in};
use libchrony_sys as sys;

fn recv(fd: i32) -> Vec<u8> {
    assert!(poll_in(fd, TIMEOUT), "nothing readable within {TIMEOUT:?}");
    let mut buf = vec![0u8; 2048];
    // SAFETY: buf is valid for buf.len() bytes.
    let n = unsafe { libc::recv(fd, buf.as_mut_ptr().cast(), buf.len(), 0) };
    assert!(n >= 0, "recv: errno {}", common::errno());
    buf.truncate(n as usize);
    buf
}

fn send(fd: i32, bytes: &[u8]) {
    // SAFETY: bytes is valid for bytes.len() bytes.
    let n = unsafe { libc::send(fd, bytes.as_ptr().cast(), bytes.len(), 0) };
    assert_eq!(n, bytes.len() as isize, "send: errno {}", common::errno());
}

fn is_reply_to(c: &Conn, d: &[u8]) -> bool {
    // SAFETY: c.s is a live session; d is valid for d.len() bytes.
    unsafe { sys::chrony_is_reply_to(c.s, d.as_ptr().cast(), d.len()) }
}

fn process(c: &Conn, d: &[u8]) -> sys::chrony_err {
    // SAFETY: c.s is a live session; d is valid for d.len() bytes.
    unsafe { sys::chrony_process_datagram(c.s, d.as_ptr().cast(), d.len()) }
}

#[test]
fn replies_in_reverse_order_reach_their_sessions() {
    let (client, server) = common::socket_pair();
    let (fd, srv) = (client.as_raw_fd(), server.as_raw_fd());
    let a = Conn::on_fd(fd);
    let b = Conn::on_fd(fd);
    assert_eq!(a.request_record("sourcestats", 0), sys::CHRONY_OK);
    assert_eq!(b.request_record("sourcestats", 1), sys::CHRONY_OK);
    // Both requests are out before either is answered.
    let (ra, rb) = (recv(srv), recv(srv));
    let (pa, pb) = (reply(&ra, 6, 0, 84), reply(&rb, 6, 0, 84));
    send(srv, &pb);
    send(srv, &pa);
    for _ in 0..2 {
        let d = recv(fd);
        let owner = if is_reply_to(&a, &d) { &a } else { &b };
        assert!(is_reply_to(owner, &d), "the datagram answers one of them");
        assert!(
            !is_reply_to(if std::ptr::eq(owner, &a) { &b } else { &a }, &d),
            "and only one"
        );
        assert_eq!(process(owner, &d), sys::CHRONY_OK);
        assert!(!owner.needs_response());
        assert!(owner.number_fields() > 0, "the record is accepted");
    }
    // Once answered, a session claims nothing, not even its own reply again.
    assert!(!is_reply_to(&a, &pa));
    assert_eq!(process(&a, &pa), sys::CHRONY_UNEXPECTED_CALL);
}

#[test]
fn a_stale_reply_is_not_taken_for_a_later_request() {
    let (client, server) = common::socket_pair();
    let (fd, srv) = (client.as_raw_fd(), server.as_raw_fd());
    let a = Conn::on_fd(fd);
    assert_eq!(a.request_record("sourcestats", 0), sys::CHRONY_OK);
    let first = recv(srv);
    assert_eq!(process(&a, &reply(&first, 6, 0, 84)), sys::CHRONY_OK);
    // A new question: the earlier sequence's (duplicate) reply must be ignored.
    assert_eq!(a.request_record("sourcestats", 1), sys::CHRONY_OK);
    let second = recv(srv);
    let stale = reply(&first, 6, 0, 84);
    assert!(!is_reply_to(&a, &stale));
    assert_eq!(process(&a, &stale), sys::CHRONY_OK);
    assert!(a.needs_response(), "still waiting after the stale reply");
    assert_eq!(a.number_fields(), 0);
    assert!(is_reply_to(&a, &reply(&second, 6, 0, 84)));
}

#[test]
fn a_chained_request_sends_its_follow_up() {
    let (client, server) = common::socket_pair();
    let (fd, srv) = (client.as_raw_fd(), server.as_raw_fd());
    let a = Conn::on_fd(fd);
    assert_eq!(a.request_record("ntpdata", 0), sys::CHRONY_OK);
    let lookup = recv(srv);
    assert_eq!(be16(&lookup, 4), 34, "the sourcestats lookup first");
    let mut r = reply(&lookup, 6, 0, 84);
    put_ip(&mut r, 32, &[10, 1, 2, 3], 1);
    assert_eq!(process(&a, &r), sys::CHRONY_OK);
    assert!(a.needs_response(), "second round trip pending");
    let req = recv(srv);
    assert_eq!(be16(&req, 4), 57, "then ntpdata by address");
    assert_eq!(&req[20..40], &r[32..52]);
    assert!(
        !is_reply_to(&a, &r),
        "the lookup's reply no longer answers it"
    );
    let d = reply(&req, 16, 0, 152);
    assert!(is_reply_to(&a, &d));
    assert_eq!(process(&a, &d), sys::CHRONY_OK);
    assert!(!a.needs_response());
}

#[test]
fn bad_arguments_are_errors() {
    let d = [0u8; 8];
    // SAFETY: NULL is what is being tested; d is valid.
    unsafe {
        assert!(!sys::chrony_is_reply_to(
            std::ptr::null_mut(),
            d.as_ptr().cast(),
            8
        ));
        assert_eq!(
            sys::chrony_process_datagram(std::ptr::null_mut(), d.as_ptr().cast(), 8),
            sys::CHRONY_INVALID_ARGUMENT
        );
    }
    let (client, _server) = common::socket_pair();
    let a = Conn::on_fd(client.as_raw_fd());
    assert_eq!(process(&a, &d), sys::CHRONY_UNEXPECTED_CALL, "idle session");
}
