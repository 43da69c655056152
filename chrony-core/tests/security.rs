//! What a local user could try against a client of chronyd, and what stops
//! it (docs/security.md has the whole list and where the other cases are
//! tested): forged UDP replies from another local port, symlinks, foreign and
//! junk entries in the socket directory (the stale-directory cleanup must not
//! follow or remove them), and a client directory swapped under a live
//! connection (Drop must not remove the replacement). Each test has its own
//! fake chronyd, so its socket directory is fresh.

use std::net::UdpSocket;
use std::os::unix::fs::{MetadataExt, symlink};
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use chrony_core::{Connection, Error, Options};

/// A valid tracking reply (stratum 3, refid 0x7F000001, unspecified address) to `request`.
fn reply_to(request: &[u8]) -> Vec<u8> {
    let mut r = vec![0u8; 104];
    r[0] = 6;
    r[1] = 2;
    r[4..6].copy_from_slice(&request[4..6]);
    r[6..8].copy_from_slice(&5u16.to_be_bytes());
    r[16..20].copy_from_slice(&request[8..12]);
    r[28..32].copy_from_slice(&0x7F00_0001u32.to_be_bytes());
    r[52..54].copy_from_slice(&3u16.to_be_bytes());
    r[60..64].copy_from_slice(&1_795_959_909u32.to_be_bytes());
    r
}

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ccsec-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir(&dir).unwrap();
    dir
}

/// A fake chronyd on `<dir>/chronyd.sock` answering every request correctly.
struct UnixFake {
    path: PathBuf,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl UnixFake {
    fn start(dir: &Path) -> UnixFake {
        let path = dir.join("chronyd.sock");
        let server = UnixDatagram::bind(&path).unwrap();
        server
            .set_read_timeout(Some(Duration::from_millis(20)))
            .unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut buf = [0u8; 1024];
            while !stopped.load(Ordering::Relaxed) {
                if let Ok((n, from)) = server.recv_from(&mut buf) {
                    if let (true, Some(to)) = (n >= 28, from.as_pathname()) {
                        let _ = server.send_to(&reply_to(&buf[..n]), to);
                    }
                }
            }
        });
        UnixFake {
            path,
            stop,
            thread: Some(thread),
        }
    }

    fn connect(&self) -> Connection {
        let options = Options::new().with_timeout(Duration::from_secs(2));
        Connection::open_with(Some(self.path.to_str().unwrap()), &options).unwrap()
    }
}

impl Drop for UnixFake {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A pid that no process has now (a child that has been reaped).
fn dead_pid() -> u32 {
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    pid
}

fn our_client_dirs(dir: &Path) -> Vec<PathBuf> {
    let prefix = format!("chrony-core.{}.", std::process::id());
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&prefix))
        })
        .collect()
}

/// A connected UDP socket accepts datagrams only from the address it is
/// connected to: a reply forged by another local socket, even with the right
/// sequence number (which a local user cannot see on loopback), is dropped by
/// the kernel, and the call times out. The same reply from the server's own
/// address is accepted.
#[test]
fn forged_udp_reply_from_another_port_is_dropped() {
    let server = UdpSocket::bind("127.0.0.1:0").unwrap();
    let attacker = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = server.local_addr().unwrap().port();
    let answer_honestly = Arc::new(AtomicBool::new(false));
    let honest = answer_honestly.clone();
    server
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let fake = std::thread::spawn(move || {
        let mut buf = [0u8; 1024];
        let mut forged = 0;
        while let Ok((n, client)) = server.recv_from(&mut buf) {
            let reply = reply_to(&buf[..n]);
            if honest.load(Ordering::Relaxed) {
                server.send_to(&reply, client).unwrap();
                return forged;
            }
            // The forger knows everything but sends from its own port.
            attacker.send_to(&reply, client).unwrap();
            forged += 1;
        }
        forged
    });
    let options = Options::new().with_timeout(Duration::from_millis(1500));
    let mut c = Connection::open_with(Some(&format!("127.0.0.1:{port}")), &options).unwrap();
    let e = c.tracking().unwrap_err();
    assert!(matches!(e, Error::Timeout { .. }), "{e:?}");
    answer_honestly.store(true, Ordering::Relaxed);
    let t = c.tracking().expect("the real server's reply is accepted");
    assert_eq!((t.stratum, t.reference_id), (3, 0x7F00_0001));
    let forged = fake.join().unwrap();
    assert!(
        forged >= 2,
        "forged replies were sent (first attempt and resend): {forged}"
    );
}

