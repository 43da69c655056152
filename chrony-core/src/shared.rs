//! [`SharedConnection`]: one connection that threads, signal handlers and
//! forked children share safely.
//!
//! The connection itself is moved out of the shared state for the length of
//! a call, so no lock is held while waiting for chronyd: a thread that comes
//! while another one's call is in flight waits for its turn (without
//! blocking `fork()`), a call made by the same thread from inside its own
//! call (a signal handler run by the `interrupted` callback) uses a
//! temporary connection of its own, and a forked child, whose copy of the
//! state may say "busy" for a thread it does not have, simply opens anew.
//!
//! Every state change takes the process-wide [`TURNS`] lock first and holds
//! it for a few instructions only; `fork.rs` holds it across `fork()`, so a
//! child never inherits it (nor any connection's state lock) locked.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::ThreadId;
use std::time::Duration;

use crate::reports::Query;
use crate::{Connection, Error, Options, Result, Source, TrackingStatus, Transport};

/// Taken around every state change of every shared connection.
static TURNS: Mutex<()> = Mutex::new(());
/// Notified whenever a call ends (any connection's) while someone waits.
static TURN_ENDED: Condvar = Condvar::new();
/// Threads waiting on [`TURN_ENDED`]; changed and read with [`TURNS`] held,
/// so a call that ends with nobody waiting skips the wake-up system call.
static WAITERS: AtomicUsize = AtomicUsize::new(0);

