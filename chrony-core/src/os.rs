//! The raw libc calls that `std` does not offer, as small safe functions.
//!
//! Together with `session.rs` (the C protocol library) this is the only
//! module with `unsafe`. Each function takes borrowed fds and C strings, so
//! the kernel only ever sees valid pointers and open descriptors.

use std::ffi::CStr;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

/// Owner, type and identity of a file, from `fstatat`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FileInfo {
    /// `st_mode` (type and permission bits).
    pub mode: u32,
    /// `st_uid`.
    pub uid: u32,
}

impl FileInfo {
    /// True for a unix socket.
    pub fn is_socket(&self) -> bool {
        self.mode & libc::S_IFMT == libc::S_IFSOCK
    }
}

/// The effective user ID of this process.
pub(crate) fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// `fstatat(dir, name, AT_SYMLINK_NOFOLLOW)`: the entry itself, never what a
/// symlink points to.
pub(crate) fn stat_at_nofollow(dir: BorrowedFd<'_>, name: &CStr) -> io::Result<FileInfo> {
    let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
    // SAFETY: `dir` is an open fd for the duration of the call, `name` is a
    // NUL-terminated string, and `st` points to writable memory of the right size.
    let r = unsafe {
        libc::fstatat(
            dir.as_raw_fd(),
            name.as_ptr(),
            st.as_mut_ptr(),
            libc::AT_SYMLINK_NOFOLLOW,
        )
    };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fstatat returned 0, so it filled `st` completely.
    let st = unsafe { st.assume_init() };
    Ok(FileInfo {
        mode: st.st_mode,
        uid: st.st_uid,
    })
}

/// `fchmodat(dir, name, mode, 0)`.
pub(crate) fn chmod_at(dir: BorrowedFd<'_>, name: &CStr, mode: u32) -> io::Result<()> {
    // SAFETY: `dir` is open for the call and `name` is NUL-terminated.
    let r = unsafe { libc::fchmodat(dir.as_raw_fd(), name.as_ptr(), mode as libc::mode_t, 0) };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// `unlinkat(dir, name, 0)`: removes a non-directory entry of `dir`.
pub(crate) fn unlink_at(dir: BorrowedFd<'_>, name: &CStr) -> io::Result<()> {
    // SAFETY: `dir` is open for the call and `name` is NUL-terminated.
    let r = unsafe { libc::unlinkat(dir.as_raw_fd(), name.as_ptr(), 0) };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Waits up to `timeout_ms` for `fd` to be readable (or to have a pending
/// error, which a receive then reports). Returns false on timeout and on
/// `EINTR`, so the caller rechecks its deadline.
pub(crate) fn poll_readable(fd: BorrowedFd<'_>, timeout_ms: i32) -> io::Result<bool> {
    let mut pfd = libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: `pfd` is one valid pollfd and we pass a count of 1; the fd is
    // open for the duration of the call.
    let r = unsafe { libc::poll(&mut pfd, 1, timeout_ms) };
    if r < 0 {
        let err = io::Error::last_os_error();
        if err.raw_os_error() == Some(libc::EINTR) {
            return Ok(false);
        }
        return Err(err);
    }
    Ok(r > 0 && pfd.revents != 0)
}

/// True unless the process `pid` certainly does not exist (`kill(pid, 0)`
/// gives `ESRCH`).
pub(crate) fn process_exists(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    if pid <= 0 {
        return true;
    }
    // SAFETY: signal 0 only checks that the process exists; nothing is sent.
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

/// Registers `handler` to run at normal process exit (`exit()` or a return
/// from `main`). Returns false if the C library refused.
pub(crate) fn at_exit(handler: extern "C" fn()) -> bool {
    // SAFETY: `handler` is a plain `extern "C"` function with no arguments,
    // valid for the whole life of the process.
    unsafe { libc::atexit(handler) == 0 }
}

/// Registers `pthread_atfork` handlers.
pub(crate) fn at_fork(
    prepare: extern "C" fn(),
    parent: extern "C" fn(),
    child: extern "C" fn(),
) -> io::Result<()> {
    // SAFETY: plain `extern "C"` functions without arguments, valid for the
    // whole life of the process.
    match unsafe { libc::pthread_atfork(Some(prepare), Some(parent), Some(child)) } {
        0 => Ok(()),
        errno => Err(io::Error::from_raw_os_error(errno)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_exists() {
        assert!(process_exists(std::process::id()));
        assert!(!process_exists(0x3fff_fff0));
    }

    #[test]
    fn stat_of_missing_entry() {
        let dir = std::fs::File::open("/").unwrap();
        use std::os::fd::AsFd;
        let e = stat_at_nofollow(dir.as_fd(), c"no-such-entry-here").unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::ENOENT));
    }
}
