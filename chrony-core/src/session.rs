//! The C protocol library: one `chrony_session` over our client socket.
//!
//! This module and `os.rs` hold all of the crate's `unsafe`. The session
//! owns the socket it talks on, so the fd outlives the C session by
//! construction (`Drop` deinits the session, then the socket's own `Drop`
//! closes it and removes its files).

use std::ffi::{CStr, c_int};
use std::io;
use std::ptr::NonNull;
use std::sync::{Mutex, PoisonError};

use libchrony_sys as ffi;

use crate::client_socket::ClientSocket;

/// A `chrony_err` other than `CHRONY_OK`, with the errno seen right after
/// the call (meaningful for `CHRONY_SEND_FAILED` and `CHRONY_RECV_FAILED`).
#[derive(Debug)]
pub(crate) struct CallError {
    pub code: ffi::chrony_err,
    pub errno: io::Error,
}

impl CallError {
    /// A send or receive that failed only because it would have blocked:
    /// the socket is non-blocking, so this means "nothing to read yet" or
    /// "chronyd's queue is full" (a frozen chronyd), never a real failure.
    pub fn would_block(&self) -> bool {
        matches!(self.code, ffi::CHRONY_SEND_FAILED | ffi::CHRONY_RECV_FAILED)
            && matches!(
                self.errno.raw_os_error(),
                Some(libc::EAGAIN | libc::ENOBUFS | libc::EINTR)
            )
    }

    /// A failure of the socket (or the library), not chronyd's answer to
    /// one request: it ends every request on the socket, so a batch fails
    /// whole with it (chronyd stopped: the send is refused).
    pub fn ends_batch(&self) -> bool {
        ends_batch(self.code)
    }
}

/// Whether the C library's `code` is a failure of the socket or the library
/// (see [`CallError::ends_batch`]) rather than chronyd's answer.
pub(crate) fn ends_batch(code: ffi::chrony_err) -> bool {
    matches!(
        code,
        ffi::CHRONY_SEND_FAILED | ffi::CHRONY_RECV_FAILED | ffi::CHRONY_NO_MEMORY
    )
}

/// A system libchrony formats address strings into one buffer for the
/// whole process; every read of one is serialised by this lock. The bundled
/// library keeps the buffer per session and needs no lock.
static SYSTEM_STRING_BUFFER: Mutex<()> = Mutex::new(());

/// The string-buffer lock, held across `fork()` (see `fork.rs`).
pub(crate) fn lock_for_fork() -> Box<dyn std::any::Any> {
    Box::new(
        SYSTEM_STRING_BUFFER
            .lock()
            .unwrap_or_else(PoisonError::into_inner),
    )
}

/// A C protocol session: its outstanding request and the record it received
/// last. It talks on a socket it does not own: [`Session`] owns the socket
/// beside it, a [`Pipelined`] borrows its connection's.
pub(crate) struct CSession {
    raw: NonNull<ffi::chrony_session>,
}

/// A protocol session on a connected client socket.
pub(crate) struct Session {
    // Declared first, so dropped (deinit'ed) before the socket closes.
    c: CSession,
    socket: ClientSocket,
}

impl std::ops::Deref for Session {
    type Target = CSession;
    fn deref(&self) -> &CSession {
        &self.c
    }
}

impl std::ops::DerefMut for Session {
    fn deref_mut(&mut self) -> &mut CSession {
        &mut self.c
    }
}

// SAFETY: a chrony_session is plain heap memory owned by this value (its
// fields, a buffer and, in libchrony, a `FILE *` for /dev/urandom); nothing
// in it is tied to the thread that created it, so moving it to another
// thread is sound. It is not `Sync`: the C functions mutate the session
// without locking, and every method that calls them takes `&mut self` or is
// on a value that cannot be shared (no `Sync` impl, so `&Session` never
// crosses threads). The one process-wide state of a system libchrony, the
// address string buffer, is guarded by `SYSTEM_STRING_BUFFER`.
unsafe impl Send for CSession {}

impl std::fmt::Debug for CSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CSession").finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("socket", &self.socket)
            .finish_non_exhaustive()
    }
}

fn check(code: ffi::chrony_err) -> Result<(), CallError> {
    if code == ffi::CHRONY_OK {
        return Ok(());
    }
    Err(CallError {
        code,
        errno: io::Error::last_os_error(),
    })
}

