//! Where chronyd is: the address grammar, relative paths, path limits and
//! the discovery of the default socket.
//!
//! Grammar (libchrony's, plus relative paths):
//! - `/abs/path`: a unix socket path;
//! - a relative unix socket path, recognised by containing a `/` (`./x.sock`,
//!   `run/chronyd.sock`) or by ending in `.sock` (`chronyd.sock`); it is
//!   resolved against the current directory when the connection is opened;
//! - `IPv4`, `IPv4:port`, `IPv6`, `[IPv6]:port`: chronyd's UDP command port,
//!   323 unless given. No host names are looked up. As in libchrony, an
//!   address with two or more colons and no brackets is all IPv6 address, so
//!   `::1:323` is the IPv6 address `::1:323` on port 323.

use std::borrow::Cow;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::error::MAX_SOCKET_PATH_LEN;
use crate::{Error, Result};

/// chronyd's default command socket paths, tried in this order when no
/// address is given: Debian and most distributions use `/run/chrony`,
/// chrony's own default is `/var/run/chrony` (usually the same directory).
pub const DEFAULT_SOCKET_PATHS: [&str; 2] =
    ["/run/chrony/chronyd.sock", "/var/run/chrony/chronyd.sock"];

/// chronyd's default UDP command port.
pub(crate) const DEFAULT_PORT: u16 = 323;

/// A parsed address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Target {
    /// An absolute unix socket path that fits in `sun_path`.
    Unix(PathBuf),
    /// An IP address and UDP port.
    Udp(SocketAddr),
}

impl Target {
    /// Parses an address of the grammar in the module docs.
    pub(crate) fn parse(address: &str) -> Result<Target> {
        if address.is_empty() {
            return Err(invalid(address, "the address is empty"));
        }
        if address.starts_with('/') || address.contains('/') || address.ends_with(".sock") {
            return Ok(Target::Unix(unix_path(Path::new(address))?.into_owned()));
        }
        parse_ip(address).map(Target::Udp)
    }

    /// The address text of a connection: the path, or `ip:port`
    /// (`127.0.0.1:323`, `[::1]:323`).
    pub(crate) fn text(&self) -> String {
        match self {
            Target::Unix(path) => path.display().to_string(),
            Target::Udp(addr) => addr.to_string(),
        }
    }
}

/// A unix socket path made absolute (relative to the current directory)
/// and checked against the `sun_path` limit.
pub(crate) fn unix_path(path: &Path) -> Result<Cow<'_, Path>> {
    let bytes = path.as_os_str().as_bytes();
    if bytes.is_empty() {
        return Err(invalid("", "the socket path is empty"));
    }
    if bytes.contains(&0) {
        return Err(invalid(
            &path.to_string_lossy(),
            "the path contains a NUL byte",
        ));
    }
    let path = if path.is_absolute() {
        Cow::Borrowed(path)
    } else {
        let absolute = std::path::absolute(path).map_err(|source| Error::Io {
            address: path.display().to_string(),
            operation: crate::error::op::ABSOLUTE,
            source,
        })?;
        Cow::Owned(absolute)
    };
    check_len(&path)?;
    Ok(path)
}

/// Fails with [`Error::PathTooLong`] if `path` does not fit in `sun_path`.
pub(crate) fn check_len(path: &Path) -> Result<()> {
    let len = path.as_os_str().len();
    if len > MAX_SOCKET_PATH_LEN {
        return Err(Error::PathTooLong {
            path: path.to_owned(),
            len,
        });
    }
    Ok(())
}

fn invalid(address: &str, reason: &'static str) -> Error {
    Error::InvalidAddress {
        address: address.to_owned(),
        reason,
    }
}

fn parse_ip(address: &str) -> Result<SocketAddr> {
    if address.len() > 255 {
        return Err(invalid(address, "the address is longer than 255 bytes"));
    }
    let colons = address.bytes().filter(|&b| b == b':').count();
    let (host, port) = if colons == 1 {
        let (host, port) = address.split_once(':').expect("one colon");
        (host, Some(port))
    } else if colons >= 3 && address.starts_with('[') {
        let (host, port) = address.rsplit_once(':').expect("colons");
        let Some(host) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) else {
            return Err(invalid(address, "expected [IPv6]:port"));
        };
        (host, Some(port))
    } else if address.starts_with('[') {
        return Err(invalid(
            address,
            "a bracketed IPv6 address needs a port, e.g. [::1]:323",
        ));
    } else {
        (address, None)
    };
    let port = match port {
        None => DEFAULT_PORT,
        Some(p) => match p.parse::<u16>() {
            Ok(port) if port != 0 && p.bytes().all(|b| b.is_ascii_digit()) => port,
            _ => {
                return Err(invalid(
                    address,
                    "the port must be a number from 1 to 65535",
                ));
            }
        },
    };
    let ip: IpAddr = host.parse().map_err(|_| {
        invalid(
            address,
            "not a socket path (absolute, containing '/' or ending in .sock) nor an IP address (host names are not looked up)",
        )
    })?;
    Ok(SocketAddr::new(ip, port))
}

