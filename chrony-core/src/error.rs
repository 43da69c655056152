//! The error type: one variant per situation the caller can act on, each
//! keeping its raw cause, each with a stable [`Error::code`].

use std::fmt;
use std::io;
use std::path::PathBuf;
use std::time::Duration;

use crate::Transport;

/// The longest unix socket path the kernel accepts, in bytes: `sun_path` has
/// 108 bytes and the path needs a terminating NUL.
pub const MAX_SOCKET_PATH_LEN: usize = 107;

/// `Result` with this crate's [`Error`] as the default error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong, grouped by what the caller can do about it.
///
/// [`Error::code`] maps every variant onto the contract's codes:
///
/// | code | meaning | variants |
/// |---|---|---|
/// | -1 | connection refused, send or receive failed | [`ConnectionRefused`](Error::ConnectionRefused), [`Io`](Error::Io), [`Library`](Error::Library), [`Interrupted`](Error::Interrupted) |
/// | -2 | socket not found, or an address that cannot name one | [`NotFound`](Error::NotFound), [`InvalidAddress`](Error::InvalidAddress), [`PathTooLong`](Error::PathTooLong) |
/// | -3 | permission denied | [`PermissionDenied`](Error::PermissionDenied), [`NotAuthorised`](Error::NotAuthorised) |
/// | -4 | invalid response, or a report this chronyd (or the linked library) does not know | [`Protocol`](Error::Protocol), [`InvalidValue`](Error::InvalidValue), [`Unsupported`](Error::Unsupported), [`UnsupportedByLibrary`](Error::UnsupportedByLibrary), [`NotRequested`](Error::NotRequested) |
/// | -5 | incomplete data | [`IncompleteData`](Error::IncompleteData), [`SourcesChanged`](Error::SourcesChanged) |
/// | -6 | timeout | [`Timeout`](Error::Timeout) |
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Code -1. The server end refused the connection: `connect()` or `send()`
    /// on a unix socket gave `ECONNREFUSED` (the socket file exists but no
    /// process listens on it: a stale socket left by a chronyd that was
    /// killed, or a path that is not a socket at all, e.g. a regular file), or
    /// a UDP receive gave `ECONNREFUSED` (nothing listens on that port).
    /// `source` is the `io::Error` with the errno.
    #[error("{}", refused_message(address, *transport))]
    ConnectionRefused {
        /// The socket path or `ip:port` queried.
        address: String,
        /// The transport of `address`.
        transport: Transport,
        /// The system error (`ECONNREFUSED`, or `ENOTCONN` after the peer
        /// of a connected unix socket went away).
        #[source]
        source: io::Error,
    },

    /// Code -1. A system call on the way failed for a reason other than the
    /// ones with their own variant: creating, binding or connecting the
    /// client socket (e.g. `EMFILE`), sending or receiving. The message reads
    /// "could not {operation} {address}: {source}" and says what to do.
    #[error("could not {operation} {address}: {source}; {}", io_advice(source))]
    Io {
        /// The socket path, directory or `ip:port` concerned.
        address: String,
        /// What was being done, worded to precede `address`, e.g. "send the
        /// request to chronyd at" (one of the phrases in `error::op`).
        operation: &'static str,
        /// The system error with its errno.
        #[source]
        source: io::Error,
    },

    /// Code -1. A file this crate has just created next to chronyd's socket
    /// (its private client directory, or the client socket in it) is not
    /// what it created: another owner, type or mode. Someone who can write
    /// chronyd's socket directory may be tampering with it; the file is
    /// neither used nor removed.
    #[error(
        "the client {what} {} is not the one this process has just created (another owner, \
         type or mode): someone who can write chronyd's socket directory may be tampering with \
         it; check who owns that directory and its mode (chronyd wants 0750 or stricter)",
        path.display()
    )]
    Tampered {
        /// The directory or socket concerned.
        path: PathBuf,
        /// `"directory"` or `"socket"`.
        what: &'static str,
    },

    /// Code -1. The C protocol library failed locally (no memory, no
    /// `/dev/urandom`, or an internal misuse). `chrony_err` is the raw
    /// `chrony_err` value; `source` the errno seen right after the call.
    #[error("the chrony protocol library failed: {} (chrony_err {chrony_err}): {source}", chrony_err_name(*chrony_err))]
    Library {
        /// The raw `chrony_err` value.
        chrony_err: u32,
        /// The errno seen right after the failing call (may be unrelated).
        #[source]
        source: io::Error,
    },

    /// Code -1. The caller's `interrupted` callback returned true while the
    /// query was waiting for chronyd.
    #[error("interrupted while waiting for chronyd")]
    Interrupted,

    /// Code -1. [`SharedConnection::close`](crate::SharedConnection::close)
    /// was called (by another thread, or by a signal handler) while this
    /// call waited for chronyd's reply.
    #[error(
        "the connection to chronyd at {address} was closed while this call waited for the reply; \
         call again to open a new one"
    )]
    Closed {
        /// The socket path or `ip:port` queried.
        address: String,
    },

    /// Code -2. No socket at any of the paths tried (`ENOENT`: the socket or
    /// its directory does not exist, or `ENOTDIR`), usually because chronyd
    /// is not running or uses another path. `tried` lists every path in order.
    #[error(
        "no chronyd socket at {}: is chronyd running? ({source})",
        join_paths(tried)
    )]
    NotFound {
        /// Every path tried, in order.
        tried: Vec<PathBuf>,
        /// The error of the last path tried (`ENOENT` or `ENOTDIR`).
        #[source]
        source: io::Error,
    },

    /// Code -2. The address cannot name a reachable socket: neither an
    /// absolute or relative unix socket path nor an IP address with an
    /// optional port in the libchrony grammar (host names are not looked up).
    #[error(
        "invalid chronyd address {address:?}: {reason}; use a socket path like /run/chrony/chronyd.sock, or 127.0.0.1, 127.0.0.1:323, ::1 or [::1]:323"
    )]
    InvalidAddress {
        /// The address as given.
        address: String,
        /// What is wrong with it.
        reason: &'static str,
    },

    /// Code -2. A unix socket path (chronyd's, or the client socket this
    /// crate binds next to it, `<dir>/chrony-core.<pid>.<random>/s`) is longer
    /// than [`MAX_SOCKET_PATH_LEN`] (107) bytes, so no socket can be named by it.
    #[error("unix socket path {} is {len} bytes, longer than the {MAX_SOCKET_PATH_LEN}-byte limit of a unix socket address; use a shorter directory", path.display())]
    PathTooLong {
        /// The path that does not fit.
        path: PathBuf,
        /// Its length in bytes.
        len: usize,
    },

    /// Code -3. The system refused access (`EACCES` or `EPERM`): to look up
    /// or connect to chronyd's socket (its directory is not searchable or the
    /// socket is not writable by this user), or to create the client socket
    /// directory next to it (chronyd replies to a socket the client binds in
    /// chronyd's socket directory, so that directory must be writable).
    #[error(
        "permission denied to {operation} {address} ({source}): run as root or as chronyd's user, or query the UDP command port 127.0.0.1:323, which serves tracking to any local user"
    )]
    PermissionDenied {
        /// The socket path (or directory) concerned.
        address: String,
        /// What was refused, worded to precede `address`, e.g. "connect to
        /// chronyd at" (one of the phrases in `error::op`).
        operation: &'static str,
        /// The system error (`EACCES` or `EPERM`).
        #[source]
        source: io::Error,
    },

    /// Code -3. chronyd answered "not authorised" (status 2, `STT_UNAUTH`;
    /// `CHRONY_UNAUTHORIZED` from the C library): over UDP, the request is not
    /// among chronyd's open commands, or the client is not allowed by `cmdallow`.
    #[error(
        "chronyd at {address} answered \"not authorised\" (chrony_err {chrony_err}): use the unix socket as root or as chronyd's user, or allow this command over UDP (opencommands / cmdallow)"
    )]
    NotAuthorised {
        /// The socket path or `ip:port` queried.
        address: String,
        /// The raw `chrony_err` value (`CHRONY_UNAUTHORIZED`, 9).
        chrony_err: u32,
    },

    /// Code -4. chronyd's reply cannot be used: a failure status
    /// (`CHRONY_UNEXPECTED_STATUS`, `CHRONY_DISABLED`), an unexpected reply
    /// code or protocol version (`CHRONY_NEW_SERVER`: chronyd is newer than
    /// this library; `CHRONY_OLD_SERVER`: chronyd does not know the command).
    #[error("chronyd at {address} sent an unusable reply: {} (chrony_err {chrony_err})", chrony_err_name(*chrony_err))]
    Protocol {
        /// The socket path or `ip:port` queried.
        address: String,
        /// The raw `chrony_err` value.
        chrony_err: u32,
    },

    /// Code -4. chronyd does not know the request (status 3, `STT_INVALID`;
    /// `CHRONY_OLD_SERVER` from the C library): it is older than the report,
    /// e.g. selectdata before chrony 4.0.
    #[error(
        "chronyd at {address} does not know the {report} report (chrony_err {chrony_err}): it is \
         older than the report; upgrade chrony, or do without this report"
    )]
    Unsupported {
        /// The socket path or `ip:port` queried.
        address: String,
        /// The report asked for, by its libchrony name (e.g. "selectdata").
        report: &'static str,
        /// The raw `chrony_err` value (`CHRONY_OLD_SERVER`, 12).
        chrony_err: u32,
    },

    /// Code -4. The linked C library does not know the report, so nothing
    /// was sent: a system libchrony 0.2 (`LIBCHRONY_NO_VENDOR`, or
    /// libchrony-sys without its `bundled` feature) lacks the reports this
    /// crate's own C library adds, such as sourcename.
    #[error(
        "the {report} report is not supported by this library: the linked libchrony (a system          libchrony 0.2) lacks it; build with libchrony-sys's bundled C library (its default          feature `bundled`, without LIBCHRONY_NO_VENDOR=1) to read it"
    )]
    UnsupportedByLibrary {
        /// The report asked for, by its C library name (e.g. "sourcename").
        report: &'static str,
    },

    /// Code -4. Never chronyd's answer: a part of a snapshot the caller left
    /// out of [`Connection::snapshot_of`](crate::Connection::snapshot_of)'s
    /// [`Parts`](crate::Parts), so nothing was sent for it.
    #[error(
        "the snapshot's {part} part was not asked for; add it to the parts given to snapshot_of \
         to read it"
    )]
    NotRequested {
        /// The part, by its field name in `Snapshot` or `SourceSnapshot`.
        part: &'static str,
    },

    /// Code -5. The list of sources kept changing while it was read (a
    /// source added or removed between the count and the records) in every
    /// one of `attempts` reads; records of two different lists are never
    /// mixed.
    #[error(
        "chronyd at {address} changed its list of sources while the {report} report was read, \
         {attempts} times in a row; try again (sources are being added or removed right now)"
    )]
    SourcesChanged {
        /// The socket path or `ip:port` queried.
        address: String,
        /// The report read, by its libchrony name (e.g. "sources").
        report: &'static str,
        /// How many times the whole list was read.
        attempts: u32,
    },

    /// Code -4. A field of the reply holds a value that chronyd never sends:
    /// a non-finite float, a stratum above 16, a leap status above 3, a
    /// reference ID wider than 32 bits, a negative reference time or an
    /// unknown address format. This means corrupt data, not an odd clock:
    /// legitimate values such as a negative root delay pass.
    #[error("chronyd sent an invalid {field}: {value}")]
    InvalidValue {
        /// The field, by its libchrony name (e.g. "stratum").
        field: &'static str,
        /// The value received, as text.
        value: String,
    },

    /// Code -5. The reply is too short for the report (`CHRONY_INVALID_RESPONSE`),
    /// or a field of the report is missing or has another type.
    #[error("chronyd's reply is incomplete: {detail}")]
    IncompleteData {
        /// What is missing.
        detail: String,
        /// The raw `chrony_err` value, when the C library reported it.
        chrony_err: Option<u32>,
    },

    /// Code -6. No valid reply arrived within the total deadline, although
    /// the request was sent again as chronyc does: chronyd is stopped
    /// (SIGSTOP), overloaded, or silently drops the request (e.g. a UDP
    /// client that `cmdallow` does not allow).
    #[error("chronyd at {address} did not answer within {} (is it frozen or overloaded?)", DurationText(*timeout))]
    Timeout {
        /// The socket path or `ip:port` queried.
        address: String,
        /// The deadline that passed.
        timeout: Duration,
    },
}

