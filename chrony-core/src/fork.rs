//! Keeps this crate's locks usable in a child after `fork()`.
//!
//! A child has only the thread that forked. If another thread held one of
//! our mutexes at that moment, the child's copy would stay locked forever.
//! `pthread_atfork` handlers take every lock of the crate before the fork
//! (in a fixed order; none is ever held while taking another) and release
//! them afterwards, in the parent and in the child. Each lock is held only
//! for a few instructions, never across I/O, so the fork waits at most that.

use std::any::Any;
use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};

use crate::error::op;
use crate::{Error, Result, os};

thread_local! {
    /// The guards taken by `prepare`, released by `release` on the same thread.
    static HELD: RefCell<Vec<Box<dyn Any>>> = const { RefCell::new(Vec::new()) };
}

/// How many `fork()`s lie between this process and the one that installed
/// the handlers: one more in each child, from the child handler. State
/// records the generation it was made in, and a later call compares: a
/// value not of this process means the state is a parent's. This is the
/// pid comparison without a `getpid` system call per query (glibc no longer
/// caches the pid). Meaningful once [`install_handlers`] succeeded, which
/// every path that records it does first.
static GENERATION: AtomicU64 = AtomicU64::new(0);

/// This process's fork generation (see [`GENERATION`]).
pub(crate) fn generation() -> u64 {
    GENERATION.load(Ordering::Relaxed)
}

extern "C" fn prepare() {
    let guards = vec![
        crate::shared::lock_for_fork(),
        crate::pool::lock_for_fork(),
        crate::client_socket::lock_for_fork(),
        crate::session::lock_for_fork(),
    ];
    HELD.with(|held| *held.borrow_mut() = guards);
}

extern "C" fn child() {
    // Before anything else runs in the child: fork() has not returned yet.
    GENERATION.fetch_add(1, Ordering::Relaxed);
    release();
}

extern "C" fn release() {
    let guards = HELD.with(|held| std::mem::take(&mut *held.borrow_mut()));
    for guard in guards.into_iter().rev() {
        drop(guard);
    }
}

/// Installs the handlers, once per process (before the first lock is used).
/// `pthread_atfork` fails only when memory is short; then nothing is
/// installed, the caller's operation fails, and the next one tries again.
pub(crate) fn install_handlers() -> Result<()> {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    if INSTALLED.get().is_some() {
        return Ok(());
    }
    static INSTALLING: Mutex<()> = Mutex::new(());
    let _one_at_a_time = INSTALLING.lock().unwrap_or_else(PoisonError::into_inner);
    if INSTALLED.get().is_none() {
        os::at_fork(prepare, release, child).map_err(|source| Error::Io {
            address: "this process".to_owned(),
            operation: op::REGISTER_FORK_HANDLERS,
            source,
        })?;
        let _ = INSTALLED.set(());
    }
    Ok(())
}
