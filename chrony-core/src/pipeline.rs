//! Many requests in flight at once on one socket: one C session per request
//! on the connection's fd, all sent before any reply is awaited. chronyd
//! answers every datagram on its own, so a batch costs about one round trip
//! (two for chained records) instead of one per request. Each datagram goes
//! to the session whose outstanding sequence number it carries; one that
//! answers none (a late reply to an earlier question, a duplicate) is
//! dropped. Only with the bundled C library's shared-fd extension; see
//! `build.rs`.

use std::time::Instant;

use crate::error::op;
use crate::exchange::{self, FIRST_ATTEMPT, Peer, Request, SLICE, ceil_millis, deadline_after};
use crate::session::{Pipelined, Session};
use crate::{Error, Result};

/// A datagram larger than any reply; the C library checks each reply's length.
const DATAGRAM_BUF: usize = 2048;

/// One request of a batch: its session, and once answered, the outcome.
struct Slot<'s> {
    request: Request,
    session: Pipelined<'s>,
    outcome: Option<Result<()>>,
}

/// Sends every request of `requests` on `session`'s socket and waits until
/// each is answered or `deadline` passes, resending the unanswered ones on
/// [`exchange::run`]'s schedule (1 s, then twice as long each time). Gives
/// each request's session holding its record, or the error chronyd (or the
/// C library) gave for it; `Err` only for what ends the whole batch: a
/// timeout, an interruption, a socket error.
pub(crate) fn run<'s>(
    session: &'s Session,
    requests: &[Request],
    peer: &Peer<'_>,
    deadline: Instant,
    interrupted: &mut dyn FnMut() -> bool,
) -> Result<Vec<Result<Pipelined<'s>>>> {
    let mut slots = Vec::with_capacity(requests.len());
    for &request in requests {
        let pipelined = session
            .pipelined()
            .map_err(|e| exchange::failure(e, request, peer))?;
        slots.push(Slot {
            request,
            session: pipelined,
            outcome: None,
        });
    }
    let mut buf = vec![0u8; DATAGRAM_BUF];
    let mut attempt_timeout = FIRST_ATTEMPT;
    let mut last_check = Instant::now();
    loop {
        // Every unanswered request, again (attempt + 1) if it is outstanding.
        send(&mut slots, peer, |_| true);
        let attempt_end = deadline.min(deadline_after(attempt_timeout));
        while slots.iter().any(|s| s.outcome.is_none()) {
            let remaining = attempt_end.saturating_duration_since(Instant::now());
            let readable = session
                .wait_readable(ceil_millis(remaining.min(SLICE)))
                .map_err(|e| Error::from_io(e, peer.address, peer.transport, op::WAIT))?;
            if readable {
                let received = session
                    .socket()
                    .recv_datagram(&mut buf)
                    .map_err(|e| Error::from_io(e, peer.address, peer.transport, op::RECEIVE))?;
                if let Some(n) = received {
                    dispatch(&mut slots, &buf[..n.min(buf.len())], peer);
                }
            }
            // chronyd has read some requests (or time has passed): the ones
            // its full queue refused go now, still as first attempts.
            send(&mut slots, peer, |s| !s.needs_response());
            let now = Instant::now();
            if now >= attempt_end {
                break;
            }
            if readable && now.duration_since(last_check) < SLICE {
                continue;
            }
            last_check = now;
            if interrupted() {
                return Err(Error::Interrupted);
            }
        }
        if slots.iter().all(|s| s.outcome.is_some()) {
            return Ok(slots
                .into_iter()
                .map(|s| s.outcome.expect("all answered").map(|()| s.session))
                .collect());
        }
        if Instant::now() >= deadline {
            return Err(Error::Timeout {
                address: peer.address.to_owned(),
                timeout: peer.timeout,
            });
        }
        attempt_timeout = attempt_timeout.saturating_mul(2);
    }
}

/// Sends the unanswered requests that `which` picks, until chronyd's queue
/// is full: a unix socket's holds only a few datagrams (Linux:
/// `net.unix.max_dgram_qlen`, 10 by default), so a batch larger than that
/// goes out as chronyd reads it. One refused by a full queue is not
/// outstanding, and is sent (as a first attempt) on a later call.
fn send(
    slots: &mut [Slot<'_>],
    peer: &Peer<'_>,
    mut which: impl FnMut(&mut crate::session::CSession) -> bool,
) {
    for slot in slots.iter_mut().filter(|s| s.outcome.is_none()) {
        if !which(&mut slot.session) {
            continue;
        }
        match slot.request.send(&mut slot.session) {
            Ok(()) => {}
            Err(e) if e.would_block() => return,
            Err(e) => slot.outcome = Some(Err(exchange::failure(e, slot.request, peer))),
        }
    }
}

/// Hands `datagram` to the unanswered request it answers, if any.
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
        // when there is room, see `send`.
        Err(e) if e.would_block() => {}
        Err(e) => slot.outcome = Some(Err(exchange::failure(e, slot.request, peer))),
    }
}