impl Error {
    /// The contract's error code: -1 connection refused or send/receive
    /// failed (also [`Error::Interrupted`] and local library failures), -2
    /// socket not found or unusable address, -3 permission denied, -4
    /// invalid response, -5 incomplete data, -6 timeout.
    pub fn code(&self) -> i32 {
        match self {
            Error::ConnectionRefused { .. }
            | Error::Io { .. }
            | Error::Tampered { .. }
            | Error::Library { .. }
            | Error::Interrupted
            | Error::Closed { .. } => -1,
            Error::NotFound { .. } | Error::InvalidAddress { .. } | Error::PathTooLong { .. } => -2,
            Error::PermissionDenied { .. } | Error::NotAuthorised { .. } => -3,
            Error::Protocol { .. }
            | Error::InvalidValue { .. }
            | Error::Unsupported { .. }
            | Error::UnsupportedByLibrary { .. }
            | Error::NotRequested { .. } => -4,
            Error::IncompleteData { .. } | Error::SourcesChanged { .. } => -5,
            Error::Timeout { .. } => -6,
        }
    }

    /// The errno behind this error, when a system call caused it.
    pub fn raw_os_error(&self) -> Option<i32> {
        match self {
            Error::ConnectionRefused { source, .. }
            | Error::Io { source, .. }
            | Error::NotFound { source, .. }
            | Error::PermissionDenied { source, .. } => source.raw_os_error(),
            _ => None,
        }
    }

