//! The tracking report: typed, validated, with chronyc's reference-ID name.

use std::ffi::CStr;
use std::fmt;
use std::time::SystemTime;

use super::Report;
use super::decode::{Fields, invalid};
use super::refid::{ReferenceAddress, reference_id_name};
use crate::session::CSession;
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
}

impl Report for TrackingStatus {
    const NAME: &'static CStr = c"tracking";

    fn read(s: &CSession) -> Result<TrackingStatus> {
        let f = Fields::new(s);
        let reference_id = f.uinteger(0, c"reference ID")?;
        let reference_id =
            u32::try_from(reference_id).map_err(|_| invalid("reference ID", reference_id))?;
        let reference_address = f.address(1, c"address")?;
        let stratum = match f.uinteger(2, c"stratum")? {
            // 16 is NTP's "unsynchronised", which chronyd reports when it
            // follows a stratum-15 server (its default maxstratum).
            v @ 0..=16 => v as u8,
            v => return Err(invalid("stratum", v)),
        };
        Ok(TrackingStatus {
            reference_id_name: reference_id_name(reference_id, &reference_address),
            reference_id,
            reference_address,
            stratum,
            leap_status: LeapStatus::try_from(f.uinteger(3, c"leap status")?)?,
            ref_time: f.time(4, c"reference time")?,
            offset: f.float(5, c"current correction")?,
            last_offset: f.float(6, c"last offset")?,
            rms_offset: f.float(7, c"RMS offset")?,
            frequency: f.float(8, c"frequency offset")?,
            residual_freq: f.float(9, c"residual frequency")?,
            skew: f.float(10, c"skew")?,
            root_delay: f.float(11, c"root delay")?,
            root_dispersion: f.float(12, c"root dispersion")?,
            update_interval: f.float(13, c"last update interval")?,
        })
    }
}

super::query!(TrackingStatus, report);

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
