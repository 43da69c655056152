//! Every report at once: [`Connection::snapshot`] asks for all of them in
//! two batches (pipelined with the bundled C library, see `pipeline`):
//! first the whole-daemon reports and the number of sources, then each
//! source's records by index and the number again.

use std::ffi::c_int;
use std::time::Instant;

use libchrony_sys as ffi;

use crate::connection::{LIST_ATTEMPTS, is_no_such_source};
use crate::exchange::{self, Request};
use crate::reading::{self, Link};
use crate::reports::{Keyed, Report};
use crate::session::CSession;
use crate::{
    Activity, AuthData, Connection, Error, NtpData, Result, RtcData, SelectData, ServerStats,
    Smoothing, Source, SourceAddress, SourceName, SourceStats, TrackingStatus,
};

/// Everything chronyd reports, read at about the same moment. Each part is
/// the report, or why it is absent: over UDP chronyd refuses serverstats
/// (and each source's selectdata, ntpdata and authdata) with
/// [`Error::NotAuthorised`], while the rest is there.
#[derive(Debug)]
#[non_exhaustive]
pub struct Snapshot {
    /// As [`Connection::tracking`].
    pub tracking: Result<TrackingStatus>,
    /// As [`Connection::activity`].
    pub activity: Result<Activity>,
    /// As [`Connection::server_stats`].
    pub server_stats: Result<ServerStats>,
    /// As [`Connection::smoothing`]: `Ok(None)` when smoothing is off.
    pub smoothing: Result<Option<Smoothing>>,
    /// As [`Connection::rtc_data`]: `Ok(None)` when no RTC is tracked.
    pub rtc_data: Result<Option<RtcData>>,
    /// Every source, in chronyd's order, with its other records.
    pub sources: Result<Vec<SourceSnapshot>>,
}

/// One source of a [`Snapshot`] with its records of the per-source reports.
#[derive(Debug)]
#[non_exhaustive]
pub struct SourceSnapshot {
    /// Its record of the sources report.
    pub source: Source,
    /// Its sourcestats record.
    pub stats: Result<SourceStats>,
    /// Its selectdata record.
    pub select_data: Result<SelectData>,
    /// Its ntpdata record: `Ok(None)` for a reference clock or a source not
    /// resolved yet (they have none).
    pub ntp_data: Result<Option<NtpData>>,
    /// Its authdata record: `Ok(None)` as for [`SourceSnapshot::ntp_data`].
    pub auth_data: Result<Option<AuthData>>,
    /// The name it was configured with (sourcename): `Ok(None)` for a
    /// reference clock; [`Error::UnsupportedByLibrary`] with a system
    /// libchrony 0.2.
    pub name: Result<Option<String>>,
}

/// The requests of the second batch for each source, in this order.
const PER_SOURCE: usize = 6;

fn request(name: &'static std::ffi::CStr, index: c_int) -> Request {
    Request {
        name,
        index: Some(index),
    }
}

/// `Ok(None)` for a facility chronyd has off (smoothing, RTC).
fn optional<R: Report>(r: Result<&CSession>) -> Result<Option<R>> {
    match r.and_then(R::read) {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.chrony_err() == Some(ffi::CHRONY_DISABLED) => Ok(None),
        Err(e) => Err(e),
    }
}

/// A keyed record of `source`: `None` for a source the report has no record
/// of (a reference clock; an unresolved source unless `R::UNRESOLVED_TOO`) or
/// a record without fields; `Err(None)` when it is another source's (the list
/// changed).
fn keyed<R: Keyed>(
    source: Option<&Source>,
    r: Result<&CSession>,
) -> Result<Option<R>, Option<Error>> {
    let address = match source.map(|s| s.address) {
        Some(a @ SourceAddress::Ip(_)) => a,
        Some(a @ SourceAddress::Unresolved(_)) if R::UNRESOLVED_TOO => a,
        _ => return Ok(None),
    };
    let s = r.map_err(Some)?;
    if s.number_of_fields() == 0 {
        return Ok(None);
    }
    match R::read_for(s, address) {
        Ok(Some(v)) => Ok(Some(v)),
        Ok(None) => Err(None),
        Err(e) => Err(Some(e)),
    }
}

