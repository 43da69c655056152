//! The tracking report: typed, validated, with chronyc's reference-ID name.

use std::ffi::{CStr, c_int};
use std::fmt;
use std::time::{Duration, SystemTime};

use libchrony_sys as sys;

use crate::refid::{ReferenceAddress, reference_id_name};
use crate::session::Session;
use crate::{Error, Result};

/// chronyd's leap status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum LeapStatus {
    /// No leap second pending.
    Normal = 0,
    /// A second will be inserted at the end of the UTC day.
    InsertSecond = 1,
    /// A second will be deleted at the end of the UTC day.
    DeleteSecond = 2,
    /// The clock is not synchronised.
    Unsynchronised = 3,
}

impl LeapStatus {
    /// The value on the wire (0 to 3).
    pub fn as_u8(self) -> u8 {
        self as u8
    }
}

impl TryFrom<u64> for LeapStatus {
    type Error = Error;

    /// 0 to 3; anything else is [`Error::InvalidValue`] (code -4).
    fn try_from(value: u64) -> Result<Self> {
        Ok(match value {
            0 => LeapStatus::Normal,
            1 => LeapStatus::InsertSecond,
            2 => LeapStatus::DeleteSecond,
            3 => LeapStatus::Unsynchronised,
            _ => {
                return Err(Error::InvalidValue {
                    field: "leap status",
                    value: value.to_string(),
                });
            }
        })
    }
}

impl fmt::Display for LeapStatus {
    /// chronyc's text: "Normal", "Insert second", "Delete second", "Not synchronised".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LeapStatus::Normal => "Normal",
            LeapStatus::InsertSecond => "Insert second",
            LeapStatus::DeleteSecond => "Delete second",
            LeapStatus::Unsynchronised => "Not synchronised",
        })
    }
}

/// chronyd's tracking report (`chronyc tracking`). Times are in seconds and
/// frequencies in ppm, as chronyd reports them.
#[derive(Clone, Debug, PartialEq)]
pub struct TrackingStatus {
    /// The reference ID (0 when unsynchronised, 0x7F7F0101 for `local`).
    pub reference_id: u32,
    /// The reference as `chronyc -n tracking` names it: the address text,
    /// or for an unspecified address the printable ASCII of the reference ID
    /// ("GPS" for a GPS refclock, "" when unsynchronised or `local`).
    pub reference_id_name: String,
    /// The address of the reference.
    pub reference_address: ReferenceAddress,
    /// The stratum: 0 when unsynchronised (chronyd reports no reference as
    /// stratum 0), 1 to 15, or 16 when chronyd follows a stratum-15 server
    /// (NTP's "unsynchronised": [`TrackingStatus::is_synchronized`] is false).
    pub stratum: u8,
    /// The leap status.
    pub leap_status: LeapStatus,
    /// When the last measurement of the reference was processed (the epoch
    /// when there has been none).
    pub ref_time: SystemTime,
    /// chrony's "current correction" (chronyc's "System time"): how far the
    /// system clock is from NTP time, positive when it is slow.
    pub offset: f64,
    /// The offset measured at the last clock update, in seconds.
    pub last_offset: f64,
    /// A long-term average of the offset, in seconds.
    pub rms_offset: f64,
    /// The rate at which the system clock would be wrong without chronyd,
    /// in ppm (positive: fast).
    pub frequency: f64,
    /// The residual frequency of the reference, in ppm.
    pub residual_freq: f64,
    /// The estimated error bound of the frequency, in ppm.
    pub skew: f64,
    /// The total network path delay to the stratum-1 computer, in seconds
    /// (can be negative in symmetric-peer setups).
    pub root_delay: f64,
    /// The total dispersion accumulated up to the stratum-1 computer, in seconds.
    pub root_dispersion: f64,
    /// The interval between the last two clock updates, in seconds.
    pub update_interval: f64,
}

impl TrackingStatus {
    /// True when chronyd has a reference: `reference_id != 0 && stratum < 16`.
    /// A host running only on `local stratum N` counts as synchronised.
    pub fn is_synchronized(&self) -> bool {
        self.reference_id != 0 && self.stratum < 16
    }

    /// True when a leap second is announced (insert or delete).
    pub fn is_leap_pending(&self) -> bool {
        matches!(
            self.leap_status,
            LeapStatus::InsertSecond | LeapStatus::DeleteSecond
        )
    }