    /// The raw `chrony_err` value behind this error, when the C library
    /// reported it.
    pub fn chrony_err(&self) -> Option<u32> {
        match self {
            Error::Library { chrony_err, .. }
            | Error::NotAuthorised { chrony_err, .. }
            | Error::Protocol { chrony_err, .. }
            | Error::Unsupported { chrony_err, .. } => Some(*chrony_err),
            Error::IncompleteData { chrony_err, .. } => *chrony_err,
            _ => None,
        }
    }

    /// Maps a failed system call on the way to chronyd onto a variant by its
    /// errno: `ENOENT`/`ENOTDIR` → not found, `ECONNREFUSED` → refused,
    /// `EACCES`/`EPERM` → permission, the rest → [`Error::Io`].
    pub(crate) fn from_io(
        source: io::Error,
        address: &str,
        transport: Transport,
        operation: &'static str,
    ) -> Error {
        match source.raw_os_error() {
            Some(libc::ENOENT | libc::ENOTDIR) if transport == Transport::Unix => Error::NotFound {
                tried: vec![PathBuf::from(address)],
                source,
            },
            Some(libc::ECONNREFUSED) => Error::ConnectionRefused {
                address: address.to_owned(),
                transport,
                source,
            },
            Some(libc::ENOTCONN) if transport == Transport::Unix => Error::ConnectionRefused {
                address: address.to_owned(),
                transport,
                source,
            },
            Some(libc::EACCES | libc::EPERM) => Error::PermissionDenied {
                address: address.to_owned(),
                operation,
                source,
            },
            _ => Error::Io {
                address: address.to_owned(),
                operation,
                source,
            },
        }
    }

