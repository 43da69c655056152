//! The exchange rules as a state machine that never waits: requests in
//! flight on one socket, resent on chronyc's schedule until a deadline, each
//! reply taken only by the request it answers. `drive.rs` runs it, waiting
//! with `poll()` for the blocking API (`exchange::run`, `pipeline::run`) or
//! on tokio's reactor and timer (`async_connection.rs`); the rules are here
//! only, so every driver resends, times out and drops stale replies alike.
//!
//! A driver calls [`Batch::start`] once, then, until [`Batch::is_done`],
//! waits until the socket is readable (then [`Batch::on_readable`]) or
//! [`Batch::next_wakeup`] passes, and after either [`Batch::on_timer`].
//! Sends and receives are non-blocking calls on the socket; one that would
//! block is never an error here (see `CallError::would_block`).

use std::os::fd::BorrowedFd;
use std::time::{Duration, Instant};

#[cfg(libchrony_shared_fd)]
use crate::client_socket::ClientSocket;
use crate::error::op;
use crate::exchange::{FIRST_ATTEMPT, Peer, Request, failure};
use crate::session::Session;
#[cfg(libchrony_shared_fd)]
use crate::session::{CSession, Pipelined};
use crate::{Error, Result};

/// A datagram larger than any reply; the C library checks each reply's length.
#[cfg(libchrony_shared_fd)]
const DATAGRAM_BUF: usize = 2048;

/// A request that chronyd's full queue refused goes again this long after,
/// then after twice as long each time up to [`REFUSED_RETRY_MAX`], within
/// its attempt. A unix socket's queue holds only a few datagrams (Linux:
/// `net.unix.max_dgram_qlen`, 10 by default) and a running chronyd empties
/// it in well under a millisecond, so when many clients ask at once a send
/// can find it full; waiting for the attempt's end (1 s) instead would time
/// out calls that a healthy chronyd answers at once. A frozen one costs a
/// few dozen wake-ups per call.
const REFUSED_RETRY_FIRST: Duration = Duration::from_millis(1);
/// The longest wait before a refused request goes again.
const REFUSED_RETRY_MAX: Duration = Duration::from_millis(64);

/// Requests in flight, their attempt schedule and deadline.
pub(crate) struct Batch<'s, 'p> {
    work: Work<'s>,
    peer: Peer<'p>,
    deadline: Instant,
    /// The current attempt's budget: 1 s, then twice the one before.
    attempt_timeout: Duration,
    /// When the current attempt gives up waiting (never after `deadline`).
    attempt_end: Instant,
    /// While a request is refused by chronyd's full queue: when it goes again.
    retry: Option<Retry>,
}

/// When refused requests go again, and the wait that led there.
#[derive(Clone, Copy)]
struct Retry {
    at: Instant,
    backoff: Duration,
}

enum Work<'s> {
    /// One request on the connection's own session; the C library receives
    /// the reply itself and ignores datagrams that do not answer it.
    One {
        session: &'s mut Session,
        request: Request,
        done: bool,
        /// The last send found chronyd's queue full: nothing is outstanding.
        refused: bool,
    },
    /// Many requests, one C session each on the connection's socket; the
    /// batch receives each datagram and hands it to the session it answers.
    #[cfg(libchrony_shared_fd)]
    Many {
        /// The connection's socket (not its session, which is not `Sync`:
        /// a batch held across an `await` must be `Send`).
        socket: &'s ClientSocket,
        slots: Vec<Slot<'s>>,
        buf: Vec<u8>,
    },
}

/// One request of a pipelined batch: its session, and once answered, the outcome.
#[cfg(libchrony_shared_fd)]
struct Slot<'s> {
    request: Request,
    session: Pipelined<'s>,
    outcome: Option<Result<()>>,
}

impl<'s, 'p> Batch<'s, 'p> {
    /// One request on `session`, within `deadline`; on success the session
    /// holds the record.
    pub(crate) fn one(
        session: &'s mut Session,
        request: Request,
        peer: Peer<'p>,
        deadline: Instant,
    ) -> Batch<'s, 'p> {
        Batch::new(
            Work::One {
                session,
                request,
                done: false,
                refused: false,
            },
            peer,
            deadline,
        )
    }

    /// Every request of `requests`, one C session each on `session`'s socket,
    /// within `deadline`.
    #[cfg(libchrony_shared_fd)]
    pub(crate) fn many(
        session: &'s Session,
        requests: &[Request],
        peer: Peer<'p>,
        deadline: Instant,
    ) -> Result<Batch<'s, 'p>> {
        let mut slots = Vec::with_capacity(requests.len());
        for &request in requests {
            let pipelined = session
                .pipelined()
                .map_err(|e| failure(e, request, &peer))?;
            slots.push(Slot {
                request,
                session: pipelined,
                outcome: None,
            });
        }
        let work = Work::Many {
            socket: session.socket(),
            slots,
            buf: vec![0u8; DATAGRAM_BUF],
        };
        Ok(Batch::new(work, peer, deadline))
    }

