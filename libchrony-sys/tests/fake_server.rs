//! What a real chronyd cannot be made to do: a fake server on the other end
//! of a socketpair reads each request and answers with crafted bytes
//! (garbage, short, foreign, every status, odd values). Offsets are those of
//! chronyd's protocol (fact sheet §5, §6). What only this crate's C library
//! guarantees (`sys::Guarantee`) is checked where the linked library gives
//! it; elsewhere the test says on stderr what it did not check.

mod common;

use std::os::fd::{AsRawFd, OwnedFd};
use std::time::Duration;

use common::tables::{self, Spec, assert_layout};
use common::{Conn, TIMEOUT, error_string, given, knows_clients, knows_sourcename, poll_in};
use libchrony_sys::{self as sys, Guarantee};

/// A session on one end of an AF_UNIX SOCK_SEQPACKET pair; the test plays chronyd on the other.
struct Fake {
    conn: Conn,
    _client: OwnedFd,
    server: OwnedFd,
}

impl Fake {
    fn new() -> Fake {
        let (client, server) = common::socket_pair();
        Fake {
            conn: Conn::on_fd(client.as_raw_fd()),
            _client: client,
            server,
        }
    }

    /// The next request the library sent (fails the test after TIMEOUT).
    fn request(&self) -> Vec<u8> {
        assert!(
            poll_in(self.server.as_raw_fd(), TIMEOUT),
            "no request within {TIMEOUT:?}"
        );
        let mut buf = vec![0u8; 2048];
        // SAFETY: buf is valid for buf.len() bytes.
        let n = unsafe {
            libc::recv(
                self.server.as_raw_fd(),
                buf.as_mut_ptr().cast(),
                buf.len(),
                0,
            )
        };
        assert!(n >= 0, "recv: errno {}", common::errno());
        buf.truncate(n as usize);
        buf
    }

    fn assert_no_request(&self) {
        assert!(
            !poll_in(self.server.as_raw_fd(), Duration::from_millis(50)),
            "unexpected request sent"
        );
    }

    fn send(&self, bytes: &[u8]) {
        // SAFETY: bytes is valid for bytes.len() bytes.
        let n = unsafe {
            libc::send(
                self.server.as_raw_fd(),
                bytes.as_ptr().cast(),
                bytes.len(),
                0,
            )
        };
        assert_eq!(n, bytes.len() as isize, "send: errno {}", common::errno());
    }

    /// Sends `bytes` and lets the library process it (it must be readable at once).
    fn deliver(&self, bytes: &[u8]) -> sys::chrony_err {
        self.send(bytes);
        assert!(poll_in(self.conn.fd, TIMEOUT), "reply not readable");
        self.conn.process()
    }

    /// Sends `bytes`, which the library must ignore: still waiting, no record.
    fn deliver_ignored(&self, bytes: &[u8], what: &str) {
        assert_eq!(self.deliver(bytes), sys::CHRONY_OK, "{what}");
        assert!(self.conn.needs_response(), "{what}: must be ignored");
        assert_eq!(self.conn.number_fields(), 0, "{what}");
    }
}

use chronyd_fixture::wire::{
    REPLY_HEADER_LEN as HDR, get_u16 as be16, get_u32 as be32, put_ip as put_addr,
    put_u32 as put32, reply,
};

/// Checks a request header: version 6, type 1, res 0, the command, the attempt, zero pads.
fn assert_request(req: &[u8], command: u16, len: usize, attempt: u16) {
    assert_eq!(req.len(), len, "request length of command {command}");
    assert_eq!(&req[0..4], &[6, 1, 0, 0], "version, type, res1, res2");
    assert_eq!(be16(req, 4), command, "command");
    assert_eq!(be16(req, 6), attempt, "attempt");
    assert_eq!(&req[12..20], &[0; 8], "pad1, pad2");
}

/// Requests `report` record `record`, answers with a zero-filled reply `code` of
/// `len` bytes (after `fill`), and returns the library's verdict.
fn exchange(
    fake: &Fake,
    report: &str,
    record: i32,
    code: u16,
    len: usize,
    fill: impl FnOnce(&mut [u8]),
) -> sys::chrony_err {
    assert_eq!(fake.conn.request_record(report, record), sys::CHRONY_OK);
    let req = fake.request();
    let mut r = reply(&req, code, 0, len);
    fill(&mut r);
    fake.deliver(&r)
}

/// Completes a chained (address-keyed) record: answers the sourcestats lookup
/// with an IPv4 address, checks the second request carries it, answers `code`.
fn chained(
    fake: &Fake,
    report: &str,
    command: u16,
    req_len: usize,
    code: u16,
    len: usize,
) -> sys::chrony_err {
    assert_eq!(fake.conn.request_record(report, 0), sys::CHRONY_OK);
    let lookup = fake.request();
    assert_request(&lookup, 34, 84, 0);
    assert_eq!(be32(&lookup, 20), 0, "source index");
    let mut r = reply(&lookup, 6, 0, 84);
    put_addr(&mut r, 32, &[10, 1, 2, 3], 1);
    assert_eq!(fake.deliver(&r), sys::CHRONY_OK);
    assert!(fake.conn.needs_response(), "second round trip pending");
    let req = fake.request();
    assert_request(&req, command, req_len, 0);
    assert_eq!(&req[20..40], &r[32..52], "the address from sourcestats");
    fake.deliver(&reply(&req, code, 0, len))
}

#[test]
fn requests_are_padded_to_their_longest_reply() {
    let fake = Fake::new();
    for (report, record, command, len) in [
        ("tracking", 0, 33, 104),
        ("sources", 3, 15, 76),
        ("sourcestats", 2, 34, 84),
        ("selectdata", 1, 69, 76),
        ("activity", 0, 44, 48),
        ("serverstats", 0, 54, 196),
        ("rtcdata", 0, 35, 56),
        ("smoothing", 0, 51, 52),
        // Chained: the first request is a sourcestats lookup.
        ("ntpdata", 5, 34, 84),
        ("authdata", 6, 34, 84),
    ] {
        assert_eq!(fake.conn.request_record(report, record), sys::CHRONY_OK);
        let req = fake.request();
        assert_request(&req, command, len, 0);
        if record != 0 || report == "sources" {
            assert_eq!(be32(&req, 20), record as u32, "{report} index");
        }
        assert!(req[24..].iter().all(|&b| b == 0), "{report}: zero padding");
    }
    assert_eq!(fake.conn.request_count("sources"), sys::CHRONY_OK);
    assert_request(&fake.request(), 14, 32, 0);

    let fake = Fake::new();
    assert_eq!(chained(&fake, "ntpdata", 57, 172, 16, 152), sys::CHRONY_OK);
    let fake = Fake::new();
    assert_eq!(chained(&fake, "authdata", 67, 52, 20, 52), sys::CHRONY_OK);
    if knows_sourcename() {
        // Padded to the 284-byte reply, though its IPAddr ends at byte 40.
        let fake = Fake::new();
        assert_eq!(
            chained(&fake, "sourcename", 65, 284, 19, 284),
            sys::CHRONY_OK
        );
    }
}

