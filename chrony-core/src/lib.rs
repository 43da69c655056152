//! Read chronyd's tracking status: typed results, typed errors, bounded
//! waits, socket discovery.
//!
//! `chrony-core` talks to a running chronyd over its unix command socket or
//! its UDP command port, using a libchrony-compatible C library for the
//! protocol, and owns everything around it in safe Rust: finding the
//! socket, creating and removing the client socket, permissions, timeouts
//! and resends.
//!
//! ```no_run
//! // One call: the default socket (/run/chrony/chronyd.sock, then
//! // /var/run/chrony/chronyd.sock), a pooled connection, a 3 s deadline.
//! match chrony_core::tracking(None) {
//!     Ok(t) => println!(
//!         "{} ({}) stratum {} offset {:+.9} s, leap {}",
//!         t.reference_id_name, t.reference_id, t.stratum, t.offset, t.leap_status
//!     ),
//!     Err(e) => eprintln!("error {}: {e}", e.code()),
//! }
//!
//! // A reusable connection, e.g. to the UDP command port, which serves
//! // tracking to any local user.
//! use std::time::Duration;
//! let options = chrony_core::Options::new().with_timeout(Duration::from_millis(500));
//! let mut connection = chrony_core::Connection::open_with(Some("127.0.0.1:323"), &options)?;
//! for _ in 0..3 {
//!     let status = connection.tracking()?;
//!     assert!(status.is_synchronized());
//! }
//! # Ok::<(), chrony_core::Error>(())
//! ```
//!
//! # Async
//!
//! With the `tokio` feature (off by default), `AsyncConnection` has the same
//! reports, deadlines and errors as [`Connection`], as `async fn`s on tokio's
//! reactor and timer; see the user guide's async section.
//!
//! # Errors
//!
//! Every failure is an [`Error`] whose [`Error::code`] is one of the
//! contract's codes (-1 refused or I/O, -2 not found, -3 permission denied,
//! -4 invalid response, -5 incomplete data, -6 timeout), keeps its raw cause
//! and says what to do.
//!
//! # Time
//!
//! Every query has a total deadline ([`Options::timeout`], 3 s by default).
//! An unanswered request is sent again after 1 s, then 2 s, as chronyc does.
//! A stopped or silent chronyd gives [`Error::Timeout`]; nothing blocks
//! forever.
//!
//! # The one-call API, threads and `fork`
//!
//! [`tracking`] keeps idle unix connections in a process-wide pool, so
//! repeated calls do not create and remove a client socket each time. It is
//! safe from many threads at once (each takes its own connection). After
//! `fork()` a child never uses its parent's connections; at normal exit the
//! pool is drained and no file is left in chronyd's socket directory.
//! Client directories of dead processes (named `chrony-core.<pid>.<random>`)
//! are removed the first time a process uses a socket directory.
//!
//! [`Connection`] is `Send` but not `Sync`:
//!
//! ```compile_fail
//! fn sync<T: Sync>() {}
//! sync::<chrony_core::Connection>();
//! ```

#![deny(missing_docs)]
// `unsafe` is allowed in exactly two modules: `session` (the C library) and
// `os` (libc calls std lacks). Everything else is safe Rust, by the compiler's rule.
#![deny(unsafe_code)]

mod address;
#[cfg(feature = "tokio")]
mod async_connection;
mod batch;
mod client_socket;
mod connection;
mod drive;
mod error;
mod event_loop;
mod exchange;
mod fork;
mod options;
#[allow(unsafe_code)]
mod os;
#[cfg(libchrony_shared_fd)]
mod pipeline;
mod pool;
mod reading;
mod reports;
#[allow(unsafe_code)]
mod session;
mod shared;
mod snapshot;

use std::path::Path;

pub use address::{DEFAULT_SOCKET_PATHS, discover_socket};
#[cfg(feature = "tokio")]
pub use async_connection::AsyncConnection;
pub use connection::{Connection, Transport};
pub use error::{Error, MAX_SOCKET_PATH_LEN, Result};
pub use event_loop::{LoopCall, LoopConnection};
pub use options::{DEFAULT_TIMEOUT, Options};
#[doc(hidden)]
pub use pool::drain_pool;
pub use reports::Query;
pub use reports::activity::Activity;
pub use reports::authdata::{AuthData, AuthMode};
pub use reports::clients::Client;
pub use reports::ntpdata::{NtpData, NtpFlags, NtpMode, Timestamping};
pub use reports::refid::ReferenceAddress;
pub use reports::rtcdata::RtcData;
pub use reports::selectdata::{SelectData, SelectOptions, SelectState};
pub use reports::serverstats::ServerStats;
pub use reports::smoothing::Smoothing;
pub use reports::sourcename::SourceName;
pub use reports::sources::{Source, SourceAddress, SourceMode, SourceState};
pub use reports::sourcestats::SourceStats;
pub use reports::tracking::{LeapStatus, TrackingStatus};
pub use shared::SharedConnection;
pub use snapshot::{Parts, Snapshot, SourceSnapshot};

