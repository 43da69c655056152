//! The sources report (`chronyc sources`): one record per source, read by
//! index after the number of sources.

use std::ffi::CStr;
use std::fmt;
use std::net::IpAddr;

use super::Report;
use super::decode::Fields;
use super::refid::{ReferenceAddress, reference_id_name};
use crate::Result;
use crate::session::CSession;

/// Which source a record is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SourceAddress {
    /// An NTP server or peer.
    Ip(IpAddr),
    /// A source configured by a name that is not resolved yet (chrony's
    /// address family 3): chronyc shows `ID#` and the number in 10 digits,
    /// and `chronyc sources` lists it only with `-a`.
    Unresolved(u32),
    /// A reference clock, by its reference ID (`refid GPS` is 0x47505300).
    RefClock(u32),
    /// An address family this library does not know (a newer chronyd's).
    Unknown,
}

impl SourceAddress {
    /// The source of a record that has its reference ID and address, as
    /// sourcestats and selectdata have: an unspecified address is a
    /// reference clock, named by its reference ID.
    pub(crate) fn of(reference_id: u32, address: ReferenceAddress) -> SourceAddress {
        match address {
            ReferenceAddress::Ip(ip) => SourceAddress::Ip(ip),
            ReferenceAddress::Id(id) => SourceAddress::Unresolved(id),
            ReferenceAddress::Unspecified => SourceAddress::RefClock(reference_id),
        }
    }

    /// Reads the "reference ID" and "address" fields at `hint` and `hint + 1`.
    pub(crate) fn read(f: &Fields<'_>, hint: std::ffi::c_int) -> Result<SourceAddress> {
        let reference_id = f.uint(hint, c"reference ID")?;
        Ok(SourceAddress::of(
            reference_id,
            f.address(hint + 1, c"address")?,
        ))
    }
}

impl From<IpAddr> for SourceAddress {
    /// An NTP server or peer at that address.
    fn from(ip: IpAddr) -> SourceAddress {
        SourceAddress::Ip(ip)
    }
}

impl fmt::Display for SourceAddress {
    /// chronyc's name column with `-n`: the IP address, `ID#%010u`, or for a
    /// reference clock the printable characters of its reference ID ("GPS").
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            SourceAddress::Ip(ip) => ReferenceAddress::Ip(ip).fmt(f),
            SourceAddress::Unresolved(id) => ReferenceAddress::Id(id).fmt(f),
            SourceAddress::RefClock(refid) => {
                f.write_str(&reference_id_name(refid, &ReferenceAddress::Unspecified))
            }
            SourceAddress::Unknown => f.write_str("?"),
        }
    }
}

/// How chronyd uses a source at the last source selection (chronyc's `S`
/// column).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SourceState {
    /// `*`: the source chronyd synchronises to.
    Selected,
    /// `?`: unusable: unreachable, too few samples, `noselect`, too far
    /// (selectdata says why).
    Nonselectable,
    /// `x`: in disagreement with the majority (a falseticker).
    Falseticker,
    /// `~`: its time varies too much (jittery).
    Jittery,
    /// `+`: acceptable and combined with the selected source.
    Unselected,
    /// `-`: acceptable but not combined.
    Selectable,
    /// A value this library does not know (a newer chronyd's); chronyc
    /// shows a space.
    Unknown(u16),
}

impl SourceState {
    /// The value on the wire.
    pub fn as_u16(self) -> u16 {
        match self {
            SourceState::Selected => 0,
            SourceState::Nonselectable => 1,
            SourceState::Falseticker => 2,
            SourceState::Jittery => 3,
            SourceState::Unselected => 4,
            SourceState::Selectable => 5,
            SourceState::Unknown(v) => v,
        }
    }

    /// chronyc's symbol: `*`, `?`, `x`, `~`, `+`, `-`, or a space.
    pub fn symbol(self) -> char {
        match self {
            SourceState::Selected => '*',
            SourceState::Nonselectable => '?',
            SourceState::Falseticker => 'x',
            SourceState::Jittery => '~',
            SourceState::Unselected => '+',
            SourceState::Selectable => '-',
            SourceState::Unknown(_) => ' ',
        }
    }
}

impl From<u16> for SourceState {
    fn from(v: u16) -> SourceState {
        match v {
            0 => SourceState::Selected,
            1 => SourceState::Nonselectable,
            2 => SourceState::Falseticker,
            3 => SourceState::Jittery,
            4 => SourceState::Unselected,
            5 => SourceState::Selectable,
            v => SourceState::Unknown(v),
        }
    }
}

/// What kind of source it is (chronyc's `M` column).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SourceMode {
    /// `^`: an NTP server (`server`, `pool`).
    Client,
    /// `=`: a symmetric NTP peer (`peer`).
    Peer,
    /// `#`: a reference clock (`refclock`).
    RefClock,
    /// A value this library does not know (a newer chronyd's); chronyc
    /// shows a space.
    Unknown(u16),
}

