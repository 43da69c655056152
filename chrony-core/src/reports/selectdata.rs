//! The selectdata report (`chronyc selectdata`, chrony 4.0 and later): why
//! each source is or is not used by chronyd's source selection.

use std::ffi::CStr;
use std::fmt;

use super::Report;
use super::decode::Fields;
use super::sources::SourceAddress;
use super::tracking::LeapStatus;
use crate::Result;
use crate::session::CSession;

/// A source's state in the last selection (chronyc selectdata's `S`
/// column), by the character chronyd sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SelectState {
    /// `N`: ignored (`noselect`).
    Ignored,
    /// `s`: the source is not synchronised.
    Unsynchronised,
    /// `M`: too few measurements.
    MissingSamples,
    /// `d`: its distance is larger than `maxdistance`.
    BadDistance,
    /// `D`: too far to be combined (large distance).
    LargeDistance,
    /// `~`: too variable (jittery).
    Jittery,
    /// `w`: waiting for other sources to get out of `M`.
    WaitsForOthers,
    /// `W`: waiting for enough selectable sources (`minsources`, `require`).
    MissingSelectable,
    /// `S`: stale: no sample for too long, or unreachable.
    Stale,
    /// `O`: an orphan (a `local orphan` server of the same stratum).
    Orphan,
    /// `T`: disagrees with the `trust` sources.
    Untrusted,
    /// `P`: another source is preferred (`prefer`).
    NotPreferred,
    /// `U`: waiting for an update (a new sample) of the source.
    WaitsForUpdate,
    /// `x`: a falseticker.
    Falseticker,
    /// `+`: combined with the selected source.
    Combined,
    /// `*`: the selected source.
    Selected,
    /// `r`: its stratum is outside `minstratum`/`maxstratum` (newer chrony).
    BadStratum,
    /// `L`: an outlier, not combined.
    Outlier,
    /// A character this library does not know (a newer chronyd's).
    Unknown(u8),
}

/// Each state and its character, in chronyd's order.
const SELECT_STATES: [(SelectState, u8); 18] = [
    (SelectState::Ignored, b'N'),
    (SelectState::Unsynchronised, b's'),
    (SelectState::MissingSamples, b'M'),
    (SelectState::BadDistance, b'd'),
    (SelectState::LargeDistance, b'D'),
    (SelectState::Jittery, b'~'),
    (SelectState::WaitsForOthers, b'w'),
    (SelectState::MissingSelectable, b'W'),
    (SelectState::Stale, b'S'),
    (SelectState::Orphan, b'O'),
    (SelectState::Untrusted, b'T'),
    (SelectState::NotPreferred, b'P'),
    (SelectState::WaitsForUpdate, b'U'),
    (SelectState::Falseticker, b'x'),
    (SelectState::Combined, b'+'),
    (SelectState::Selected, b'*'),
    (SelectState::BadStratum, b'r'),
    (SelectState::Outlier, b'L'),
];

impl SelectState {
    /// The character chronyd sends and chronyc prints.
    pub fn as_char(self) -> char {
        match self {
            SelectState::Unknown(c) => char::from(c),
            known => SELECT_STATES
                .iter()
                .find(|(s, _)| *s == known)
                .map_or('?', |(_, c)| char::from(*c)),
        }
    }
}

impl From<u8> for SelectState {
    fn from(c: u8) -> SelectState {
        SELECT_STATES
            .iter()
            .find(|(_, ch)| *ch == c)
            .map_or(SelectState::Unknown(c), |(s, _)| *s)
    }
}

/// A source's selection options (`noselect`, `prefer`, `trust`, `require`),
/// as configured or as in effect. Bits this library does not know are kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct SelectOptions(pub u16);

impl SelectOptions {
    /// `noselect`: never selected.
    pub const NOSELECT: u16 = 0x1;
    /// `prefer`: preferred over sources without it.
    pub const PREFER: u16 = 0x2;
    /// `trust`: assumed to have the right time.
    pub const TRUST: u16 = 0x4;
    /// `require`: must be selectable for chronyd to update the clock.
    pub const REQUIRE: u16 = 0x8;

    /// Whether `option` (one of the constants) is set.
    pub fn contains(self, option: u16) -> bool {
        self.0 & option == option
    }
}

impl fmt::Display for SelectOptions {
    /// chronyc's 5-character column: `N`, `P`, `T`, `R` for each option
    /// set (else `-`), and a fifth position that is always `-`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (bit, c) in [
            (Self::NOSELECT, 'N'),
            (Self::PREFER, 'P'),
            (Self::TRUST, 'T'),
            (Self::REQUIRE, 'R'),
        ] {
            write!(f, "{}", if self.contains(bit) { c } else { '-' })?;
        }
        f.write_str("-")
    }
}

/// One source in chronyd's last source selection (a line of `chronyc
/// selectdata`).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct SelectData {
    /// The source (a reference clock by its reference ID).
    pub address: SourceAddress,
    /// The source's reference ID.
    pub reference_id: u32,
    /// Its state in the selection.
    pub state: SelectState,
    /// Whether its packets are authenticated (NTS or a symmetric key).
    pub authentication: bool,
    /// The leap status the source announces.
    pub leap_status: LeapStatus,
    /// The options as configured.
    pub configured_options: SelectOptions,
    /// The options in effect (e.g. `trust` dropped by `authselectmode`).
    pub effective_options: SelectOptions,
    /// Seconds since the source's last sample, at the last selection.
    pub last_sample_ago: Option<u32>,
    /// The source's score, relative to the selected source (chronyc's
    /// `Score`; chronyd prefers the selected one until another scores more).
    pub score: f64,
    /// The lower end of the interval that contains the true offset, in seconds.
    pub low_limit: f64,
    /// The upper end of that interval, in seconds.
    pub high_limit: f64,
}

impl Report for SelectData {
    const NAME: &'static CStr = c"selectdata";

    fn read(s: &CSession) -> Result<SelectData> {
        let f = Fields::new(s);
        Ok(SelectData {
            address: SourceAddress::read(&f, 0)?,
            reference_id: f.uint(0, c"reference ID")?,
            state: SelectState::from(f.uint::<u8>(2, c"state")?),
            authentication: f.uint::<u8>(3, c"authentication")? != 0,
            leap_status: LeapStatus::try_from(f.uinteger(4, c"leap status")?)?,
            configured_options: SelectOptions(f.uint(6, c"configured options")?),
            effective_options: SelectOptions(f.uint(7, c"effective options")?),
            last_sample_ago: f.seconds_ago(8, c"last sample ago")?,
            score: f.float(9, c"score")?,
            low_limit: f.float(10, c"low limit")?,
            high_limit: f.float(11, c"high limit")?,
        })
    }
}

super::query!(Vec<SelectData>, records);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_as_chronyc_prints_them() {
        assert_eq!(SelectOptions(0).to_string(), "-----");
        assert_eq!(SelectOptions(0x1).to_string(), "N----");
        assert_eq!(SelectOptions(0xf).to_string(), "NPTR-");
        assert!(SelectOptions(0x6).contains(SelectOptions::TRUST));
    }

    #[test]
    fn states_round_trip_through_their_characters() {
        for (state, c) in SELECT_STATES {
            assert_eq!(SelectState::from(c), state);
            assert_eq!(state.as_char(), char::from(c));
        }
        assert_eq!(SelectState::from(b'Z'), SelectState::Unknown(b'Z'));
        assert_eq!(SelectState::Unknown(b'Z').as_char(), 'Z');
    }
}
