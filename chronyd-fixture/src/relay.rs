//! [`LatencyRelays`]: UDP relays that hold each datagram a while each way, in front of loopback
//! daemons: a fleet as far as a LAN from the client (a round trip of about twice the delay), for
//! the bench's `lan` cases. The kernels these machines run have no netem qdisc, so the wait is
//! made here. One thread per relay, so the daemons' answers wait side by side as a fleet's would.

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// How often a relay thread looks whether it should stop.
const STOP_POLL: Duration = Duration::from_millis(50);

/// The relays; dropping them stops their threads.
#[derive(Debug)]
pub struct LatencyRelays {
    /// `127.0.0.1:PORT` of each relay, in the order of the daemons given.
    pub addresses: Vec<String>,
    /// The relay threads' ids, for pinning them (`taskset -pc CPU TID`).
    pub thread_ids: Vec<u32>,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl LatencyRelays {
    /// A relay in front of each of `daemons` (`HOST:PORT`), holding each datagram `delay` each
    /// way.
    pub fn start(daemons: &[String], delay: Duration) -> io::Result<LatencyRelays> {
        let mut relays = LatencyRelays {
            addresses: Vec::new(),
            thread_ids: Vec::new(),
            stop: Arc::new(AtomicBool::new(false)),
            threads: Vec::new(),
        };
        for daemon in daemons {
            let daemon: SocketAddr = daemon.parse().map_err(io::Error::other)?;
            let socket = UdpSocket::bind("127.0.0.1:0")?;
            socket.set_read_timeout(Some(STOP_POLL))?;
            relays.addresses.push(socket.local_addr()?.to_string());
            let (tid_tx, tid_rx) = std::sync::mpsc::channel();
            let stop = Arc::clone(&relays.stop);
            relays.threads.push(std::thread::spawn(move || {
                // The thread's id: /proc/thread-self is /proc/PID/task/TID.
                let tid = std::fs::read_link("/proc/thread-self").ok();
                let tid = tid.and_then(|p| p.file_name()?.to_str()?.parse::<u32>().ok());
                let _ = tid_tx.send(tid);
                relay(&socket, daemon, delay, &stop);
            }));
            let tid = tid_rx.recv().map_err(io::Error::other)?;
            let tid =
                tid.ok_or_else(|| io::Error::other("a relay thread found no id of its own"))?;
            relays.thread_ids.push(tid);
        }
        Ok(relays)
    }
}

/// Forwards what the client sends to `daemon` and what `daemon` answers to the client that sent
/// last, each after `delay`, until `stop`.
fn relay(socket: &UdpSocket, daemon: SocketAddr, delay: Duration, stop: &AtomicBool) {
    let mut buf = [0u8; 2048];
    let mut client = None;
    while !stop.load(Ordering::Relaxed) {
        let Ok((n, from)) = socket.recv_from(&mut buf) else {
            continue; // the poll timeout (a relay's socket has no other error to expect)
        };
        let to = if from == daemon {
            match client {
                Some(client) => client,
                None => continue,
            }
        } else {
            client = Some(from);
            daemon
        };
        std::thread::sleep(delay);
        let _ = socket.send_to(&buf[..n], to);
    }
}

impl Drop for LatencyRelays {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}
