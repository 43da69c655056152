//! A reusable connection to chronyd.

use std::path::Path;
use std::time::{Duration, Instant};

use std::net::IpAddr;

use libchrony_sys as ffi;

use crate::address::{Target, discover_socket};
use crate::client_socket::ClientSocket;
use crate::drive::Wait;
use crate::exchange::{self, Peer, PollWait, Request};
use crate::reading::{self, Link, block_on};
use crate::reports::Query;
use crate::session::{CSession, Session};
use crate::{
    Activity, AuthData, Client, Error, NtpData, Options, Result, RtcData, SelectData, ServerStats,
    Smoothing, Source, SourceAddress, SourceName, SourceStats, TrackingStatus,
};

/// How a [`Connection`] reaches chronyd.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Transport {
    /// chronyd's unix command socket (full access; root or chronyd's user).
    Unix,
    /// chronyd's UDP command port (monitoring commands such as tracking;
    /// open to local users by default).
    Udp,
}

/// A connection to chronyd, opened once and queried many times.
///
/// Over a unix socket it owns a client socket in a private directory next
/// to chronyd's socket; `Drop` removes both. After `fork()` the child's copy
/// of a connection transparently opens its own client socket on first use
/// (it never reads the parent's replies nor removes the parent's files).
/// If chronyd is restarted, the next query opens a new client socket next
/// to the new chronyd's (its directory may have been recreated).
///
/// `Send` but not `Sync`: one query at a time, from any one thread. To share
/// one connection between threads, use [`SharedConnection`](crate::SharedConnection).
#[derive(Debug)]
pub struct Connection {
    /// `None` once chronyd went away and no new client socket could be
    /// opened yet: the next query opens one.
    session: Option<Session>,
    target: Target,
    address: String,
    timeout: Duration,
    /// The process that opened the socket ([`crate::fork::generation`]).
    generation: u64,
}

impl Connection {
    /// Opens a connection with the default options. `address` is a unix
    /// socket path (absolute, or relative to the current directory: a
    /// relative path is recognised by containing `/` or ending in `.sock`),
    /// or chronyd's UDP command port: `IPv4`, `IPv4:port`, `IPv6`,
    /// `[IPv6]:port`, port 323 by default (no host names).
    ///
    /// Opening a unix socket checks it at once (not found, stale, no
    /// permission); opening UDP cannot tell whether chronyd listens, the
    /// first query does.
    pub fn open(address: &str) -> Result<Connection> {
        Connection::open_with(Some(address), &Options::default())
    }

    /// Opens a connection to `address` (see [`Connection::open`]), or with
    /// `None` to the socket [`discover_socket`] finds.
    pub fn open_with(address: Option<&str>, options: &Options) -> Result<Connection> {
        let target = match address {
            Some(address) => Target::parse(address)?,
            None => Target::Unix(discover_socket()?),
        };
        Connection::open_target(target, options.timeout)
    }

    pub(crate) fn open_target(target: Target, timeout: Duration) -> Result<Connection> {
        crate::fork::install_handlers()?;
        let address = target.text();
        let session = open_session(&target, &address)?;
        Ok(Connection {
            session: Some(session),
            target,
            address,
            timeout,
            generation: crate::fork::generation(),
        })
    }

    /// Queries the tracking report, within [`Connection::timeout`].
    pub fn tracking(&mut self) -> Result<TrackingStatus> {
        self.tracking_interruptible(&mut || false)
    }

    /// Like [`Connection::tracking`], calling `interrupted` at least every
    /// 100 ms while waiting for chronyd; when it returns true the query
    /// stops with [`Error::Interrupted`].
    pub fn tracking_interruptible(
        &mut self,
        interrupted: &mut dyn FnMut() -> bool,
    ) -> Result<TrackingStatus> {
        self.query_interruptible(interrupted)
    }