/// Waits (with `TURNS` held, released meanwhile) until a call ends or a slice passes.
fn wait_for_a_turn(turns: MutexGuard<'static, ()>) -> MutexGuard<'static, ()> {
    WAITERS.fetch_add(1, Ordering::SeqCst);
    let turns = TURN_ENDED
        .wait_timeout(turns, WAIT_SLICE)
        .unwrap_or_else(PoisonError::into_inner)
        .0;
    WAITERS.fetch_sub(1, Ordering::SeqCst);
    turns
}
/// How often a waiting thread calls its `interrupted` callback.
const WAIT_SLICE: Duration = Duration::from_millis(100);

fn turns() -> MutexGuard<'static, ()> {
    TURNS.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The turn lock, held across `fork()` (see `fork.rs`).
pub(crate) fn lock_for_fork() -> Box<dyn std::any::Any> {
    Box::new(turns())
}

#[derive(Debug)]
enum State {
    /// No socket: the next call opens one.
    Closed,
    /// Open and not in use.
    Idle(Box<Connection>),
    /// A call is in flight; its thread holds the connection.
    Busy {
        /// The process of the call ([`crate::fork::generation`]).
        generation: u64,
        thread: ThreadId,
        /// Counts calls, so that `close` waits for the one it interrupted only.
        call: u64,
    },
}

/// A connection to chronyd that many threads may use at once: calls take
/// turns, each with its own deadline.
///
/// It opens its socket on first use (or [`SharedConnection::open`]) and
/// keeps it until [`SharedConnection::close`] or drop; a call after `close`
/// opens a new one. Safe in every situation a long-lived monitoring agent
/// meets:
///
/// - **threads**: a call waits while another thread's call is in flight (its
///   `interrupted` callback still runs every 100 ms), then takes its turn;
/// - **re-entrant calls**: a call made by the thread whose call is in flight
///   (a signal handler run from the `interrupted` callback) does not wait
///   for itself: it uses a temporary connection to the same address;
/// - **close from anywhere**: `close` interrupts a call in flight (which
///   fails with [`Error::Closed`]) and, from another thread, returns once
///   that call has let go of the socket and its files are removed;
/// - **fork**: a child never inherits a lock held by a thread it does not
///   have, and opens its own socket instead of its parent's.
#[derive(Debug)]
pub struct SharedConnection {
    /// As given: `None` for the default socket paths.
    requested: Option<String>,
    options: Options,
    state: Mutex<State>,
    /// The address and transport once opened (kept across calls, for the
    /// accessors and for re-entrant calls).
    opened: Mutex<Option<(String, Transport)>>,
    /// Set by `close` while a call is in flight; that call then stops.
    closing: AtomicBool,
    /// The number of the last call started, and of the last one that has
    /// let go of the connection (its socket closed, if it was to be closed).
    started: AtomicU64,
    finished: AtomicU64,
}

impl SharedConnection {
    /// A connection to `address` (the grammar of [`Connection::open`]; `None`:
    /// the default socket paths, see [`crate::discover_socket`]). Nothing is
    /// opened or checked yet: the first call does that.
    pub fn new(address: Option<&str>, options: &Options) -> SharedConnection {
        // Early, for `close` and the accessors; a failure is reported by the first call.
        let _ = crate::fork::install_handlers();
        SharedConnection {
            requested: address.map(str::to_owned),
            options: options.clone(),
            state: Mutex::new(State::Closed),
            opened: Mutex::new(None),
            closing: AtomicBool::new(false),
            started: AtomicU64::new(0),
            finished: AtomicU64::new(0),
        }
    }

    /// Opens the socket now, if it is not open (a call does it when needed).
    pub fn open(&self) -> Result<()> {
        self.with_turn(&mut || false, |_, _| Ok(()))
    }

    /// Reads every report at once (see [`Connection::snapshot`]).
    pub fn snapshot(&self) -> Result<crate::Snapshot> {
        self.query()
    }

    /// Reads the `parts` of the snapshot (see [`Connection::snapshot_of`]),
    /// calling `interrupted` as [`SharedConnection::query_interruptible`] does.
    pub fn snapshot_of_interruptible(
        &self,
        parts: &crate::Parts,
        interrupted: &mut dyn FnMut() -> bool,
    ) -> Result<crate::Snapshot> {
        self.with_turn(interrupted, |conn, interrupted| {
            conn.snapshot_of_interruptible(parts, interrupted)
        })
    }

    /// Queries the tracking report (see [`Connection::tracking`]).
    pub fn tracking(&self) -> Result<TrackingStatus> {
        self.tracking_interruptible(&mut || false)
    }

    /// Queries the tracking report, calling `interrupted` at least every
    /// 100 ms while waiting for chronyd or for this connection's turn.
    pub fn tracking_interruptible(
        &self,
        interrupted: &mut dyn FnMut() -> bool,
    ) -> Result<TrackingStatus> {
        self.query_interruptible(interrupted)
    }

    /// Queries the sources report (see [`Connection::sources`]).
    pub fn sources(&self) -> Result<Vec<Source>> {
        self.query()
    }

    /// Queries chronyd's client access log (see [`Connection::clients`]).
    pub fn clients(&self) -> Result<Option<Vec<crate::Client>>> {
        self.query()
    }

    /// Queries every NTP source's configured name (see
    /// [`Connection::source_names`]).
    pub fn source_names(&self) -> Result<Vec<crate::SourceName>> {
        self.query()
    }

    /// The name the source at `address` was configured with (see
    /// [`Connection::source_name`]), calling `interrupted` as
    /// [`SharedConnection::query_interruptible`] does.
    pub fn source_name_interruptible(
        &self,
        address: impl Into<crate::SourceAddress>,
        interrupted: &mut dyn FnMut() -> bool,
    ) -> Result<Option<String>> {
        let address = address.into();
        self.with_turn(interrupted, |conn, interrupted| {
            conn.source_name_interruptible(address, interrupted)
        })
    }

    /// Queries the ntpdata report of the NTP source at `address` (see
    /// [`Connection::ntp_data`]), calling `interrupted` as
    /// [`SharedConnection::query_interruptible`] does.
    pub fn ntp_data_interruptible(
        &self,
        address: std::net::IpAddr,
        interrupted: &mut dyn FnMut() -> bool,
    ) -> Result<Option<crate::NtpData>> {
        self.with_turn(interrupted, |conn, interrupted| {
            conn.ntp_data_interruptible(address, interrupted)
        })
    }

    /// Queries `Q` (any report, see [`Connection::query`]) during this
    /// thread's turn.
    pub fn query<Q: Query>(&self) -> Result<Q> {
        self.query_interruptible(&mut || false)
    }

    /// Like [`SharedConnection::query`], calling `interrupted` at least
    /// every 100 ms while waiting for chronyd or for this connection's turn.
    pub fn query_interruptible<Q: Query>(
        &self,
        interrupted: &mut dyn FnMut() -> bool,
    ) -> Result<Q> {
        self.with_turn(interrupted, |conn, interrupted| {
            conn.query_interruptible(interrupted)
        })
    }

    /// Closes the socket and removes its files. A call in flight stops with
    /// [`Error::Closed`]; from another thread, `close` returns after that call
    /// has ended. Does nothing when nothing is open.
    pub fn close(&self) {
        let me = std::thread::current().id();
        let generation = crate::fork::generation();
        let mut turns = turns();
        let mut state = self.lock_state();
        let interrupted_call = match &*state {
            State::Closed => return,
            State::Idle(_) => None,
            State::Busy { generation: g, .. } if *g != generation => None, // the parent's call
            State::Busy { thread, .. } if *thread == me => {
                // Inside that very call (a signal handler): it ends when we
                // return to it.
                self.closing.store(true, Ordering::SeqCst);
                return;
            }
            State::Busy { call, .. } => Some(*call),
        };
        let Some(call) = interrupted_call else {
            let old = std::mem::replace(&mut *state, State::Closed);
            drop(state);
            drop(turns);
            drop(old); // closes the socket and removes its files, unlocked
            return;
        };
        self.closing.store(true, Ordering::SeqCst);
        drop(state);
        while self.finished.load(Ordering::SeqCst) < call {
            turns = wait_for_a_turn(turns);
        }
    }

    /// Whether a socket is open (or a call holds one).
    pub fn is_open(&self) -> bool {
        let _turns = turns();
        !matches!(&*self.lock_state(), State::Closed)
    }

    /// The address in use once opened: the socket path (made absolute), or
    /// `ip:port`. `None` before the first successful open.
    pub fn address(&self) -> Option<String> {
        let _turns = turns();
        self.lock_opened().as_ref().map(|(a, _)| a.clone())
    }

    /// The transport once opened; `None` before.
    pub fn transport(&self) -> Option<Transport> {
        let _turns = turns();
        self.lock_opened().as_ref().map(|(_, t)| *t)
    }

    /// The total timeout of each call.
    pub fn timeout(&self) -> std::time::Duration {
        self.options.timeout
    }

    fn lock_state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Only with [`TURNS`] held (like the state).
    fn lock_opened(&self) -> MutexGuard<'_, Option<(String, Transport)>> {
        self.opened.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` on the connection during this thread's turn.
    fn with_turn<R>(
        &self,
        interrupted: &mut dyn FnMut() -> bool,
        f: impl FnOnce(&mut Connection, &mut dyn FnMut() -> bool) -> Result<R>,
    ) -> Result<R> {
        crate::fork::install_handlers()?;
        let me = std::thread::current().id();
        let generation = crate::fork::generation();
        let (taken, call) = loop {
            let turns = turns();
            let mut state = self.lock_state();
            match &*state {
                State::Busy { generation: g, .. } if *g != generation => {
                    // Inherited across fork() from a thread this process
                    // does not have: that call and its socket are the parent's.
                    *state = State::Closed;
                    continue;
                }
                State::Busy { thread, .. } if *thread == me => {
                    drop(state);
                    drop(turns);
                    return self.reentrant(interrupted, f);
                }
                State::Busy { .. } => {
                    drop(state);
                    drop(wait_for_a_turn(turns));
                    if interrupted() {
                        return Err(Error::Interrupted);
                    }
                    continue;
                }
                State::Closed | State::Idle(_) => {}
            }
            let call = self.started.fetch_add(1, Ordering::SeqCst) + 1;
            let previous = std::mem::replace(
                &mut *state,
                State::Busy {
                    generation,
                    thread: me,
                    call,
                },
            );
            self.closing.store(false, Ordering::SeqCst);
            let taken = match previous {
                State::Idle(conn) => Some(conn),
                _ => None,
            };
            break (taken, call);
        };
        let mut turn = Turn {
            shared: self,
            connection: taken,
            call,
        };
        if turn.connection.is_none() {
            let conn = Connection::open_with(self.requested.as_deref(), &self.options)?;
            let _turns = turns();
            *self.lock_opened() = Some((conn.address().to_owned(), conn.transport()));
            turn.connection = Some(Box::new(conn));
        }
        let conn = turn.connection.as_mut().expect("opened above");
        let closing = &self.closing;
        let mut stop = || closing.load(Ordering::SeqCst) || interrupted();
        let result = f(conn, &mut stop);
        if self.closing.load(Ordering::SeqCst) && matches!(result, Err(Error::Interrupted)) {
            return Err(Error::Closed {
                address: conn.address().to_owned(),
            });
        }
        result
    }

    /// A call from inside this thread's own call in flight: a temporary
    /// connection to the same address, closed afterwards.
    fn reentrant<R>(
        &self,
        interrupted: &mut dyn FnMut() -> bool,
        f: impl FnOnce(&mut Connection, &mut dyn FnMut() -> bool) -> Result<R>,
    ) -> Result<R> {
        let address = self.address().or_else(|| self.requested.clone());
        let mut conn = Connection::open_with(address.as_deref(), &self.options)?;
        f(&mut conn, interrupted)
    }
}

/// A call's hold on the connection; dropping it (also on error or panic)
/// gives the connection back, or closes it when `close` was called meanwhile.
struct Turn<'a> {
    shared: &'a SharedConnection,
    connection: Option<Box<Connection>>,
    call: u64,
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        let connection = self.connection.take();
        let leftover = {
            let _turns = turns();
            let mut state = self.shared.lock_state();
            // Read under the lock: `close` sets it under the lock too, so
            // either it sees this call busy and waits for `finished`, or it
            // finds the connection idle and closes it itself.
            let closing = self.shared.closing.swap(false, Ordering::SeqCst);
            match (closing, connection) {
                (false, Some(conn)) => {
                    *state = State::Idle(conn);
                    self.ended();
                    return;
                }
                (_, conn) => {
                    *state = State::Closed;
                    conn
                }
            }
        };
        // The socket is closed and its files removed unlocked, before a
        // waiting `close` hears that this call is over.
        drop(leftover);
        let _turns = turns();
        self.ended();
    }
}

impl Turn<'_> {
    /// Marks this call as over and wakes whoever waits. With `TURNS` held.
    fn ended(&self) {
        self.shared.finished.fetch_max(self.call, Ordering::SeqCst);
        if WAITERS.load(Ordering::SeqCst) > 0 {
            TURN_ENDED.notify_all();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_connection_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<SharedConnection>();
    }

    #[test]
    fn nothing_is_opened_before_the_first_call() {
        let c = SharedConnection::new(Some("/nonexistent/chronyd.sock"), &Options::new());
        assert!(!c.is_open());
        assert_eq!(c.address(), None);
        assert_eq!(c.open().unwrap_err().code(), -2);
        assert!(!c.is_open());
        c.close();
    }
}
