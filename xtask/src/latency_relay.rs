//! UDP relays that hold each datagram for a while each way, in front of loopback daemons: the
//! bench's `lan` fleet, as far as a LAN from the client (a round trip of about twice the delay).
//! The kernels these machines run have no netem qdisc, so the wait is made here. One thread per
//! relay, so the daemons' answers wait side by side as a fleet's would; each thread is pinned
//! where the caller says (the daemons' core), off the clients'.

use crate::util::{Result, cmd, output};
use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// How often a relay thread looks whether it should stop.
const STOP_POLL: Duration = Duration::from_millis(50);

/// The relays; dropping them stops their threads.
pub struct Relays {
    /// `127.0.0.1:PORT` of each relay, in the order of the daemons given.
    pub addresses: Vec<String>,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

/// A relay in front of each of `daemons` (`HOST:PORT`), holding each datagram `delay` each way;
/// their threads are pinned to `cpu` when given.
pub fn start(daemons: &[String], delay: Duration, cpu: Option<usize>) -> Result<Relays> {
    let stop = Arc::new(AtomicBool::new(false));
    let (mut addresses, mut threads) = (Vec::new(), Vec::new());
    for daemon in daemons {
        let daemon: SocketAddr = daemon.parse()?;
        let socket = UdpSocket::bind("127.0.0.1:0")?;
        socket.set_read_timeout(Some(STOP_POLL))?;
        addresses.push(socket.local_addr()?.to_string());
        let (tid_tx, tid_rx) = std::sync::mpsc::channel();
        let stop = Arc::clone(&stop);
        threads.push(std::thread::spawn(move || {
            // The thread's id, for taskset: /proc/thread-self is /proc/PID/task/TID.
            let tid = std::fs::read_link("/proc/thread-self").ok();
            let _ = tid_tx.send(tid.and_then(|p| p.file_name()?.to_str()?.parse::<u32>().ok()));
            relay(&socket, daemon, delay, &stop);
        }));
        let tid = tid_rx
            .recv()?
            .ok_or("a relay thread found no id of its own")?;
        if let Some(cpu) = cpu {
            output(cmd(&format!("taskset -pc {cpu} {tid}")))?;
        }
    }
    Ok(Relays {
        addresses,
        stop,
        threads,
    })
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

impl Drop for Relays {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}
