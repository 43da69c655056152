//! [`LoopConnection`]: the reports for an event loop of another language
//! (Python's asyncio). Each call is a [`LoopCall`], the report's future from
//! `reading.rs` over a [`Connection`] lent to it, that the loop polls
//! ([`LoopCall::step`]) whenever the socket is readable or the wake-up it
//! asked for has come. Its [`Wait`] waits for nothing: it records what it
//! waits for and returns `Pending` once. So the rules stay those of
//! `batch.rs` and `reading.rs`, and nothing waits in a thread.

use std::future::Future;
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use crate::drive::{Stop, Wait};
use crate::exchange::Request;
use crate::reading::{self, BoxFuture, Link};
use crate::session::CSession;
use crate::{Connection, NtpData, Options, Parts, Query, Result, Snapshot, Transport};

/// A connection to chronyd for event loops that are not Rust's: every
/// report of [`Connection`], with its deadlines, resends and [`Error`](crate::Error)s,
/// as a [`LoopCall`] the loop drives. It opens its socket on its first call
/// (or [`LoopConnection::open`]) and keeps it between calls.
///
/// A call takes the connection's socket for its length and gives it back
/// when it ends or is dropped. A call dropped before it ends (a cancelled
/// task) sends nothing more; the next call starts a fresh C session, so the
/// late reply to the abandoned request is never taken as its answer (as
/// with `AsyncConnection`, feature `tokio`, after cancellation). Calls that
/// overlap each get a socket (the second one opens its own, closed when it
/// ends); a caller that wants one socket makes its calls take turns.
#[derive(Debug)]
pub struct LoopConnection {
    home: Arc<Home>,
}

#[derive(Debug)]
struct Home {
    /// As given: `None` for the default socket paths.
    requested: Option<String>,
    options: Options,
    slot: Mutex<Slot>,
}

#[derive(Debug, Default)]
struct Slot {
    /// The open connection while no call holds it.
    idle: Option<Connection>,
    /// The address and transport while open (idle or lent).
    opened: Option<(String, Transport)>,
    /// Counts `close`s: a call lent a connection before the last one
    /// closes it at its end instead of giving it back.
    closes: u64,
}

impl LoopConnection {
    /// A connection to `address` (the grammar of [`Connection::open`];
    /// `None`: the default socket paths). Nothing is opened yet.
    pub fn new(address: Option<&str>, options: &Options) -> LoopConnection {
        LoopConnection {
            home: Arc::new(Home {
                requested: address.map(str::to_owned),
                options: options.clone(),
                slot: Mutex::new(Slot::default()),
            }),
        }
    }

    /// Opens the socket now, if it is not open (a call does it when needed).
    /// Opening does not wait for chronyd.
    pub fn open(&self) -> Result<()> {
        let mut lent = self.lend();
        lent.connected()?;
        Ok(())
    }

    /// A call of the report `Q` (any report, as [`Connection::query`]).
    /// Nothing is sent before its first step.
    pub fn query<Q: Query + 'static>(&self) -> LoopCall<Q> {
        self.call(|mut lent| async move {
            lent.connected()?;
            Q::query_loop(&mut lent).await
        })
    }

    /// A call of the ntpdata report of the NTP source at `address`, as
    /// [`Connection::ntp_data`].
    pub fn ntp_data(&self, address: std::net::IpAddr) -> LoopCall<Option<NtpData>> {
        self.call(move |mut lent| async move {
            lent.connected()?;
            reading::keyed_record_of(&mut lent, address).await
        })
    }

    /// A call reading the `parts` of the snapshot, as [`Connection::snapshot_of`].
    pub fn snapshot_of(&self, parts: &Parts) -> LoopCall<Snapshot> {
        let parts = *parts;
        self.call(move |mut lent| async move {
            lent.connected()?;
            crate::snapshot::read_parts(&mut lent, &parts).await
        })
    }

    /// Closes the socket and removes its files. A call in flight goes on
    /// with the socket it holds and closes it when it ends.
    pub fn close(&self) {
        let mut slot = self.home.lock();
        slot.closes += 1;
        slot.opened = None;
        let idle = slot.idle.take();
        drop(slot);
        drop(idle); // closes the socket and removes its files, unlocked
    }

    /// Whether a socket is open (or a call holds one).
    pub fn is_open(&self) -> bool {
        self.home.lock().opened.is_some()
    }

    /// The address in use once opened: the socket path (made absolute), or
    /// `ip:port`. `None` while closed.
    pub fn address(&self) -> Option<String> {
        self.home.lock().opened.as_ref().map(|(a, _)| a.clone())
    }

    /// The transport while open.
    pub fn transport(&self) -> Option<Transport> {
        self.home.lock().opened.as_ref().map(|(_, t)| *t)
    }

    /// The total timeout of each call.
    pub fn timeout(&self) -> Duration {
        self.home.options.timeout
    }

    /// The idle connection (or none: the call opens one), lent to a call.
    fn lend(&self) -> Lent {
        let mut slot = self.home.lock();
        Lent {
            connection: slot.idle.take(),
            home: Arc::clone(&self.home),
            closes: slot.closes,
            waiting: Arc::default(),
        }
    }

    fn call<T, F, Fut>(&self, read: F) -> LoopCall<T>
    where
        F: FnOnce(Lent) -> Fut,
        Fut: Future<Output = Result<T>> + Send + 'static,
    {
        let lent = self.lend();
        let waiting = Arc::clone(&lent.waiting);
        LoopCall {
            future: Some(Box::pin(read(lent))),
            waiting,
        }
    }
}