    fn new(work: Work<'s>, peer: Peer<'p>, deadline: Instant) -> Batch<'s, 'p> {
        Batch {
            work,
            peer,
            deadline,
            attempt_timeout: FIRST_ATTEMPT,
            attempt_end: deadline,
            retry: None,
        }
    }

    /// The socket to wait on.
    pub(crate) fn fd(&self) -> BorrowedFd<'_> {
        match &self.work {
            Work::One { session, .. } => session.socket().as_fd(),
            #[cfg(libchrony_shared_fd)]
            Work::Many { socket, .. } => socket.as_fd(),
        }
    }

    /// The error for a failed wait on the socket.
    pub(crate) fn wait_failed(&self, e: std::io::Error) -> Error {
        Error::from_io(e, self.peer.address, self.peer.transport, op::WAIT)
    }

    /// Sends every request: the first attempt, ending `FIRST_ATTEMPT` after `now`.
    pub(crate) fn start(&mut self, now: Instant) -> Result<()> {
        self.attempt(now)?;
        self.schedule_retry(now);
        Ok(())
    }

    /// True once every request is answered (or failed on its own).
    pub(crate) fn is_done(&self) -> bool {
        match &self.work {
            Work::One { done, .. } => *done,
            #[cfg(libchrony_shared_fd)]
            Work::Many { slots, .. } => slots.iter().all(|s| s.outcome.is_some()),
        }
    }

    /// When [`Batch::on_timer`] next has something to do: the end of the
    /// current attempt, or sooner a retry of a refused request; never after
    /// the deadline.
    pub(crate) fn next_wakeup(&self) -> Instant {
        match self.retry {
            Some(retry) => retry.at.min(self.attempt_end),
            None => self.attempt_end,
        }
    }

    /// The socket is readable: receives and handles one datagram (or the
    /// pending socket error). A datagram that answers no outstanding request
    /// (a late reply to an earlier one, a duplicate) is dropped.
    pub(crate) fn on_readable(&mut self) -> Result<()> {
        let peer = &self.peer;
        match &mut self.work {
            Work::One {
                session,
                request,
                done,
                refused,
            } => {
                if !session.needs_response() {
                    // No request outstanding (the last send would have
                    // blocked): a late reply to an earlier one. Drop it.
                    return session
                        .socket()
                        .discard_datagram()
                        .map_err(|e| Error::from_io(e, peer.address, peer.transport, op::RECEIVE));
                }
                match session.process_response() {
                    Ok(()) => *done = !session.needs_response(), // else stale: keep waiting
                    Err(e) if e.would_block() => {
                        // Nothing to read after all. The bundled library ends
                        // the exchange on a failed receive, libchrony 0.2 keeps
                        // the request outstanding; either way, send it again,
                        // within this attempt.
                        *refused = !send_one(session, *request, peer)?;
                    }
                    Err(e) => return Err(failure(e, *request, peer)),
                }
                Ok(())
            }
            #[cfg(libchrony_shared_fd)]
            Work::Many { socket, slots, buf } => {
                let received = socket
                    .recv_datagram(buf)
                    .map_err(|e| Error::from_io(e, peer.address, peer.transport, op::RECEIVE))?;
                if let Some(n) = received {
                    dispatch(slots, &buf[..n.min(buf.len())], peer);
                }
                Ok(())
            }
        }
    }

    /// Time has passed (a wait ended, readable or not): requests that
    /// chronyd's full queue refused go again (see [`REFUSED_RETRY_FIRST`]);
    /// at the end of an attempt the unanswered ones are sent again with twice
    /// the budget, and at the deadline the batch fails with
    /// [`Error::Timeout`].
    pub(crate) fn on_timer(&mut self, now: Instant) -> Result<()> {
        if self.is_done() {
            return Ok(());
        }
        if now >= self.attempt_end {
            if now >= self.deadline {
                return Err(Error::Timeout {
                    address: self.peer.address.to_owned(),
                    timeout: self.peer.timeout,
                });
            }
            self.attempt_timeout = self.attempt_timeout.saturating_mul(2);
            self.retry = None;
            self.attempt(now)?;
        } else {
            self.send_refused(now)?;
        }
        self.schedule_retry(now);
        Ok(())
    }

    /// Sends every unanswered request (again, as attempt + 1, if it is
    /// outstanding) and starts an attempt of `attempt_timeout` from `now`.
    fn attempt(&mut self, now: Instant) -> Result<()> {
        self.attempt_end = now
            .checked_add(self.attempt_timeout)
            .map_or(self.deadline, |end| end.min(self.deadline));
        match &mut self.work {
            Work::One {
                session,
                request,
                refused,
                ..
            } => *refused = !send_one(session, *request, &self.peer)?,
            #[cfg(libchrony_shared_fd)]
            Work::Many { slots, .. } => {
                send_many(slots, &self.peer, |_| true)?;
            }
        }
        Ok(())
    }

    /// Sends again what chronyd's full queue refused, still as its current
    /// attempt: a single request once its retry is due; a batch's at every
    /// wake-up (a reply means chronyd has read some of the queue).
    fn send_refused(&mut self, now: Instant) -> Result<()> {
        let due = self.retry.is_some_and(|retry| now >= retry.at);
        match &mut self.work {
            Work::One {
                session,
                request,
                refused,
                ..
            } => {
                if *refused && due {
                    *refused = !send_one(session, *request, &self.peer)?;
                }
            }
            #[cfg(libchrony_shared_fd)]
            Work::Many { slots, .. } => {
                send_many(slots, &self.peer, |s| !s.needs_response())?;
            }
        }
        Ok(())
    }

    /// Whether a request waits for room in chronyd's queue (nothing of it is
    /// outstanding).
    fn has_refused(&mut self) -> bool {
        match &mut self.work {
            Work::One { refused, done, .. } => *refused && !*done,
            #[cfg(libchrony_shared_fd)]
            Work::Many { slots, .. } => slots
                .iter_mut()
                .any(|s| s.outcome.is_none() && !s.session.needs_response()),
        }
    }

    /// Keeps [`Batch::retry`] in step after a send: none when nothing is
    /// refused, the first wait after the first refusal, twice the last wait
    /// after a retry that was refused again.
    fn schedule_retry(&mut self, now: Instant) {
        if !self.has_refused() {
            self.retry = None;
            return;
        }
        let backoff = match self.retry {
            None => REFUSED_RETRY_FIRST,
            Some(retry) if now >= retry.at => {
                retry.backoff.saturating_mul(2).min(REFUSED_RETRY_MAX)
            }
            Some(_) => return,
        };
        self.retry = Some(Retry {
            at: now + backoff,
            backoff,
        });
    }

    /// Each request's session holding its record, or the error chronyd (or
    /// the C library) gave for it. Only once [`Batch::is_done`].
    #[cfg(libchrony_shared_fd)]
    pub(crate) fn into_results(self) -> Vec<Result<Pipelined<'s>>> {
        match self.work {
            Work::Many { slots, .. } => slots
                .into_iter()
                .map(|s| {
                    s.outcome
                        .expect("a finished batch has every outcome")
                        .map(|()| s.session)
                })
                .collect(),
            Work::One { .. } => Vec::new(),
        }
    }
}

