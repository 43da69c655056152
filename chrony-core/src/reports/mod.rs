//! chronyd's reports: one file each, decoded from the record the C library
//! received, beside the helpers they share (`decode.rs`, `refid.rs`).
//!
//! Adding a report means a file here with its type, its [`Report`] impl
//! (how to decode one record) and its [`Query`] impl (one record, or every
//! record of a per-source report), and a one-line method on `Connection`,
//! `SharedConnection` and, for one-call functions, the crate root: the
//! socket, exchange and pool code is generic over [`Query`] and never changes.

use std::ffi::CStr;

use crate::session::Session;
use crate::{Connection, Result};

mod decode;
pub(crate) mod refid;
pub(crate) mod sources;
pub(crate) mod tracking;

/// A record chronyd sends: a whole report (tracking, serverstats, ...) or
/// one source's record of a per-source report (sources, sourcestats, ...).
pub(crate) trait Report: Sized {
    /// The report's name in the C library (`chrony_request_record`).
    const NAME: &'static CStr;

    /// Decodes the record the session received last.
    fn read(session: &Session) -> Result<Self>;
}

/// What a connection can be asked for in one call: one report
/// (`Connection::report`), or every record of a per-source report
/// (`Connection::records`).
pub(crate) trait Query: Sized {
    /// Asks `connection`, within its timeout.
    fn query(connection: &mut Connection, interrupted: &mut dyn FnMut() -> bool) -> Result<Self>;
}
