//! What the daemon under test is synchronised to, and the chronyc state that proves it.

use std::fmt;
use std::str::FromStr;

use crate::ChronycTracking;

/// The reference of the daemon under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Synchronised to a second chronyd (`local stratum 1`) over NTP on loopback:
    /// refid 7F000001, name 127.0.0.1, stratum 2, leap Normal.
    Synced,
    /// No reference at all: refid 0, empty name, stratum 0, leap "Not synchronised"; every value static.
    Unsynced,
    /// `local stratum N` and no source: refid 7F7F0101, empty name, stratum N (1..=15).
    Local {
        /// The local stratum (1..=15).
        stratum: u8,
    },
    /// A SOCK refclock with refid GPS fed by a feeder process: refid 47505300, name GPS, stratum 1.
    /// With `leap` 1 (insert) or 2 (delete) chronyd and the feeder see a faked clock (libfaketime) on
    /// June 30, 22:30 UTC, so chronyd accepts the pending leap second.
    Refclock {
        /// 0 normal, 1 insert, 2 delete.
        leap: i32,
    },
    /// A realistic source list, synchronised like [`Mode::Synced`] (refid 7F000001, stratum 2; 127.0.0.1 is
    /// `prefer`): NTP servers 127.0.0.1 (a chronyd at `local stratum 1`) and 127.0.0.2 (`local stratum 3`,
    /// `noselect`), 127.0.0.3 where nothing answers, the fed SOCK refclock GPS of [`Mode::Refclock`] and a SOCK
    /// refclock NONE that nobody feeds; `smoothtime 400 0.001` (the smoothing report); as root also a server
    /// configured by a name that never resolves ([`UNRESOLVABLE_NAME`](crate::UNRESOLVABLE_NAME), looked up in
    /// /etc/hosts only: see [`Fixture::resolves_offline`](crate::Fixture::resolves_offline)). Ready also means
    /// that no source is in its initial burst any more (`chronyc -c activity`), so the activity report stays as
    /// it is.
    Sources,
    /// Eight sources, for the benchmark of the per-source reports and the snapshot: the servers and refclocks of
    /// [`Mode::Sources`] (and its `smoothtime`), plus 127.0.0.4, 127.0.0.5 and 127.0.0.6 where nothing answers,
    /// and never the name that does not resolve (so eight as any user). Ready as [`Mode::Sources`].
    EightSources,
    /// Synchronised like [`Mode::Synced`] (refid 7F000001, stratum 2), with the source authenticated by NTS: the
    /// server on 127.0.0.1 has `ntsserverkey`/`ntsservercert` (a self-signed certificate the fixture makes with
    /// openssl at start, 127.0.0.1 in its subjectAltName) and an NTS-KE port; the client has `nts` and
    /// `ntstrustedcerts`. Being synchronised proves the key exchange: chronyd uses an NTS source only after it.
    Nts,
    /// [`Mode::Unsynced`] (every value static) with `noclientlog`: chronyd keeps no client access log and
    /// answers every clients request with status 15 (STT_INACTIVE), which chronyc prints as
    /// `519 Client logging is not active in the daemon`.
    NoClientLog,
}

