//! What a local user could try against a client of chronyd, and what stops
//! it (docs/security.md has the whole list and where the other cases are
//! tested): forged UDP replies from another local port, symlinks, foreign and
//! junk entries in the socket directory (the stale-directory cleanup must not
//! follow or remove them), and a client directory swapped under a live
//! client socket: one table of swaps run against both implementations,
//! chrony-core's `Connection` and the C library's `chrony_open_socket` /
//! `chrony_close_socket`, neither of which may remove anything through the
//! swapped entry. Each test has its own fake chronyd, so its socket
//! directory is fresh.

use std::net::UdpSocket;
use std::os::fd::FromRawFd;
use std::os::unix::fs::{MetadataExt, symlink};
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrony_core::{Connection, Error, Options};
use chronyd_fixture::{FakeChronyd, wire};
use libchrony_sys::Guarantee;

mod common;

/// A valid tracking reply (stratum 3, refid 0x7F000001, unspecified address) to `request`.
fn reply_to(request: &[u8]) -> Vec<u8> {
    wire::Tracking {
        ref_id: 0x7F00_0001,
        family: wire::family::UNSPEC,
        addr: [0; 16],
        ..wire::Tracking::default()
    }
    .bytes(request)
}

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ccsec-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir(&dir).unwrap();
    dir
}

/// A fake chronyd on `<dir>/chronyd.sock` answering every request correctly.
fn unix_fake(dir: &Path) -> FakeChronyd {
    FakeChronyd::start_in(dir, |request| vec![reply_to(request)])
}

fn connect(fake: &FakeChronyd) -> Connection {
    let options = Options::new().with_timeout(Duration::from_secs(2));
    Connection::open_with(Some(fake.address()), &options).unwrap()
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
        loop {
            // Should this thread end early, the server's port closes and the
            // client's resend is refused: say why instead.
            let (n, client) = match server.recv_from(&mut buf) {
                Ok(received) => received,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => panic!("the fake server's recv_from, {forged} forged so far: {e}"),
            };
            let reply = reply_to(&buf[..n]);
            if honest.load(Ordering::Relaxed) {
                server.send_to(&reply, client).unwrap();
                return forged;
            }
            // The forger knows everything but sends from its own port.
            attacker.send_to(&reply, client).unwrap();
            forged += 1;
        }
    });
    let options = Options::new().with_timeout(Duration::from_millis(1500));
    let mut c = Connection::open_with(Some(&format!("127.0.0.1:{port}")), &options).unwrap();
    let e = c.tracking().unwrap_err();
    if !matches!(e, Error::Timeout { .. }) {
        let server = if fake.is_finished() {
            format!("the fake server ended: {:?}", fake.join())
        } else {
            "the fake server still runs".to_string()
        };
        panic!("{e:?}, not a timeout; {server}");
    }
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

    let fake = unix_fake(&dir);
    let mut c = connect(&fake);
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

/// Whose client socket is under attack: both ends create one in a private
/// directory of chronyd's socket directory, and both must remove it without
/// being redirected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Implementation {
    /// chrony-core's own (`Connection`, closed by dropping it).
    Core,
    /// The C library's `chrony_open_socket`, closed by `chrony_close_socket`.
    CLibrary,
}

/// A live client socket in the fake's socket directory.
struct Client {
    /// The client's entry in the socket directory: its (outer) directory.
    entry: PathBuf,
    /// The socket's path relative to `entry` (`s`, or `<16 random>/sock`).
    socket_in_entry: PathBuf,
    close: Box<dyn FnOnce()>,
}

impl Implementation {
    /// Opens a client socket and checks it gets an answer.
    fn open(self, fake: &FakeChronyd) -> Client {
        let sockdir = fake.dir();
        match self {
            Implementation::Core => {
                let mut c = connect(fake);
                c.tracking().unwrap();
                let [entry] = our_client_dirs(sockdir).try_into().unwrap();
                Client {
                    entry,
                    socket_in_entry: PathBuf::from("s"),
                    close: Box::new(move || drop(c)),
                }
            }
            Implementation::CLibrary => {
                let path = std::ffi::CString::new(fake.address()).unwrap();
                // SAFETY: `path` is NUL-terminated and outlives the call.
                let fd = unsafe { libchrony_sys::chrony_open_socket(path.as_ptr()) };
                assert!(
                    fd >= 0,
                    "chrony_open_socket: {}",
                    std::io::Error::last_os_error()
                );
                // SAFETY: fd is the open socket just returned; ManuallyDrop
                // keeps it open for chrony_close_socket below.
                let socket = std::mem::ManuallyDrop::new(unsafe { UnixDatagram::from_raw_fd(fd) });
                socket
                    .set_read_timeout(Some(Duration::from_secs(2)))
                    .unwrap();
                let mut request = [0u8; 104];
                request[0] = 6;
                request[1] = 1;
                socket.send(&request).unwrap();
                let mut buf = [0u8; 1024];
                assert_eq!(socket.recv(&mut buf).unwrap(), 104, "the fake answers");
                let bound = socket.local_addr().unwrap();
                let bound = bound.as_pathname().expect("a bound client socket");
                let inside = bound.strip_prefix(sockdir).unwrap();
                let entry = sockdir.join(inside.components().next().unwrap());
                let socket_in_entry = bound.strip_prefix(&entry).unwrap().to_path_buf();
                assert_eq!(
                    socket_in_entry.components().count(),
                    2,
                    "{}",
                    bound.display()
                );
                Client {
                    entry,
                    socket_in_entry,
                    // SAFETY: fd came from chrony_open_socket and is closed
                    // once, here.
                    close: Box::new(move || unsafe { libchrony_sys::chrony_close_socket(fd) }),
                }
            }
        }
    }
}

