//! Every report at once: [`Connection::snapshot`] asks for all of them in
//! two batches (pipelined with the bundled C library, see `pipeline`):
//! first the whole-daemon reports and the number of sources, then each
//! source's records by index and the number again.
//! [`Connection::snapshot_of`] reads only the [`Parts`] asked for.

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
/// [`Error::NotAuthorised`], while the rest is there. A part left out of
/// [`Connection::snapshot_of`]'s [`Parts`] is [`Error::NotRequested`]:
/// nothing was sent for it.
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

/// Which parts of a [`Snapshot`] [`Connection::snapshot_of`] reads, each
/// named as its field of [`Snapshot`] or [`SourceSnapshot`]. A per-source
/// part (`stats`, `select_data`, `ntp_data`, `auth_data`, `name`) reads the
/// sources report too, as it needs each source's index and address.
///
/// ```
/// let mut parts = chrony_core::Parts::NONE;
/// parts.tracking = true;
/// parts.stats = true; // and so the sources
/// assert!(parts.reads_sources());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Parts {
    /// [`Snapshot::tracking`].
    pub tracking: bool,
    /// [`Snapshot::activity`].
    pub activity: bool,
    /// [`Snapshot::server_stats`].
    pub server_stats: bool,
    /// [`Snapshot::smoothing`].
    pub smoothing: bool,
    /// [`Snapshot::rtc_data`].
    pub rtc_data: bool,
    /// [`Snapshot::sources`] (each [`SourceSnapshot::source`]).
    pub sources: bool,
    /// [`SourceSnapshot::stats`].
    pub stats: bool,
    /// [`SourceSnapshot::select_data`].
    pub select_data: bool,
    /// [`SourceSnapshot::ntp_data`].
    pub ntp_data: bool,
    /// [`SourceSnapshot::auth_data`].
    pub auth_data: bool,
    /// [`SourceSnapshot::name`].
    pub name: bool,
}

impl Parts {
    /// Every part: what [`Connection::snapshot`] reads.
    pub const ALL: Parts = Parts {
        tracking: true,
        activity: true,
        server_stats: true,
        smoothing: true,
        rtc_data: true,
        sources: true,
        stats: true,
        select_data: true,
        ntp_data: true,
        auth_data: true,
        name: true,
    };

    /// No part: a start to set the wanted ones on (reads nothing).
    pub const NONE: Parts = Parts {
        tracking: false,
        activity: false,
        server_stats: false,
        smoothing: false,
        rtc_data: false,
        sources: false,
        stats: false,
        select_data: false,
        ntp_data: false,
        auth_data: false,
        name: false,
    };

    /// Whether the sources report is read: asked for, or needed by a
    /// per-source part.
    pub fn reads_sources(&self) -> bool {
        self.sources
            || self.stats
            || self.select_data
            || self.ntp_data
            || self.auth_data
            || self.name
    }
}

/// A part left out of the [`Parts`] asked for.
fn not_requested<T>(part: &'static str) -> Result<T> {
    Err(Error::NotRequested { part })
}

/// The per-source requests, by their slot in [`Records`].
#[derive(Clone, Copy)]
enum Slot {
    Source,
    Stats,
    Select,
    Ntp,
    Auth,
    Name,
}

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
struct Records {
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

    /// Like [`Connection::snapshot`], reading only the `parts` asked for:
    /// nothing is sent for the others, which are [`Error::NotRequested`].
    /// Cheaper when a caller needs a few reports (e.g. tracking and the
    /// sources, not every source's five other records).
    pub fn snapshot_of(&mut self, parts: &Parts) -> Result<Snapshot> {
        self.snapshot_of_interruptible(parts, &mut || false)
    }