    /// Maps a `chrony_err` from the C library (not `CHRONY_OK`) onto a
    /// variant. `errno` is the system error seen right after the call, used
    /// for `CHRONY_SEND_FAILED` and `CHRONY_RECV_FAILED`.
    pub(crate) fn from_chrony(
        chrony_err: u32,
        errno: io::Error,
        address: &str,
        transport: Transport,
    ) -> Error {
        use libchrony_sys as ffi;
        match chrony_err {
            ffi::CHRONY_SEND_FAILED => Error::from_io(errno, address, transport, op::SEND),
            ffi::CHRONY_RECV_FAILED => Error::from_io(errno, address, transport, op::RECEIVE),
            ffi::CHRONY_UNAUTHORIZED => Error::NotAuthorised {
                address: address.to_owned(),
                chrony_err,
            },
            ffi::CHRONY_INVALID_RESPONSE => Error::IncompleteData {
                detail: "the reply is shorter than the report's layout, a source name in it \
                         lacks its terminating NUL (a name chronyd had to cut), or a clients \
                         reply does not move past the slot asked for"
                    .to_owned(),
                chrony_err: Some(chrony_err),
            },
            ffi::CHRONY_DISABLED
            | ffi::CHRONY_UNEXPECTED_STATUS
            | ffi::CHRONY_OLD_SERVER
            | ffi::CHRONY_NEW_SERVER
            | ffi::CHRONY_NO_SUCH_SOURCE => Error::Protocol {
                address: address.to_owned(),
                chrony_err,
            },
            _ => Error::Library {
                chrony_err,
                source: errno,
            },
        }
    }
}