impl Home {
    fn lock(&self) -> MutexGuard<'_, Slot> {
        self.slot.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// What a call waits for between two steps.
#[derive(Clone, Copy, Debug, Default)]
struct Waiting {
    /// The socket to watch for readability, and the wake-up.
    wait: Option<(RawFd, Instant)>,
    /// Counts the sockets the call has dropped (chronyd went away): a new
    /// socket may have the old one's number, and must be watched anew.
    replaced: u64,
}

/// One report's read on a [`LoopConnection`], driven by the caller's event
/// loop: call [`LoopCall::step`] once, then again whenever
/// [`LoopCall::fd`] is readable or [`LoopCall::wakeup`] has come (a step
/// too early, or for nothing, is harmless), until it gives the outcome.
/// Every step returns at once. Dropping the call before it ends cancels it:
/// nothing more is sent and the connection gets its socket back.
pub struct LoopCall<T> {
    future: Option<BoxFuture<'static, T>>,
    waiting: Arc<Mutex<Waiting>>,
}

impl<T> std::fmt::Debug for LoopCall<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoopCall")
            .field("done", &self.future.is_none())
            .field("waiting", &*lock(&self.waiting))
            .finish()
    }
}

fn lock(waiting: &Mutex<Waiting>) -> MutexGuard<'_, Waiting> {
    waiting.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<T> LoopCall<T> {
    /// Does what can be done now (sends, receives, resends, at the first
    /// step opening the socket if needed) without waiting: `Some` with the
    /// outcome when the call is over (once; `None` ever after), else `None`
    /// and the call waits for [`LoopCall::fd`] or [`LoopCall::wakeup`].
    pub fn step(&mut self) -> Option<Result<T>> {
        let future = self.future.as_mut()?;
        match future
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()))
        {
            Poll::Ready(outcome) => {
                self.future = None;
                lock(&self.waiting).wait = None;
                Some(outcome)
            }
            Poll::Pending => None,
        }
    }

    /// Whether the call is over (its outcome given by [`LoopCall::step`]).
    pub fn is_done(&self) -> bool {
        self.future.is_none()
    }

    /// The socket to watch for readability until the next step; `None`
    /// before the first step and once done.
    pub fn fd(&self) -> Option<RawFd> {
        lock(&self.waiting).wait.map(|(fd, _)| fd)
    }

    /// When to step at the latest if the socket stays silent (the end of
    /// the current attempt, never after the deadline); `None` before the
    /// first step and once done.
    pub fn wakeup(&self) -> Option<Instant> {
        lock(&self.waiting).wait.map(|(_, until)| until)
    }

    /// How many sockets the call has replaced so far (a restarted chronyd):
    /// when this changes, [`LoopCall::fd`] is a new socket even if its
    /// number is the old one's, and must be watched anew.
    pub fn replaced_sockets(&self) -> u64 {
        lock(&self.waiting).replaced
    }
}

/// A [`Connection`] lent to one call: the report logic's [`Link`], waiting
/// by returning to the event loop. Dropped with the call's future (at its
/// end, or when the call is dropped), it gives the connection back.
#[doc(hidden)]
#[derive(Debug)]
pub struct Lent {
    connection: Option<Connection>,
    home: Arc<Home>,
    /// [`Slot::closes`] when lent.
    closes: u64,
    waiting: Arc<Mutex<Waiting>>,
}