    /// Queries the sources report (`chronyc sources -a`: every source,
    /// unresolved ones included), within one [`Connection::timeout`]. The
    /// list is read again when it changes during the read (see
    /// [`Error::SourcesChanged`]).
    pub fn sources(&mut self) -> Result<Vec<Source>> {
        self.query()
    }

    /// Queries the sourcestats report (`chronyc sourcestats -a`), as
    /// [`Connection::sources`] reads its list.
    pub fn source_stats(&mut self) -> Result<Vec<SourceStats>> {
        self.query()
    }

    /// Queries the selectdata report (`chronyc selectdata -a`), as
    /// [`Connection::sources`] reads its list. Over UDP chronyd refuses it
    /// ([`Error::NotAuthorised`]) unless its `opencommands` (4.7+) allow it.
    pub fn select_data(&mut self) -> Result<Vec<SelectData>> {
        self.query()
    }

    /// Queries the activity report (`chronyc activity`).
    pub fn activity(&mut self) -> Result<Activity> {
        self.query()
    }

    /// Queries the serverstats report (`chronyc serverstats`). Over UDP
    /// chronyd refuses it unless its `opencommands` (4.7+) allow it.
    pub fn server_stats(&mut self) -> Result<ServerStats> {
        self.query()
    }

    /// Queries the rtcdata report (`chronyc rtcdata`): `None` when chronyd
    /// does not track a real-time clock.
    pub fn rtc_data(&mut self) -> Result<Option<RtcData>> {
        self.query()
    }

    /// Queries the smoothing report (`chronyc smoothing`): `None` when
    /// chronyd has no `smoothtime`.
    pub fn smoothing(&mut self) -> Result<Option<Smoothing>> {
        self.query()
    }

    /// Queries the ntpdata report of every NTP source (`chronyc ntpdata`:
    /// reference clocks and unresolved sources have none), within one
    /// [`Connection::timeout`]. Over UDP chronyd refuses it unless its
    /// `opencommands` (4.7+) allow it.
    pub fn ntp_data_all(&mut self) -> Result<Vec<NtpData>> {
        self.query()
    }

    /// Queries the ntpdata report of the NTP source at `address` (`chronyc
    /// ntpdata ADDRESS`): `None` when chronyd has no NTP source there.
    pub fn ntp_data(&mut self, address: IpAddr) -> Result<Option<NtpData>> {
        self.ntp_data_interruptible(address, &mut || false)
    }

    /// Like [`Connection::ntp_data`], calling `interrupted` as
    /// [`Connection::query_interruptible`] does.
    pub fn ntp_data_interruptible(
        &mut self,
        address: IpAddr,
        interrupted: &mut dyn FnMut() -> bool,
    ) -> Result<Option<NtpData>> {
        block_on(reading::keyed_record_of(
            &mut self.link(interrupted),
            address,
        ))
    }

    /// Queries the authdata report of every NTP source (`chronyc
    /// authdata`), within one [`Connection::timeout`]. Over UDP chronyd
    /// refuses it unless its `opencommands` (4.7+) allow it.
    pub fn auth_data(&mut self) -> Result<Vec<AuthData>> {
        self.query()
    }

    /// Queries the name each NTP source was configured with (`chronyc -N
    /// sources -a`; reference clocks have none), as [`Connection::sources`]
    /// reads its list. Served over UDP too. With a system libchrony 0.2,
    /// which lacks the report, [`Error::UnsupportedByLibrary`] before
    /// anything is sent.
    pub fn source_names(&mut self) -> Result<Vec<SourceName>> {
        self.query()
    }

    /// The name the source at `address` (an IP address, or a
    /// [`SourceAddress`]) was configured with: `None` when chronyd has no
    /// NTP source there. The C library asks by index only, so this reads
    /// the list as [`Connection::source_names`] does.
    pub fn source_name(&mut self, address: impl Into<SourceAddress>) -> Result<Option<String>> {
        self.source_name_interruptible(address, &mut || false)
    }