impl Mode {
    /// Check the parameters.
    pub(crate) fn validate(self) -> std::io::Result<()> {
        let ok = match self {
            Mode::Local { stratum } => (1..=15).contains(&stratum),
            Mode::Refclock { leap } => (0..=2).contains(&leap),
            Mode::Synced
            | Mode::Unsynced
            | Mode::Sources
            | Mode::EightSources
            | Mode::Nts
            | Mode::NoClientLog => true,
        };
        if ok {
            Ok(())
        } else {
            Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("invalid mode {self:?}"),
            ))
        }
    }

    /// The leap column chronyc shows once the daemon is ready.
    pub fn expected_leap(self) -> &'static str {
        match self {
            Mode::Unsynced | Mode::NoClientLog => "Not synchronised",
            Mode::Refclock { leap: 1 } => "Insert second",
            Mode::Refclock { leap: 2 } => "Delete second",
            _ => "Normal",
        }
    }

    /// The (refid, stratum) chronyc shows once the daemon is ready.
    pub fn expected_ref(self) -> (u32, u32) {
        match self {
            Mode::Synced | Mode::Sources | Mode::EightSources | Mode::Nts => (0x7F00_0001, 2),
            Mode::Unsynced | Mode::NoClientLog => (0, 0),
            Mode::Local { stratum } => (0x7F7F_0101, u32::from(stratum)),
            Mode::Refclock { .. } => (0x4750_5300, 1),
        }
    }

    /// Whether `t` shows this mode's ready state.
    pub fn is_ready(self, t: &ChronycTracking) -> bool {
        (t.ref_id, t.stratum) == self.expected_ref() && t.leap == self.expected_leap()
    }

    /// Runs under libfaketime (leap second pending).
    pub(crate) fn faked(self) -> bool {
        matches!(self, Mode::Refclock { leap: 1 | 2 })
    }

    /// Has an NTP server daemon (127.0.0.1, and 127.0.0.2: see [`Mode::has_sources`]).
    pub(crate) fn has_server(self) -> bool {
        matches!(self, Mode::Synced | Mode::Nts) || self.has_sources()
    }

    /// The source list of [`Mode::Sources`] (two server daemons, the fed and the unfed refclock, `smoothtime`),
    /// with or without more.
    pub(crate) fn has_sources(self) -> bool {
        matches!(self, Mode::Sources | Mode::EightSources)
    }

    /// The leap second the refclock feeder announces, when there is a feeder.
    pub(crate) fn feeder_leap(self) -> Option<i32> {
        match self {
            Mode::Refclock { leap } => Some(leap),
            Mode::Sources | Mode::EightSources => Some(0),
            _ => None,
        }
    }
}

/// `synced`, `unsynced`, `local:N`, `refclock`, `refclock-leap:L`, `sources`, `sources:8`, `nts`,
/// `noclientlog` (the CLI's `--mode` values).
impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mode::Synced => f.write_str("synced"),
            Mode::Unsynced => f.write_str("unsynced"),
            Mode::Sources => f.write_str("sources"),
            Mode::EightSources => f.write_str("sources:8"),
            Mode::Nts => f.write_str("nts"),
            Mode::NoClientLog => f.write_str("noclientlog"),
            Mode::Local { stratum } => write!(f, "local:{stratum}"),
            Mode::Refclock { leap: 0 } => f.write_str("refclock"),
            Mode::Refclock { leap } => write!(f, "refclock-leap:{leap}"),
        }
    }
}

impl FromStr for Mode {
    type Err = String;

    fn from_str(s: &str) -> Result<Mode, String> {
        let bad = || {
            format!(
                "bad mode `{s}` (synced, unsynced, local:N, refclock, refclock-leap:1|2, sources, sources:8, nts, noclientlog)"
            )
        };
        let mode = match s.split_once(':') {
            None => match s {
                "synced" => Mode::Synced,
                "unsynced" => Mode::Unsynced,
                "sources" => Mode::Sources,
                "nts" => Mode::Nts,
                "noclientlog" => Mode::NoClientLog,
                "refclock" => Mode::Refclock { leap: 0 },
                "local" => Mode::Local { stratum: 10 },
                _ => return Err(bad()),
            },
            Some(("sources", "8")) => Mode::EightSources,
            Some(("local", n)) => Mode::Local {
                stratum: n.parse().map_err(|_| bad())?,
            },
            Some(("refclock-leap" | "refclock", n)) => Mode::Refclock {
                leap: n.parse().map_err(|_| bad())?,
            },
            Some(_) => return Err(bad()),
        };
        mode.validate().map_err(|_| bad())?;
        Ok(mode)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for m in [
            Mode::Synced,
            Mode::Unsynced,
            Mode::Local { stratum: 10 },
            Mode::Refclock { leap: 0 },
            Mode::Refclock { leap: 1 },
            Mode::Refclock { leap: 2 },
            Mode::Sources,
            Mode::EightSources,
            Mode::Nts,
            Mode::NoClientLog,
        ] {
            assert_eq!(m.to_string().parse::<Mode>(), Ok(m));
        }
        assert!("local:0".parse::<Mode>().is_err());
        assert!("refclock-leap:3".parse::<Mode>().is_err());
        assert!("bogus".parse::<Mode>().is_err());
        assert!("sources:7".parse::<Mode>().is_err());
    }
}