impl SourceMode {
    /// The value on the wire.
    pub fn as_u16(self) -> u16 {
        match self {
            SourceMode::Client => 0,
            SourceMode::Peer => 1,
            SourceMode::RefClock => 2,
            SourceMode::Unknown(v) => v,
        }
    }

    /// chronyc's symbol: `^`, `=`, `#`, or a space.
    pub fn symbol(self) -> char {
        match self {
            SourceMode::Client => '^',
            SourceMode::Peer => '=',
            SourceMode::RefClock => '#',
            SourceMode::Unknown(_) => ' ',
        }
    }
}

impl From<u16> for SourceMode {
    fn from(v: u16) -> SourceMode {
        match v {
            0 => SourceMode::Client,
            1 => SourceMode::Peer,
            2 => SourceMode::RefClock,
            v => SourceMode::Unknown(v),
        }
    }
}

/// One source of chronyd's sources report (a line of `chronyc sources`).
/// Offsets are in seconds, positive when the local clock is ahead of the
/// source.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Source {
    /// The source.
    pub address: SourceAddress,
    /// The polling interval, as a power of 2 seconds (chronyc's `Poll`:
    /// -4 is 1/16 s, 6 is 64 s).
    pub poll: i16,
    /// The source's stratum (0 before its first sample; a reference clock's
    /// is 0).
    pub stratum: u16,
    /// How chronyd uses it.
    pub state: SourceState,
    /// Server, peer or reference clock.
    pub mode: SourceMode,
    /// Unused since chrony 4.0 (always 0; selectdata has the options).
    pub flags: u16,
    /// The reachability register: one bit per one of the last 8 polls, 1
    /// when it got a valid reply (chronyc prints it in octal: 377 is all 8).
    pub reachability: u16,
    /// Seconds since the last good sample (chronyc's `LastRx`), `None` when
    /// there has been none.
    pub last_sample_ago: Option<u32>,
    /// The offset of the last sample, adjusted for the clock's slewing
    /// since (chronyc's `Last sample`, left of the brackets).
    pub adjusted_offset: f64,
    /// The offset of the last sample as measured (inside the brackets).
    pub measured_offset: f64,
    /// The error margin of the last sample (after `+/-`).
    pub offset_error: f64,
}

impl Source {
    /// True when at least one of the last 8 polls got a valid reply.
    pub fn is_reachable(&self) -> bool {
        self.reachability & 0xff != 0
    }

    /// True for the source chronyd synchronises to (`*`).
    pub fn is_selected(&self) -> bool {
        self.state == SourceState::Selected
    }
}

impl Report for Source {
    const NAME: &'static CStr = c"sources";

    fn read(s: &CSession) -> Result<Source> {
        let f = Fields::new(s);
        // A reference clock's record has its refid where others have the
        // address (chronyd sends it as an IPv4 address).
        let address = if f.has(0, c"reference ID") {
            SourceAddress::RefClock(f.uint(0, c"reference ID")?)
        } else {
            match f.address(0, c"address")? {
                ReferenceAddress::Unspecified => SourceAddress::Unknown,
                other => SourceAddress::of(0, other),
            }
        };
        Ok(Source {
            address,
            poll: f.integer16(1, c"poll")?,
            stratum: f.uint(2, c"stratum")?,
            state: SourceState::from(f.uint::<u16>(3, c"state")?),
            mode: SourceMode::from(f.uint::<u16>(4, c"mode")?),
            flags: f.uint(5, c"flags")?,
            reachability: f.uint(6, c"reachability")?,
            last_sample_ago: f.seconds_ago(7, c"last sample ago")?,
            measured_offset: f.float(8, c"original last sample offset")?,
            adjusted_offset: f.float(9, c"adjusted last sample offset")?,
            offset_error: f.float(10, c"last sample error")?,
        })
    }
}

super::query!(Vec<Source>, records);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enumerations_keep_unknown_values() {
        for v in 0..8u16 {
            assert_eq!(SourceState::from(v).as_u16(), v);
            assert_eq!(SourceMode::from(v).as_u16(), v);
        }
        assert_eq!(SourceState::from(6), SourceState::Unknown(6));
        assert_eq!(SourceState::from(6).symbol(), ' ');
        assert_eq!(SourceMode::from(3), SourceMode::Unknown(3));
        let symbols: String = (0..6).map(|v| SourceState::from(v).symbol()).collect();
        assert_eq!(symbols, "*?x~+-");
        let symbols: String = (0..3).map(|v| SourceMode::from(v).symbol()).collect();
        assert_eq!(symbols, "^=#");
    }

    #[test]
    fn names_as_chronyc_shows_them() {
        assert_eq!(
            SourceAddress::Ip("127.0.0.1".parse().unwrap()).to_string(),
            "127.0.0.1"
        );
        assert_eq!(SourceAddress::Unresolved(3).to_string(), "ID#0000000003");
        assert_eq!(SourceAddress::RefClock(0x4750_5300).to_string(), "GPS");
        assert_eq!(SourceAddress::RefClock(0x5050_5331).to_string(), "PPS1");
    }
}