/// Checks a clients request: command 68, padded to the 520-byte reply,
/// from slot `first`, for `n` clients, any hits, and never a reset.
fn assert_clients_request(req: &[u8], first: u32, n: u32) {
    assert_request(req, 68, 520, 0);
    assert_eq!(be32(req, 20), first, "first_index");
    assert_eq!(be32(req, 24), n, "n_clients");
    assert_eq!(be32(req, 28), 0, "min_hits");
    assert_eq!(
        be32(req, 32),
        0,
        "reset: never, it zeroes chronyd's counters"
    );
    assert!(req[36..].iter().all(|&b| b == 0), "zero padding");
}

/// A clients reply to `req`: the table's slots, the next slot, the records.
fn clients_reply(req: &[u8], n_indices: u32, next: u32, n_clients: u32) -> Vec<u8> {
    let mut r = reply(req, 21, 0, 520);
    put32(&mut r, 28, n_indices);
    put32(&mut r, 32, next);
    put32(&mut r, 36, n_clients);
    r
}

#[test]
fn clients_count_is_the_table_size_in_slots() {
    if !knows_clients() {
        return;
    }
    let fake = Fake::new();
    assert_eq!(fake.conn.request_count("clients"), sys::CHRONY_OK);
    let req = fake.request();
    assert_clients_request(&req, 0, 0);
    // 16 slots, none examined (no client asked for).
    assert_eq!(fake.deliver(&clients_reply(&req, 16, 0, 0)), sys::CHRONY_OK);
    assert_eq!(fake.conn.number_records(), 16);
}

#[test]
fn clients_walk_follows_next_index_past_empty_slots() {
    if !knows_clients() {
        return;
    }
    let fake = Fake::new();
    // Slot 0 asked for; the first client is in slot 2, so next is 3.
    assert_eq!(fake.conn.request_record("clients", 0), sys::CHRONY_OK);
    let req = fake.request();
    assert_clients_request(&req, 0, 1);
    let mut r = clients_reply(&req, 16, 3, 1);
    put_addr(&mut r, 40, &[127, 0, 0, 1], 1);
    for (k, off) in (60..100).step_by(4).enumerate() {
        if !(84..88).contains(&off) {
            put32(&mut r, off, 100 + k as u32);
        }
    }
    r[84..88].copy_from_slice(&[0xfb, 127, 3, 0x80]);
    put32(&mut r, 92, u32::MAX);
    assert_eq!(fake.deliver(&r), sys::CHRONY_OK);
    let rec = fake.conn.fields();
    assert_layout(&rec, tables::CLIENTS, "clients");
    assert_eq!(rec.s("address").as_deref(), Some("127.0.0.1"));
    assert_eq!(rec.u("NTP hits"), 100);
    assert_eq!(rec.u("NTS-KE hits"), 101);
    assert_eq!(rec.u("command hits"), 102);
    assert_eq!(rec.u("NTP drops"), 103);
    assert_eq!(rec.u("NTS-KE drops"), 104);
    assert_eq!(rec.u("command drops"), 105);
    assert_eq!(rec.i("NTP interval"), -5);
    assert_eq!(rec.i("NTS-KE interval"), 127, "no data");
    assert_eq!(rec.i("command interval"), 3);
    assert_eq!(rec.i("NTP timeout interval"), -128);
    assert_eq!(rec.u("last NTP hit ago"), 107);
    assert_eq!(rec.u("last NTS-KE hit ago"), u64::from(u32::MAX), "never");
    assert_eq!(rec.u("last command hit ago"), 109);
    assert_eq!(rec.u("next index"), 3);

    // From slot 3 on the table is empty: a record with no fields.
    assert_eq!(fake.conn.request_record("clients", 3), sys::CHRONY_OK);
    let req = fake.request();
    assert_clients_request(&req, 3, 1);
    assert_eq!(
        fake.deliver(&clients_reply(&req, 16, 16, 0)),
        sys::CHRONY_OK
    );
    assert_eq!(fake.conn.number_fields(), 0);
}

#[test]
fn clients_reply_that_does_not_move_on_is_invalid() {
    if !knows_clients() {
        return;
    }
    // A next index at or before the slot asked for would loop a walker;
    // more records than the one asked for is not an answer to the request.
    for (next, n_clients) in [(5, 1), (4, 1), (0, 1), (9, 2), (9, 8)] {
        let fake = Fake::new();
        assert_eq!(fake.conn.request_record("clients", 5), sys::CHRONY_OK);
        let req = fake.request();
        let r = clients_reply(&req, 16, next, n_clients);
        assert_eq!(
            fake.deliver(&r),
            sys::CHRONY_INVALID_RESPONSE,
            "next {next}, {n_clients} clients"
        );
        assert_eq!(fake.conn.number_fields(), 0);
    }
}

#[test]
fn clients_inactive_log_is_disabled_and_short_reply_invalid() {
    if !knows_clients() {
        return;
    }
    // STT_INACTIVE (15), as with noclientlog, in a full-length clients reply: a real chronyd sends
    // it header only (RPY_NULL), which real_daemon.rs tests against a chronyd with noclientlog.
    let fake = Fake::new();
    assert_eq!(fake.conn.request_record("clients", 0), sys::CHRONY_OK);
    let req = fake.request();
    assert_eq!(
        fake.deliver(&reply(&req, 21, 15, 520)),
        sys::CHRONY_DISABLED
    );
    // One byte short of the 520-byte reply.
    let fake = Fake::new();
    assert_eq!(fake.conn.request_record("clients", 0), sys::CHRONY_OK);
    let req = fake.request();
    let r = clients_reply(&req, 16, 1, 1);
    assert_eq!(fake.deliver(&r[..519]), sys::CHRONY_INVALID_RESPONSE);
}

/// Reads sourcename record `index`: answers the sourcestats lookup with the
/// address `addr` of `family`, checks that the second request is command 65
/// padded to 284 bytes and carries that address, and answers it with a reply
/// 19 of `len` bytes and `status`, after `fill`. Returns the library's verdict.
fn source_name(
    fake: &Fake,
    index: i32,
    (addr, family): (&[u8], u16),
    (status, len): (u16, usize),
    fill: impl FnOnce(&mut [u8]),
) -> sys::chrony_err {
    assert_eq!(
        fake.conn.request_record("sourcename", index),
        sys::CHRONY_OK
    );
    let lookup = fake.request();
    assert_request(&lookup, 34, 84, 0);
    assert_eq!(be32(&lookup, 20), index as u32, "source index");
    let mut r = reply(&lookup, 6, 0, 84);
    put_addr(&mut r, 32, addr, family);
    assert_eq!(fake.deliver(&r), sys::CHRONY_OK);
    assert!(fake.conn.needs_response(), "second round trip pending");
    let req = fake.request();
    assert_request(&req, 65, 284, 0);
    assert_eq!(&req[20..40], &r[32..52], "the address from sourcestats");
    assert!(req[40..].iter().all(|&b| b == 0), "zero padding");
    let mut answer = reply(&req, 19, status, len);
    fill(&mut answer);
    fake.deliver(&answer)
}

/// `name` at the name's offset (28) of a sourcename reply.
fn put_name(b: &mut [u8], name: &[u8]) {
    b[28..28 + name.len()].copy_from_slice(name);
}

