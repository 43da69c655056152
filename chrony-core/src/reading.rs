//! How each report is read: which requests, in which order, within one
//! deadline, and what a changing source list means. Written once, as async
//! functions over a [`Link`] (one exchange, or a batch, on a connection's
//! session): the blocking [`Connection`](crate::Connection) runs them with
//! `block_on` over a link that waits with `poll()` and so never returns
//! `Pending`; `AsyncConnection` awaits them on tokio, and a
//! `LoopConnection`'s call is polled by another language's event loop
//! (`event_loop.rs`). Every connection therefore asks the same questions and
//! gives the same answers and errors.

use std::ffi::{CStr, c_int};
use std::net::IpAddr;
use std::time::{Duration, Instant};

use libchrony_sys as ffi;

use crate::connection::{LIST_ATTEMPTS, is_no_such_source};
use crate::exchange::{self, Request};
use crate::reports::clients::ClientSlot;
use crate::reports::{Keyed, Report, require_known};
use crate::session::CSession;
use crate::{Client, Error, Result, Source, SourceAddress, SourceName, Transport};

pub(crate) use crate::drive::block_on;
pub(crate) use crate::snapshot::read as snapshot;

/// Called once for each request of a batch, in their order, with the
/// session holding its record or the error chronyd gave for it.
pub(crate) type Decode<'a> = dyn FnMut(usize, Result<&CSession>) + Send + 'a;

/// Hands each result of a pipelined batch to `decode`, in the requests' order.
#[cfg(libchrony_shared_fd)]
pub(crate) fn decode_each(
    results: Vec<Result<crate::session::Pipelined<'_>>>,
    decode: &mut Decode<'_>,
) {
    for (i, r) in results.into_iter().enumerate() {
        match r {
            Ok(p) => decode(i, Ok(&p)),
            Err(e) => decode(i, Err(e)),
        }
    }
}

/// A connection's session, as the report logic uses it: the socket code
/// underneath is the connection's own (blocking or async).
pub(crate) trait Link {
    /// What the connection talks to, for errors.
    fn address(&self) -> &str;

    /// The total timeout of each query.
    fn timeout(&self) -> Duration;

    /// The connection's transport.
    fn transport(&self) -> Transport;

    /// Drops the client socket: the next exchange opens a new one.
    fn forget_socket(&mut self);

    /// One exchange on the connection's session (opened first when there is
    /// none, or only the parent's after `fork()`), within `deadline`.
    async fn exchange_once(&mut self, request: Request, deadline: Instant) -> Result<()>;

    /// The session holding the record of the last successful exchange.
    fn session(&self) -> &CSession;

    /// Every request of `requests` pipelined on the connection's socket
    /// (see `pipeline`), within `deadline`.
    #[cfg(libchrony_shared_fd)]
    async fn pipelined_once(
        &mut self,
        requests: &[Request],
        deadline: Instant,
        decode: &mut Decode<'_>,
    ) -> Result<()>;
}

/// A report's future, boxed for the `Query` trait (and `Send`, so an
/// async call can move between a runtime's threads, or live in a Python
/// object).
pub(crate) type BoxFuture<'a, T> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<T>> + Send + 'a>>;

/// `future`, boxed as the query of `T` (naming `T` lets the report
/// functions' record types be inferred).
pub(crate) fn boxed<'a, T>(
    future: impl std::future::Future<Output = Result<T>> + Send + 'a,
) -> BoxFuture<'a, T> {
    Box::pin(future)
}

/// One exchange; when a unix-socket chronyd has gone away since the last
/// query, once more on a new client socket. On `Ok`, the session holds the
/// reply.
async fn exchange<L: Link>(l: &mut L, request: Request, deadline: Instant) -> Result<&CSession> {
    let unix = l.transport() == Transport::Unix;
    let mut result = l.exchange_once(request, deadline).await;
    if unix && matches!(result, Err(Error::ConnectionRefused { .. })) {
        // chronyd went away since the last query. A restarted one
        // listens on the same path, perhaps in a directory created anew
        // (systemd's RuntimeDirectory=) where our bound path is gone:
        // start over with a new client socket. The old one goes first:
        // the kernel disconnected it, so anyone could write to it.
        l.forget_socket();
        result = l.exchange_once(request, deadline).await;
        if matches!(result, Err(Error::ConnectionRefused { .. })) {
            l.forget_socket();
        }
    }
    result?;
    Ok(l.session())
}