/// The `operation` of every [`Error::Io`] and [`Error::PermissionDenied`]:
/// each reads as "could not PHRASE ADDRESS" and "permission denied to
/// PHRASE ADDRESS". One list, so every message can be tested.
pub(crate) mod op {
    /// `address` is chronyd's socket path or `ip:port` in these.
    pub const CONNECT: &str = "connect to chronyd at";
    pub const SEND: &str = "send the request to chronyd at";
    pub const RECEIVE: &str = "receive the reply from chronyd at";
    pub const WAIT: &str = "wait for the reply from chronyd at";
    pub const CREATE_UNIX_SOCKET: &str = "create a unix socket for chronyd at";
    pub const CREATE_UDP_SOCKET: &str = "create a UDP socket for chronyd at";
    pub const CONFIGURE_SOCKET: &str = "set up the client socket for chronyd at";
    /// `address` is the directory holding chronyd's socket.
    pub const CREATE_DIR: &str = "create a private client directory in";
    pub const FRESH_DIR_NAME: &str = "find an unused name for a private client directory in";
    /// `address` is our private client directory.
    pub const OPEN_DIR: &str = "open the client directory";
    pub const CHECK_DIR: &str = "check the owner and mode of the client directory";
    pub const CHMOD_DIR: &str = "give chronyd's user access to the client directory";
    pub const BIND: &str = "bind the client socket in";
    pub const CHECK_SOCKET: &str = "check the client socket in";
    pub const CHMOD_SOCKET: &str = "give chronyd's user access to the client socket in";
    /// `address` is a relative socket path, or a default socket path.
    pub const ABSOLUTE: &str = "find the current directory to resolve the relative socket path";
    pub const LOOK_UP: &str = "look up the socket";
    /// `address` is "this process".
    pub const REGISTER_FORK_HANDLERS: &str = "register the fork handlers (pthread_atfork) of";

    #[cfg(test)]
    pub const ALL: [&str; 18] = [
        CONNECT,
        SEND,
        RECEIVE,
        WAIT,
        CREATE_UNIX_SOCKET,
        CREATE_UDP_SOCKET,
        CONFIGURE_SOCKET,
        CREATE_DIR,
        FRESH_DIR_NAME,
        OPEN_DIR,
        CHECK_DIR,
        CHMOD_DIR,
        BIND,
        CHECK_SOCKET,
        CHMOD_SOCKET,
        ABSOLUTE,
        LOOK_UP,
        REGISTER_FORK_HANDLERS,
    ];
}

/// What to do about a failed system call, by its errno.
fn io_advice(source: &io::Error) -> &'static str {
    match source.raw_os_error() {
        Some(libc::EMFILE | libc::ENFILE) => {
            "the process has too many open files: close some or raise the limit (ulimit -n)"
        }
        Some(libc::ENOSPC | libc::EDQUOT) => {
            "the file system is full: free some space in it, or query the UDP command port"
        }
        Some(libc::EROFS) => {
            "the file system is read-only: query the UDP command port (127.0.0.1:323) instead"
        }
        Some(libc::ENOBUFS | libc::ENOMEM) => "the system is short of memory: try again later",
        _ => "check that chronyd is running (chronyc tracking) and try again",
    }
}

fn refused_message(address: &str, transport: Transport) -> String {
    match transport {
        Transport::Unix => format!(
            "connection refused at {address}: chronyd is not running (stale socket), \
             or the path is not chronyd's socket; start chronyd or check the path"
        ),
        Transport::Udp => format!(
            "connection refused at {address}: nothing listens on that UDP port; \
             is chronyd running, with its command port (cmdport) there?"
        ),
    }
}

fn join_paths(paths: &[PathBuf]) -> String {
    let mut text = String::new();
    for (i, p) in paths.iter().enumerate() {
        if i > 0 {
            text.push_str(", ");
        }
        text.push_str(&p.display().to_string());
    }
    text
}