#[test]
fn sourcename_asks_by_the_address_of_the_indexed_source() {
    if !knows_sourcename() {
        // libchrony 0.2: an unknown report, and nothing is sent.
        let fake = Fake::new();
        assert_eq!(
            fake.conn.request_record("sourcename", 0),
            sys::CHRONY_UNKNOWN_REPORT
        );
        assert_eq!(
            fake.conn.request_count("sourcename"),
            sys::CHRONY_UNKNOWN_REPORT
        );
        fake.assert_no_request();
        return;
    }
    let v6 = [
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x7b,
    ];
    let cases: [(&[u8], u16, &str); 3] = [
        (&[192, 0, 2, 7], 1, "192.0.2.7"),
        (&v6, 2, "2001:db8::7b"),
        // An unresolved source has an ID address, and chronyd its name.
        (&[0, 0, 0, 5], 3, "ID#0000000005"),
    ];
    for (addr, family, text) in cases {
        let fake = Fake::new();
        let r = source_name(&fake, 3, (addr, family), (0, 284), |b| {
            put_name(b, b"pool.ntp.org")
        });
        assert_eq!(r, sys::CHRONY_OK, "{text}");
        assert!(!fake.conn.needs_response());
        let rec = fake.conn.fields();
        assert_layout(&rec, tables::SOURCENAME, "sourcename");
        assert_eq!(rec.s("name").as_deref(), Some("pool.ntp.org"), "{text}");
        assert_eq!(rec.s("address").as_deref(), Some(text));
        assert_eq!(rec.get("address").content, sys::CHRONY_CONTENT_ADDRESS);
        // The record ends with the next request.
        assert_eq!(
            exchange(&fake, "tracking", 0, 5, 104, |_| ()),
            sys::CHRONY_OK
        );
        assert_eq!(fake.conn.field_index("name"), -1);
    }
    // The count is the number of sources.
    let fake = Fake::new();
    assert_eq!(fake.conn.request_count("sourcename"), sys::CHRONY_OK);
    let req = fake.request();
    assert_request(&req, 14, 32, 0);
    let mut r = reply(&req, 2, 0, 32);
    put32(&mut r, 28, 4);
    assert_eq!(fake.deliver(&r), sys::CHRONY_OK);
    assert_eq!(fake.conn.number_records(), 4);
}

#[test]
fn sourcename_names_must_end_within_256_bytes() {
    if !knows_sourcename() {
        return;
    }
    let ip: (&[u8], u16) = (&[10, 0, 0, 1], 1);
    let longest = vec![b'a'; 255];
    for (name, len) in [(&b""[..], 284), (&longest[..], 284), (b"x", 400)] {
        let fake = Fake::new();
        let r = source_name(&fake, 0, ip, (0, len), |b| put_name(b, name));
        assert_eq!(r, sys::CHRONY_OK, "{} bytes", name.len());
        let got = fake.conn.fields().s("name").unwrap();
        assert_eq!(got.as_bytes(), name);
    }
    // chronyd cuts a name of 256 bytes or more to 256 with no NUL: no name.
    let fake = Fake::new();
    let r = source_name(&fake, 0, ip, (0, 284), |b| put_name(b, &[b'a'; 256]));
    assert_eq!(r, sys::CHRONY_INVALID_RESPONSE);
    assert!(!fake.conn.needs_response());
    assert_eq!(fake.conn.number_fields(), 0);
    // Even when bytes after the 256 (a longer datagram) hold a NUL.
    let fake = Fake::new();
    let r = source_name(&fake, 0, ip, (0, 300), |b| put_name(b, &[b'a'; 256]));
    assert_eq!(r, sys::CHRONY_INVALID_RESPONSE);
    // A reply shorter than 284 bytes.
    let fake = Fake::new();
    let r = source_name(&fake, 0, ip, (0, 283), |b| put_name(b, b"x"));
    assert_eq!(r, sys::CHRONY_INVALID_RESPONSE);
    assert_eq!(fake.conn.number_fields(), 0);
}

#[test]
fn sourcename_of_an_address_chronyd_does_not_know() {
    if !knows_sourcename() {
        return;
    }
    // The source went away between the lookup and the name: chronyd's
    // status 4 (header-only RPY_NULL), or a newer chronyd's empty success.
    let want_empty = if given(Guarantee::NoSuchSource) {
        sys::CHRONY_NO_SUCH_SOURCE
    } else {
        sys::CHRONY_NEW_SERVER
    };
    for (status, want) in [(4, no_such_source()), (0, want_empty)] {
        let fake = Fake::new();
        let r = source_name(&fake, 1, (&[10, 0, 0, 9], 1), (status, HDR), |b| {
            put_u16_at(b, 6, 1)
        });
        assert_eq!(r, want, "status {status}");
        assert!(!fake.conn.needs_response());
        assert_eq!(fake.conn.number_fields(), 0);
        fake.assert_no_request();
    }
}

fn put_u16_at(b: &mut [u8], off: usize, v: u16) {
    b[off..off + 2].copy_from_slice(&v.to_be_bytes());
}

#[test]
fn every_reply_format_has_the_fact_sheet_fields() {
    let cases: Vec<(&str, u16, usize, Vec<Spec>)> = vec![
        ("tracking", 5, 104, tables::TRACKING.to_vec()),
        ("sources", 3, 76, tables::SOURCES.to_vec()),
        ("sourcestats", 6, 84, tables::SOURCESTATS.to_vec()),
        ("selectdata", 23, 76, tables::SELECTDATA.to_vec()),
        ("activity", 12, 48, tables::ACTIVITY.to_vec()),
        ("serverstats", 14, 48, tables::SERVERSTATS14.to_vec()),
        ("serverstats", 22, 60, tables::SERVERSTATS22.to_vec()),
        ("serverstats", 24, 72, tables::serverstats24()),
        ("serverstats", 25, 196, tables::serverstats25()),
        ("rtcdata", 7, 56, tables::RTCDATA.to_vec()),
        ("smoothing", 13, 52, tables::SMOOTHING.to_vec()),
    ];
    for (report, code, len, spec) in cases {
        let fake = Fake::new();
        assert_eq!(
            exchange(&fake, report, 0, code, len, |_| ()),
            sys::CHRONY_OK,
            "{report} {code}"
        );
        assert!(!fake.conn.needs_response());
        assert_eq!(
            fake.conn.number_fields(),
            spec.len() as i32,
            "{report} {code}"
        );
        let rec = fake.conn.fields();
        assert_layout(&rec, &spec, &format!("{report} reply {code}"));
        // Zero-filled: every address is unspecified (NULL string, content NONE).
        for f in &rec.0 {
            if f.ty == sys::CHRONY_TYPE_STRING {
                assert_eq!(f.value, common::Value::S(None), "{report}: {}", f.name);
                assert_eq!(f.content, sys::CHRONY_CONTENT_NONE);
            }
        }
    }
    for (code, len, spec) in [
        (16, 152, tables::ntpdata16()),
        (26, 172, tables::ntpdata26()),
    ] {
        let fake = Fake::new();
        assert_eq!(
            chained(&fake, "ntpdata", 57, 172, code, len),
            sys::CHRONY_OK
        );
        assert_layout(&fake.conn.fields(), &spec, &format!("ntpdata reply {code}"));
    }
    let fake = Fake::new();
    assert_eq!(chained(&fake, "authdata", 67, 52, 20, 52), sys::CHRONY_OK);
    assert_layout(&fake.conn.fields(), tables::AUTHDATA, "authdata");

    // A reference clock in sources: field 0 is its refid (the first 4 address bytes).
    let fake = Fake::new();
    let r = exchange(&fake, "sources", 0, 3, 76, |b| {
        put_addr(b, 28, b"GPS\0", 0);
        b[54..56].copy_from_slice(&2u16.to_be_bytes());
    });
    assert_eq!(r, sys::CHRONY_OK);
    let rec = fake.conn.fields();
    let mut spec = tables::SOURCES.to_vec();
    spec[0] = (
        "reference ID",
        sys::CHRONY_TYPE_UINTEGER,
        sys::CHRONY_CONTENT_REFERENCE_ID,
    );
    assert_layout(&rec, &spec, "sources of a refclock");
    assert_eq!(rec.u("reference ID"), 0x4750_5300);
}

