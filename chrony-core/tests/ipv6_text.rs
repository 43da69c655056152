//! IPv6 reference addresses are written exactly as chronyc writes them, which
//! is glibc's `inet_ntop` (Rust's `Display` differs for `::a.b.c.d`).

use std::ffi::CStr;
use std::net::{IpAddr, Ipv6Addr};

use chrony_core::ReferenceAddress;

unsafe extern "C" {
    // POSIX; the libc crate does not declare it.
    fn inet_ntop(
        af: libc::c_int,
        src: *const libc::c_void,
        dst: *mut libc::c_char,
        size: libc::socklen_t,
    ) -> *const libc::c_char;
}

/// glibc's text of an IPv6 address.
fn inet_ntop6(ip: &Ipv6Addr) -> String {
    let octets = ip.octets();
    let mut buf = [0 as libc::c_char; 64];
    // SAFETY: `octets` is a 16-byte in6_addr image, and `buf` is writable
    // with its length passed (64 > INET6_ADDRSTRLEN).
    let p = unsafe {
        inet_ntop(
            libc::AF_INET6,
            octets.as_ptr().cast(),
            buf.as_mut_ptr(),
            buf.len() as libc::socklen_t,
        )
    };
    assert!(!p.is_null(), "inet_ntop failed");
    // SAFETY: inet_ntop succeeded, so `buf` holds a NUL-terminated string.
    unsafe { CStr::from_ptr(buf.as_ptr()) }
        .to_string_lossy()
        .into_owned()
}

#[test]
fn ipv6_text_matches_inet_ntop() {
    let cases = [
        "::",
        "::1",
        "::2",
        "::1.2.3.4",
        "::ffff:1.2.3.4",
        "::ffff:0.0.0.0",
        "::ffff:0:1",
        "fe80::1",
        "2001:db8::1",
        "2001:db8:0:1:0:0:0:1",
        "2001:0:0:1:0:0:0:1",
        "1:0:1:0:1:0:1:0",
        "1::",
        "1:2:3:4:5:6:7:8",
        "0:0:0:0:0:1:0:0",
        "64:ff9b::1.2.3.4",
        "::102:0",
        "0:0:0:0:1::",
    ];
    for case in cases {
        let ip: Ipv6Addr = case.parse().unwrap();
        let ours = ReferenceAddress::Ip(IpAddr::V6(ip)).to_string();
        assert_eq!(ours, inet_ntop6(&ip), "{case}");
    }
}