/// The name of a `chrony_err` value, as in chrony.h.
pub(crate) fn chrony_err_name(code: u32) -> &'static str {
    use libchrony_sys as ffi;
    match code {
        ffi::CHRONY_OK => "CHRONY_OK",
        ffi::CHRONY_NO_MEMORY => "CHRONY_NO_MEMORY",
        ffi::CHRONY_NO_RANDOM => "CHRONY_NO_RANDOM",
        ffi::CHRONY_UNKNOWN_REPORT => "CHRONY_UNKNOWN_REPORT",
        ffi::CHRONY_RANDOM_FAILED => "CHRONY_RANDOM_FAILED",
        ffi::CHRONY_SEND_FAILED => "CHRONY_SEND_FAILED",
        ffi::CHRONY_RECV_FAILED => "CHRONY_RECV_FAILED",
        ffi::CHRONY_INVALID_ARGUMENT => "CHRONY_INVALID_ARGUMENT",
        ffi::CHRONY_UNEXPECTED_CALL => "CHRONY_UNEXPECTED_CALL",
        ffi::CHRONY_UNAUTHORIZED => "CHRONY_UNAUTHORIZED",
        ffi::CHRONY_DISABLED => "CHRONY_DISABLED (facility not enabled in chronyd)",
        ffi::CHRONY_UNEXPECTED_STATUS => "CHRONY_UNEXPECTED_STATUS (chronyd reported a failure)",
        ffi::CHRONY_OLD_SERVER => "CHRONY_OLD_SERVER (chronyd is too old for this request)",
        ffi::CHRONY_NEW_SERVER => {
            "CHRONY_NEW_SERVER (protocol version or reply not supported: chronyd is too new)"
        }
        ffi::CHRONY_INVALID_RESPONSE => "CHRONY_INVALID_RESPONSE",
        ffi::CHRONY_NO_SUCH_SOURCE => "CHRONY_NO_SUCH_SOURCE (chronyd has no such source)",
        _ => "unknown chrony_err",
    }
}

/// A duration as people write it: "3 s", "500 ms", "1.5 s".
struct DurationText(Duration);

