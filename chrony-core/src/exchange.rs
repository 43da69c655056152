//! One request/reply exchange with a deadline, resending as chronyc does.

use std::ffi::{CStr, c_int};
use std::time::{Duration, Instant};

use crate::batch::Batch;
use crate::session::{CSession, CallError, Session};
use crate::{Error, Result, Transport};

/// The first attempt waits this long for a reply; each later one twice as
/// long as the one before (1 s, 2 s, 4 s…, chronyc's schedule), all capped by
/// the total deadline.
pub(crate) const FIRST_ATTEMPT: Duration = Duration::from_secs(1);

/// The longest single wait, so the interruption callback runs often enough.
pub(crate) const SLICE: Duration = Duration::from_millis(100);

/// Where an exchange goes and how long it may take.
#[derive(Clone, Copy)]
pub(crate) struct Peer<'a> {
    pub address: &'a str,
    pub transport: Transport,
    /// The caller's total timeout, for the error message.
    pub timeout: Duration,
}

/// What an exchange asks for: record `index` of the report `name`, or with
/// `index` `None` the number of its records.
#[derive(Clone, Copy)]
pub(crate) struct Request {
    pub name: &'static CStr,
    pub index: Option<c_int>,
}

impl Request {
    /// Sends the request (again, as a resend, if it is outstanding).
    pub(crate) fn send(&self, session: &mut CSession) -> Result<(), CallError> {
        match self.index {
            Some(index) => session.request_record(self.name, index),
            None => session.request_count(self.name),
        }
    }
}

/// Sends `request` and waits for the reply until `deadline`.
/// On `Ok`, the session holds the record. `interrupted` is called as
/// [`wait`] says.
pub(crate) fn run(
    session: &mut Session,
    request: Request,
    peer: &Peer<'_>,
    deadline: Instant,
    interrupted: &mut dyn FnMut() -> bool,
) -> Result<()> {
    wait(
        &mut Batch::one(session, request, *peer, deadline),
        interrupted,
    )
}

/// Drives `batch` to its end with `poll()`, in waits of at most 100 ms:
/// `interrupted` is called after each wait that saw no datagram, and at
/// least every 100 ms while datagrams arrive that are not the answer.
pub(crate) fn wait(batch: &mut Batch<'_, '_>, interrupted: &mut dyn FnMut() -> bool) -> Result<()> {
    batch.start(Instant::now())?;
    let mut last_check = Instant::now();
    while !batch.is_done() {
        let remaining = batch
            .next_wakeup()
            .saturating_duration_since(Instant::now());
        let readable = crate::os::poll_readable(batch.fd(), ceil_millis(remaining.min(SLICE)))
            .map_err(|e| batch.wait_failed(e))?;
        if readable {
            batch.on_readable()?;
        }
        let now = Instant::now();
        batch.on_timer(now)?;
        if batch.is_done() || (readable && now.duration_since(last_check) < SLICE) {
            continue;
        }
        last_check = now;
        if interrupted() {
            return Err(Error::Interrupted);
        }
    }
    Ok(())
}

/// The error of a failed C library call for `request`.
pub(crate) fn failure(e: CallError, request: Request, peer: &Peer<'_>) -> Error {
    match e.code {
        libchrony_sys::CHRONY_OLD_SERVER => Error::Unsupported {
            address: peer.address.to_owned(),
            report: request.name.to_str().unwrap_or("requested"),
            chrony_err: e.code,
        },
        _ => Error::from_chrony(e.code, e.errno, peer.address, peer.transport),
    }
}

/// The instant `timeout` from now; a timeout too large to represent (e.g.
/// `Duration::MAX`) means about a century, i.e. no deadline in practice.
pub(crate) fn deadline_after(timeout: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(timeout)
        .or_else(|| now.checked_add(Duration::from_secs(100 * 365 * 86_400)))
        .unwrap_or(now)
}

/// Milliseconds for `poll`, rounded up so a short remainder does not spin.
pub(crate) fn ceil_millis(d: Duration) -> i32 {
    let ms = d.as_nanos().div_ceil(1_000_000);
    i32::try_from(ms).unwrap_or(i32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huge_timeouts_do_not_overflow() {
        assert!(deadline_after(Duration::MAX) > Instant::now() + Duration::from_secs(86_400));
        assert!(deadline_after(Duration::ZERO) <= Instant::now());
    }

    #[test]
    fn millis_round_up() {
        assert_eq!(ceil_millis(Duration::ZERO), 0);
        assert_eq!(ceil_millis(Duration::from_nanos(1)), 1);
        assert_eq!(ceil_millis(Duration::from_millis(100)), 100);
        assert_eq!(ceil_millis(Duration::from_micros(100_001)), 101);
    }
}
