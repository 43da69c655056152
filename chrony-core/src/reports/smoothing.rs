//! The smoothing report (`chronyc smoothing`): the state of `smoothtime`,
//! the time smoothing chronyd applies to the time it serves.

use std::ffi::CStr;

use super::Report;
use super::decode::Fields;
use crate::Result;
use crate::session::CSession;

/// The state of chronyd's server time smoothing (`chronyc smoothing`).
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct Smoothing {
    /// Smoothing is active (`Active`).
    pub active: bool,
    /// Only leap seconds are smoothed (`smoothtime ... leaponly`).
    pub leap_only: bool,
    /// The offset of the smoothed time served to clients, in seconds
    /// (positive: clients are ahead of true time).
    pub offset: f64,
    /// The frequency offset of the smoothing, in ppm.
    pub freq_ppm: f64,
    /// The wander of the smoothing, in ppm per second.
    pub wander_ppm: f64,
    /// Seconds since the last update of the smoothing.
    pub last_update_ago: f64,
    /// Seconds until the smoothing ends (0 when it is not active).
    pub remaining_time: f64,
}

impl Report for Smoothing {
    const NAME: &'static CStr = c"smoothing";

    fn read(s: &CSession) -> Result<Smoothing> {
        let f = Fields::new(s);
        let flags: u32 = f.uint(0, c"flags")?;
        Ok(Smoothing {
            active: flags & 0x1 != 0,
            leap_only: flags & 0x2 != 0,
            offset: f.float(1, c"offset")?,
            freq_ppm: f.float(2, c"frequency offset")?,
            wander_ppm: f.float(3, c"wander")?,
            last_update_ago: f.float(4, c"last update ago")?,
            remaining_time: f.float(5, c"remaining time")?,
        })
    }
}

super::query!(Option<Smoothing>, optional_report);
