//! The rtcdata report (`chronyc rtcdata`): chronyd's tracking of the
//! real-time clock, when it has an `rtcfile` and RTC driver.

use std::ffi::CStr;
use std::time::SystemTime;

use super::Report;
use super::decode::Fields;
use crate::Result;
use crate::session::CSession;

/// chronyd's model of the real-time clock (`chronyc rtcdata`).
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct RtcData {
    /// When the RTC was last measured (`RTC ref time (UTC)`).
    pub ref_time: SystemTime,
    /// Measurements kept (`Number of samples`).
    pub samples: u16,
    /// Runs of residuals with the same sign (`Number of runs`).
    pub runs: u16,
    /// Seconds between the oldest and newest measurement (`Sample span period`).
    pub span: u32,
    /// How far the RTC is ahead of the system clock, in seconds (`RTC is fast by`).
    pub offset: f64,
    /// How fast the RTC gains time, in ppm (`RTC gains time at`; negative: loses).
    pub freq_offset: f64,
}

impl RtcData {
    /// True once chronyd has measured the RTC at all.
    pub fn is_calibrated(&self) -> bool {
        self.samples > 0
    }
}

impl Report for RtcData {
    const NAME: &'static CStr = c"rtcdata";

    fn read(s: &CSession) -> Result<RtcData> {
        let f = Fields::new(s);
        Ok(RtcData {
            ref_time: f.time(0, c"reference time")?,
            samples: f.uint(1, c"samples")?,
            runs: f.uint(2, c"runs")?,
            span: f.uint(3, c"span")?,
            offset: f.float(4, c"offset")?,
            freq_offset: f.float(5, c"frequency offset")?,
        })
    }
}

super::query!(Option<RtcData>, optional_report);
