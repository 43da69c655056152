//! One request/reply exchange with a deadline, resending as chronyc does.

use std::ffi::{CStr, c_int};
use std::os::fd::BorrowedFd;
use std::time::{Duration, Instant};

use crate::batch::Batch;
use crate::drive::{Stop, Wait, drive};
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

/// Sends `request` and waits for the reply until `deadline`, waiting with
/// `waiter` ([`PollWait`] for the blocking API). On `Ok`, the session holds
/// the record.
pub(crate) async fn run<W: Wait>(
    session: &mut Session,
    request: Request,
    peer: &Peer<'_>,
    deadline: Instant,
    waiter: &mut W,
) -> Result<()> {
    let mut batch = Batch::one(session, request, *peer, deadline);
    drive(&mut batch, waiter).await
}

/// The blocking API's waits: `poll()` in slices of at most 100 ms, calling
/// `interrupted` after each slice that saw no datagram, and at least every
/// 100 ms while datagrams arrive that are not the answer. Never `Pending`.
pub(crate) struct PollWait<'a> {
    interrupted: &'a mut dyn FnMut() -> bool,
    last_check: Instant,
    /// Whether the last wait saw a datagram; `None` before the first.
    last_readable: Option<bool>,
}

impl<'a> PollWait<'a> {
    pub(crate) fn new(interrupted: &'a mut dyn FnMut() -> bool) -> PollWait<'a> {
        PollWait {
            interrupted,
            last_check: Instant::now(),
            last_readable: None,
        }
    }
}

impl Wait for PollWait<'_> {
    async fn wait(&mut self, fd: BorrowedFd<'_>, until: Instant) -> Result<bool, Stop> {
        let now = Instant::now();
        if let Some(readable) = self.last_readable {
            if !readable || now.duration_since(self.last_check) >= SLICE {
                self.last_check = now;
                if (self.interrupted)() {
                    return Err(Stop::Interrupted);
                }
            }
        }
        let remaining = until.saturating_duration_since(now);
        let readable =
            crate::os::poll_readable(fd, ceil_millis(remaining.min(SLICE))).map_err(Stop::Io)?;
        self.last_readable = Some(readable);
        Ok(readable)
    }
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
