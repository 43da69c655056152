//! [`AsyncConnection`]: the reports of [`Connection`](crate::Connection) on
//! tokio. The requests, list rules and errors are `reading.rs`'s, the
//! resend schedule, deadline and stale-reply rule `batch.rs`'s, the socket
//! code `client_socket.rs`'s: this module only waits, on tokio's reactor
//! ([`AsyncFd`] on the client socket) and timer instead of `poll()`.

use std::net::IpAddr;
use std::os::fd::{BorrowedFd, RawFd};
use std::time::{Duration, Instant};

use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

use crate::address::{Target, discover_socket};
use crate::batch::Batch;
use crate::connection::open_session;
use crate::drive::{Stop, Wait, drive};
use crate::error::op;
use crate::exchange::{Peer, Request};
use crate::reading::{self, Link};
use crate::session::{AsyncSession, CSession};
use crate::{
    Activity, AuthData, Client, Error, NtpData, Options, Query, Result, RtcData, SelectData,
    ServerStats, Smoothing, Snapshot, Source, SourceAddress, SourceName, SourceStats,
    TrackingStatus, Transport,
};

/// A connection to chronyd for async code (feature `tokio`): the same
/// reports, deadlines, resends and [`Error`]s as
/// [`Connection`](crate::Connection), waiting on tokio's reactor and timer
/// instead of blocking a thread. Many connections (e.g. one per daemon of a
/// fleet) are polled concurrently by awaiting their calls together.
///
/// It must be used inside a tokio runtime with I/O and time enabled
/// (`Builder::enable_all`, or `#[tokio::main]`); opening it outside one
/// panics, as tokio's own sockets do. Opening does not wait for chronyd: it
/// checks and creates the client socket at once, as
/// [`Connection::open`](crate::Connection::open) does.
///
/// **Cancellation.** A call whose future is dropped before it ends (a
/// `tokio::time::timeout` around it, a `select!` that took another branch)
/// sends nothing more; the connection stays usable, and the next call
/// starts a fresh C session on the same socket, so a late reply to the
/// abandoned request is never taken as the answer to a later one.
///
/// One call at a time (methods take `&mut self`); the futures are `Send`.
///
/// ```no_run
/// use chrony_core::{AsyncConnection, Options, Result, TrackingStatus};
/// use std::time::Duration;
///
/// // Every daemon at once: a frozen one costs its own deadline (1 s), and
/// // nobody waits for it.
/// async fn poll(addresses: Vec<String>) -> Vec<Result<TrackingStatus>> {
///     let options = Options::new().with_timeout(Duration::from_secs(1));
///     let tasks: Vec<_> = addresses
///         .into_iter()
///         .map(|address| {
///             let options = options.clone();
///             tokio::spawn(async move {
///                 let mut c = AsyncConnection::open_with(Some(&address), &options).await?;
///                 c.tracking().await
///             })
///         })
///         .collect();
///     let mut results = Vec::new();
///     for task in tasks {
///         results.push(task.await.expect("the task ran"));
///     }
///     results
/// }
/// ```
///
/// With the bundled C library a batch (the snapshot) is pipelined on the
/// socket as [`Connection::snapshot`](crate::Connection::snapshot) is; with
/// a system libchrony 0.2 its requests are sent one after another, still
/// without blocking a thread.
#[derive(Debug)]
pub struct AsyncConnection {
    /// `None` once chronyd went away and no new client socket could be
    /// opened yet: the next query opens one.
    live: Option<AsyncSession>,
    target: Target,
    address: String,
    timeout: Duration,
    /// The process that opened the socket ([`crate::fork::generation`]).
    generation: u64,
}

/// A client socket connected to `target`, a protocol session on it, and
/// the socket registered with tokio's reactor.
fn open_live(target: &Target, address: &str) -> Result<AsyncSession> {
    let session = open_session(target, address)?;
    AsyncSession::new(session)
        .map_err(|e| Error::from_io(e, address, transport_of(target), op::WAIT))
}