/// The second batch's records of one source, as they are decoded.
#[derive(Default)]
struct Parts {
    source: Option<Result<Source>>,
    stats: Option<Result<SourceStats>>,
    select_data: Option<Result<SelectData>>,
    ntp_data: Option<Result<Option<NtpData>, Option<Error>>>,
    auth_data: Option<Result<Option<AuthData>, Option<Error>>>,
    name: Option<Result<Option<SourceName>>>,
}

impl Connection {
    /// Reads every report at once: tracking, activity, serverstats,
    /// smoothing, rtcdata and each source with its sourcestats, selectdata,
    /// ntpdata, authdata and configured name, within one
    /// [`Connection::timeout`]. With the bundled C library the requests are
    /// pipelined, so this costs about two round trips, not one per record.
    /// A part chronyd refuses or lacks is an `Err` in its place; `Err` for
    /// the whole only for what ends every request (timeout, socket error).
    pub fn snapshot(&mut self) -> Result<Snapshot> {
        self.snapshot_interruptible(&mut || false)
    }

    /// [`Connection::snapshot`], stopping with [`Error::Interrupted`] when
    /// `interrupted` returns true (asked about every 100 ms).
    pub fn snapshot_interruptible(
        &mut self,
        interrupted: &mut dyn FnMut() -> bool,
    ) -> Result<Snapshot> {
        self.query_interruptible(interrupted)
    }
}

/// Reads the snapshot over `l` (see [`Connection::snapshot`]).
pub(crate) async fn read<L: Link>(l: &mut L) -> Result<Snapshot> {
    let deadline = exchange::deadline_after(l.timeout());
    let requests = [
        request(TrackingStatus::NAME, 0),
        request(Activity::NAME, 0),
        request(ServerStats::NAME, 0),
        request(Smoothing::NAME, 0),
        request(RtcData::NAME, 0),
        Request {
            name: Source::NAME,
            index: None,
        },
    ];
    let (mut tracking, mut activity, mut server_stats) = (None, None, None);
    let (mut smoothing, mut rtc_data, mut count) = (None, None, None);
    reading::batch(l, &requests, deadline, &mut |i, r| match i {
        0 => tracking = Some(r.and_then(TrackingStatus::read)),
        1 => activity = Some(r.and_then(Activity::read)),
        2 => server_stats = Some(r.and_then(ServerStats::read)),
        3 => smoothing = Some(optional(r)),
        4 => rtc_data = Some(optional(r)),
        _ => count = Some(r.map(|s| s.number_of_records())),
    })
    .await?;
    let sources = match count.expect("decoded") {
        Ok(n) => source_snapshots(l, n, deadline).await?,
        Err(e) => Err(e),
    };
    Ok(Snapshot {
        tracking: tracking.expect("decoded"),
        activity: activity.expect("decoded"),
        server_stats: server_stats.expect("decoded"),
        smoothing: smoothing.expect("decoded"),
        rtc_data: rtc_data.expect("decoded"),
        sources,
    })
}