impl fmt::Display for DurationText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.0;
        if d.subsec_nanos() == 0 {
            write!(f, "{} s", d.as_secs())
        } else if d < Duration::from_secs(1) && d.subsec_nanos() % 1_000_000 == 0 {
            write!(f, "{} ms", d.as_millis())
        } else {
            write!(f, "{} s", d.as_secs_f64())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errno(e: i32) -> io::Error {
        io::Error::from_raw_os_error(e)
    }

    #[test]
    fn codes_by_errno() {
        let p = "/run/chrony/chronyd.sock";
        let u = Transport::Unix;
        assert_eq!(
            Error::from_io(errno(libc::ENOENT), p, u, "connect").code(),
            -2
        );
        assert_eq!(
            Error::from_io(errno(libc::ENOTDIR), p, u, "connect").code(),
            -2
        );
        assert_eq!(
            Error::from_io(errno(libc::ECONNREFUSED), p, u, "connect").code(),
            -1
        );
        assert_eq!(
            Error::from_io(errno(libc::EACCES), p, u, "connect").code(),
            -3
        );
        assert_eq!(
            Error::from_io(errno(libc::EPERM), p, u, "connect").code(),
            -3
        );
        assert_eq!(
            Error::from_io(errno(libc::EMFILE), p, u, "connect").code(),
            -1
        );
        let e = Error::from_io(
            errno(libc::ECONNREFUSED),
            "127.0.0.1:9",
            Transport::Udp,
            "x",
        );
        assert!(e.to_string().contains("nothing listens"), "{e}");
        assert_eq!(e.raw_os_error(), Some(libc::ECONNREFUSED));
    }

    #[test]
    fn codes_by_chrony_err() {
        use libchrony_sys as ffi;
        let a = "127.0.0.1:323";
        let t = Transport::Udp;
        let code = |c| Error::from_chrony(c, errno(0), a, t).code();
        assert_eq!(code(ffi::CHRONY_UNAUTHORIZED), -3);
        assert_eq!(code(ffi::CHRONY_OLD_SERVER), -4);
        assert_eq!(code(ffi::CHRONY_NEW_SERVER), -4);
        assert_eq!(code(ffi::CHRONY_UNEXPECTED_STATUS), -4);
        assert_eq!(code(ffi::CHRONY_DISABLED), -4);
        assert_eq!(code(ffi::CHRONY_INVALID_RESPONSE), -5);
        assert_eq!(code(ffi::CHRONY_NO_MEMORY), -1);
        let recv = Error::from_chrony(ffi::CHRONY_RECV_FAILED, errno(libc::ECONNREFUSED), a, t);
        assert!(matches!(recv, Error::ConnectionRefused { .. }));
        assert_eq!(Error::from_chrony(9, errno(0), a, t).chrony_err(), Some(9));
    }

    #[test]
    fn messages_say_what_to_do() {
        let e = Error::from_io(
            errno(libc::EACCES),
            "/run/chrony/chronyd.sock",
            Transport::Unix,
            "connect",
        );
        let m = e.to_string();
        assert!(m.contains("run as root or as chronyd's user"), "{m}");
        assert!(m.contains("127.0.0.1:323"), "{m}");
        let e = Error::from_io(
            errno(libc::ECONNREFUSED),
            "/x/chronyd.sock",
            Transport::Unix,
            "connect",
        );
        assert!(
            e.to_string()
                .contains("chronyd is not running (stale socket)"),
            "{e}"
        );
        let e = Error::NotFound {
            tried: vec!["/a".into(), "/b".into()],
            source: errno(libc::ENOENT),
        };
        assert!(e.to_string().contains("/a, /b: is chronyd running?"), "{e}");
        let e = Error::Timeout {
            address: "/x".into(),
            timeout: Duration::from_secs(3),
        };
        assert!(
            e.to_string()
                .contains("did not answer within 3 s (is it frozen or overloaded?)"),
            "{e}"
        );
        let e = Error::Timeout {
            address: "/x".into(),
            timeout: Duration::from_millis(500),
        };
        assert!(e.to_string().contains("within 500 ms"), "{e}");
        let e = Error::PathTooLong {
            path: "/x".into(),
            len: 120,
        };
        assert!(e.to_string().contains("107-byte limit"), "{e}");
    }

    #[test]
    fn every_io_and_permission_message_reads_as_a_sentence() {
        for op in op::ALL {
            // Each phrase is a verb phrase that the address completes.
            let first = op.split(' ').next().unwrap();
            assert!(
                [
                    "connect", "send", "receive", "wait", "create", "set", "find", "open", "check",
                    "give", "bind", "look", "register"
                ]
                .contains(&first),
                "{op}"
            );
            let e = Error::from_io(errno(libc::EMFILE), "/run/chrony/x", Transport::Unix, op);
            assert!(matches!(e, Error::Io { .. }), "{e:?}");
            let m = e.to_string();
            assert!(
                m.starts_with(&format!("could not {op} /run/chrony/x: ")),
                "{m}"
            );
            assert!(m.ends_with("raise the limit (ulimit -n)"), "{m}");
            assert!(!m.contains("failed for"), "{m}");
            let e = Error::from_io(errno(libc::EACCES), "/run/chrony/x", Transport::Unix, op);
            let m = e.to_string();
            assert!(
                m.starts_with(&format!("permission denied to {op} /run/chrony/x (")),
                "{m}"
            );
        }
        let e = Error::from_io(
            errno(libc::EPIPE),
            "127.0.0.1:323",
            Transport::Udp,
            op::SEND,
        );
        assert_eq!(
            e.to_string(),
            "could not send the request to chronyd at 127.0.0.1:323: Broken pipe (os error 32); \
             check that chronyd is running (chronyc tracking) and try again"
        );
        let e = Error::Tampered {
            path: "/run/chrony/chrony-core.1.0000abcd".into(),
            what: "directory",
        };
        let m = e.to_string();
        assert!(
            m.starts_with(
                "the client directory /run/chrony/chrony-core.1.0000abcd is not the one this \
                 process has just created"
            ),
            "{m}"
        );
        assert!(m.contains("check who owns that directory"), "{m}");
        assert_eq!(e.code(), -1);
        let e = Error::Closed {
            address: "/x".into(),
        };
        assert!(
            e.to_string().contains("call again to open a new one"),
            "{e}"
        );
    }

    #[test]
    fn a_report_the_library_lacks() {
        let e = crate::reports::require_known(c"sourcename", false).unwrap_err();
        assert!(matches!(
            e,
            Error::UnsupportedByLibrary {
                report: "sourcename"
            }
        ));
        assert_eq!(e.code(), -4);
        assert_eq!(e.chrony_err(), None);
        let m = e.to_string();
        assert!(
            m.starts_with("the sourcename report is not supported by this library"),
            "{m}"
        );
        assert!(m.contains("bundled"), "{m}");
        assert!(crate::reports::require_known(c"sourcename", true).is_ok());
    }

    #[test]
    fn error_is_send_sync() {
        fn check<T: Send + Sync + 'static>() {}
        check::<Error>();
    }
}