/// A new C session on `socket`'s fd; the caller keeps `socket` open for as
/// long as the session lives, and frees the session with `chrony_deinit_session`.
fn init_session(socket: &ClientSocket) -> Result<NonNull<ffi::chrony_session>, CallError> {
    let mut raw: *mut ffi::chrony_session = std::ptr::null_mut();
    let fd = std::os::fd::AsRawFd::as_raw_fd(&socket.as_fd());
    // SAFETY: `raw` is a valid out-pointer; `fd` is an open, connected
    // datagram socket that the caller keeps open for the life of the session.
    let code = unsafe { ffi::chrony_init_session(&mut raw, fd) };
    check(code)?;
    NonNull::new(raw).ok_or(CallError {
        code: ffi::CHRONY_NO_MEMORY,
        errno: io::Error::from(io::ErrorKind::OutOfMemory),
    })
}

impl Session {
    /// Starts a session on `socket`. On failure the socket is dropped
    /// (closed, its files removed).
    pub fn new(socket: ClientSocket) -> Result<Session, CallError> {
        let raw = init_session(&socket)?;
        Ok(Session {
            c: CSession { raw },
            socket,
        })
    }

    /// Forgets the outstanding request, if any, so that no reply to it can
    /// be taken for the answer to the next one: a fresh C session on the
    /// same socket. The bundled library would treat the next request as a
    /// resend of the abandoned one and still accept the earlier attempts'
    /// sequence numbers; a new session knows none of them, with any libchrony.
    pub fn abandon_request(&mut self) -> Result<(), CallError> {
        if !self.needs_response() {
            return Ok(());
        }
        let old = std::mem::replace(&mut self.c.raw, init_session(&self.socket)?);
        // SAFETY: `old` came from chrony_init_session, is no longer reachable
        // through `self` and is freed exactly once, here.
        unsafe { ffi::chrony_deinit_session(old.as_ptr()) };
        Ok(())
    }

    /// The socket the session talks on.
    pub fn socket(&self) -> &ClientSocket {
        &self.socket
    }

    /// A further C session on this session's socket, for a pipelined
    /// request; the borrow keeps the socket open while it lives.
    #[cfg(libchrony_shared_fd)]
    pub fn pipelined(&self) -> Result<Pipelined<'_>, CallError> {
        Ok(Pipelined {
            c: CSession {
                raw: init_session(&self.socket)?,
            },
            _socket: std::marker::PhantomData,
        })
    }
}

/// A [`Session`] whose socket is registered with tokio's reactor, for
/// `AsyncConnection`. The fd must stay open, and the same, for as long as
/// the registration lives: the two are kept together here, the registration
/// dropped (deregistered) first, and a session never replaces its socket.
#[cfg(feature = "tokio")]
#[derive(Debug)]
pub(crate) struct AsyncSession {
    // Declared first, so deregistered before the session closes the fd.
    registration: tokio::io::unix::AsyncFd<std::os::fd::RawFd>,
    session: Session,
}

#[cfg(feature = "tokio")]
impl AsyncSession {
    /// Registers `session`'s socket for readability and errors (a UDP port
    /// with nothing listening shows only as a pending `ECONNREFUSED`).
    /// Must be called within a tokio runtime (tokio panics otherwise).
    pub fn new(session: Session) -> io::Result<AsyncSession> {
        use tokio::io::Interest;
        let raw = std::os::fd::AsRawFd::as_raw_fd(&session.socket.as_fd());
        // SAFETY: `raw` is the open socket that `session` owns. The
        // registration is stored beside it and dropped before it (field
        // order); the session is only ever lent out (`parts`, `session`),
        // and no caller replaces it through the borrow; a session never
        // replaces its socket (`abandon_request` replaces only the C
        // session). So the fd stays open and refers to the same socket for
        // the registration's whole life.
        let registration = unsafe {
            tokio::io::unix::AsyncFd::register_with_interest(
                raw,
                Interest::READABLE | Interest::ERROR,
            )
        }?;
        Ok(AsyncSession {
            registration,
            session,
        })
    }

