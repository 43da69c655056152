//! The activity report (`chronyc activity`): how many sources are online.

use std::ffi::CStr;

use super::Report;
use super::decode::Fields;
use crate::Result;
use crate::session::CSession;

/// How many of chronyd's sources are in each state of its online/offline
/// logic (`chronyc activity`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Activity {
    /// Sources chronyd polls.
    pub online: u32,
    /// Sources set offline (`chronyc offline`, or `offline` in the config).
    pub offline: u32,
    /// Sources doing a burst, to return online afterwards.
    pub burst_online: u32,
    /// Sources doing a burst, to return offline afterwards.
    pub burst_offline: u32,
    /// Sources whose name is not resolved yet ("with unknown address").
    pub unresolved: u32,
}

impl Report for Activity {
    const NAME: &'static CStr = c"activity";

    fn read(s: &CSession) -> Result<Activity> {
        let f = Fields::new(s);
        Ok(Activity {
            online: f.uint(0, c"online sources")?,
            offline: f.uint(1, c"offline sources")?,
            burst_online: f.uint(2, c"burst online-return sources")?,
            burst_offline: f.uint(3, c"burst offline-return sources")?,
            unresolved: f.uint(4, c"unresolved sources")?,
        })
    }
}

super::query!(Activity, report);
