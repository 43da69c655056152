//! The client end: a unix datagram socket bound in a private directory next
//! to chronyd's socket (chronyd replies to the client's bound path), or a
//! connected UDP socket. Both are non-blocking: the session only receives
//! after `poll` says a datagram is there, and a send to a frozen chronyd
//! whose queue is full fails with `EAGAIN` instead of blocking.
//!
//! Unix client directory: `<sockdir>/chrony-core.<pid>.<random>`, created
//! 0700, opened `O_DIRECTORY|O_NOFOLLOW` and checked (a directory owned by
//! us, no group or other bits), the socket bound at `<dir>/s`, checked with
//! `fstatat(AT_SYMLINK_NOFOLLOW)` (a socket owned by us), connected to
//! chronyd's socket (a connected unix datagram socket accepts datagrams only
//! from its peer), then opened up for a chronyd running as another user:
//! socket 0666, directory 0711 (others can reach the socket by its name but
//! cannot list the directory). See docs/security.md.
//! `Drop` removes both, but only in the process that created them: after
//! `fork()` a child closes its copy of the fd and leaves the files alone.

use std::fs::{self, DirBuilder, File, OpenOptions, Permissions};
use std::hash::{BuildHasher, Hasher};
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use crate::address::{Target, check_len};
use crate::error::op;
use crate::{Error, Result, Transport, os};

/// The name prefix of our client directories; stale ones are recognised by it.
const DIR_PREFIX: &str = "chrony-core.";
/// The socket's name inside the client directory.
const SOCKET_NAME: &str = "s";

/// A connected client socket.
#[derive(Debug)]
pub(crate) enum ClientSocket {
    /// Bound in a private directory next to chronyd's socket.
    Unix(UnixClient),
    /// Connected to chronyd's UDP command port.
    Udp(UdpSocket),
}

impl ClientSocket {
    /// Creates a socket connected to `target`; `address` is its text for errors.
    pub(crate) fn open(target: &Target, address: &str) -> Result<ClientSocket> {
        match target {
            Target::Unix(path) => UnixClient::open(path, address).map(ClientSocket::Unix),
            Target::Udp(addr) => open_udp(*addr, address).map(ClientSocket::Udp),
        }
    }

