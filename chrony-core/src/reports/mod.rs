//! chronyd's reports: one file each, decoded from the record the C library
//! received, beside the helpers they share (`decode.rs`, `refid.rs`).
//!
//! Adding a report means a file here with its type and its [`Report`] impl,
//! and a one-line method on `Connection` (plus `SharedConnection` and, for
//! one-call functions, the pool): the socket, exchange and pool code is
//! generic over [`Report`] and never changes.

use std::ffi::CStr;

use crate::Result;
use crate::session::Session;

mod decode;
pub(crate) mod refid;
pub(crate) mod tracking;

/// A report chronyd sends as one record (tracking, serverstats, ...).
pub(crate) trait Report: Sized {
    /// The report's name in the C library (`chrony_request_record`).
    const NAME: &'static CStr;

    /// Decodes the record the session received last.
    fn read(session: &Session) -> Result<Self>;
}
