//! The reference address and the reference-ID name, exactly as `chronyc -n`
//! shows them.

use std::fmt;
use std::net::{IpAddr, Ipv6Addr};

/// The address of chronyd's current reference, as in the tracking report.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ReferenceAddress {
    /// No address: chronyd is unsynchronised, runs on `local stratum N`, or
    /// follows a reference clock (its reference ID then names it, e.g. "GPS").
    Unspecified,
    /// An NTP server or peer.
    Ip(IpAddr),
    /// A source whose name is not resolved yet (chrony's address family 3);
    /// shown by chronyc as `ID#` and the number in 10 digits.
    Id(u32),
}

impl fmt::Display for ReferenceAddress {
    /// `""`, the IP address as chronyc prints it (`inet_ntop`), or `ID#%010u`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReferenceAddress::Unspecified => Ok(()),
            ReferenceAddress::Ip(IpAddr::V4(ip)) => f.write_str(dotted(ip).as_str()),
            ReferenceAddress::Ip(IpAddr::V6(ip)) => fmt_ipv6(ip, f),
            ReferenceAddress::Id(id) => write!(f, "ID#{id:010}"),
        }
    }
}

impl ReferenceAddress {
    /// Parses the address text of the C library: `None` (unspecified),
    /// dotted IPv4, IPv6, or `ID#` and a decimal number. `"?"`, which both
    /// libchrony and the bundled library give for an address family they do
    /// not know (a newer chronyd's), counts as unspecified, as chronyc treats
    /// it: the reference ID's characters then name the reference. Anything
    /// else gives `None`.
    pub(crate) fn from_c_text(text: Option<&[u8]>) -> Option<ReferenceAddress> {
        let Some(text) = text.filter(|t| *t != b"?") else {
            return Some(ReferenceAddress::Unspecified);
        };
        let text = std::str::from_utf8(text).ok()?;
        if let Some(digits) = text.strip_prefix("ID#") {
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            return digits.parse().ok().map(ReferenceAddress::Id);
        }
        text.parse().ok().map(ReferenceAddress::Ip)
    }
}

/// The name chronyc shows for the reference (with `-n` or `-c`): for an
/// unspecified address, the printable ASCII bytes of the reference ID, most
/// significant first (`isprint` in the C locale, so "GPS\0" gives "GPS" and
/// 0 or 0x7F7F0101 give ""); otherwise the address text.
pub(crate) fn reference_id_name(reference_id: u32, address: &ReferenceAddress) -> String {
    match address {
        ReferenceAddress::Unspecified => reference_id
            .to_be_bytes()
            .iter()
            .filter(|b| (0x20..=0x7e).contains(*b))
            .map(|&b| char::from(b))
            .collect(),
        other => {
            // Room for the longest text (IPv6), so the formatting never reallocates.
            let mut name = String::with_capacity(45);
            fmt::write(&mut name, format_args!("{other}")).expect("a String takes any text");
            name
        }
    }
}

/// Dotted-quad text, written digit by digit: `Ipv4Addr`'s `Display` goes
/// through the formatter once per byte (a fifth of the instructions of
/// decoding a tracking record), and it runs on every tracking query (for the
/// reference-ID name).
struct Dotted {
    bytes: [u8; 15],
    len: usize,
}

impl Dotted {
    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..self.len]).expect("digits and dots are ASCII")
    }
}

fn dotted(ip: &std::net::Ipv4Addr) -> Dotted {
    let mut out = Dotted {
        bytes: [0; 15],
        len: 0,
    };
    let mut push = |b: u8| {
        out.bytes[out.len] = b;
        out.len += 1;
    };
    for (i, v) in ip.octets().into_iter().enumerate() {
        if i > 0 {
            push(b'.');
        }
        if v >= 100 {
            push(b'0' + v / 100);
        }
        if v >= 10 {
            push(b'0' + v / 10 % 10);
        }
        push(b'0' + v % 10);
    }
    out
}