/// Queries chronyd's tracking report with the default options.
///
/// `socket_path`: that unix socket only (relative paths resolve against the
/// current directory), or `None` for the first of [`DEFAULT_SOCKET_PATHS`]
/// that exists. See [`tracking_with`].
pub fn tracking(socket_path: Option<&Path>) -> Result<TrackingStatus> {
    tracking_with(socket_path, &Options::default())
}

/// Queries chronyd's tracking report over its unix socket, with a total
/// deadline of `options.timeout`, reusing a pooled connection when one is
/// idle. To use the UDP command port, open a [`Connection`].
pub fn tracking_with(socket_path: Option<&Path>, options: &Options) -> Result<TrackingStatus> {
    pool::query(socket_path, options, &mut || false)
}

/// Like [`tracking_with`], calling `interrupted` at least every 100 ms while
/// waiting for chronyd; when it returns true the call stops with
/// [`Error::Interrupted`] (e.g. to let Python handle Ctrl-C).
pub fn tracking_interruptible(
    socket_path: Option<&Path>,
    options: &Options,
    interrupted: &mut dyn FnMut() -> bool,
) -> Result<TrackingStatus> {
    pool::query(socket_path, options, interrupted)
}

/// Queries chronyd's sources report over its unix socket with the default
/// options, reusing a pooled connection (see [`tracking`] for
/// `socket_path`, and [`Connection::sources`]).
pub fn sources(socket_path: Option<&Path>) -> Result<Vec<Source>> {
    query(socket_path, &Options::default(), &mut || false)
}

/// Queries the name each NTP source was configured with over chronyd's
/// unix socket with the default options, reusing a pooled connection (see
/// [`tracking`] for `socket_path`, and [`Connection::source_names`]).
pub fn source_names(socket_path: Option<&Path>) -> Result<Vec<SourceName>> {
    query(socket_path, &Options::default(), &mut || false)
}

/// Queries chronyd's client access log over its unix socket with the
/// default options, reusing a pooled connection (see [`tracking`] for
/// `socket_path`, and [`Connection::clients`]).
pub fn clients(socket_path: Option<&Path>) -> Result<Option<Vec<Client>>> {
    query(socket_path, &Options::default(), &mut || false)
}

/// Reads every report at once over chronyd's unix socket with the default
/// options, reusing a pooled connection (see [`tracking`] for
/// `socket_path`, and [`Connection::snapshot`]).
pub fn snapshot(socket_path: Option<&Path>) -> Result<Snapshot> {
    query(socket_path, &Options::default(), &mut || false)
}

/// Reads the `parts` of the snapshot over chronyd's unix socket with a
/// pooled connection (see [`Connection::snapshot_of`]).
pub fn snapshot_of(
    socket_path: Option<&Path>,
    options: &Options,
    parts: &Parts,
    interrupted: &mut dyn FnMut() -> bool,
) -> Result<Snapshot> {
    pool::with_connection(socket_path, options, |c| {
        c.snapshot_of_interruptible(parts, interrupted)
    })
}

/// Queries any report `Q` (e.g. `query::<Vec<SourceStats>>(...)`) over
/// chronyd's unix socket with a pooled connection, like [`tracking_interruptible`].
pub fn query<Q: Query>(
    socket_path: Option<&Path>,
    options: &Options,
    interrupted: &mut dyn FnMut() -> bool,
) -> Result<Q> {
    pool::query(socket_path, options, interrupted)
}

/// Queries the ntpdata report of the NTP source at `address` over chronyd's
/// unix socket with a pooled connection (see [`Connection::ntp_data`]).
pub fn ntp_data(
    socket_path: Option<&Path>,
    options: &Options,
    address: std::net::IpAddr,
    interrupted: &mut dyn FnMut() -> bool,
) -> Result<Option<NtpData>> {
    pool::with_connection(socket_path, options, |c| {
        c.ntp_data_interruptible(address, interrupted)
    })
}