    /// Like [`Connection::source_name`], calling `interrupted` as
    /// [`Connection::query_interruptible`] does.
    pub fn source_name_interruptible(
        &mut self,
        address: impl Into<SourceAddress>,
        interrupted: &mut dyn FnMut() -> bool,
    ) -> Result<Option<String>> {
        let address = address.into();
        Ok(self
            .query_interruptible::<Vec<SourceName>>(interrupted)?
            .into_iter()
            .find(|s| s.address == address)
            .map(|s| s.name))
    }

    /// Queries chronyd's client access log (`chronyc clients`): every
    /// client address that sent it NTP, NTS-KE or command packets, in the
    /// order of chronyd's table. `None` when chronyd runs with
    /// `noclientlog` (it keeps no log), as rtcdata and smoothing are `None`
    /// when off. chronyd serves it over its unix socket only: over UDP,
    /// [`Error::NotAuthorised`]. With a system libchrony 0.2, which lacks
    /// the report, [`Error::UnsupportedByLibrary`] before anything is sent.
    /// chronyd's counters are never reset.
    pub fn clients(&mut self) -> Result<Option<Vec<Client>>> {
        self.query()
    }

    /// Queries `Q` (any report: `conn.query::<Vec<Source>>()`), within
    /// [`Connection::timeout`].
    pub fn query<Q: Query>(&mut self) -> Result<Q> {
        Q::query(self, &mut || false)
    }

    /// Like [`Connection::query`], calling `interrupted` at least every
    /// 100 ms while waiting for chronyd; when it returns true the query
    /// stops with [`Error::Interrupted`].
    pub fn query_interruptible<Q: Query>(
        &mut self,
        interrupted: &mut dyn FnMut() -> bool,
    ) -> Result<Q> {
        Q::query(self, interrupted)
    }

    /// Every request of `requests` pipelined on this connection's socket
    /// (see `pipeline`), within `deadline`, waiting with `waiter`.
    #[cfg(libchrony_shared_fd)]
    pub(crate) async fn pipelined_once<W: Wait>(
        &mut self,
        requests: &[Request],
        deadline: Instant,
        waiter: &mut W,
        decode: &mut reading::Decode<'_>,
    ) -> Result<()> {
        let (session, peer) = self.ready_session()?;
        let results = crate::pipeline::run(session, requests, &peer, deadline, waiter).await?;
        reading::decode_each(results, decode);
        Ok(())
    }

    /// One exchange on this connection's session, opened first when there
    /// is none (or only the parent's, after `fork()`), waiting with `waiter`.
    pub(crate) async fn exchange<W: Wait>(
        &mut self,
        request: Request,
        deadline: Instant,
        waiter: &mut W,
    ) -> Result<()> {
        let (session, peer) = self.ready_session()?;
        exchange::run(session, request, &peer, deadline, waiter).await
    }

    /// Makes sure this connection has a session of its own process, with no
    /// request outstanding; that session, and whom it talks to for errors.
    fn ready_session(&mut self) -> Result<(&mut Session, Peer<'_>)> {
        let transport = transport_of(&self.target);
        if self.generation != crate::fork::generation() {
            // A forked child must not share the parent's socket. Dropping our
            // copy closes it in this process only; its files stay (they are
            // the parent's, see `client_socket`).
            self.session = None;
            self.generation = crate::fork::generation();
        }
        if self.session.is_none() {
            self.session = Some(open_session(&self.target, &self.address)?);
        }
        let session = self.session.as_mut().expect("opened above");
        // A request left unanswered by an earlier call (timeout, interruption)
        // is forgotten: its late reply must not answer this one.
        session
            .abandon_request()
            .map_err(|e| Error::from_chrony(e.code, e.errno, &self.address, transport))?;
        let peer = Peer {
            address: &self.address,
            transport,
            timeout: self.timeout,
        };
        Ok((session, peer))
    }

    /// Drops the client socket: the next exchange opens a new one.
    pub(crate) fn forget_socket(&mut self) {
        self.session = None;
    }