    /// Reads the record the session received last.
    pub(crate) fn read(s: &Session) -> Result<TrackingStatus> {
        let reference_id =
            field(s, 0, c"reference ID", sys::CHRONY_TYPE_UINTEGER).and_then(|i| {
                u32::try_from(s.uinteger(i)).map_err(|_| invalid("reference ID", s.uinteger(i)))
            })?;
        let i = field(s, 1, c"address", sys::CHRONY_TYPE_STRING)?;
        let reference_address = s.with_string(i, |text| {
            ReferenceAddress::from_c_text(text).ok_or_else(|| Error::InvalidValue {
                field: "address",
                value: String::from_utf8_lossy(text.unwrap_or_default()).into_owned(),
            })
        })?;
        let i = field(s, 2, c"stratum", sys::CHRONY_TYPE_UINTEGER)?;
        let stratum = match s.uinteger(i) {
            // 16 is NTP's "unsynchronised", which chronyd reports when it
            // follows a stratum-15 server (its default maxstratum).
            v @ 0..=16 => v as u8,
            v => return Err(invalid("stratum", v)),
        };
        let i = field(s, 3, c"leap status", sys::CHRONY_TYPE_UINTEGER)?;
        let leap_status = LeapStatus::try_from(s.uinteger(i))?;
        let i = field(s, 4, c"reference time", sys::CHRONY_TYPE_TIMESPEC)?;
        let ref_time = system_time(s.timespec(i))?;
        let float = |hint, name: &'static CStr| -> Result<f64> {
            let i = field(s, hint, name, sys::CHRONY_TYPE_FLOAT)?;
            let v = s.float(i);
            if !v.is_finite() {
                return Err(invalid(name.to_str().unwrap_or("float"), v));
            }
            Ok(v)
        };
        Ok(TrackingStatus {
            reference_id_name: reference_id_name(reference_id, &reference_address),
            reference_id,
            reference_address,
            stratum,
            leap_status,
            ref_time,
            offset: float(5, c"current correction")?,
            last_offset: float(6, c"last offset")?,
            rms_offset: float(7, c"RMS offset")?,
            frequency: float(8, c"frequency offset")?,
            residual_freq: float(9, c"residual frequency")?,
            skew: float(10, c"skew")?,
            root_delay: float(11, c"root delay")?,
            root_dispersion: float(12, c"root dispersion")?,
            update_interval: float(13, c"last update interval")?,
        })
    }
}

/// The index of a field that must exist with the given type.
fn field(
    s: &Session,
    hint: c_int,
    name: &'static CStr,
    ty: sys::chrony_field_type,
) -> Result<c_int> {
    let Some(i) = s.field_index(hint, name) else {
        return Err(Error::IncompleteData {
            detail: format!(
                "the field {:?} is missing ({} fields received)",
                name,
                s.number_of_fields()
            ),
            chrony_err: None,
        });
    };
    let actual = s.field_type(i);
    if actual != ty {
        return Err(Error::InvalidValue {
            field: name.to_str().unwrap_or("field"),
            value: format!("a value of chrony_field_type {actual} instead of {ty}"),
        });
    }
    Ok(i)
}

fn invalid(field: &'static str, value: impl fmt::Display) -> Error {
    Error::InvalidValue {
        field,
        value: value.to_string(),
    }
}

/// A timespec as chronyc reads it: a high word of 0x7fffffff means "no high
/// seconds" (a 32-bit server) and nanoseconds are clamped to 999999999.
fn system_time((mut sec, nsec): (i64, i64)) -> Result<SystemTime> {
    const NO_HIGH_SEC: i64 = 0x7fff_ffff;
    if sec >> 32 == NO_HIGH_SEC {
        sec &= 0xffff_ffff;
    }
    let (Ok(sec), Ok(nsec)) = (u64::try_from(sec), u32::try_from(nsec)) else {
        return Err(invalid("reference time", format_args!("{sec}.{nsec:09}")));
    };
    SystemTime::UNIX_EPOCH
        .checked_add(Duration::new(sec, nsec.min(999_999_999)))
        .ok_or_else(|| invalid("reference time", sec))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leap_status_values() {
        for v in 0..4u64 {
            assert_eq!(LeapStatus::try_from(v).unwrap().as_u8() as u64, v);
        }
        let e = LeapStatus::try_from(4).unwrap_err();
        assert_eq!(e.code(), -4);
        assert_eq!(LeapStatus::Unsynchronised.to_string(), "Not synchronised");
        assert_eq!(LeapStatus::InsertSecond.to_string(), "Insert second");
    }

    #[test]
    fn reference_times() {
        let t = |s, n| system_time((s, n)).unwrap();
        assert_eq!(t(0, 0), SystemTime::UNIX_EPOCH);
        assert_eq!(
            t(1_795_959_909, 214_976_262),
            SystemTime::UNIX_EPOCH + Duration::new(1_795_959_909, 214_976_262)
        );
        assert_eq!(
            t((0x7fff_ffff << 32) | 5, 1_500_000_000),
            SystemTime::UNIX_EPOCH + Duration::new(5, 999_999_999)
        );
        assert_eq!(system_time((-1, 0)).unwrap_err().code(), -4);
        assert_eq!(system_time((1, -1)).unwrap_err().code(), -4);
    }

    fn sample() -> TrackingStatus {
        TrackingStatus {
            reference_id: 0x7F00_0001,
            reference_id_name: "127.0.0.1".into(),
            reference_address: ReferenceAddress::Ip("127.0.0.1".parse().unwrap()),
            stratum: 2,
            leap_status: LeapStatus::Normal,
            ref_time: SystemTime::UNIX_EPOCH,
            offset: 0.0,
            last_offset: 0.0,
            rms_offset: 0.0,
            frequency: 0.0,
            residual_freq: 0.0,
            skew: 0.0,
            root_delay: -0.001,
            root_dispersion: 0.0,
            update_interval: 0.0,
        }
    }

    #[test]
    fn predicates() {
        let mut t = sample();
        assert!(t.is_synchronized());
        assert!(!t.is_leap_pending());
        t.leap_status = LeapStatus::DeleteSecond;
        assert!(t.is_leap_pending());
        t.reference_id = 0;
        assert!(!t.is_synchronized());
    }
}