    /// [`Connection::snapshot_of`], stopping as
    /// [`Connection::snapshot_interruptible`] does.
    pub fn snapshot_of_interruptible(
        &mut self,
        parts: &Parts,
        interrupted: &mut dyn FnMut() -> bool,
    ) -> Result<Snapshot> {
        reading::block_on(read_parts(&mut self.link(interrupted), parts))
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
    read_parts(l, &Parts::ALL).await
}

/// Reads the `parts` of the snapshot over `l` (see [`Connection::snapshot_of`]).
pub(crate) async fn read_parts<L: Link>(l: &mut L, parts: &Parts) -> Result<Snapshot> {
    let deadline = exchange::deadline_after(l.timeout());
    // The first batch's requests asked for, each with its slot (0..5 as
    // below; 5 the number of sources).
    let first = [
        (parts.tracking, TrackingStatus::NAME),
        (parts.activity, Activity::NAME),
        (parts.server_stats, ServerStats::NAME),
        (parts.smoothing, Smoothing::NAME),
        (parts.rtc_data, RtcData::NAME),
    ];
    let mut slots = Vec::with_capacity(first.len() + 1);
    let mut requests = Vec::with_capacity(first.len() + 1);
    for (slot, (wanted, name)) in first.into_iter().enumerate() {
        if wanted {
            slots.push(slot);
            requests.push(request(name, 0));
        }
    }
    if parts.reads_sources() {
        slots.push(first.len());
        requests.push(Request {
            name: Source::NAME,
            index: None,
        });
    }
    let (mut tracking, mut activity, mut server_stats) = (None, None, None);
    let (mut smoothing, mut rtc_data, mut count) = (None, None, None);
    if !requests.is_empty() {
        reading::batch(l, &requests, deadline, &mut |i, r| match slots[i] {
            0 => tracking = Some(r.and_then(TrackingStatus::read)),
            1 => activity = Some(r.and_then(Activity::read)),
            2 => server_stats = Some(r.and_then(ServerStats::read)),
            3 => smoothing = Some(optional(r)),
            4 => rtc_data = Some(optional(r)),
            _ => count = Some(r.map(|s| s.number_of_records())),
        })
        .await?;
    }
    let sources = match count {
        None => not_requested("sources"),
        Some(Ok(n)) => source_snapshots(l, n, parts, deadline).await?,
        Some(Err(e)) => Err(e),
    };
    Ok(Snapshot {
        tracking: tracking.unwrap_or_else(|| not_requested("tracking")),
        activity: activity.unwrap_or_else(|| not_requested("activity")),
        server_stats: server_stats.unwrap_or_else(|| not_requested("server_stats")),
        smoothing: smoothing.unwrap_or_else(|| not_requested("smoothing")),
        rtc_data: rtc_data.unwrap_or_else(|| not_requested("rtc_data")),
        sources,
    })
}

/// The second batch for `n` sources, read again (up to [`LIST_ATTEMPTS`]
/// times) while the list changes under it.
async fn source_snapshots<L: Link>(
    l: &mut L,
    mut n: c_int,
    parts: &Parts,
    deadline: Instant,
) -> Result<Result<Vec<SourceSnapshot>>> {
    let names = ffi::knows_report(<Option<SourceName> as Report>::NAME);
    // Each source's requests asked for, in this order (the source's own
    // record first: the keyed ones check their address against it).
    let per_source: Vec<(Slot, &'static std::ffi::CStr)> = [
        (true, Slot::Source, Source::NAME),
        (parts.stats, Slot::Stats, SourceStats::NAME),
        (parts.select_data, Slot::Select, SelectData::NAME),
        (parts.ntp_data, Slot::Ntp, NtpData::NAME),
        (parts.auth_data, Slot::Auth, AuthData::NAME),
        // Without the library's sourcename: asked for no name (a second
        // sources request keeps the layout simple).
        (
            parts.name,
            Slot::Name,
            if names {
                <Option<SourceName> as Report>::NAME
            } else {
                Source::NAME
            },
        ),
    ]
    .into_iter()
    .filter(|(wanted, _, _)| *wanted)
    .map(|(_, slot, name)| (slot, name))
    .collect();
    let per = per_source.len();
    for _ in 0..LIST_ATTEMPTS {
        let mut requests = Vec::with_capacity(usize::try_from(n).unwrap_or(0) * per + 1);
        for index in 0..n {
            requests.extend(per_source.iter().map(|&(_, name)| request(name, index)));
        }
        requests.push(Request {
            name: Source::NAME,
            index: None,
        });
        let mut records: Vec<Records> = (0..n).map(|_| Records::default()).collect();
        let mut again = None;
        reading::batch(l, &requests, deadline, &mut |i, r| {
            let Some(p) = records.get_mut(i / per) else {
                again = Some(r.map(|s| s.number_of_records()));
                return;
            };
            let source = p.source.as_ref().and_then(|s| s.as_ref().ok());
            match per_source[i % per].0 {
                Slot::Source => p.source = Some(r.and_then(Source::read)),
                Slot::Stats => p.stats = Some(r.and_then(SourceStats::read)),
                Slot::Select => p.select_data = Some(r.and_then(SelectData::read)),
                Slot::Ntp => p.ntp_data = Some(keyed(source, r)),
                Slot::Auth => p.auth_data = Some(keyed(source, r)),
                Slot::Name => {
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
        match assemble(records) {
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
fn assemble(parts: Vec<Records>) -> Option<Result<Vec<SourceSnapshot>>> {
    let mut sources = Vec::with_capacity(parts.len());
    for p in parts {
        let source = match p.source.expect("decoded") {
            Ok(s) => s,
            Err(e) if is_no_such_source(&e) => return None,
            Err(e) => return Some(Err(e)),
        };
        let stats = p.stats.unwrap_or_else(|| not_requested("stats"));
        let select_data = p
            .select_data
            .unwrap_or_else(|| not_requested("select_data"));
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
        let ntp_data = match p.ntp_data {
            Some(r) => changed_or(r)?,
            None => not_requested("ntp_data"),
        };
        let auth_data = match p.auth_data {
            Some(r) => changed_or(r)?,
            None => not_requested("auth_data"),
        };
        let name = match p.name.unwrap_or_else(|| not_requested("name")) {
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