/// What the writer of chronyd's socket directory (chronyd's own user, say)
/// puts in place of the client's directory after renaming it away.
#[derive(Clone, Copy, Debug)]
enum Swap {
    /// A symlink to a directory of the attacker's, in which the socket's
    /// relative path names a file.
    SymlinkToAttackers,
    /// The victim's file, named like the socket, in a directory the
    /// attacker cannot write (root's), reached through the attacker's
    /// symlinks: the entry points at the victim's directory, or (for the C
    /// library's `<16>/sock`) at the attacker's directory, in which `<16>`
    /// (public in /proc/net/unix) points at the victim's directory.
    SymlinkToVictims,
    /// A directory of the attacker's holding such a file.
    AttackersDirectory,
}

const ATTACKER: u32 = 65534;

/// Creates `base/rel` as a file (and its parent directories), owned by `owner`.
fn plant(base: &Path, rel: &Path, owner: Option<u32>) -> PathBuf {
    let file = base.join(rel);
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, "the victim's file").unwrap();
    if let Some(uid) = owner {
        let mut p = file.as_path();
        while p != base.parent().unwrap() {
            std::os::unix::fs::lchown(p, Some(uid), Some(uid)).unwrap();
            p = p.parent().unwrap();
        }
    }
    file
}

/// The client's directory swapped under a live client socket (renamed away
/// and replaced by a symlink or a directory), then the socket closed: the
/// planted file and the replacement stay, for both implementations. The old
/// C library removed `<path>/sock` by path and so deleted the file through
/// the symlink (or in the attacker's directory).
#[test]
fn closing_does_not_remove_through_a_swapped_client_directory() {
    for implementation in [Implementation::Core, Implementation::CLibrary] {
        // libchrony 0.2 removes by path: only ours is held to this.
        if implementation == Implementation::CLibrary
            && !common::given(Guarantee::VerifiedClientSocket)
        {
            continue;
        }
        for swap in [
            Swap::SymlinkToAttackers,
            Swap::SymlinkToVictims,
            Swap::AttackersDirectory,
        ] {
            let case = format!("{implementation:?}, {swap:?}");
            let dir = temp_dir(&format!("swap{:?}{:?}", implementation as u8, swap as u8));
            let victim_dir = temp_dir(&format!("swapv{:?}{:?}", implementation as u8, swap as u8));
            let fake = unix_fake(&dir);
            let client = implementation.open(&fake);
            let moved = dir.join("moved-away");
            std::fs::rename(&client.entry, &moved).unwrap();
            let evil = dir.join("evil");
            let planted = match swap {
                Swap::SymlinkToAttackers => {
                    std::fs::create_dir(&evil).unwrap();
                    let planted = plant(&evil, &client.socket_in_entry, Some(ATTACKER));
                    symlink(&evil, &client.entry).unwrap();
                    planted
                }
                Swap::SymlinkToVictims => {
                    let rel = &client.socket_in_entry;
                    let planted = plant(&victim_dir, Path::new(rel.file_name().unwrap()), None);
                    match rel.parent().filter(|p| !p.as_os_str().is_empty()) {
                        Some(inner) => {
                            std::fs::create_dir(&evil).unwrap();
                            symlink(&victim_dir, evil.join(inner)).unwrap();
                            for p in [evil.join(inner), evil.clone()] {
                                std::os::unix::fs::lchown(p, Some(ATTACKER), Some(ATTACKER))
                                    .unwrap();
                            }
                            symlink(&evil, &client.entry).unwrap();
                        }
                        None => symlink(&victim_dir, &client.entry).unwrap(),
                    }
                    planted
                }
                Swap::AttackersDirectory => {
                    std::fs::create_dir(&evil).unwrap();
                    plant(&evil, &client.socket_in_entry, Some(ATTACKER));
                    std::fs::rename(&evil, &client.entry).unwrap();
                    client.entry.join(&client.socket_in_entry)
                }
            };
            (client.close)();
            assert_eq!(
                std::fs::read_to_string(&planted).ok().as_deref(),
                Some("the victim's file"),
                "{case}: the planted file stays"
            );
            assert!(
                std::fs::symlink_metadata(&client.entry).is_ok(),
                "{case}: the replacement stays"
            );
            let ours = moved.join(&client.socket_in_entry);
            match implementation {
                // It holds its directory's fd: the socket goes through it.
                Implementation::Core => assert!(!ours.exists(), "{case}: removed through the fd"),
                // It has only the socket's fd, and finds its directory by
                // name: moved away, it is left alone.
                Implementation::CLibrary => assert!(ours.exists(), "{case}: left alone"),
            }
            drop(fake);
            std::fs::remove_dir_all(&dir).unwrap();
            std::fs::remove_dir_all(&victim_dir).unwrap();
        }
    }
}