/// Sends `request` on `session`: `true`; `false` when the send would block
/// (chronyd's queue is full: busy, or frozen), and it goes again later.
fn send_one(session: &mut Session, request: Request, peer: &Peer<'_>) -> Result<bool> {
    match request.send(session) {
        Ok(()) => Ok(true),
        Err(e) if e.would_block() => Ok(false),
        Err(e) => Err(failure(e, request, peer)),
    }
}

/// Sends the unanswered requests that `which` picks, until chronyd's queue
/// is full: a unix socket's holds only a few datagrams (Linux:
/// `net.unix.max_dgram_qlen`, 10 by default), so a batch larger than that
/// goes out as chronyd reads it. One refused by a full queue is not
/// outstanding, and is sent (as a first attempt) on a later call. A send
/// the socket refuses (chronyd stopped: its socket is gone or stale) ends
/// the whole batch, as it does a single exchange, so that a caller sees
/// that chronyd could not be reached, not a batch of failed parts (and a
/// unix-socket connection reconnects, see `reading::batch`).
#[cfg(libchrony_shared_fd)]
fn send_many(
    slots: &mut [Slot<'_>],
    peer: &Peer<'_>,
    mut which: impl FnMut(&mut CSession) -> bool,
) -> Result<()> {
    for slot in slots.iter_mut().filter(|s| s.outcome.is_none()) {
        if !which(&mut slot.session) {
            continue;
        }
        match slot.request.send(&mut slot.session) {
            Ok(()) => {}
            Err(e) if e.would_block() => return Ok(()),
            Err(e) if e.ends_batch() => return Err(failure(e, slot.request, peer)),
            Err(e) => slot.outcome = Some(Err(failure(e, slot.request, peer))),
        }
    }
    Ok(())
}

/// Hands `datagram` to the unanswered request it answers, if any.
#[cfg(libchrony_shared_fd)]
fn dispatch(slots: &mut [Slot<'_>], datagram: &[u8], peer: &Peer<'_>) {
    let Some(slot) = slots
        .iter_mut()
        .find(|s| s.outcome.is_none() && s.session.is_reply_to(datagram))
    else {
        return; // stale, duplicate or foreign: dropped
    };
    match slot.session.process_datagram(datagram) {
        // A chained record's first step: its follow-up is out.
        Ok(()) if slot.session.needs_response() => {}
        Ok(()) => slot.outcome = Some(Ok(())),
        // chronyd's queue is full: the request (from its lookup) goes again
        // when there is room, see `send_many`.
        Err(e) if e.would_block() => {}
        Err(e) => slot.outcome = Some(Err(failure(e, slot.request, peer))),
    }
}