    /// The fd to poll and to hand to the protocol library.
    pub(crate) fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            ClientSocket::Unix(u) => u.socket.as_fd(),
            ClientSocket::Udp(s) => s.as_fd(),
        }
    }

    /// Reads one datagram into `buf` (cut to its length): `None` when there
    /// is none after all. A pending socket error (e.g. `ECONNREFUSED` on UDP)
    /// is returned.
    #[cfg(libchrony_shared_fd)]
    pub(crate) fn recv_datagram(&self, buf: &mut [u8]) -> io::Result<Option<usize>> {
        let r = match self {
            ClientSocket::Unix(u) => u.socket.recv(buf),
            ClientSocket::Udp(s) => s.recv(buf),
        };
        match r {
            Ok(n) => Ok(Some(n)),
            Err(e)
                if e.kind() == io::ErrorKind::WouldBlock
                    || e.kind() == io::ErrorKind::Interrupted =>
            {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Reads and drops one datagram, if any. A pending socket error (e.g.
    /// `ECONNREFUSED` on UDP) is returned.
    pub(crate) fn discard_datagram(&self) -> io::Result<()> {
        let mut buf = [0u8; 8];
        let r = match self {
            ClientSocket::Unix(u) => u.socket.recv(&mut buf),
            ClientSocket::Udp(s) => s.recv(&mut buf),
        };
        match r {
            Err(e)
                if e.kind() != io::ErrorKind::WouldBlock
                    && e.kind() != io::ErrorKind::Interrupted =>
            {
                Err(e)
            }
            _ => Ok(()),
        }
    }
}

/// A bound and connected unix datagram socket in its private directory.
#[derive(Debug)]
pub(crate) struct UnixClient {
    // Field order matters: the socket is closed before the directory guard
    // removes its file.
    socket: UnixDatagram,
    #[allow(dead_code, reason = "held for its Drop, which removes the files")]
    dir: PrivateDir,
}

impl UnixClient {
    fn open(server: &Path, address: &str) -> Result<UnixClient> {
        // Probe first, so a missing, stale or forbidden socket gives its own
        // error before we create anything.
        let probe = UnixDatagram::unbound()
            .map_err(|e| Error::from_io(e, address, Transport::Unix, op::CREATE_UNIX_SOCKET))?;
        probe
            .connect(server)
            .map_err(|e| Error::from_io(e, address, Transport::Unix, op::CONNECT))?;
        drop(probe);

        let sockdir = match server.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => {
                return Err(Error::InvalidAddress {
                    address: address.to_owned(),
                    reason: "a unix socket path needs a directory part",
                });
            }
        };
        clean_stale_once(sockdir);
        let dir = PrivateDir::create(sockdir)?;
        let socket_path = dir.path.join(SOCKET_NAME);
        let dir_text = || dir.path.display().to_string();
        let socket = UnixDatagram::bind(&socket_path)
            .map_err(|e| Error::from_io(e, &dir_text(), Transport::Unix, op::BIND))?;
        let fd = dir.fd().as_fd();
        let info = os::stat_at_nofollow(fd, c"s")
            .map_err(|e| Error::from_io(e, &dir_text(), Transport::Unix, op::CHECK_SOCKET))?;
        if !info.is_socket() || info.uid != os::euid() {
            return Err(Error::Tampered {
                path: socket_path,
                what: "socket",
            });
        }
        // Connected before anyone else can write to it: from here on the
        // kernel accepts datagrams from chronyd's socket only (EPERM for others).
        socket
            .connect(server)
            .map_err(|e| Error::from_io(e, address, Transport::Unix, op::CONNECT))?;
        // chronyd may run as another user: let it reach and write the socket.
        os::chmod_at(fd, c"s", 0o666)
            .map_err(|e| Error::from_io(e, &dir_text(), Transport::Unix, op::CHMOD_SOCKET))?;
        dir.fd()
            .set_permissions(Permissions::from_mode(0o711))
            .map_err(|e| Error::from_io(e, &dir_text(), Transport::Unix, op::CHMOD_DIR))?;
        socket
            .set_nonblocking(true)
            .map_err(|e| Error::from_io(e, address, Transport::Unix, op::CONFIGURE_SOCKET))?;
        Ok(UnixClient { socket, dir })
    }
}

/// Our private client directory; `Drop` removes it and the socket in it.
#[derive(Debug)]
struct PrivateDir {
    /// `None` only while dropping.
    fd: Option<File>,
    path: PathBuf,
    dev: u64,
    ino: u64,
    /// Only this process may remove the files (not a forked child).
    owner_pid: u32,
}

impl PrivateDir {
    fn fd(&self) -> &File {
        self.fd.as_ref().expect("open until dropped")
    }

    fn create(sockdir: &Path) -> Result<PrivateDir> {
        let pid = std::process::id();
        let sockdir_text = || sockdir.display().to_string();
        // The longest client socket path we may create must fit in sun_path.
        let longest = sockdir.join(format!("{DIR_PREFIX}{pid}.ffffffff/{SOCKET_NAME}"));
        check_len(&longest)?;
        for _ in 0..16 {
            let path = sockdir.join(format!("{DIR_PREFIX}{pid}.{:08x}", random_u32()));
            match DirBuilder::new().mode(0o700).create(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => {
                    return Err(Error::from_io(
                        e,
                        &sockdir_text(),
                        Transport::Unix,
                        op::CREATE_DIR,
                    ));
                }
            }
            let text = || path.display().to_string();
            let fd = OpenOptions::new()
                .read(true)
                .custom_flags(libc::O_DIRECTORY | libc::O_NOFOLLOW)
                .open(&path)
                .map_err(|e| Error::from_io(e, &text(), Transport::Unix, op::OPEN_DIR))?;
            let meta = fd
                .metadata()
                .map_err(|e| Error::from_io(e, &text(), Transport::Unix, op::CHECK_DIR))?;
            if !meta.is_dir() || meta.uid() != os::euid() || meta.mode() & 0o077 != 0 {
                // Not what we just made: leave it alone.
                return Err(Error::Tampered {
                    path,
                    what: "directory",
                });
            }
            return Ok(PrivateDir {
                fd: Some(fd),
                path,
                dev: meta.dev(),
                ino: meta.ino(),
                owner_pid: pid,
            });
        }
        Err(Error::Io {
            address: sockdir_text(),
            operation: op::FRESH_DIR_NAME,
            source: io::Error::from(io::ErrorKind::AlreadyExists),
        })
    }
}

impl Drop for PrivateDir {
    fn drop(&mut self) {
        if self.owner_pid != std::process::id() {
            return; // a forked child: these are the parent's files
        }
        if let Some(fd) = self.fd.take() {
            let _ = os::unlink_at(fd.as_fd(), c"s");
            // Close the directory before removing it: the last close of a
            // removed directory is much slower than an rmdir of a closed one.
            drop(fd);
        }
        // Remove the directory only if the path still names it.
        if let Ok(meta) = fs::symlink_metadata(&self.path) {
            if meta.dev() == self.dev && meta.ino() == self.ino {
                let _ = fs::remove_dir(&self.path);
            }
        }
    }
}

fn open_udp(server: SocketAddr, address: &str) -> Result<UdpSocket> {
    let local: SocketAddr = match server {
        SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
        SocketAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let io_err = |op| move |e| Error::from_io(e, address, Transport::Udp, op);
    let socket = UdpSocket::bind(local).map_err(io_err(op::CREATE_UDP_SOCKET))?;
    socket.connect(server).map_err(io_err(op::CONNECT))?;
    socket
        .set_nonblocking(true)
        .map_err(io_err(op::CONFIGURE_SOCKET))?;
    Ok(socket)
}

/// A random number for directory names. Uniqueness comes from `mkdir`
/// (`EEXIST` → another name), not from the number.
fn random_u32() -> u32 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    if let Ok(t) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        h.write_u128(t.as_nanos());
    }
    h.finish() as u32
}

/// How old a client directory without a socket must be before the cleanup
/// removes it: far longer than the microseconds between mkdir and bind.
const SOCKETLESS_GRACE: std::time::Duration = std::time::Duration::from_secs(60);

/// Whether the directory was last modified more than `age` ago.
fn older_than(meta: &fs::Metadata, age: std::time::Duration) -> bool {
    meta.modified()
        .ok()
        .and_then(|t| t.elapsed().ok())
        .is_some_and(|elapsed| elapsed > age)
}

/// Removes, once per process and socket directory, the client directories
/// of dead processes: ours by name and owner, whose socket refuses
/// connections (nobody holds it any more), or which have no socket, a pid
/// that is not running here, and an age of over a minute (it died between
/// mkdir and bind).
static CLEANED: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// The lock of the cleaned-directories list, held across `fork()` (see `fork.rs`).
pub(crate) fn lock_for_fork() -> Box<dyn std::any::Any> {
    Box::new(CLEANED.lock().unwrap_or_else(PoisonError::into_inner))
}

fn clean_stale_once(sockdir: &Path) {
    {
        let mut cleaned = CLEANED.lock().unwrap_or_else(PoisonError::into_inner);
        if cleaned.iter().any(|d| d == sockdir) {
            return;
        }
        cleaned.push(sockdir.to_owned());
    }
    let Ok(entries) = fs::read_dir(sockdir) else {
        return;
    };
    let (me, euid) = (std::process::id(), os::euid());
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(DIR_PREFIX))
            .and_then(|rest| rest.split_once('.'))
            .and_then(|(pid, _)| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == me {
            continue;
        }
        let path = entry.path();
        // Opened without following a symlink and checked through the fd, so
        // the removal below cannot be redirected by swapping the entry.
        let Ok(dir) = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_DIRECTORY | libc::O_NOFOLLOW)
            .open(&path)
        else {
            continue;
        };
        let meta = match dir.metadata() {
            Ok(meta) if meta.is_dir() && meta.uid() == euid => meta,
            _ => continue,
        };
        let socket = path.join(SOCKET_NAME);
        let stale = match UnixDatagram::unbound().and_then(|s| s.connect(&socket)) {
            Ok(()) => false,
            Err(e) => match e.raw_os_error() {
                // A socket nobody holds: its process is gone, in whatever
                // PID namespace it ran.
                Some(libc::ECONNREFUSED) => true,
                // No socket: a process that died between mkdir and bind, or
                // one that is about to bind. Its pid proves nothing when the
                // socket directory is shared with another PID namespace (a
                // container's pid is not visible here), so the directory
                // must also be older than any such gap.
                Some(libc::ENOENT) => {
                    !os::process_exists(pid) && older_than(&meta, SOCKETLESS_GRACE)
                }
                _ => false,
            },
        };
        if stale {
            let _ = os::unlink_at(dir.as_fd(), c"s");
            drop(dir);
            // rmdir neither follows a symlink nor removes a non-empty directory.
            let _ = fs::remove_dir(&path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "cc-{tag}-{}-{:x}",
            std::process::id(),
            random_u32()
        ));
        fs::create_dir(&dir).unwrap();
        dir
    }

    #[test]
    fn unix_client_files_come_and_go() {
        let dir = temp_dir("cs");
        let server_path = dir.join("srv.sock");
        let server = UnixDatagram::bind(&server_path).unwrap();
        let target = Target::Unix(server_path.clone());
        let client = ClientSocket::open(&target, "srv").unwrap();
        let ClientSocket::Unix(u) = &client else {
            panic!()
        };
        let meta = fs::symlink_metadata(&u.dir.path).unwrap();
        assert_eq!(meta.mode() & 0o7777, 0o711);
        let sock = fs::symlink_metadata(u.dir.path.join("s")).unwrap();
        assert_eq!(sock.mode() & 0o7777, 0o666);
        // The server can answer the client by its bound path.
        u.socket.send(b"ping").unwrap();
        let mut buf = [0u8; 16];
        let (n, from) = server.recv_from(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"ping");
        server
            .send_to(b"pong", from.as_pathname().unwrap())
            .unwrap();
        drop(client);
        let left: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, vec![std::ffi::OsString::from("srv.sock")]);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn stale_directories_are_removed() {
        let dir = temp_dir("stale");
        let server_path = dir.join("srv.sock");
        let _server = UnixDatagram::bind(&server_path).unwrap();
        // A dead process's directory with a socket nobody holds...
        let stale = dir.join(format!("{DIR_PREFIX}999999999.0000abcd"));
        fs::create_dir(&stale).unwrap();
        drop(UnixDatagram::bind(stale.join("s")).unwrap());
        // ...and one without a socket, from long ago...
        let empty = dir.join(format!("{DIR_PREFIX}999999998.0000abcd"));
        fs::create_dir(&empty).unwrap();
        let long_ago = std::time::SystemTime::now() - 2 * SOCKETLESS_GRACE;
        File::open(&empty).unwrap().set_modified(long_ago).unwrap();
        // ...but not one just created by a process whose pid is not visible
        // here (another PID namespace sharing the socket directory), which
        // is about to bind its socket.
        let young = dir.join(format!("{DIR_PREFIX}999999997.0000abcd"));
        fs::create_dir(&young).unwrap();
        // Something else is kept.
        let other = dir.join("chrony-core.not-a-pid");
        fs::create_dir(&other).unwrap();
        let client = ClientSocket::open(&Target::Unix(server_path), "srv").unwrap();
        assert!(!stale.exists());
        assert!(!empty.exists());
        assert!(
            young.exists(),
            "a socketless directory of a minute or less is kept"
        );
        assert!(other.exists());
        drop(client);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn probe_errors() {
        let dir = temp_dir("probe");
        let missing = Target::Unix(dir.join("missing.sock"));
        assert_eq!(ClientSocket::open(&missing, "m").unwrap_err().code(), -2);
        let file = dir.join("file.sock");
        fs::write(&file, b"").unwrap();
        let e = ClientSocket::open(&Target::Unix(file), "f").unwrap_err();
        assert!(matches!(e, Error::ConnectionRefused { .. }), "{e:?}");
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1, "nothing created");
        fs::remove_dir_all(&dir).unwrap();
    }
}
