//! Times the APIs side by side against a fixture chronyd (for information;
//! nothing is asserted). Run in release mode:
//! `cargo run --release -p chrony-core --example bench [CALLS]`.
//!
//! Cases (median per call):
//! - one-call API (`chrony_core::tracking`, pooled connection);
//! - a reused `Connection` over the unix socket and over UDP;
//! - `Connection` open + query + drop (a fresh client socket each time);
//! - a raw persistent unix datagram socket: a hand-made 104-byte tracking
//!   request and one `recv`, no parsing (the floor for any client).

use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixDatagram;
use std::time::{Duration, Instant};

use chrony_core::Connection;
use chronyd_fixture::{Fixture, Mode};

fn median(mut f: impl FnMut(), calls: usize) -> Duration {
    for _ in 0..calls / 10 {
        f(); // warm up
    }
    let mut times: Vec<Duration> = (0..calls)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}

/// A tracking request (protocol version 6, REQ_TRACKING 33), padded to the
/// 104-byte reply as chronyd requires.
fn raw_request(sequence: u32) -> [u8; 104] {
    let mut req = [0u8; 104];
    req[0] = 6;
    req[1] = 1;
    req[4..6].copy_from_slice(&33u16.to_be_bytes());
    req[8..12].copy_from_slice(&sequence.to_be_bytes());
    req
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let calls: usize = std::env::args().nth(1).map_or(Ok(5000), |a| a.parse())?;
    let fx = Fixture::start(Mode::Synced)?;
    let path = fx.socket_path();
    let path_text = path.to_str().ok_or("non-UTF-8 path")?;

    let one_call = median(
        || {
            chrony_core::tracking(Some(&path)).expect("one-call");
        },
        calls,
    );
    let mut unix = Connection::open(path_text)?;
    let reused_unix = median(
        || {
            unix.tracking().expect("unix");
        },
        calls,
    );
    let mut udp = Connection::open(&fx.udp_v4())?;
    let reused_udp = median(
        || {
            udp.tracking().expect("udp");
        },
        calls,
    );
    let open_query_close = median(
        || {
            Connection::open(path_text)
                .and_then(|mut c| c.tracking())
                .expect("open+query");
        },
        calls / 5,
    );

    let raw_dir = fx.dir().join("raw");
    std::fs::create_dir(&raw_dir)?;
    let raw_path = raw_dir.join("s");
    let raw = UnixDatagram::bind(&raw_path)?;
    std::fs::set_permissions(&raw_path, std::fs::Permissions::from_mode(0o666))?;
    raw.connect(&path)?;
    let mut sequence = 0u32;
    let mut buf = [0u8; 1024];
    let raw_round_trip = median(
        || {
            sequence = sequence.wrapping_add(1);
            raw.send(&raw_request(sequence)).expect("send");
            let n = raw.recv(&mut buf).expect("recv");
            assert_eq!(n, 104);
        },
        calls,
    );
    drop(raw);
    std::fs::remove_dir_all(&raw_dir)?;

    let us = |d: Duration| d.as_secs_f64() * 1e6;
    println!("median per call over {calls} calls (µs):");
    println!("  one-call API (pooled)          {:8.1}", us(one_call));
    println!("  Connection reused, unix        {:8.1}", us(reused_unix));
    println!("  Connection reused, UDP         {:8.1}", us(reused_udp));
    println!(
        "  Connection open+query+drop     {:8.1}",
        us(open_query_close)
    );
    println!(
        "  raw persistent socket (floor)  {:8.1}",
        us(raw_round_trip)
    );
    println!(
        "  ratios: one-call / open+query+close {:.2}; reused unix / raw {:.2}",
        us(one_call) / us(open_query_close),
        us(reused_unix) / us(raw_round_trip)
    );
    Ok(())
}