impl Lent {
    /// The lent connection, opened first when there was none idle.
    fn connected(&mut self) -> Result<&mut Connection> {
        if self.connection.is_none() {
            let c = Connection::open_with(self.home.requested.as_deref(), &self.home.options)?;
            let mut slot = self.home.lock();
            if slot.closes == self.closes {
                slot.opened = Some((c.address().to_owned(), c.transport()));
            }
            drop(slot);
            self.connection = Some(c);
        }
        Ok(self.connection.as_mut().expect("opened above"))
    }

    fn connection(&self) -> &Connection {
        self.connection
            .as_ref()
            .expect("a call opens its connection before it reads")
    }
}

impl Drop for Lent {
    fn drop(&mut self) {
        let Some(connection) = self.connection.take() else {
            return;
        };
        let mut slot = self.home.lock();
        if slot.closes == self.closes && slot.idle.is_none() {
            slot.idle = Some(connection);
            return;
        }
        // Closed meanwhile, or another call's socket is back first.
        drop(slot);
        drop(connection);
    }
}

impl Link for Lent {
    fn address(&self) -> &str {
        self.connection().address()
    }

    fn timeout(&self) -> Duration {
        self.connection().timeout()
    }

    fn transport(&self) -> Transport {
        self.connection().transport()
    }

    fn forget_socket(&mut self) {
        if let Some(c) = self.connection.as_mut() {
            c.forget_socket();
        }
        lock(&self.waiting).replaced += 1;
    }

    async fn exchange_once(&mut self, request: Request, deadline: Instant) -> Result<()> {
        let mut waiter = Yield::new(&self.waiting);
        let connection = self.connection.as_mut().expect("opened by `connected`");
        connection.exchange(request, deadline, &mut waiter).await
    }

    fn session(&self) -> &CSession {
        self.connection().last_session()
    }

    #[cfg(libchrony_shared_fd)]
    async fn pipelined_once(
        &mut self,
        requests: &[Request],
        deadline: Instant,
        decode: &mut reading::Decode<'_>,
    ) -> Result<()> {
        let mut waiter = Yield::new(&self.waiting);
        let connection = self.connection.as_mut().expect("opened by `connected`");
        connection
            .pipelined_once(requests, deadline, &mut waiter, decode)
            .await
    }
}

/// Waits by returning to the event loop: records the socket and the
/// wake-up, returns `Pending` once, and on the next step says whether the
/// socket is readable (a zero-timeout `poll()`, which receives nothing).
///
/// An answer that is in already is taken without the trip through the loop
/// (as asyncio's `sock_recv` does): chronyd on the caller's core often
/// answers before the request's send returns, and the trip costs more than
/// the round trip. At most [`AT_ONCE`] waits in a row return so, so a
/// socket that never stops being readable (a flood of stray datagrams)
/// still hands the loop back between its steps.
struct Yield<'a> {
    waiting: &'a Mutex<Waiting>,
    /// Waits in a row that returned without yielding.
    at_once: u32,
}

/// See [`Yield`]: enough for every reply of one exchange's pipeline.
const AT_ONCE: u32 = 64;

impl<'a> Yield<'a> {
    fn new(waiting: &'a Mutex<Waiting>) -> Self {
        Yield {
            waiting,
            at_once: 0,
        }
    }
}

impl Wait for Yield<'_> {
    async fn wait(&mut self, fd: BorrowedFd<'_>, until: Instant) -> Result<bool, Stop> {
        if self.at_once < AT_ONCE && crate::os::poll_readable(fd, 0).map_err(Stop::Io)? {
            self.at_once += 1;
            return Ok(true);
        }
        self.at_once = 0;
        lock(self.waiting).wait = Some((fd.as_raw_fd(), until));
        PendingOnce(false).await;
        crate::os::poll_readable(fd, 0).map_err(Stop::Io)
    }
}

/// `Pending` when first polled, ready when polled again.
struct PendingOnce(bool);

impl Future for PendingOnce {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            return Poll::Ready(());
        }
        self.0 = true;
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_are_send() {
        fn send<T: Send>() {}
        send::<LoopCall<crate::TrackingStatus>>();
        send::<LoopConnection>();
    }

    #[test]
    fn a_missing_socket_fails_at_the_first_step() {
        let c = LoopConnection::new(Some("/nonexistent/chronyd.sock"), &Options::new());
        let mut call = c.query::<crate::TrackingStatus>();
        assert!(call.fd().is_none());
        assert_eq!(call.step().map(|r| r.unwrap_err().code()), Some(-2));
        assert!(call.is_done() && call.step().is_none());
        assert!(!c.is_open());
    }
}
