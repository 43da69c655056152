//! The sourcestats report (`chronyc sourcestats`): chronyd's statistics of
//! each source's recent samples, one record per source.

use std::ffi::CStr;

use super::Report;
use super::decode::Fields;
use super::sources::SourceAddress;
use crate::Result;
use crate::session::CSession;

/// One source's sample statistics (a line of `chronyc sourcestats`), from
/// the linear regression chronyd fits to its recent samples. Offsets in
/// seconds (positive: the local clock is ahead of the source), frequencies
/// in ppm.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct SourceStats {
    /// The source (a reference clock by its reference ID).
    pub address: SourceAddress,
    /// The reference ID chronyd gives the source (an IPv4 source's is its
    /// address; a reference clock's names it).
    pub reference_id: u32,
    /// Samples kept for the source (chronyc's `NP`).
    pub samples: u32,
    /// Runs of residuals with the same sign (chronyc's `NR`; few runs for
    /// many samples means the regression fits badly).
    pub runs: u32,
    /// Seconds between the oldest and newest sample (`Span`).
    pub span: u32,
    /// The estimated standard deviation of the samples (`Std Dev`).
    pub std_dev: f64,
    /// The residual frequency of the source, in ppm (`Frequency`).
    pub resid_freq: f64,
    /// The error bound of that frequency, in ppm (`Freq Skew`).
    pub skew: f64,
    /// The source's estimated offset (`Offset`).
    pub offset: f64,
    /// The error of that offset (chronyc does not print it).
    pub offset_err: f64,
}

impl SourceStats {
    /// True when chronyd has at least `minimum` samples of the source (its
    /// estimates are meaningful from a few on).
    pub fn has_sufficient_samples(&self, minimum: u32) -> bool {
        self.samples >= minimum
    }
}

impl Report for SourceStats {
    const NAME: &'static CStr = c"sourcestats";

    fn read(s: &CSession) -> Result<SourceStats> {
        let f = Fields::new(s);
        Ok(SourceStats {
            address: SourceAddress::read(&f, 0)?,
            reference_id: f.uint(0, c"reference ID")?,
            samples: f.uint(2, c"samples")?,
            runs: f.uint(3, c"runs")?,
            span: f.uint(4, c"span")?,
            std_dev: f.float(5, c"standard deviation")?,
            resid_freq: f.float(6, c"residual frequency")?,
            skew: f.float(7, c"skew")?,
            offset: f.float(8, c"offset")?,
            offset_err: f.float(9, c"offset error")?,
        })
    }
}

super::query!(Vec<SourceStats>, records);