    /// The session and its registration, borrowed together.
    pub fn parts(&mut self) -> (&mut Session, &tokio::io::unix::AsyncFd<std::os::fd::RawFd>) {
        (&mut self.session, &self.registration)
    }

    /// The session.
    pub fn session(&self) -> &Session {
        &self.session
    }
}

/// A C session sharing a [`Session`]'s socket: the caller receives each
/// datagram and hands it to the session it answers (the bundled library's
/// shared-fd extension).
#[cfg(libchrony_shared_fd)]
pub(crate) struct Pipelined<'a> {
    c: CSession,
    _socket: std::marker::PhantomData<&'a ClientSocket>,
}

#[cfg(libchrony_shared_fd)]
impl std::ops::Deref for Pipelined<'_> {
    type Target = CSession;
    fn deref(&self) -> &CSession {
        &self.c
    }
}

#[cfg(libchrony_shared_fd)]
impl std::ops::DerefMut for Pipelined<'_> {
    fn deref_mut(&mut self) -> &mut CSession {
        &mut self.c
    }
}

#[cfg(libchrony_shared_fd)]
impl CSession {
    /// True if `datagram` answers this session's outstanding request.
    pub fn is_reply_to(&self, datagram: &[u8]) -> bool {
        // SAFETY: `self.raw` is a live session; `datagram` is valid for its length.
        unsafe {
            ffi::chrony_is_reply_to(self.raw.as_ptr(), datagram.as_ptr().cast(), datagram.len())
        }
    }

    /// Processes a datagram received by the caller (ignored unless it answers
    /// this session); a chained request sends its follow-up.
    pub fn process_datagram(&mut self, datagram: &[u8]) -> Result<(), CallError> {
        // SAFETY: `self.raw` is a live session whose fd is open (kept so by
        // its owner); `datagram` is valid for its length.
        let code = unsafe {
            ffi::chrony_process_datagram(
                self.raw.as_ptr(),
                datagram.as_ptr().cast(),
                datagram.len(),
            )
        };
        check(code)
    }
}

impl CSession {
    /// Sends a request for record `index` of `report` (again, with a new
    /// sequence number, if the same one is outstanding).
    pub fn request_record(&mut self, report: &CStr, index: c_int) -> Result<(), CallError> {
        // SAFETY: `self.raw` is a live session; the report name is a
        // NUL-terminated string that outlives the call.
        let code = unsafe { ffi::chrony_request_record(self.raw.as_ptr(), report.as_ptr(), index) };
        check(code)
    }

    /// Sends a request for the number of records of `report` (again, with a
    /// new sequence number, if the same one is outstanding).
    pub fn request_count(&mut self, report: &CStr) -> Result<(), CallError> {
        // SAFETY: as for `request_record`.
        let code = unsafe {
            ffi::chrony_request_report_number_records(self.raw.as_ptr(), report.as_ptr())
        };
        check(code)
    }

    /// The number of records of the report whose count was received last.
    pub fn number_of_records(&self) -> c_int {
        // SAFETY: `self.raw` is a live session.
        unsafe { ffi::chrony_get_report_number_records(self.raw.as_ptr()) }
    }

    /// True while a request is outstanding.
    pub fn needs_response(&mut self) -> bool {
        // SAFETY: `self.raw` is a live session.
        unsafe { ffi::chrony_needs_response(self.raw.as_ptr()) }
    }

    /// Receives and processes one datagram. Call only when the socket is
    /// readable; the socket is non-blocking, so a spurious wake-up gives a
    /// [`CallError::would_block`] error instead of blocking.
    pub fn process_response(&mut self) -> Result<(), CallError> {
        // SAFETY: `self.raw` is a live session whose fd is open.
        let code = unsafe { ffi::chrony_process_response(self.raw.as_ptr()) };
        check(code)
    }

    /// The number of fields of the record received last.
    pub fn number_of_fields(&self) -> c_int {
        // SAFETY: `self.raw` is a live session.
        unsafe { ffi::chrony_get_record_number_fields(self.raw.as_ptr()) }
    }

