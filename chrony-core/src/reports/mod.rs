//! chronyd's reports: one file each, decoded from the record the C library
//! received, beside the helpers they share (`decode.rs`, `refid.rs`).
//!
//! Adding a report means a file here with its type, its [`Report`] impl
//! (how to decode one record) and its [`Query`] impl (one record, or every
//! record of a per-source report), and a one-line method on `Connection`,
//! `SharedConnection` and, for one-call functions, the crate root: the
//! socket, exchange and pool code is generic over [`Query`] and never changes.

use std::ffi::CStr;

use crate::session::CSession;
use crate::{Connection, Result, SourceAddress};

/// A record chronyd sends: a whole report (tracking, serverstats, ...) or
/// one source's record of a per-source report (sources, sourcestats, ...).
pub(crate) trait Report: Sized {
    /// The report's name in the C library (`chrony_request_record`).
    const NAME: &'static CStr;

    /// Decodes the record the session received last.
    fn read(session: &CSession) -> Result<Self>;
}

/// A record chronyd serves for one NTP source's address (ntpdata,
/// authdata). It is asked for by index: the C library looks up the
/// address of source `index` and asks for that address.
pub(crate) trait Keyed: Sized {
    /// The report's name in the C library.
    const NAME: &'static CStr;

    /// Whether chronyd keeps a record for a source whose name is not
    /// resolved yet: authdata does (`chronyc -a authdata` lists it), ntpdata
    /// does not (chronyc skips every address that is not IPv4 or IPv6).
    const UNRESOLVED_TOO: bool;

    /// Decodes the record received for the source at `address`; `None`
    /// when it turns out to be another source's (the list changed).
    fn read_for(session: &CSession, address: SourceAddress) -> Result<Option<Self>>;
}

/// Fails, before anything is sent, when the linked C library does not know
/// the report `name` (`known`: [`libchrony_sys::knows_report`]): a system
/// libchrony 0.2 lacks this crate's extensions, such as sourcename.
pub(crate) fn require_known(name: &'static CStr, known: bool) -> Result<()> {
    if known {
        return Ok(());
    }
    Err(crate::Error::UnsupportedByLibrary {
        report: name.to_str().unwrap_or("requested"),
    })
}

/// What a connection can be asked for in one call: a report, or every
/// record of a per-source report. Implemented by [`TrackingStatus`](crate::TrackingStatus),
/// `Vec<`[`Source`](crate::Source)`>`, `Vec<`[`SourceStats`](crate::SourceStats)`>`,
/// `Vec<`[`SelectData`](crate::SelectData)`>`, `Vec<`[`NtpData`](crate::NtpData)`>`,
/// `Vec<`[`AuthData`](crate::AuthData)`>`, `Vec<`[`SourceName`](crate::SourceName)`>`,
/// [`Activity`](crate::Activity),
/// [`ServerStats`](crate::ServerStats), `Option<`[`RtcData`](crate::RtcData)`>`
/// `Option<`[`Smoothing`](crate::Smoothing)`>` and
/// `Option<Vec<`[`Client`](crate::Client)`>>`; used by
/// [`Connection::query_interruptible`] and its siblings. Sealed: only this
/// crate implements it.
pub trait Query: Sized + Send + sealed::Sealed {
    /// Asks `connection`, within its timeout.
    #[doc(hidden)]
    fn query(connection: &mut Connection, interrupted: &mut dyn FnMut() -> bool) -> Result<Self>;

    /// Asks `connection`, within its timeout.
    #[cfg(feature = "tokio")]
    #[doc(hidden)]
    fn query_async(connection: &mut crate::AsyncConnection) -> crate::reading::BoxFuture<'_, Self>;

    /// Asks a [`LoopConnection`](crate::LoopConnection)'s call, within its timeout.
    #[doc(hidden)]
    fn query_loop(link: &mut crate::event_loop::Lent) -> crate::reading::BoxFuture<'_, Self>;
}

pub(crate) mod sealed {
    /// Implemented by `query!` only.
    pub trait Sealed {}
}

/// Implements [`Query`] for `$t` by the function `$how` of `reading.rs`
/// (for every connection): `report` (one record), `records` (every source's
/// record), `source_name_records` (every NTP source's name),
/// `client_records` (chronyd's client log, `None` when it is off),
/// `keyed_records` (the record of every NTP source, by its address),
/// `optional_report` (one record, `None` when chronyd has the facility off)
/// or `snapshot` (every report).
macro_rules! query {
    ($t:ty, $how:ident) => {
        impl crate::reports::sealed::Sealed for $t {}
        impl crate::reports::Query for $t {
            fn query(
                c: &mut crate::Connection,
                interrupted: &mut dyn FnMut() -> bool,
            ) -> crate::Result<Self> {
                crate::reading::block_on(crate::reading::$how(&mut c.link(interrupted)))
            }

            #[cfg(feature = "tokio")]
            fn query_async(c: &mut crate::AsyncConnection) -> crate::reading::BoxFuture<'_, Self> {
                crate::reading::boxed::<Self>(crate::reading::$how(c))
            }

            fn query_loop(
                link: &mut crate::event_loop::Lent,
            ) -> crate::reading::BoxFuture<'_, Self> {
                crate::reading::boxed::<Self>(crate::reading::$how(link))
            }
        }
    };
}
pub(crate) use query;

pub(crate) mod activity;
pub(crate) mod authdata;
pub(crate) mod clients;
mod decode;
pub(crate) mod ntpdata;
pub(crate) mod refid;
pub(crate) mod rtcdata;
pub(crate) mod selectdata;
pub(crate) mod serverstats;
pub(crate) mod smoothing;
pub(crate) mod sourcename;
pub(crate) mod sources;
pub(crate) mod sourcestats;
pub(crate) mod tracking;