/// Every request of `requests`, within `deadline`: `decode` is called
/// once for each, in their order. With the bundled C library the requests
/// are pipelined (all sent before any reply is awaited, see `pipeline`),
/// else sent one after another. `Err` only for what ends the batch: a
/// timeout, an interruption, a socket error. Like every query, once more
/// on a new client socket when a unix-socket chronyd has gone away.
pub(crate) async fn batch<L: Link>(
    l: &mut L,
    requests: &[Request],
    deadline: Instant,
    decode: &mut Decode<'_>,
) -> Result<()> {
    let unix = l.transport() == Transport::Unix;
    let mut result = batch_once(l, requests, deadline, decode).await;
    if unix && matches!(result, Err(Error::ConnectionRefused { .. })) {
        l.forget_socket();
        result = batch_once(l, requests, deadline, decode).await;
        if matches!(result, Err(Error::ConnectionRefused { .. })) {
            l.forget_socket();
        }
    }
    result
}

#[cfg(libchrony_shared_fd)]
async fn batch_once<L: Link>(
    l: &mut L,
    requests: &[Request],
    deadline: Instant,
    decode: &mut Decode<'_>,
) -> Result<()> {
    l.pipelined_once(requests, deadline, decode).await
}

#[cfg(not(libchrony_shared_fd))]
async fn batch_once<L: Link>(
    l: &mut L,
    requests: &[Request],
    deadline: Instant,
    decode: &mut Decode<'_>,
) -> Result<()> {
    for (i, &request) in requests.iter().enumerate() {
        match l.exchange_once(request, deadline).await {
            Ok(()) => decode(i, Ok(l.session())),
            // chronyd's answer for this request: the batch goes on.
            Err(e) if answered(&e) => decode(i, Err(e)),
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// An error that is chronyd's (or the library's) answer to one request, not
/// a failure of the exchange: a batch read one after another goes on.
#[cfg(not(libchrony_shared_fd))]
fn answered(e: &Error) -> bool {
    e.chrony_err()
        .is_some_and(|code| !crate::session::ends_batch(code))
}

/// The one-record report `R`, within the connection's timeout.
pub(crate) async fn report<R: Report, L: Link>(l: &mut L) -> Result<R> {
    let deadline = exchange::deadline_after(l.timeout());
    let request = Request {
        name: R::NAME,
        index: Some(0),
    };
    R::read(exchange(l, request, deadline).await?)
}

/// The one-record report `R` of a facility chronyd may have off (rtcdata,
/// smoothing): its "not enabled" answer is `None`.
pub(crate) async fn optional_report<R: Report, L: Link>(l: &mut L) -> Result<Option<R>> {
    match report(l).await {
        Ok(r) => Ok(Some(r)),
        Err(e) if e.chrony_err() == Some(ffi::CHRONY_DISABLED) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Every record of the per-source report `R`, within one timeout: the
/// number of sources, each record by index, and the number again. When the
/// list changed meanwhile (the count differs, or chronyd has no source at
/// an index), the whole list is read again, up to [`LIST_ATTEMPTS`] times,
/// so that the records always come from one list.
pub(crate) async fn records<R: Report, L: Link>(l: &mut L) -> Result<Vec<R>> {
    let deadline = exchange::deadline_after(l.timeout());
    records_until(l, deadline).await
}

async fn records_until<R: Report, L: Link>(l: &mut L, deadline: Instant) -> Result<Vec<R>> {
    let mut n = count_until(l, R::NAME, deadline).await?;
    for _ in 0..LIST_ATTEMPTS {
        let mut records = Vec::with_capacity(usize::try_from(n).unwrap_or(0).min(256));
        let mut changed = false;
        for index in 0..n {
            let request = Request {
                name: R::NAME,
                index: Some(index),
            };
            match exchange(l, request, deadline).await {
                Ok(session) => records.push(R::read(session)?),
                Err(e) if is_no_such_source(&e) => {
                    changed = true;
                    break;
                }
                Err(e) => return Err(e),
            }
        }
        let again = count_until(l, R::NAME, deadline).await?;
        if !changed && again == n {
            return Ok(records);
        }
        n = again;
    }
    Err(sources_changed(l.address(), R::NAME))
}

/// The record of `R` of every NTP source (reference clocks and unresolved
/// sources have none), within one timeout: the sources report for their
/// addresses, each source's record by its index, and the number of sources
/// again; read again whole when the list changed meanwhile, as [`records`]
/// does.
pub(crate) async fn keyed_records<R: Keyed, L: Link>(l: &mut L) -> Result<Vec<R>> {
    let deadline = exchange::deadline_after(l.timeout());
    for _ in 0..LIST_ATTEMPTS {
        let sources: Vec<Source> = records_until(l, deadline).await?;
        let mut records = Vec::with_capacity(sources.len());
        let mut changed = false;
        for (index, source) in sources.iter().enumerate() {
            match source.address {
                SourceAddress::Ip(_) => {}
                SourceAddress::Unresolved(_) if R::UNRESOLVED_TOO => {}
                _ => continue,
            }
            match keyed_record::<R, L>(l, index, source.address, deadline).await? {
                Some(r) => records.push(r),
                None => {
                    changed = true;
                    break;
                }
            }
        }
        let again = count_until(l, Source::NAME, deadline).await?;
        if !changed && usize::try_from(again).ok() == Some(sources.len()) {
            return Ok(records);
        }
    }
    Err(sources_changed(l.address(), R::NAME))
}

/// The record of `R` of the NTP source at `address`, within one timeout;
/// `None` when chronyd has no NTP source there.
pub(crate) async fn keyed_record_of<R: Keyed, L: Link>(
    l: &mut L,
    address: IpAddr,
) -> Result<Option<R>> {
    let deadline = exchange::deadline_after(l.timeout());
    for _ in 0..LIST_ATTEMPTS {
        let sources: Vec<Source> = records_until(l, deadline).await?;
        let Some(index) = sources
            .iter()
            .position(|s| s.address == SourceAddress::Ip(address))
        else {
            return Ok(None);
        };
        let address = SourceAddress::Ip(address);
        if let Some(r) = keyed_record::<R, L>(l, index, address, deadline).await? {
            return Ok(Some(r));
        }
    }
    Err(sources_changed(l.address(), R::NAME))
}

/// Record `index` of `R`, expected to be the source at `address`: `None`
/// when the list has changed (no such source, a reference clock, or another
/// source's record).
async fn keyed_record<R: Keyed, L: Link>(
    l: &mut L,
    index: usize,
    address: SourceAddress,
    deadline: Instant,
) -> Result<Option<R>> {
    let request = Request {
        name: R::NAME,
        index: Some(c_int::try_from(index).unwrap_or(c_int::MAX)),
    };
    match exchange(l, request, deadline).await {
        // A reference clock's record has no fields.
        Ok(session) if session.number_of_fields() == 0 => Ok(None),
        Ok(session) => R::read_for(session, address),
        Err(e) if is_no_such_source(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Every NTP source's name, read as [`records`] reads a list; first
/// whether the linked library has the report at all.
pub(crate) async fn source_name_records<L: Link>(l: &mut L) -> Result<Vec<SourceName>> {
    let name = <Option<SourceName> as Report>::NAME;
    require_known(name, ffi::knows_report(name))?;
    let records: Vec<Option<SourceName>> = records(l).await?;
    Ok(records.into_iter().flatten().collect())
}

/// The client log, walked within one timeout: the table size in slots,
/// then from slot 0 one client at a time, continuing at the slot after it,
/// until the table ends or no client is left.
pub(crate) async fn client_records<L: Link>(l: &mut L) -> Result<Option<Vec<Client>>> {
    let name = <Option<ClientSlot> as Report>::NAME;
    require_known(name, ffi::knows_report(name))?;
    let deadline = exchange::deadline_after(l.timeout());
    let slots = match count_until(l, name, deadline).await {
        Ok(n) => u32::try_from(n).unwrap_or(0),
        Err(e) if e.chrony_err() == Some(ffi::CHRONY_DISABLED) => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut clients = Vec::new();
    let mut index = 0u32;
    while index < slots {
        let request = Request {
            name,
            index: Some(index as c_int),
        };
        let session = match exchange(l, request, deadline).await {
            Ok(s) => s,
            // Logging stopped between requests (chronyd restarted).
            Err(e) if e.chrony_err() == Some(ffi::CHRONY_DISABLED) => return Ok(None),
            Err(e) => return Err(e),
        };
        let Some(slot) = <Option<ClientSlot> as Report>::read(session)? else {
            break;
        };
        index = slot.next_after(index)?;
        clients.push(slot.client);
    }
    Ok(Some(clients))
}

/// The number of records of the per-source report `name`.
pub(crate) async fn count_until<L: Link>(
    l: &mut L,
    name: &'static CStr,
    deadline: Instant,
) -> Result<c_int> {
    let count = Request { name, index: None };
    Ok(exchange(l, count, deadline).await?.number_of_records())
}

/// The list of `report` kept changing while it was read.
pub(crate) fn sources_changed(address: &str, report: &'static CStr) -> Error {
    Error::SourcesChanged {
        address: address.to_owned(),
        report: report.to_str().unwrap_or("requested"),
        attempts: LIST_ATTEMPTS,
    }
}