impl AsyncConnection {
    /// Opens a connection with the default options; `address` as for
    /// [`Connection::open`](crate::Connection::open).
    pub async fn open(address: &str) -> Result<AsyncConnection> {
        AsyncConnection::open_with(Some(address), &Options::default()).await
    }

    /// Opens a connection to `address`, or with `None` to the socket
    /// [`discover_socket`] finds, as
    /// [`Connection::open_with`](crate::Connection::open_with) does.
    pub async fn open_with(address: Option<&str>, options: &Options) -> Result<AsyncConnection> {
        let target = match address {
            Some(address) => Target::parse(address)?,
            None => Target::Unix(discover_socket()?),
        };
        crate::fork::install_handlers()?;
        let address = target.text();
        let live = open_live(&target, &address)?;
        Ok(AsyncConnection {
            live: Some(live),
            target,
            address,
            timeout: options.timeout,
            generation: crate::fork::generation(),
        })
    }

    /// Queries `Q` (any report: `conn.query::<Vec<Source>>().await`),
    /// within [`AsyncConnection::timeout`].
    pub async fn query<Q: Query>(&mut self) -> Result<Q> {
        Q::query_async(self).await
    }

    /// As [`Connection::tracking`](crate::Connection::tracking).
    pub async fn tracking(&mut self) -> Result<TrackingStatus> {
        self.query().await
    }

    /// As [`Connection::sources`](crate::Connection::sources).
    pub async fn sources(&mut self) -> Result<Vec<Source>> {
        self.query().await
    }

    /// As [`Connection::source_stats`](crate::Connection::source_stats).
    pub async fn source_stats(&mut self) -> Result<Vec<SourceStats>> {
        self.query().await
    }

    /// As [`Connection::select_data`](crate::Connection::select_data).
    pub async fn select_data(&mut self) -> Result<Vec<SelectData>> {
        self.query().await
    }

    /// As [`Connection::activity`](crate::Connection::activity).
    pub async fn activity(&mut self) -> Result<Activity> {
        self.query().await
    }

    /// As [`Connection::server_stats`](crate::Connection::server_stats).
    pub async fn server_stats(&mut self) -> Result<ServerStats> {
        self.query().await
    }

    /// As [`Connection::rtc_data`](crate::Connection::rtc_data).
    pub async fn rtc_data(&mut self) -> Result<Option<RtcData>> {
        self.query().await
    }

    /// As [`Connection::smoothing`](crate::Connection::smoothing).
    pub async fn smoothing(&mut self) -> Result<Option<Smoothing>> {
        self.query().await
    }

    /// As [`Connection::ntp_data_all`](crate::Connection::ntp_data_all).
    pub async fn ntp_data_all(&mut self) -> Result<Vec<NtpData>> {
        self.query().await
    }

    /// As [`Connection::ntp_data`](crate::Connection::ntp_data).
    pub async fn ntp_data(&mut self, address: IpAddr) -> Result<Option<NtpData>> {
        reading::keyed_record_of(self, address).await
    }

    /// As [`Connection::auth_data`](crate::Connection::auth_data).
    pub async fn auth_data(&mut self) -> Result<Vec<AuthData>> {
        self.query().await
    }

    /// As [`Connection::source_names`](crate::Connection::source_names).
    pub async fn source_names(&mut self) -> Result<Vec<SourceName>> {
        self.query().await
    }

    /// As [`Connection::source_name`](crate::Connection::source_name).
    pub async fn source_name(
        &mut self,
        address: impl Into<SourceAddress>,
    ) -> Result<Option<String>> {
        let address = address.into();
        let names: Vec<SourceName> = self.query().await?;
        Ok(names
            .into_iter()
            .find(|s| s.address == address)
            .map(|s| s.name))
    }

    /// As [`Connection::clients`](crate::Connection::clients).
    pub async fn clients(&mut self) -> Result<Option<Vec<Client>>> {
        self.query().await
    }

    /// As [`Connection::snapshot`](crate::Connection::snapshot).
    pub async fn snapshot(&mut self) -> Result<Snapshot> {
        self.query().await
    }

