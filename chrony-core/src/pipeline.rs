//! Many requests in flight at once on one socket: one C session per request
//! on the connection's fd, all sent before any reply is awaited. chronyd
//! answers every datagram on its own, so a batch costs about one round trip
//! (two for chained records) instead of one per request. Each datagram goes
//! to the session whose outstanding sequence number it carries; one that
//! answers none (a late reply to an earlier question, a duplicate) is
//! dropped (the rules: `batch.rs`; this is its blocking driver). Only with
//! the bundled C library's shared-fd extension; see `build.rs`.

use std::time::Instant;

use crate::Result;
use crate::batch::Batch;
use crate::drive::{Wait, drive};
use crate::exchange::{Peer, Request};
use crate::session::{Pipelined, Session};

/// Sends every request of `requests` on `session`'s socket and waits (with
/// `waiter`: `PollWait` for the blocking API) until each is answered or
/// `deadline` passes, resending the unanswered ones on
/// `exchange::run`'s schedule (1 s, then twice as long each time). Gives
/// each request's session holding its record, or the error chronyd (or the
/// C library) gave for it; `Err` only for what ends the whole batch: a
/// timeout, an interruption, a socket error. `session` is borrowed
/// mutably, though only read, so that the future is `Send` (a `Session`
/// is not `Sync`) for drivers that hold it across their waits.
pub(crate) async fn run<'s, W: Wait>(
    session: &'s mut Session,
    requests: &[Request],
    peer: &Peer<'_>,
    deadline: Instant,
    waiter: &mut W,
) -> Result<Vec<Result<Pipelined<'s>>>> {
    let mut batch = Batch::many(session, requests, *peer, deadline)?;
    drive(&mut batch, waiter).await?;
    Ok(batch.into_results())
}