/// IPv6 text as glibc's `inet_ntop` writes it, which chronyc uses. Rust's
/// `Display` agrees except for the deprecated IPv4-compatible form
/// `::a.b.c.d` (first 96 bits zero, then a non-zero word), which `inet_ntop`
/// prints with a dotted tail and Rust in hex.
fn fmt_ipv6(ip: &Ipv6Addr, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let w = ip.segments();
    if w[..6].iter().all(|&x| x == 0) && w[6] != 0 {
        let o = ip.octets();
        write!(f, "::{}.{}.{}.{}", o[12], o[13], o[14], o[15])
    } else {
        write!(f, "{ip}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_of_unspecified_address() {
        let u = ReferenceAddress::Unspecified;
        assert_eq!(reference_id_name(0x4750_5300, &u), "GPS");
        assert_eq!(reference_id_name(0, &u), "");
        assert_eq!(reference_id_name(0x7F7F_0101, &u), "");
        assert_eq!(reference_id_name(0x5050_5300, &u), "PPS");
        assert_eq!(reference_id_name(0x4100_4200, &u), "AB");
        assert_eq!(reference_id_name(0x207E_7F1F, &u), " ~");
    }

    #[test]
    fn dotted_quads_as_std_writes_them() {
        for ip in ["0.0.0.0", "255.255.255.255", "1.22.100.9", "10.0.99.200"] {
            let ip: std::net::Ipv4Addr = ip.parse().unwrap();
            assert_eq!(dotted(&ip).as_str(), ip.to_string());
        }
    }

    #[test]
    fn names_of_addresses() {
        let ip = |s: &str| ReferenceAddress::Ip(s.parse().unwrap());
        // An IPv4 refid with printable bytes is still shown as the address.
        assert_eq!(
            reference_id_name(0x4142_4344, &ip("65.66.67.68")),
            "65.66.67.68"
        );
        assert_eq!(reference_id_name(1, &ip("::1")), "::1");
        assert_eq!(
            reference_id_name(1, &ReferenceAddress::Id(42)),
            "ID#0000000042"
        );
        assert_eq!(ReferenceAddress::Unspecified.to_string(), "");
    }

    #[test]
    fn parse_c_text() {
        let p = |s: &str| ReferenceAddress::from_c_text(Some(s.as_bytes()));
        assert_eq!(
            ReferenceAddress::from_c_text(None),
            Some(ReferenceAddress::Unspecified)
        );
        assert_eq!(
            p("127.0.0.1"),
            Some(ReferenceAddress::Ip("127.0.0.1".parse().unwrap()))
        );
        assert_eq!(
            p("fe80::1"),
            Some(ReferenceAddress::Ip("fe80::1".parse().unwrap()))
        );
        assert_eq!(
            p("::1.2.3.4"),
            Some(ReferenceAddress::Ip("::102:304".parse().unwrap()))
        );
        assert_eq!(p("ID#0000000007"), Some(ReferenceAddress::Id(7)));
        assert_eq!(p("ID#4294967295"), Some(ReferenceAddress::Id(u32::MAX)));
        assert_eq!(p("ID#4294967296"), None);
        assert_eq!(p("ID#"), None);
        assert_eq!(
            p("?"),
            Some(ReferenceAddress::Unspecified),
            "an unknown family"
        );
        assert_eq!(p("bogus"), None);
    }

    #[test]
    fn ipv6_text_round_trips_through_the_c_text_parser() {
        // Compared with glibc's inet_ntop in tests/ipv6_text.rs.
        for case in [
            "::",
            "::1.2.3.4",
            "::ffff:1.2.3.4",
            "fe80::1",
            "1:2:3:4:5:6:7:8",
        ] {
            let ip: Ipv6Addr = case.parse().unwrap();
            let ours = ReferenceAddress::Ip(IpAddr::V6(ip)).to_string();
            assert_eq!(
                ReferenceAddress::from_c_text(Some(ours.as_bytes())),
                Some(ReferenceAddress::Ip(IpAddr::V6(ip))),
                "{case}"
            );
        }
    }
}