    /// As [`Connection::snapshot_of`](crate::Connection::snapshot_of).
    pub async fn snapshot_of(&mut self, parts: &crate::Parts) -> Result<Snapshot> {
        crate::snapshot::read_parts(self, parts).await
    }

    /// As [`Connection::address`](crate::Connection::address).
    pub fn address(&self) -> &str {
        &self.address
    }

    /// As [`Connection::transport`](crate::Connection::transport).
    pub fn transport(&self) -> Transport {
        transport_of(&self.target)
    }

    /// As [`Connection::timeout`](crate::Connection::timeout).
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// As [`Connection::set_timeout`](crate::Connection::set_timeout).
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    /// Makes sure this connection has a session of its own process, with no
    /// request outstanding (the rules of `Connection::ready_session`); that
    /// session, and whom it talks to for errors.
    fn ready(&mut self) -> Result<(&mut AsyncSession, Peer<'_>)> {
        if self.generation != crate::fork::generation() {
            // A forked child must not share the parent's socket.
            self.live = None;
            self.generation = crate::fork::generation();
        }
        if self.live.is_none() {
            self.live = Some(open_live(&self.target, &self.address)?);
        }
        let transport = transport_of(&self.target);
        let live = self.live.as_mut().expect("opened above");
        // A request left unanswered by an earlier call (timeout, a dropped
        // future) is forgotten: its late reply must not answer this one.
        live.parts()
            .0
            .abandon_request()
            .map_err(|e| Error::from_chrony(e.code, e.errno, &self.address, transport))?;
        let peer = Peer {
            address: &self.address,
            transport,
            timeout: self.timeout,
        };
        Ok((live, peer))
    }
}

impl Link for AsyncConnection {
    fn address(&self) -> &str {
        &self.address
    }

    fn timeout(&self) -> Duration {
        self.timeout
    }

    fn transport(&self) -> Transport {
        transport_of(&self.target)
    }

    fn forget_socket(&mut self) {
        self.live = None;
    }

    async fn exchange_once(&mut self, request: Request, deadline: Instant) -> Result<()> {
        let (live, peer) = self.ready()?;
        let (session, registration) = live.parts();
        let mut batch = Batch::one(session, request, peer, deadline);
        drive(&mut batch, &mut Reactor(registration)).await
    }

    fn session(&self) -> &CSession {
        self.live
            .as_ref()
            .expect("a successful exchange has a session")
            .session()
    }

    #[cfg(libchrony_shared_fd)]
    async fn pipelined_once(
        &mut self,
        requests: &[Request],
        deadline: Instant,
        decode: &mut reading::Decode<'_>,
    ) -> Result<()> {
        let (live, peer) = self.ready()?;
        let (session, registration) = live.parts();
        let mut batch = Batch::many(session, requests, peer, deadline)?;
        drive(&mut batch, &mut Reactor(registration)).await?;
        reading::decode_each(batch.into_results(), decode);
        Ok(())
    }
}

/// Waits on tokio's reactor and timer: until the socket is readable or the
/// batch's next wake-up, whichever comes first.
struct Reactor<'a>(&'a AsyncFd<RawFd>);

impl Wait for Reactor<'_> {
    async fn wait(&mut self, fd: BorrowedFd<'_>, until: Instant) -> Result<bool, Stop> {
        let ready = self.0.ready(Interest::READABLE | Interest::ERROR);
        let Ok(guard) = tokio::time::timeout_at(until.into(), ready).await else {
            return Ok(false);
        };
        let mut guard = guard.map_err(Stop::Io)?;
        // tokio's readiness stays set until cleared; clear it only once the
        // socket is empty, which a zero-timeout poll tells without receiving
        // (a receive that finds nothing would end the bundled library's
        // exchange, see `Batch::on_readable`).
        if crate::os::poll_readable(fd, 0).map_err(Stop::Io)? {
            return Ok(true);
        }
        guard.clear_ready();
        Ok(false)
    }
}

fn transport_of(target: &Target) -> Transport {
    match target {
        Target::Unix(_) => Transport::Unix,
        Target::Udp(_) => Transport::Udp,
    }
}