/// Finds chronyd's socket among [`DEFAULT_SOCKET_PATHS`], in order: the
/// first path that exists wins. A path that cannot be checked because a
/// directory on the way is not searchable is a permission error
/// ([`Error::PermissionDenied`], -3), not "not found"; when none exists the
/// error ([`Error::NotFound`], -2) names every path tried.
pub fn discover_socket() -> Result<PathBuf> {
    let mut last = None;
    for candidate in DEFAULT_SOCKET_PATHS {
        match std::fs::metadata(candidate) {
            Ok(_) => return Ok(PathBuf::from(candidate)),
            Err(e) if matches!(e.raw_os_error(), Some(libc::ENOENT | libc::ENOTDIR)) => {
                last = Some(e)
            }
            Err(e) if matches!(e.raw_os_error(), Some(libc::EACCES | libc::EPERM)) => {
                return Err(Error::PermissionDenied {
                    address: candidate.to_owned(),
                    operation: crate::error::op::LOOK_UP,
                    source: e,
                });
            }
            Err(source) => {
                return Err(Error::Io {
                    address: candidate.to_owned(),
                    operation: crate::error::op::LOOK_UP,
                    source,
                });
            }
        }
    }
    Err(Error::NotFound {
        tried: DEFAULT_SOCKET_PATHS.iter().map(PathBuf::from).collect(),
        source: last.unwrap_or_else(|| io::Error::from_raw_os_error(libc::ENOENT)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn udp(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn ip_grammar() {
        let p = |a: &str| Target::parse(a).unwrap();
        assert_eq!(p("127.0.0.1"), Target::Udp(udp("127.0.0.1:323")));
        assert_eq!(p("127.0.0.1:1323"), Target::Udp(udp("127.0.0.1:1323")));
        assert_eq!(p("::1"), Target::Udp(udp("[::1]:323")));
        assert_eq!(p("[::1]:323"), Target::Udp(udp("[::1]:323")));
        assert_eq!(p("[::1]:10323"), Target::Udp(udp("[::1]:10323")));
        // As in libchrony: two or more colons without brackets is one IPv6 address.
        assert_eq!(p("::1:323"), Target::Udp(udp("[::1:323]:323")));
        assert_eq!(p("[::1]:323").text(), "[::1]:323");
        assert_eq!(p("127.0.0.1").text(), "127.0.0.1:323");
    }

    #[test]
    fn invalid_addresses() {
        for a in [
            "",
            "[::1]",
            "1.2.3.4:",
            "999.1.1.1",
            "localhost",
            "1.2.3.4:0",
            "1.2.3.4:x",
            "1.2.3.4:+1",
            "[::1]x:3",
        ] {
            let e = Target::parse(a).unwrap_err();
            assert!(matches!(e, Error::InvalidAddress { .. }), "{a}: {e:?}");
            assert_eq!(e.code(), -2, "{a}");
        }
    }

    #[test]
    fn unix_paths() {
        assert_eq!(
            Target::parse("/run/chrony/chronyd.sock").unwrap(),
            Target::Unix("/run/chrony/chronyd.sock".into())
        );
        let cwd = std::env::current_dir().unwrap();
        assert_eq!(
            Target::parse("./x.sock").unwrap(),
            Target::Unix(cwd.join("x.sock"))
        );
        assert_eq!(Target::parse("a/b").unwrap(), Target::Unix(cwd.join("a/b")));
        assert_eq!(
            Target::parse("chronyd.sock").unwrap(),
            Target::Unix(cwd.join("chronyd.sock"))
        );
    }

    #[test]
    fn path_length_limit() {
        let ok = format!("/{}", "a".repeat(106));
        assert!(Target::parse(&ok).is_ok());
        let long = format!("/{}", "a".repeat(107));
        let e = Target::parse(&long).unwrap_err();
        assert!(matches!(e, Error::PathTooLong { len: 108, .. }), "{e:?}");
        assert_eq!(e.code(), -2);
    }
}
