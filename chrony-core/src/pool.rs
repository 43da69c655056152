//! The process-wide pool of idle unix connections behind the one-call API.
//!
//! A call takes an idle connection to the same socket path (or opens one),
//! queries it, and puts it back only if the query succeeded, so each thread
//! uses its own connection and a failed one is closed (its files removed).
//! Connections inherited across `fork()` are dropped without touching the
//! parent's files. At normal process exit an `atexit` handler drains the
//! pool, so no client socket or directory is left in chronyd's directory.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, Once, PoisonError};

use crate::address::{Target, discover_socket, unix_path};
use crate::reports::Query;
use crate::{Connection, Options, Result, os};

/// At most this many idle connections are kept; more are closed.
const MAX_IDLE: usize = 32;

struct Idle {
    /// Opened for "the default socket" (`None`), not for an explicit path.
    discovered: bool,
    connection: Connection,
}

static POOL: Mutex<Vec<Idle>> = Mutex::new(Vec::new());
static AT_EXIT: Once = Once::new();
/// False if `atexit` refused the handler that drains the pool.
static POOLING: AtomicBool = AtomicBool::new(false);

fn pool() -> MutexGuard<'static, Vec<Idle>> {
    POOL.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The pool's lock, held across `fork()` (see `fork.rs`).
pub(crate) fn lock_for_fork() -> Box<dyn std::any::Any> {
    Box::new(pool())
}

/// The one-call API: a pooled connection to `socket_path`, or to the
/// discovered default socket.
pub(crate) fn query<Q: Query>(
    socket_path: Option<&Path>,
    options: &Options,
    interrupted: &mut dyn FnMut() -> bool,
) -> Result<Q> {
    with_connection(socket_path, options, |c| c.query_interruptible(interrupted))
}

/// Runs `f` on a pooled connection to `socket_path` (or the discovered
/// default socket), given back to the pool when `f` succeeds.
pub(crate) fn with_connection<T>(
    socket_path: Option<&Path>,
    options: &Options,
    f: impl FnOnce(&mut Connection) -> Result<T>,
) -> Result<T> {
    crate::fork::install_handlers()?;
    let path = socket_path.map(unix_path).transpose()?;
    let mut connection = match take(path.as_deref()) {
        Some(connection) => connection,
        None => {
            let target = match &path {
                Some(path) => Target::Unix(path.to_path_buf()),
                None => Target::Unix(discover_socket()?),
            };
            Connection::open_target(target, options.timeout)?
        }
    };
    connection.set_timeout(options.timeout);
    let result = f(&mut connection);
    if result.is_ok() {
        give_back(path.is_none(), connection);
    }
    result
}

fn take(path: Option<&Path>) -> Option<Connection> {
    let generation = crate::fork::generation();
    let mut idle = pool();
    if idle.iter().any(|i| i.connection.generation() != generation) {
        // Inherited from the parent across fork(): close our copies (their
        // Drop leaves the parent's files alone), outside the lock.
        let (inherited, own): (Vec<Idle>, Vec<Idle>) = std::mem::take(&mut *idle)
            .into_iter()
            .partition(|i| i.connection.generation() != generation);
        *idle = own;
        drop(idle);
        drop(inherited);
        idle = pool();
    }
    let position = idle.iter().rposition(|i| match path {
        None => i.discovered,
        Some(path) => i.connection.unix_path() == Some(path),
    })?;
    Some(idle.swap_remove(position).connection)
}

fn give_back(discovered: bool, connection: Connection) {
    AT_EXIT.call_once(|| {
        POOLING.store(os::at_exit(drain_at_exit), Ordering::SeqCst);
    });
    if !POOLING.load(Ordering::SeqCst) {
        // Without the exit handler pooled sockets would outlive the process:
        // close this one now, as a call without the pool would.
        drop(connection);
        return;
    }
    let mut idle = pool();
    if idle.len() < MAX_IDLE {
        if idle.capacity() == 0 {
            idle.reserve_exact(MAX_IDLE);
        }
        idle.push(Idle {
            discovered,
            connection,
        });
    } else {
        drop(idle);
        drop(connection);
    }
}

/// Closes every idle pooled connection and removes its files. Runs at
/// process exit; tests call it to check that nothing is left behind.
#[doc(hidden)]
pub fn drain_pool() {
    let idle = std::mem::take(&mut *pool());
    drop(idle);
}

extern "C" fn drain_at_exit() {
    // Never unwind into C.
    let _ = std::panic::catch_unwind(drain_pool);
}
