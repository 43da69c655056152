//! Free UDP ports for the daemons (and a TCP one for NTS-KE).
//!
//! Candidates come from 20000..32000, below Linux's ephemeral range (32768+) so that no client socket of chronyd
//! or chronyc can take them in between. A port is used only if binding it on every needed address succeeds right
//! now, and it is remembered for the life of the process so parallel fixtures of one test binary never pick the
//! same port. Clashes with other processes remain possible; the caller checks chronyd's log and retries.

use std::collections::HashSet;
use std::net::{TcpListener, UdpSocket};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

static TAKEN: Mutex<Option<HashSet<u16>>> = Mutex::new(None);
static COUNTER: AtomicU64 = AtomicU64::new(0);

const FIRST: u16 = 20000;
const SPAN: u64 = 12000;

fn candidate() -> u16 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0) as u64;
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    // A cheap mix (splitmix64) of pid, time and a counter; uniqueness is enforced by TAKEN and bind probes.
    let mut z =
        nanos ^ (u64::from(std::process::id()) << 32) ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    FIRST + (z % SPAN) as u16
}

fn free_on(port: u16, v6: bool) -> bool {
    UdpSocket::bind(("127.0.0.1", port)).is_ok() && (!v6 || UdpSocket::bind(("::1", port)).is_ok())
}

/// This host has an IPv6 loopback address (containers may not).
pub(crate) fn ipv6_loopback() -> bool {
    static HAS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *HAS.get_or_init(|| UdpSocket::bind(("::1", 0)).is_ok())
}

/// A UDP port free on 127.0.0.1 (and on ::1 if `v6`), reserved within this process.
pub(crate) fn pick(v6: bool) -> std::io::Result<u16> {
    pick_where(|port| free_on(port, v6))
}

/// A port free for TCP and UDP on 127.0.0.1 (chronyd's NTS-KE server), reserved within this process.
pub(crate) fn pick_tcp() -> std::io::Result<u16> {
    pick_where(|port| free_on(port, false) && TcpListener::bind(("127.0.0.1", port)).is_ok())
}

fn pick_where(free: impl Fn(u16) -> bool) -> std::io::Result<u16> {
    for _ in 0..2000 {
        let port = candidate();
        let mut guard = TAKEN.lock().unwrap_or_else(|e| e.into_inner());
        let taken = guard.get_or_insert_with(HashSet::new);
        if taken.contains(&port) || !free(port) {
            continue;
        }
        taken.insert(port);
        return Ok(port);
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::AddrInUse,
        "no free UDP port found in 20000..32000",
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn picks_distinct_ports() {
        let a = super::pick(true).unwrap();
        let b = super::pick(true).unwrap();
        assert_ne!(a, b);
        assert!((20000..32000).contains(&a));
    }
}