#[test]
fn enum_and_flag_constant_names() {
    type Constants = &'static [(&'static str, u64, &'static str)];
    let groups: [(&str, u16, usize, Constants); 4] = [
        ("tracking", 5, 104, tables::TRACKING_CONSTANTS),
        ("sources", 3, 76, tables::SOURCES_CONSTANTS),
        ("selectdata", 23, 76, tables::SELECTDATA_CONSTANTS),
        ("smoothing", 13, 52, tables::SMOOTHING_CONSTANTS),
    ];
    let check = |fake: &Fake, report: &str, constants: &[(&str, u64, &str)]| {
        for &(field, value, name) in constants {
            let i = fake.conn.field_index(field);
            assert!(i >= 0, "{report}: field {field}");
            assert_eq!(
                fake.conn.constant_name(i, value).as_deref(),
                Some(name),
                "{report} {field} {value:#x}"
            );
        }
        for &(r, field, value) in tables::UNNAMED {
            if r == report {
                let i = fake.conn.field_index(field);
                assert_eq!(
                    fake.conn.constant_name(i, value),
                    None,
                    "{report} {field} {value:#x}"
                );
            }
        }
    };
    for (report, code, len, constants) in groups {
        let fake = Fake::new();
        assert_eq!(
            exchange(&fake, report, 0, code, len, |_| ()),
            sys::CHRONY_OK
        );
        check(&fake, report, constants);
    }
    let fake = Fake::new();
    assert_eq!(chained(&fake, "authdata", 67, 52, 20, 52), sys::CHRONY_OK);
    check(&fake, "authdata", tables::AUTHDATA_CONSTANTS);
    let fake = Fake::new();
    assert_eq!(chained(&fake, "ntpdata", 57, 172, 26, 172), sys::CHRONY_OK);
    check(&fake, "ntpdata", tables::NTPDATA_CONSTANTS);

    // Fields without constants name nothing.
    let fake = Fake::new();
    assert_eq!(
        exchange(&fake, "tracking", 0, 5, 104, |_| ()),
        sys::CHRONY_OK
    );
    for field in ["reference ID", "stratum", "skew"] {
        let i = fake.conn.field_index(field);
        assert_eq!(fake.conn.constant_name(i, 0), None, "{field}");
    }
    assert_eq!(fake.conn.constant_name(-1, 0), None);
    assert_eq!(fake.conn.constant_name(14, 0), None);
}

#[test]
fn malformed_stale_and_foreign_datagrams_are_ignored() {
    let fake = Fake::new();
    assert_eq!(fake.conn.request_record("tracking", 0), sys::CHRONY_OK);
    let req = fake.request();
    let good = reply(&req, 5, 0, 104);

    fake.deliver_ignored(&[0xAA; 104], "garbage");
    fake.deliver_ignored(b"x", "one byte");
    fake.deliver_ignored(&good[..27], "shorter than a header");
    let mut variants: Vec<(&str, Vec<u8>)> = Vec::new();
    for (what, off, value) in [
        ("version 5", 0, 5u8),
        ("version 7", 0, 7),
        ("request packet type", 1, 1),
        ("res1", 2, 1),
        ("res2", 3, 1),
        ("other command", 5, 34),
        ("other sequence", 16, good[16].wrapping_add(1)),
        ("other sequence (last byte)", 19, good[19] ^ 0x80),
    ] {
        let mut bad = good.clone();
        bad[off] = value;
        variants.push((what, bad));
    }
    for (what, bad) in &variants {
        fake.deliver_ignored(bad, what);
    }
    // Then the right reply is accepted.
    assert_eq!(fake.deliver(&good), sys::CHRONY_OK);
    assert!(!fake.conn.needs_response());
    assert_eq!(fake.conn.number_fields(), 14);

    // A duplicate of a finished exchange is stale for the next request.
    assert_eq!(fake.conn.request_record("tracking", 0), sys::CHRONY_OK);
    let req2 = fake.request();
    assert_ne!(
        &req2[8..12],
        &req[8..12],
        "every request has a new sequence"
    );
    fake.deliver_ignored(&good, "reply to the previous request");
    assert_eq!(fake.deliver(&reply(&req2, 5, 0, 104)), sys::CHRONY_OK);
    assert_eq!(fake.conn.number_fields(), 14);
}

/// What "no such source" (status 4) gives: `CHRONY_NO_SUCH_SOURCE` with the
/// guarantee, libchrony 0.2's generic `CHRONY_UNEXPECTED_STATUS` without.
fn no_such_source() -> sys::chrony_err {
    if given(Guarantee::NoSuchSource) {
        sys::CHRONY_NO_SUCH_SOURCE
    } else {
        sys::CHRONY_UNEXPECTED_STATUS
    }
}

#[test]
fn every_status_maps_to_its_error() {
    for status in 1u16..=25 {
        let want = match status {
            2 => sys::CHRONY_UNAUTHORIZED,
            4 => no_such_source(),
            6 | 13 => sys::CHRONY_DISABLED,
            // STT_INACTIVE (noclientlog): this library's, with its clients report.
            15 if sys::knows_report(sys::CLIENTS) => sys::CHRONY_DISABLED,
            3 => sys::CHRONY_OLD_SERVER,
            18 | 19 => sys::CHRONY_NEW_SERVER,
            _ => sys::CHRONY_UNEXPECTED_STATUS,
        };
        let fake = Fake::new();
        assert_eq!(fake.conn.request_record("tracking", 0), sys::CHRONY_OK);
        let req = fake.request();
        // Error replies are RPY_NULL, header only.
        assert_eq!(
            fake.deliver(&reply(&req, 1, status, HDR)),
            want,
            "status {status}"
        );
        assert!(!fake.conn.needs_response());
        assert_eq!(fake.conn.number_fields(), 0);
        assert_eq!(fake.conn.field_name(0), None);
    }
    // 0xFFFF too.
    let fake = Fake::new();
    assert_eq!(fake.conn.request_record("sources", 0), sys::CHRONY_OK);
    let req = fake.request();
    assert_eq!(
        fake.deliver(&reply(&req, 1, 0xFFFF, HDR)),
        sys::CHRONY_UNEXPECTED_STATUS
    );
}

#[test]
fn unexpected_reply_code_means_a_newer_server() {
    for code in [1u16, 6, 27, 0xFFFF] {
        let fake = Fake::new();
        assert_eq!(
            exchange(&fake, "tracking", 0, code, 104, |_| ()),
            sys::CHRONY_NEW_SERVER,
            "code {code}"
        );
        assert!(!fake.conn.needs_response());
        assert_eq!(fake.conn.number_fields(), 0);
    }
    // serverstats accepts its four codes, nothing else.
    let fake = Fake::new();
    assert_eq!(
        exchange(&fake, "serverstats", 0, 26, 196, |_| ()),
        sys::CHRONY_NEW_SERVER
    );
}