    /// The session holding the record of the last successful exchange.
    pub(crate) fn last_session(&self) -> &CSession {
        self.session
            .as_deref()
            .expect("a successful exchange has a session")
    }

    /// This connection as the report logic's [`Link`], waiting with `poll()`
    /// and calling `interrupted` between waits.
    pub(crate) fn link<'a>(&'a mut self, interrupted: &'a mut dyn FnMut() -> bool) -> Blocking<'a> {
        Blocking {
            connection: self,
            interrupted,
        }
    }

    /// What this connection talks to: the socket path (made absolute), or
    /// `ip:port` such as `127.0.0.1:323` or `[::1]:323`.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// The transport of this connection.
    pub fn transport(&self) -> Transport {
        transport_of(&self.target)
    }

    /// The total timeout of each query.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Sets the total timeout of each query.
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    /// The unix socket path, for the pool.
    pub(crate) fn unix_path(&self) -> Option<&Path> {
        match &self.target {
            Target::Unix(path) => Some(path),
            Target::Udp(_) => None,
        }
    }

    /// The process that opened the socket ([`crate::fork::generation`]), for the pool.
    pub(crate) fn generation(&self) -> u64 {
        self.generation
    }
}

/// A [`Connection`] for the report logic (`reading.rs`): every wait happens
/// inside `poll()`, so its futures are ready when first polled.
pub(crate) struct Blocking<'a> {
    connection: &'a mut Connection,
    interrupted: &'a mut dyn FnMut() -> bool,
}

impl Link for Blocking<'_> {
    fn address(&self) -> &str {
        &self.connection.address
    }

    fn timeout(&self) -> Duration {
        self.connection.timeout
    }

    fn transport(&self) -> Transport {
        self.connection.transport()
    }

    fn forget_socket(&mut self) {
        self.connection.forget_socket();
    }

    async fn exchange_once(&mut self, request: Request, deadline: Instant) -> Result<()> {
        let mut waiter = PollWait::new(&mut *self.interrupted);
        self.connection
            .exchange(request, deadline, &mut waiter)
            .await
    }

    fn session(&self) -> &CSession {
        self.connection.last_session()
    }

    #[cfg(libchrony_shared_fd)]
    async fn pipelined_once(
        &mut self,
        requests: &[Request],
        deadline: Instant,
        decode: &mut reading::Decode<'_>,
    ) -> Result<()> {
        let mut waiter = PollWait::new(&mut *self.interrupted);
        self.connection
            .pipelined_once(requests, deadline, &mut waiter, decode)
            .await
    }
}

/// How many times a per-source report's whole list is read while it keeps
/// changing.
pub(crate) const LIST_ATTEMPTS: u32 = 3;

/// chronyd has no source at the index asked for: the list has changed.
/// A system libchrony without [`ffi::Guarantee::NoSuchSource`] reports it
/// as a generic "unexpected status", which is then taken the same way.
pub(crate) fn is_no_such_source(e: &Error) -> bool {
    match e.chrony_err() {
        Some(ffi::CHRONY_NO_SUCH_SOURCE) => true,
        Some(ffi::CHRONY_UNEXPECTED_STATUS) => !ffi::Guarantee::NoSuchSource.is_given(),
        _ => false,
    }
}

/// A client socket connected to `target` and a protocol session on it.
pub(crate) fn open_session(target: &Target, address: &str) -> Result<Session> {
    let socket = ClientSocket::open(target, address)?;
    Session::new(socket)
        .map_err(|e| Error::from_chrony(e.code, e.errno, address, transport_of(target)))
}

fn transport_of(target: &Target) -> Transport {
    match target {
        Target::Unix(_) => Transport::Unix,
        Target::Udp(_) => Transport::Udp,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_is_send_not_sync() {
        fn send<T: Send>() {}
        send::<Connection>();
        // Not Sync: checked by the compile-fail doc test on `Connection` in lib.rs.
    }
}