/// The second batch for `n` sources, read again (up to [`LIST_ATTEMPTS`]
/// times) while the list changes under it.
async fn source_snapshots<L: Link>(
    l: &mut L,
    mut n: c_int,
    deadline: Instant,
) -> Result<Result<Vec<SourceSnapshot>>> {
    let names = ffi::knows_report(<Option<SourceName> as Report>::NAME);
    for _ in 0..LIST_ATTEMPTS {
        let mut requests = Vec::with_capacity(usize::try_from(n).unwrap_or(0) * PER_SOURCE + 1);
        for index in 0..n {
            requests.extend([
                request(Source::NAME, index),
                request(SourceStats::NAME, index),
                request(SelectData::NAME, index),
                request(NtpData::NAME, index),
                request(AuthData::NAME, index),
                // Without the library's sourcename: asked for no name (a
                // second sources request keeps the layout simple).
                request(
                    if names {
                        <Option<SourceName> as Report>::NAME
                    } else {
                        Source::NAME
                    },
                    index,
                ),
            ]);
        }
        requests.push(Request {
            name: Source::NAME,
            index: None,
        });
        let mut parts: Vec<Parts> = (0..n).map(|_| Parts::default()).collect();
        let mut again = None;
        reading::batch(l, &requests, deadline, &mut |i, r| {
            let Some(p) = parts.get_mut(i / PER_SOURCE) else {
                again = Some(r.map(|s| s.number_of_records()));
                return;
            };
            let source = p.source.as_ref().and_then(|s| s.as_ref().ok());
            match i % PER_SOURCE {
                0 => p.source = Some(r.and_then(Source::read)),
                1 => p.stats = Some(r.and_then(SourceStats::read)),
                2 => p.select_data = Some(r.and_then(SelectData::read)),
                3 => p.ntp_data = Some(keyed(source, r)),
                4 => p.auth_data = Some(keyed(source, r)),
                _ => {
                    p.name = Some(if names {
                        r.and_then(<Option<SourceName>>::read)
                    } else {
                        Err(unsupported_names())
                    })
                }
            }
        })
        .await?;
        let again = match again.expect("decoded") {
            Ok(again) => again,
            Err(e) => return Ok(Err(e)),
        };
        match assemble(parts) {
            Some(Ok(sources)) if again == n => return Ok(Ok(sources)),
            Some(Err(e)) => return Ok(Err(e)),
            _ => n = again,
        }
    }
    Ok(Err(reading::sources_changed(l.address(), Source::NAME)))
}

fn unsupported_names() -> Error {
    Error::UnsupportedByLibrary {
        report: <Option<SourceName> as Report>::NAME
            .to_str()
            .unwrap_or("sourcename"),
    }
}

/// Joins each source's records; `None` when the list changed meanwhile (a
/// source gone, a record of another source).
fn assemble(parts: Vec<Parts>) -> Option<Result<Vec<SourceSnapshot>>> {
    let mut sources = Vec::with_capacity(parts.len());
    for p in parts {
        let source = match p.source.expect("decoded") {
            Ok(s) => s,
            Err(e) if is_no_such_source(&e) => return None,
            Err(e) => return Some(Err(e)),
        };
        let stats = p.stats.expect("decoded");
        let select_data = p.select_data.expect("decoded");
        for r in [stats.as_ref().err(), select_data.as_ref().err()]
            .into_iter()
            .flatten()
        {
            if is_no_such_source(r) {
                return None;
            }
        }
        if stats.as_ref().is_ok_and(|s| s.address != source.address)
            || select_data
                .as_ref()
                .is_ok_and(|s| s.address != source.address)
        {
            return None;
        }
        let ntp_data = changed_or(p.ntp_data.expect("decoded"))?;
        let auth_data = changed_or(p.auth_data.expect("decoded"))?;
        let name = match p.name.expect("decoded") {
            Ok(Some(n)) if n.address != source.address => return None,
            Ok(n) => Ok(n.map(|n| n.name)),
            Err(e) if is_no_such_source(&e) => return None,
            Err(e) => Err(e),
        };
        sources.push(SourceSnapshot {
            source,
            stats,
            select_data,
            ntp_data,
            auth_data,
            name,
        });
    }
    Some(Ok(sources))
}

/// A keyed part, or `None` when the list changed.
fn changed_or<R>(r: Result<Option<R>, Option<Error>>) -> Option<Result<Option<R>>> {
    match r {
        Ok(v) => Some(Ok(v)),
        Err(None) => None,
        Err(Some(e)) if is_no_such_source(&e) => None,
        Err(Some(e)) => Some(Err(e)),
    }
}

crate::reports::query!(Snapshot, snapshot);