#[test]
fn truncated_replies_are_invalid() {
    for (report, code, len) in [
        ("tracking", 5, 103),
        ("tracking", 5, HDR),
        ("sources", 3, 75),
        ("activity", 12, 47),
        ("serverstats", 25, 195),
        ("serverstats", 14, 47),
        ("smoothing", 13, 51),
    ] {
        let fake = Fake::new();
        assert_eq!(
            exchange(&fake, report, 0, code, len, |_| ()),
            sys::CHRONY_INVALID_RESPONSE,
            "{report} {code} of {len} bytes"
        );
        assert!(!fake.conn.needs_response());
        assert_eq!(fake.conn.number_fields(), 0);
    }
    // A truncated sourcestats lookup of a chained record.
    let fake = Fake::new();
    assert_eq!(fake.conn.request_record("ntpdata", 0), sys::CHRONY_OK);
    let req = fake.request();
    assert_eq!(
        fake.deliver(&reply(&req, 6, 0, 83)),
        sys::CHRONY_INVALID_RESPONSE
    );
    fake.assert_no_request();
    // A truncated count reply.
    let fake = Fake::new();
    assert_eq!(fake.conn.request_count("sources"), sys::CHRONY_OK);
    let req = fake.request();
    assert_eq!(
        fake.deliver(&reply(&req, 2, 0, 31)),
        sys::CHRONY_INVALID_RESPONSE
    );
    // Longer than needed is fine.
    let fake = Fake::new();
    assert_eq!(
        exchange(&fake, "tracking", 0, 5, 200, |_| ()),
        sys::CHRONY_OK
    );
}

#[test]
fn signed_fields_are_sign_extended() {
    // INT8 fields are sign-extended by libchrony 0.2 too; INT16 ones only
    // with the guarantee.
    let int16 = given(Guarantee::SignedInt16);
    for (raw, want) in [
        (0xFFFCu16, -4i64),
        (0xFFFE, -2),
        (0x8000, -32768),
        (6, 6),
        (0x7FFF, 32767),
    ]
    .into_iter()
    .filter(|_| int16)
    {
        let fake = Fake::new();
        let r = exchange(&fake, "sources", 0, 3, 76, |b| {
            b[48..50].copy_from_slice(&raw.to_be_bytes())
        });
        assert_eq!(r, sys::CHRONY_OK);
        assert_eq!(fake.conn.fields().i("poll"), want, "poll {raw:#06x}");
    }
    let fake = Fake::new();
    assert_eq!(chained(&fake, "ntpdata", 57, 172, 16, 152), sys::CHRONY_OK);
    // Re-run with values: poll -6, precision -25.
    assert_eq!(fake.conn.request_record("ntpdata", 0), sys::CHRONY_OK);
    let lookup = fake.request();
    let mut r = reply(&lookup, 6, 0, 84);
    put_addr(&mut r, 32, &[10, 1, 2, 3], 1);
    assert_eq!(fake.deliver(&r), sys::CHRONY_OK);
    let req = fake.request();
    let mut r = reply(&req, 16, 0, 152);
    r[74] = (-6i8) as u8;
    r[75] = (-25i8) as u8;
    assert_eq!(fake.deliver(&r), sys::CHRONY_OK);
    let rec = fake.conn.fields();
    assert_eq!(rec.i("poll"), -6);
    assert_eq!(rec.i("precision"), -25);
}

#[test]
fn timespec_decoding() {
    let plain = [
        (0u32, 0u32, 0u32, (0i64, 0i64)),
        (0, 1_795_959_909, 214_976_262, (1_795_959_909, 214_976_262)),
        (1, 2, 5, ((1i64 << 32) + 2, 5)),
    ];
    let as_chronyc = [
        // A server with a 32-bit time_t: no high word.
        (0x7fff_ffff, 1000, 5, (1000, 5)),
        // Nanoseconds clamped as chronyc does.
        (0x7fff_ffff, 1000, 2_000_000_000, (1000, 999_999_999)),
        (0, 7, 1_000_000_000, (7, 999_999_999)),
    ];
    let chronyc = given(Guarantee::ChronycTimespecs);
    for (high, low, nsec, want) in plain
        .into_iter()
        .chain(as_chronyc.into_iter().filter(|_| chronyc))
    {
        let fake = Fake::new();
        let r = exchange(&fake, "tracking", 0, 5, 104, |b| {
            put32(b, 56, high);
            put32(b, 60, low);
            put32(b, 64, nsec);
        });
        assert_eq!(r, sys::CHRONY_OK);
        assert_eq!(
            fake.conn.fields().t("reference time"),
            want,
            "{high:#x} {low} {nsec}"
        );
    }
}

/// Every exponent with coefficients at both ends of their range: the value is coef * 2^(exp - 25)
/// exactly (a power of two times 25 bits is exact in an f64, so Rust computes the same).
#[test]
fn float_decoding_every_exponent() {
    let coefs: [i32; 6] = [0, 1, -1, 0x00FF_FFFF, -(1 << 24), 0x0012_3457];
    let words: Vec<(u32, f64)> = (0..128i32)
        .flat_map(|exp| coefs.iter().map(move |&coef| (exp, coef)))
        .map(|(exp, coef)| {
            let word = ((exp as u32) << 25) | (coef as u32 & 0x01FF_FFFF);
            let signed_exp = if exp >= 64 { exp - 128 } else { exp };
            (word, f64::from(coef) * 2f64.powi(signed_exp - 25))
        })
        .collect();
    let got = decode_tracking_floats(&words.iter().map(|&(w, _)| w).collect::<Vec<_>>());
    for (&(w, want), got) in words.iter().zip(got) {
        assert_eq!(got.to_bits(), want.to_bits(), "{w:#010x}");
    }
}

#[test]
// The literals are the fact sheet's test vectors, digit for digit.
#[allow(clippy::excessive_precision)]
fn float_decoding_test_vectors() {
    let exact: [(u32, f64); 11] = [
        (0x0000_0000, 0.0),
        (0x0480_0000, 1.0),
        (0x0300_0000, -1.0),
        (0x0280_0000, 0.5),
        (0x1080_0000, 64.0),
        (0x1880_0000, 1024.0),
        (0x0AC5_70A4, 12.340000152587891),
        (0xDC86_37BD, 9.999_999_974_752_427e-7),
        (0x7EFF_FFFF, 4.611685743549481e18),
        (0x0100_0000, -0.5),
        (0xFFFF_FFFF, -(2f64.powi(-26))),
    ];
    let approx: [(u32, f64); 3] = [
        (0xEB7E_8C08, -0.000123456),
        (0xC889_705F, 1e-9),
        (0x7F00_0000, -4.611686018427388e18),
    ];
    let words: Vec<(u32, f64, bool)> = exact
        .iter()
        .map(|&(w, v)| (w, v, true))
        .chain(approx.iter().map(|&(w, v)| (w, v, false)))
        .collect();
    let got = decode_tracking_floats(&words.iter().map(|&(w, _, _)| w).collect::<Vec<_>>());
    for (&(w, want, is_exact), got) in words.iter().zip(got) {
        if is_exact {
            assert_eq!(got, want, "{w:#010x}");
        } else {
            assert!(
                ((got - want) / want).abs() < 1e-6,
                "{w:#010x}: {got} vs {want}"
            );
        }
    }
}

/// The nine float fields of a tracking reply (at 68..104), in order.
const TRACKING_FLOATS: [&str; 9] = [
    "current correction",
    "last offset",
    "RMS offset",
    "frequency offset",
    "residual frequency",
    "skew",
    "root delay",
    "root dispersion",
    "last update interval",
];