/// Entries another user plants in the socket directory, named like the client
/// directory of a dead process: a symlink to a victim directory, a directory
/// owned by someone else with a stale socket inside, a plain file; plus
/// thousands of junk entries. The first client of the directory runs its
/// stale-directory cleanup over all of them: it follows no symlink, removes
/// nothing that is not ours, and still works.
#[test]
fn stale_cleanup_leaves_planted_entries_alone() {
    let dir = temp_dir("plant");
    let victim = temp_dir("victim");
    std::fs::write(victim.join("s"), "victim's file named like our socket").unwrap();
    std::fs::write(victim.join("keep"), "x").unwrap();
    let dead = dead_pid();
    let link = dir.join(format!("chrony-core.{dead}.00000001"));
    symlink(&victim, &link).unwrap();
    let foreign = dir.join(format!("chrony-core.{dead}.00000002"));
    std::fs::create_dir(&foreign).unwrap();
    drop(UnixDatagram::bind(foreign.join("s")).unwrap()); // stale: refuses connections
    std::os::unix::fs::chown(&foreign, Some(65534), Some(65534)).unwrap();
    let file = dir.join(format!("chrony-core.{dead}.00000003"));
    std::fs::write(&file, "a file").unwrap();
    // A genuine stale client directory of ours: removed, so the cleanup ran.
    let stale = dir.join(format!("chrony-core.{dead}.00000004"));
    std::fs::create_dir(&stale).unwrap();
    drop(UnixDatagram::bind(stale.join("s")).unwrap());
    // Filling the directory: 3000 junk entries, 100 of them named like client
    // directories of a live process (pid 1) without a socket.
    for i in 0..2900 {
        std::fs::write(dir.join(format!("junk.{i}")), "").unwrap();
    }
    for i in 0..100 {
        std::fs::create_dir(dir.join(format!("chrony-core.1.{i:08x}"))).unwrap();
    }

    let fake = UnixFake::start(&dir);
    let mut c = fake.connect();
    assert_eq!(c.tracking().unwrap().stratum, 3);
    drop(c);

    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(victim.join("s").exists() && victim.join("keep").exists());
    assert!(foreign.join("s").exists(), "another user's directory kept");
    assert_eq!(std::fs::metadata(&foreign).unwrap().uid(), 65534);
    assert!(file.exists());
    assert!(
        !stale.exists(),
        "the cleanup ran and removed our own stale directory"
    );
    assert!(dir.join("chrony-core.1.00000063").exists());
    assert!(dir.join("junk.2899").exists());
    assert!(our_client_dirs(&dir).is_empty(), "ours removed on drop");
    drop(fake);
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::remove_dir_all(&victim).unwrap();
}

/// The client directory swapped under a live connection (renamed away and
/// replaced by another directory, or by a symlink to one): Drop removes the
/// socket through the directory fd it holds and removes the directory only
/// if the path still names the one it created, so the replacement and what
/// it points to stay.
#[test]
fn drop_does_not_remove_a_swapped_client_directory() {
    for as_symlink in [false, true] {
        let dir = temp_dir(if as_symlink { "swapl" } else { "swapd" });
        let fake = UnixFake::start(&dir);
        let mut c = fake.connect();
        c.tracking().unwrap();
        let [ours] = our_client_dirs(&dir).try_into().unwrap();
        let moved = dir.join("moved-away");
        std::fs::rename(&ours, &moved).unwrap();
        let target = dir.join("replacement");
        std::fs::create_dir(&target).unwrap();
        std::fs::write(target.join("s"), "not our socket").unwrap();
        if as_symlink {
            symlink(&target, &ours).unwrap();
        } else {
            std::fs::rename(&target, &ours).unwrap();
        }
        let planted = if as_symlink {
            target.join("s")
        } else {
            ours.join("s")
        };
        drop(c);
        assert!(
            planted.exists(),
            "the planted file stays (symlink: {as_symlink})"
        );
        assert!(
            std::fs::symlink_metadata(&ours).is_ok(),
            "the replacement stays"
        );
        assert!(
            !moved.join("s").exists(),
            "our socket was removed through the directory fd"
        );
        drop(fake);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