    /// The index of the field `name`: `hint` if that field has this name
    /// (one comparison in the usual case), else a search; `None` if absent.
    pub fn field_index(&self, hint: c_int, name: &CStr) -> Option<c_int> {
        // SAFETY: `self.raw` is a live session; a bad index gives NULL.
        let at_hint = unsafe { ffi::chrony_get_field_name(self.raw.as_ptr(), hint) };
        // SAFETY: a non-NULL field name points to a static NUL-terminated string.
        if !at_hint.is_null() && unsafe { same_c_text(at_hint, name) } {
            return Some(hint);
        }
        // SAFETY: `self.raw` is live and `name` is NUL-terminated.
        let index = unsafe { ffi::chrony_get_field_index(self.raw.as_ptr(), name.as_ptr()) };
        (index >= 0).then_some(index)
    }

    /// The `chrony_field_type` of a field.
    pub fn field_type(&self, field: c_int) -> ffi::chrony_field_type {
        // SAFETY: `self.raw` is a live session; bad indexes are handled by C.
        unsafe { ffi::chrony_get_field_type(self.raw.as_ptr(), field) }
    }

    /// An unsigned integer field.
    pub fn uinteger(&self, field: c_int) -> u64 {
        // SAFETY: as for `field_type`.
        unsafe { ffi::chrony_get_field_uinteger(self.raw.as_ptr(), field) }
    }

    /// A signed integer field.
    pub fn integer(&self, field: c_int) -> i64 {
        // SAFETY: as for `field_type`.
        unsafe { ffi::chrony_get_field_integer(self.raw.as_ptr(), field) }
    }

    /// A float field.
    pub fn float(&self, field: c_int) -> f64 {
        // SAFETY: as for `field_type`.
        unsafe { ffi::chrony_get_field_float(self.raw.as_ptr(), field) }
    }

    /// A timespec field as (seconds, nanoseconds).
    pub fn timespec(&self, field: c_int) -> (i64, i64) {
        // SAFETY: as for `field_type`; the struct is returned by value.
        let ts = unsafe { ffi::chrony_get_field_timespec(self.raw.as_ptr(), field) };
        (ts.tv_sec, ts.tv_nsec)
    }

    /// Calls `f` with the bytes of a string (address) field, or `None` if
    /// the C library gives NULL (an unspecified address).
    pub fn with_string<R>(&self, field: c_int, f: impl FnOnce(Option<&[u8]>) -> R) -> R {
        let _guard = (!ffi::BUNDLED).then(|| {
            SYSTEM_STRING_BUFFER
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
        });
        // SAFETY: `self.raw` is a live session. With a system libchrony the
        // returned buffer is process-wide, and `_guard` keeps every other
        // reader out until `f` has returned.
        let p = unsafe { ffi::chrony_get_field_string(self.raw.as_ptr(), field) };
        if p.is_null() {
            return f(None);
        }
        // SAFETY: non-NULL: a NUL-terminated string that stays valid until
        // the next call on this session (bundled) or into the library
        // (system, excluded by the lock), i.e. for the whole of `f`.
        f(Some(unsafe { CStr::from_ptr(p) }.to_bytes()))
    }
}

impl Drop for CSession {
    fn drop(&mut self) {
        // SAFETY: `self.raw` came from chrony_init_session and is freed
        // exactly once, here; the fd stays open until `socket` drops after this.
        unsafe { ffi::chrony_deinit_session(self.raw.as_ptr()) }
    }
}

/// Whether the NUL-terminated `text` is `name`: libc's `strcmp`, without the
/// `strlen` and second pass of `CStr::from_ptr(text) == name` (one per field
/// read, on every query's path).
///
/// # Safety
/// `text` points to a NUL-terminated string.
unsafe fn same_c_text(text: *const std::ffi::c_char, name: &CStr) -> bool {
    // SAFETY: both are NUL-terminated.
    unsafe { libc::strcmp(text, name.as_ptr()) == 0 }
}

#[cfg(test)]
mod tests {
    use super::same_c_text;

    #[test]
    fn c_text_comparison_stops_at_either_end() {
        let name = c"skew";
        // SAFETY: C string literals are NUL-terminated.
        unsafe {
            assert!(same_c_text(c"skew".as_ptr(), name));
            assert!(!same_c_text(c"ske".as_ptr(), name));
            assert!(!same_c_text(c"skews".as_ptr(), name));
            assert!(!same_c_text(c"".as_ptr(), name));
            assert!(same_c_text(c"".as_ptr(), c""));
        }
    }
}