/// Each of `words` decoded by the C library as a float field of a tracking reply sent by the
/// fake server, nine to a reply.
fn decode_tracking_floats(words: &[u32]) -> Vec<f64> {
    let mut decoded = Vec::with_capacity(words.len());
    for chunk in words.chunks(TRACKING_FLOATS.len()) {
        let fake = Fake::new();
        let r = exchange(&fake, "tracking", 0, 5, 104, |b| {
            for (i, &w) in chunk.iter().enumerate() {
                put32(b, 68 + 4 * i, w);
            }
        });
        assert_eq!(r, sys::CHRONY_OK);
        let rec = fake.conn.fields();
        decoded.extend((0..chunk.len()).map(|i| rec.f(TRACKING_FLOATS[i])));
    }
    decoded
}

#[test]
fn resend_increments_attempt_with_a_new_sequence() {
    if !given(Guarantee::Resend) {
        return;
    }
    let fake = Fake::new();
    let mut seqs = Vec::new();
    let mut first = Vec::new();
    for attempt in 0..4u16 {
        assert_eq!(fake.conn.request_record("tracking", 0), sys::CHRONY_OK);
        let req = fake.request();
        assert_request(&req, 33, 104, attempt);
        if attempt == 0 {
            first = req.clone();
        } else {
            assert_eq!(&req[20..], &first[20..], "same request data");
        }
        assert!(
            !seqs.contains(&req[8..12].to_vec()),
            "new sequence each attempt"
        );
        seqs.push(req[8..12].to_vec());
        assert!(fake.conn.needs_response());
    }
    // The answer to an earlier attempt of the same request is accepted.
    assert_eq!(fake.deliver(&reply(&first, 5, 0, 104)), sys::CHRONY_OK);
    assert!(!fake.conn.needs_response());
    assert_eq!(fake.conn.number_fields(), 14);

    // After the exchange, a new request starts again at attempt 0.
    assert_eq!(fake.conn.request_record("tracking", 0), sys::CHRONY_OK);
    assert_request(&fake.request(), 33, 104, 0);
    // Another record (or report) while one is outstanding is a new request.
    assert_eq!(fake.conn.request_record("sources", 0), sys::CHRONY_OK);
    assert_request(&fake.request(), 15, 76, 0);
    assert_eq!(fake.conn.request_record("sources", 1), sys::CHRONY_OK);
    let last = fake.request();
    assert_request(&last, 15, 76, 0);
    assert_eq!(fake.conn.request_record("sources", 1), sys::CHRONY_OK);
    let resent = fake.request();
    assert_request(&resent, 15, 76, 1);
    // The answer to the newest attempt is accepted too.
    assert_eq!(fake.deliver(&reply(&resent, 3, 0, 76)), sys::CHRONY_OK);
    assert_eq!(fake.conn.number_fields(), 11);

    // Count requests resend the same way.
    assert_eq!(fake.conn.request_count("sources"), sys::CHRONY_OK);
    assert_request(&fake.request(), 14, 32, 0);
    assert_eq!(fake.conn.request_count("sources"), sys::CHRONY_OK);
    let req = fake.request();
    assert_request(&req, 14, 32, 1);
    let mut r = reply(&req, 2, 0, 32);
    put32(&mut r, 28, 3);
    assert_eq!(fake.deliver(&r), sys::CHRONY_OK);
    assert_eq!(fake.conn.number_records(), 3);

    // In the second step of a chained record, the outstanding ntpdata request is resent.
    assert_eq!(fake.conn.request_record("ntpdata", 0), sys::CHRONY_OK);
    let lookup = fake.request();
    let mut r = reply(&lookup, 6, 0, 84);
    put_addr(
        &mut r,
        32,
        &[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
        2,
    );
    assert_eq!(fake.deliver(&r), sys::CHRONY_OK);
    let second = fake.request();
    assert_request(&second, 57, 172, 0);
    assert_eq!(fake.conn.request_record("ntpdata", 0), sys::CHRONY_OK);
    let again = fake.request();
    assert_request(&again, 57, 172, 1);
    assert_eq!(&again[20..40], &second[20..40]);
    assert_ne!(&again[8..12], &second[8..12]);
    assert_eq!(fake.deliver(&reply(&again, 26, 0, 172)), sys::CHRONY_OK);
    assert_eq!(fake.conn.number_fields(), 33);
}

#[test]
fn an_empty_success_reply_to_an_index_is_no_such_source() {
    // chronyd after 4.8 answers an index it cannot report (the source was
    // removed meanwhile) with status 0 and a header-only RPY_NULL.
    let want = if given(Guarantee::NoSuchSource) {
        sys::CHRONY_NO_SUCH_SOURCE
    } else {
        sys::CHRONY_NEW_SERVER
    };
    for report in ["sources", "sourcestats", "selectdata"] {
        let fake = Fake::new();
        assert_eq!(fake.conn.request_record(report, 2), sys::CHRONY_OK);
        let req = fake.request();
        assert_eq!(fake.deliver(&reply(&req, 1, 0, HDR)), want, "{report}");
        assert!(!fake.conn.needs_response());
        assert_eq!(fake.conn.number_fields(), 0);
    }
    // For a report without an index, and for the count, it stays an
    // unexpected reply.
    let fake = Fake::new();
    assert_eq!(fake.conn.request_record("tracking", 0), sys::CHRONY_OK);
    let req = fake.request();
    assert_eq!(
        fake.deliver(&reply(&req, 1, 0, HDR)),
        sys::CHRONY_NEW_SERVER
    );
    let fake = Fake::new();
    assert_eq!(fake.conn.request_count("sources"), sys::CHRONY_OK);
    let req = fake.request();
    assert_eq!(
        fake.deliver(&reply(&req, 1, 0, HDR)),
        sys::CHRONY_NEW_SERVER
    );
}

#[test]
fn chained_record_of_a_reference_clock_has_no_fields() {
    let sourcename: &[&str] = if knows_sourcename() {
        &["sourcename"]
    } else {
        &[]
    };
    for &report in ["ntpdata", "authdata"].iter().chain(sourcename) {
        let fake = Fake::new();
        assert_eq!(fake.conn.request_record(report, 0), sys::CHRONY_OK);
        let lookup = fake.request();
        let mut r = reply(&lookup, 6, 0, 84);
        put_addr(&mut r, 32, &[], 0);
        assert_eq!(fake.deliver(&r), sys::CHRONY_OK);
        assert!(!fake.conn.needs_response());
        assert_eq!(fake.conn.number_fields(), 0);
        fake.assert_no_request();
    }
    // An error in the lookup ends the record.
    let fake = Fake::new();
    assert_eq!(fake.conn.request_record("ntpdata", 3), sys::CHRONY_OK);
    let lookup = fake.request();
    assert_eq!(fake.deliver(&reply(&lookup, 1, 4, HDR)), no_such_source());
    assert!(!fake.conn.needs_response());
    fake.assert_no_request();
}

#[test]
fn address_strings() {
    let cases: [(&[u8], u16, Option<&str>, sys::chrony_field_content); 8] = [
        (
            &[192, 0, 2, 1],
            1,
            Some("192.0.2.1"),
            sys::CHRONY_CONTENT_ADDRESS,
        ),
        // Each octet width, and the longest text (the bundled library writes it digit by digit).
        (
            &[0, 10, 100, 9],
            1,
            Some("0.10.100.9"),
            sys::CHRONY_CONTENT_ADDRESS,
        ),
        (
            &[255, 255, 255, 255],
            1,
            Some("255.255.255.255"),
            sys::CHRONY_CONTENT_ADDRESS,
        ),
        (
            &[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
            2,
            Some("2001:db8::1"),
            sys::CHRONY_CONTENT_ADDRESS,
        ),
        (
            &[0, 0, 0, 42],
            3,
            Some("ID#0000000042"),
            sys::CHRONY_CONTENT_ADDRESS,
        ),
        (
            &[0xff, 0xff, 0xff, 0xff],
            3,
            Some("ID#4294967295"),
            sys::CHRONY_CONTENT_ADDRESS,
        ),
        (&[1, 2, 3, 4], 9, Some("?"), sys::CHRONY_CONTENT_ADDRESS),
        (&[1, 2, 3, 4], 0, None, sys::CHRONY_CONTENT_NONE),
    ];
    for (addr, family, want, content) in cases {
        let fake = Fake::new();
        let r = exchange(&fake, "tracking", 0, 5, 104, |b| {
            put_addr(b, 32, addr, family)
        });
        assert_eq!(r, sys::CHRONY_OK);
        let i = fake.conn.field_index("address");
        assert_eq!(fake.conn.string(i).as_deref(), want, "family {family}");
        assert_eq!(fake.conn.field_content(i), content, "family {family}");
        assert_eq!(fake.conn.field_type(i), sys::CHRONY_TYPE_STRING);
    }
}

#[test]
fn address_strings_live_in_their_session() {
    if !given(Guarantee::SessionStrings) {
        return;
    }
    let a = Fake::new();
    let b = Fake::new();
    assert_eq!(
        exchange(&a, "tracking", 0, 5, 104, |r| put_addr(
            r,
            32,
            &[192, 0, 2, 1],
            1
        )),
        sys::CHRONY_OK
    );
    assert_eq!(
        exchange(&b, "tracking", 0, 5, 104, |r| put_addr(
            r,
            32,
            &[198, 51, 100, 7],
            1
        )),
        sys::CHRONY_OK
    );
    let pa = a.conn.string_ptr(1);
    let pb = b.conn.string_ptr(1);
    assert!(!pa.is_null() && !pb.is_null());
    assert_ne!(pa, pb);
    // SAFETY: pa points into session a's buffer, untouched by calls on session b.
    let sa = unsafe { std::ffi::CStr::from_ptr(pa) }
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(sa, "192.0.2.1");
    assert_eq!(b.conn.string(1).as_deref(), Some("198.51.100.7"));
    // SAFETY: as above.
    let again = unsafe { std::ffi::CStr::from_ptr(pa) };
    assert_eq!(again.to_str().unwrap(), "192.0.2.1");
}

#[test]
fn getters_with_bad_index_or_wrong_type() {
    let fake = Fake::new();
    let r = exchange(&fake, "tracking", 0, 5, 104, |b| {
        put32(b, 28, 0x7F00_0001);
        b[52..54].copy_from_slice(&3u16.to_be_bytes());
        put32(b, 68, 0x0480_0000);
        put32(b, 60, 99);
    });
    assert_eq!(r, sys::CHRONY_OK);
    let c = &fake.conn;
    for bad in [-1, -1000, 14, 1000, i32::MIN, i32::MAX] {
        assert_eq!(c.field_name(bad), None);
        assert_eq!(c.field_type(bad), sys::CHRONY_TYPE_NONE);
        assert_eq!(c.field_content(bad), sys::CHRONY_CONTENT_NONE);
        assert_eq!(c.uinteger(bad), 0);
        assert_eq!(c.integer(bad), 0);
        assert_eq!(c.float(bad), 0.0);
        assert_eq!(c.timespec(bad), (0, 0));
        assert!(c.string_ptr(bad).is_null());
    }
    let refid = c.field_index("reference ID");
    let stratum = c.field_index("stratum");
    let time = c.field_index("reference time");
    let corr = c.field_index("current correction");
    assert_eq!((refid, stratum, time, corr), (0, 2, 4, 5));
    assert_eq!(c.uinteger(refid), 0x7F00_0001);
    assert_eq!(c.uinteger(stratum), 3);
    assert_eq!(c.float(corr), 1.0);
    assert_eq!(c.timespec(time), (99, 0));
    // Wrong-type getters give 0 / NULL / {0,0}.
    assert_eq!(c.integer(stratum), 0);
    assert_eq!(c.float(stratum), 0.0);
    assert_eq!(c.uinteger(corr), 0);
    assert_eq!(c.timespec(corr), (0, 0));
    assert!(c.string_ptr(refid).is_null());
    assert_eq!(c.uinteger(time), 0);
    // Names: exact and case-sensitive.
    assert_eq!(c.field_index("Stratum"), -1);
    assert_eq!(c.field_index("nope"), -1);
    if given(Guarantee::BadArguments) {
        // SAFETY: NULL is handled (libchrony 0.2 crashes with a record).
        let null_index = unsafe { sys::chrony_get_field_index(c.s, std::ptr::null()) };
        assert_eq!(null_index, -1);
    }
}

#[test]
fn calls_out_of_order_and_bad_arguments() {
    let fake = Fake::new();
    assert_eq!(fake.conn.process(), sys::CHRONY_UNEXPECTED_CALL);
    assert_eq!(
        fake.conn.request_record("nosuch", 0),
        sys::CHRONY_UNKNOWN_REPORT
    );
    assert_eq!(
        fake.conn.request_record("Tracking", 0),
        sys::CHRONY_UNKNOWN_REPORT
    );
    assert_eq!(
        fake.conn.request_count("nosuch"),
        sys::CHRONY_UNKNOWN_REPORT
    );
    assert_eq!(
        fake.conn.request_record("tracking", 1),
        sys::CHRONY_INVALID_ARGUMENT
    );
    assert_eq!(
        fake.conn.request_record("serverstats", -1),
        sys::CHRONY_INVALID_ARGUMENT
    );
    if given(Guarantee::BadArguments) {
        // SAFETY: a NULL report name is rejected (libchrony 0.2 crashes).
        let null_name = unsafe { sys::chrony_request_record(fake.conn.s, std::ptr::null(), 0) };
        assert_eq!(null_name, sys::CHRONY_UNKNOWN_REPORT);
        // SAFETY: likewise.
        let null_name =
            unsafe { sys::chrony_request_report_number_records(fake.conn.s, std::ptr::null()) };
        assert_eq!(null_name, sys::CHRONY_UNKNOWN_REPORT);
        // libchrony 0.2 sends a request for record 0xFFFFFFFF.
        assert_eq!(
            fake.conn.request_record("sources", -1),
            sys::CHRONY_INVALID_ARGUMENT
        );
    }
    fake.assert_no_request();
    assert!(!fake.conn.needs_response());

    // Single-record reports have one record without asking the server.
    for report in [
        "tracking",
        "activity",
        "serverstats",
        "rtcdata",
        "smoothing",
    ] {
        assert_eq!(fake.conn.request_count(report), sys::CHRONY_OK);
        assert!(!fake.conn.needs_response());
        assert_eq!(fake.conn.number_records(), 1);
    }
    fake.assert_no_request();
    assert_eq!(fake.conn.process(), sys::CHRONY_UNEXPECTED_CALL);

    // Multi-record reports ask with REQ_N_SOURCES.
    let sourcename: &[&str] = if knows_sourcename() {
        &["sourcename"]
    } else {
        &[]
    };
    for &report in [
        "sources",
        "sourcestats",
        "selectdata",
        "authdata",
        "ntpdata",
    ]
    .iter()
    .chain(sourcename)
    {
        assert_eq!(fake.conn.request_count(report), sys::CHRONY_OK);
        let req = fake.request();
        assert_request(&req, 14, 32, 0);
        let mut r = reply(&req, 2, 0, 32);
        put32(&mut r, 28, 7);
        assert_eq!(fake.deliver(&r), sys::CHRONY_OK);
        assert_eq!(fake.conn.number_records(), 7, "{report}");
        assert!(!fake.conn.needs_response());
    }
    // Processing again after the exchange ended is out of order.
    assert_eq!(fake.conn.process(), sys::CHRONY_UNEXPECTED_CALL);
}

#[test]
fn peer_gone_gives_send_and_recv_failures() {
    if !given(Guarantee::ReceiveErrors) {
        return;
    }
    let fake = Fake::new();
    assert_eq!(fake.conn.request_record("tracking", 0), sys::CHRONY_OK);
    let Fake {
        conn,
        _client,
        server,
    } = fake;
    drop(server);
    assert!(poll_in(conn.fd, TIMEOUT), "hang-up is readable");
    assert_eq!(conn.process(), sys::CHRONY_RECV_FAILED);
    assert!(!conn.needs_response());
    // No SIGPIPE: the error is returned.
    assert_eq!(conn.request_record("tracking", 0), sys::CHRONY_SEND_FAILED);
    assert!(!conn.needs_response());
    drop(conn);
}

#[test]
fn report_names_and_error_strings() {
    // libchrony 0.2's ten, then this library's extensions.
    // In their table order: a library with clients has sourcename too.
    let n_extensions = if knows_clients() {
        2
    } else {
        usize::from(knows_sourcename())
    };
    let extensions = &tables::EXTENSION_REPORT_NAMES[..n_extensions];
    let names: Vec<&str> = tables::REPORT_NAMES
        .iter()
        .chain(extensions)
        .copied()
        .collect();
    let n = names.len() as i32;
    // SAFETY: no preconditions.
    assert_eq!(unsafe { sys::chrony_get_number_supported_reports() }, n);
    for name in &names {
        let c = std::ffi::CString::new(*name).unwrap();
        assert!(sys::knows_report(&c), "{name}");
    }
    for unknown in [c"nosuch", c"Tracking", c"", c"sourcenames"] {
        assert!(!sys::knows_report(unknown), "{unknown:?}");
    }
    for (i, name) in names.iter().enumerate() {
        // SAFETY: the name is a static string or NULL.
        let p = unsafe { sys::chrony_get_report_name(i as i32) };
        assert!(!p.is_null());
        // SAFETY: non-NULL names are NUL-terminated.
        let got = unsafe { std::ffi::CStr::from_ptr(p) };
        assert_eq!(got.to_str().unwrap(), *name);
    }
    for bad in [-1, n, i32::MIN, i32::MAX] {
        // SAFETY: out-of-range indexes give NULL.
        assert!(unsafe { sys::chrony_get_report_name(bad) }.is_null());
    }
    let strings = [
        "Success",
        "Failed to allocate memory",
        "Failed to open /dev/urandom",
        "Unknown report",
        "Failed to read /dev/urandom",
        "Failed to send request",
        "Failed to receive response",
        "Invalid argument",
        "Unexpected function call",
        "Not authorized",
        "Disabled",
        "Unexpected status",
        "Unsupported server version (too old)",
        "Unsupported server version (too new)",
        "Invalid response",
        "No such source",
    ];
    let known = if Guarantee::NoSuchSource.is_given() {
        strings.len()
    } else {
        strings.len() - 1
    };
    for (i, s) in strings[..known].iter().enumerate() {
        assert_eq!(error_string(i as u32), *s);
    }
    for bad in [known as u32, 100, u32::MAX] {
        assert_eq!(error_string(bad), "Unknown error");
    }
}

#[test]
fn session_lifecycle() {
    if given(Guarantee::BadArguments) {
        // SAFETY: deinit accepts NULL (libchrony 0.2 crashes).
        unsafe { sys::chrony_deinit_session(std::ptr::null_mut()) };
        // SAFETY: init rejects a NULL out-pointer (libchrony 0.2 crashes).
        let r = unsafe { sys::chrony_init_session(std::ptr::null_mut(), 0) };
        assert_eq!(r, sys::CHRONY_INVALID_ARGUMENT);
    }
    let fake = Fake::new();
    // SAFETY: live session.
    assert_eq!(unsafe { sys::chrony_get_fd(fake.conn.s) }, fake.conn.fd);
    assert!(!fake.conn.needs_response());
    assert_eq!(fake.conn.number_fields(), 0);
    assert_eq!(fake.conn.number_records(), 0);
    // Many sessions, many exchanges: nothing grows (the sanitizer build checks leaks).
    for _ in 0..100 {
        let f = Fake::new();
        assert_eq!(exchange(&f, "tracking", 0, 5, 104, |_| ()), sys::CHRONY_OK);
    }
}

/// The report name is read during the call only: a buffer rewritten right
/// after the request does not change the second step of a chained record.
#[test]
fn a_report_name_need_not_outlive_the_request() {
    if !given(Guarantee::ReportNameCopied) {
        return;
    }
    let fake = Fake::new();
    let mut name = *b"ntpdata\0";
    let p = name.as_mut_ptr();
    // SAFETY: live session; p points at a NUL-terminated name.
    let r = unsafe { sys::chrony_request_record(fake.conn.s, p.cast(), 0) };
    assert_eq!(r, sys::CHRONY_OK);
    let other = c"nosuch!".to_bytes_with_nul();
    // SAFETY: p is valid for the 8 bytes of `name`, which nothing else borrows.
    unsafe { p.copy_from_nonoverlapping(other.as_ptr(), other.len()) };
    let lookup = fake.request();
    assert_request(&lookup, 34, 84, 0);
    let mut r = reply(&lookup, 6, 0, 84);
    put_addr(&mut r, 32, &[10, 1, 2, 3], 1);
    assert_eq!(fake.deliver(&r), sys::CHRONY_OK);
    let req = fake.request();
    assert_request(&req, 57, 172, 0);
    assert_eq!(fake.deliver(&reply(&req, 16, 0, 152)), sys::CHRONY_OK);
    assert_eq!(fake.conn.number_fields(), tables::ntpdata16().len() as i32);
    assert_eq!(&name, b"nosuch!\0");
}

/// What the linked library says it guarantees: everything when bundled;
/// for a system library, one line on stderr per guarantee the suite cannot
/// check (with CHRONY_TEST_REQUIRE_GUARANTEES=1, as in CI's system stage
/// against our own library, a failure instead).
#[test]
fn guarantees_of_the_linked_library() {
    let all = Guarantee::ALL.iter().fold(0, |bits, g| bits | g.bit());
    let got = sys::guarantees();
    assert_eq!(got & !all, 0, "no bits beyond the known guarantees");
    if sys::BUNDLED {
        assert_eq!(got, all, "the bundled library gives every guarantee");
    }
    for g in Guarantee::ALL {
        assert_eq!(given(g), got & g.bit() != 0, "{g:?}");
    }
}
