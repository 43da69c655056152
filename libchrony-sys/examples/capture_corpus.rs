//! Records the fuzz seed corpus (`libchrony-sys/fuzz/corpus/`) from real chronyd daemons:
//! `cargo xtask fuzz --capture` runs it as `capture_corpus DIR`.
//!
//! For each report, the replies a fixture daemon (synchronised, then refclock) sends to its
//! request, written in the harness's input layout (see the comment at the top of
//! `fuzz/fuzz_replies.c`): report index, flags, then each datagram with its u16 length. The
//! requests come from `chronyd_fixture::wire`; the report index is the C library's
//! (`chrony_get_report_name` order).

use std::ffi::CStr;
use std::net::UdpSocket;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chronyd_fixture::wire::{self, Payload, command};
use chronyd_fixture::{Fixture, Mode};

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

// The harness's flags (fuzz_replies.c).
const FLAG_COUNT: u8 = 0x01;
const FLAG_PATCH: u8 = 0x02;
const FLAG_RESEND: u8 = 0x04;
const FLAG_SEQPACKET: u8 = 0x08;

fn main() -> Result {
    let dir = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .ok_or("usage: capture_corpus DIR")?;
    std::fs::create_dir_all(&dir)?;
    let mut written = 0;
    for (tag, mode) in [
        ("synced", Mode::Synced),
        ("refclock", Mode::Refclock { leap: 0 }),
    ] {
        written += capture(&dir, tag, mode)?;
    }
    println!("{written} corpus files in {}", dir.display());
    Ok(())
}

/// The C library's index of the report `name`.
fn report_index(name: &str) -> Result<u8> {
    // SAFETY: takes and returns plain values.
    let n = unsafe { libchrony_sys::chrony_get_number_supported_reports() };
    (0..n)
        .find(|&i| {
            // SAFETY: i is in range; the name is a static NUL-terminated string.
            let p = unsafe { libchrony_sys::chrony_get_report_name(i) };
            // SAFETY: p is null or a static C string.
            !p.is_null() && unsafe { CStr::from_ptr(p) }.to_bytes() == name.as_bytes()
        })
        .map(|i| i as u8)
        .ok_or_else(|| format!("the C library has no report `{name}`").into())
}

/// One request to chronyd and its answer (the sequence number is checked).
fn exchange(sock: &UnixDatagram, cmd: u16, arg: &[u8], len: usize) -> Result<Vec<u8>> {
    let seq = (std::process::id() ^ (u32::from(cmd) << 16) ^ 0x5a5a_0000).to_be_bytes();
    let mut req = wire::request(cmd, len.max(wire::REQUEST_HEADER_LEN + arg.len()), 0, seq);
    let at = wire::REQUEST_HEADER_LEN;
    req[at..at + arg.len()].copy_from_slice(arg);
    sock.send(&req)?;
    let mut buf = [0u8; 2048];
    loop {
        let n = sock.recv(&mut buf)?;
        if n >= wire::REPLY_HEADER_LEN && buf[16..20] == seq {
            return Ok(buf[..n].to_vec());
        }
    }
}

/// A corpus file: report, flags, then each datagram with its u16 length.
fn input(report: u8, flags: u8, datagrams: &[&[u8]]) -> Vec<u8> {
    let mut v = vec![report, flags];
    for d in datagrams {
        v.extend_from_slice(&(d.len() as u16).to_be_bytes());
        v.extend_from_slice(d);
    }
    v
}

/// Every report of one fixture daemon; returns the number of files written.
fn capture(dir: &Path, tag: &str, mode: Mode) -> Result<usize> {
    let fx = Fixture::start(mode)?;
    if mode == Mode::Synced {
        // ntpdata wants a few NTP exchanges behind it.
        std::thread::sleep(Duration::from_secs(2));
    }
    let client = fx.dir().join("capture.sock");
    let sock = UnixDatagram::bind(&client)?;
    sock.connect(fx.socket_path())?;
    sock.set_read_timeout(Some(Duration::from_secs(3)))?;
    let mut written = 0;
    let mut save = |name: String, data: Vec<u8>| -> Result {
        std::fs::write(dir.join(&name), data)?;
        println!("{tag}: {name}");
        written += 1;
        Ok(())
    };
    let count = exchange(&sock, command::N_SOURCES, &[], wire::N_SOURCES_LEN)?;
    save(
        format!("{tag}-sources-count"),
        input(report_index("sources")?, FLAG_PATCH | FLAG_COUNT, &[&count]),
    )?;
    let index0 = 0u32.to_be_bytes();
    let sourcestats = wire::REPORTS
        .iter()
        .find(|r| r.command == command::SOURCESTATS)
        .expect("sourcestats in wire::REPORTS");
    for r in wire::REPORTS {
        let index = report_index(r.name)?;
        let datagrams: Vec<Vec<u8>> = match r.payload {
            Payload::None => vec![exchange(&sock, r.command, &[], r.len)?],
            Payload::Index => vec![exchange(&sock, r.command, &index0, r.len)?],
            Payload::Address => {
                let stats = exchange(&sock, sourcestats.command, &index0, sourcestats.len)?;
                let ip = wire::SOURCESTATS_IP_ADDR;
                let mut v = vec![stats.clone()];
                // A refclock has no address: the lookup ends the exchange.
                if stats.len() >= ip + 20 && wire::get_u16(&stats, ip + 16) != wire::family::UNSPEC
                {
                    v.push(exchange(&sock, r.command, &stats[ip..ip + 20], r.len)?);
                }
                v
            }
        };
        let d: Vec<&[u8]> = datagrams.iter().map(Vec::as_slice).collect();
        save(format!("{tag}-{}", r.name), input(index, FLAG_PATCH, &d))?;
        if mode == Mode::Synced {
            // The same replies resent once, and over a seqpacket pair.
            let resend = input(index, FLAG_PATCH | FLAG_RESEND, &d);
            save(format!("{tag}-{}-resend", r.name), resend)?;
            let seqpacket = input(index, FLAG_PATCH | FLAG_SEQPACKET, &d);
            save(format!("{tag}-{}-seqpacket", r.name), seqpacket)?;
        }
    }
    drop(sock);
    let _ = std::fs::remove_file(&client);
    if mode == Mode::Synced {
        // Over UDP, chronyd refuses ntpdata: a real "not authorised" reply.
        let ntpdata = wire::REPORTS
            .iter()
            .find(|r| r.command == command::NTP_DATA)
            .expect("ntpdata in wire::REPORTS");
        let udp = UdpSocket::bind("127.0.0.1:0")?;
        udp.connect(fx.udp_v4())?;
        udp.set_read_timeout(Some(Duration::from_secs(3)))?;
        let mut req = wire::request(
            ntpdata.command,
            ntpdata.len,
            0,
            0x1234_5678u32.to_be_bytes(),
        );
        wire::put_u16(&mut req, wire::REQUEST_HEADER_LEN + 16, wire::family::INET4);
        udp.send(&req)?;
        let mut buf = [0u8; 2048];
        let n = udp.recv(&mut buf)?;
        let unauthorised = input(report_index("ntpdata")?, FLAG_PATCH, &[&buf[..n]]);
        save(format!("{tag}-ntpdata-udp-unauthorised"), unauthorised)?;
    }
    Ok(written)
}
