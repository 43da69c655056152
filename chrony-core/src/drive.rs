//! The one loop that runs a [`Batch`]: wait, hand the machine what happened,
//! repeat until it is done. How it waits is the caller's ([`Wait`]): `poll()`
//! in slices for the blocking API (`exchange::PollWait`), tokio's reactor
//! and timer for `AsyncConnection`; an event loop of another language would
//! be one more `Wait`, with the rules untouched.

use std::future::Future;
use std::io;
use std::os::fd::BorrowedFd;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use crate::batch::Batch;
use crate::{Error, Result};

/// Why a wait ended the whole batch.
pub(crate) enum Stop {
    /// Waiting on the socket failed.
    Io(io::Error),
    /// The caller's `interrupted` callback said to stop.
    Interrupted,
}

/// How a driver waits for the socket.
pub(crate) trait Wait {
    /// Waits until `fd` is readable (or has a pending error): `true`; or
    /// until `until` at the latest: `false` (it may return `false` earlier).
    async fn wait(&mut self, fd: BorrowedFd<'_>, until: Instant) -> Result<bool, Stop>;
}

/// Runs `batch` to its end (every request answered, or an error for the
/// whole batch), waiting with `waiter`. A dropped future stops between two
/// steps, its requests left outstanding for the next call to abandon.
pub(crate) async fn drive<W: Wait>(batch: &mut Batch<'_, '_>, waiter: &mut W) -> Result<()> {
    batch.start(Instant::now())?;
    while !batch.is_done() {
        let readable = match waiter.wait(batch.fd(), batch.next_wakeup()).await {
            Ok(readable) => readable,
            Err(Stop::Io(e)) => return Err(batch.wait_failed(e)),
            Err(Stop::Interrupted) => return Err(Error::Interrupted),
        };
        if readable {
            batch.on_readable()?;
        }
        batch.on_timer(Instant::now())?;
    }
    Ok(())
}

/// Runs `future` to its end on this thread. Only for futures whose every
/// wait happens inside `poll()` calls (the blocking API's): they are ready
/// the first time they are polled.
pub(crate) fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        Poll::Pending => {
            unreachable!("a blocking wait happens inside poll(), never returns Pending")
        }
    }
}
