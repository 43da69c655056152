//! The refclock feeder: sends chronyd's SOCK refclock a 40-byte sample a few times a second.
//!
//! Design: the feeder is a `fork()`ed child that never execs. This works the same from a test binary (whose
//! `current_exe` is a test harness that knows no hidden arguments) and from the `cargo xtask chronyd` CLI (where
//! the child is detached with `setsid` and outlives the CLI). Because the parent may be multi-threaded, the child
//! only makes async-signal-safe system calls: everything it needs (the address, the log fd) is prepared before
//! the fork, and it never allocates.
//!
//! Leap mode runs chronyd under libfaketime with a constant offset. The feeder is not run under faketime: it adds
//! the same offset to the real time itself, which is exactly what libfaketime's `-Ns` relative offset does, so
//! its timestamps agree with chronyd's faked clock.

use std::io;
use std::os::fd::AsRawFd;
use std::path::Path;
use std::time::Duration;

/// chronyd's `SOCK_MAGIC` (refclock_sock.c).
const SOCK_MAGIC: i32 = 0x534f_434b;

/// The process name of a feeder, as `comm` shows it.
pub(crate) const FEEDER_COMM: &str = "chrfix-feeder";

/// Interval between samples.
pub(crate) const PERIOD: Duration = Duration::from_millis(50);

// The sample below is laid out for LP64 (64-bit time_t and suseconds_t), like chronyd's struct on x86_64.
const _: () = assert!(std::mem::size_of::<libc::timeval>() == 16);

/// One sample in chronyd's `struct sock_sample` layout (x86_64 and other LP64 targets, host byte order):
/// `struct timeval` (16 bytes), `double offset`, `int pulse`, `int leap`, `int _pad`, `int magic`.
fn sample(now: &libc::timespec, offset_s: i64, leap: i32) -> [u8; 40] {
    let mut buf = [0u8; 40];
    let sec: i64 = now.tv_sec + offset_s;
    let usec: i64 = now.tv_nsec / 1000;
    buf[0..8].copy_from_slice(&sec.to_ne_bytes());
    buf[8..16].copy_from_slice(&usec.to_ne_bytes());
    buf[16..24].copy_from_slice(&0.0f64.to_ne_bytes());
    buf[24..28].copy_from_slice(&0i32.to_ne_bytes());
    buf[28..32].copy_from_slice(&leap.to_ne_bytes());
    buf[32..36].copy_from_slice(&0i32.to_ne_bytes());
    buf[36..40].copy_from_slice(&SOCK_MAGIC.to_ne_bytes());
    buf
}

fn sockaddr(path: &Path) -> io::Result<libc::sockaddr_un> {
    use std::os::unix::ffi::OsStrExt;
    let bytes = path.as_os_str().as_bytes();
    // SAFETY: sockaddr_un is plain old data; all-zero is a valid value.
    let mut addr: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    if bytes.len() >= addr.sun_path.len() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "refclock socket path too long for sun_path: {}",
                path.display()
            ),
        ));
    }
    addr.sun_family = libc::AF_UNIX as libc::sa_family_t;
    for (dst, src) in addr.sun_path.iter_mut().zip(bytes) {
        *dst = *src as libc::c_char;
    }
    Ok(addr)
}

/// The send loop. Only async-signal-safe calls, no allocation: it runs in a child forked from a possibly
/// multi-threaded process. Exits when `parent` (if nonzero) is no longer its parent.
fn feed_forever(addr: &libc::sockaddr_un, leap: i32, offset_s: i64, parent: libc::pid_t) -> ! {
    // SAFETY: plain system calls on valid arguments: a fresh socket, stack buffers and a sockaddr_un that lives
    // for the whole loop; the process ends with _exit, never unwinding.
    unsafe {
        let fd = libc::socket(libc::AF_UNIX, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
        if fd < 0 {
            libc::_exit(1);
        }
        let req = libc::timespec {
            tv_sec: 0,
            tv_nsec: PERIOD.as_nanos() as libc::c_long,
        };
        loop {
            if parent != 0 && libc::getppid() != parent {
                libc::_exit(0);
            }
            let mut now: libc::timespec = std::mem::zeroed();
            libc::clock_gettime(libc::CLOCK_REALTIME, &mut now);
            let buf = sample(&now, offset_s, leap);
            // Failures (chronyd not up yet, restarting) are expected and ignored: the next sample retries.
            libc::sendto(
                fd,
                buf.as_ptr().cast(),
                buf.len(),
                0,
                (addr as *const libc::sockaddr_un).cast(),
                std::mem::size_of::<libc::sockaddr_un>() as libc::socklen_t,
            );
            libc::nanosleep(&req, std::ptr::null_mut());
        }
    }
}

/// Run the feeder in this process, forever (the hidden `cli feed` command).
pub fn run_foreground(socket: &Path, leap: i32, offset_s: i64) -> io::Result<()> {
    let addr = sockaddr(socket)?;
    feed_forever(&addr, leap, offset_s, 0)
}

/// Fork a feeder child; returns its pid. With `detach`, it starts a new session (so it outlives the CLI process
/// and its terminal); otherwise it exits by itself when this process goes away. Its stdio goes to `log`.
pub(crate) fn spawn(
    socket: &Path,
    leap: i32,
    offset_s: i64,
    log: &Path,
    detach: bool,
) -> io::Result<u32> {
    let addr = sockaddr(socket)?;
    let log_file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)?;
    let null = std::fs::File::open("/dev/null")?;
    let (log_fd, null_fd) = (log_file.as_raw_fd(), null.as_raw_fd());
    // SAFETY: getpid has no preconditions.
    let parent = if detach { 0 } else { unsafe { libc::getpid() } };
    // SAFETY: after fork the child only runs async-signal-safe system calls (setsid, dup2, close_range, prctl and
    // the loop of feed_forever) and ends with _exit, so forking a multi-threaded process is sound here.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(io::Error::last_os_error());
    }
    if pid == 0 {
        // SAFETY: see the fork above; fds are valid (opened before the fork), the name is NUL-terminated.
        unsafe {
            if detach {
                libc::setsid();
            }
            libc::dup2(null_fd, 0);
            libc::dup2(log_fd, 1);
            libc::dup2(log_fd, 2);
            // Other threads' pipes (e.g. a concurrent Command::output) were inherited: close them, or their
            // readers would wait for EOF as long as the feeder lives.
            if libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32) != 0 {
                for fd in 3..4096 {
                    libc::close(fd);
                }
            }
            libc::prctl(libc::PR_SET_NAME, c"chrfix-feeder".as_ptr());
        }
        feed_forever(&addr, leap, offset_s, parent);
    }
    Ok(pid as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_layout() {
        let now = libc::timespec {
            tv_sec: 1000,
            tv_nsec: 123_456_789,
        };
        let b = sample(&now, -10, 1);
        assert_eq!(i64::from_ne_bytes(b[0..8].try_into().unwrap()), 990);
        assert_eq!(i64::from_ne_bytes(b[8..16].try_into().unwrap()), 123_456);
        assert_eq!(f64::from_ne_bytes(b[16..24].try_into().unwrap()), 0.0);
        assert_eq!(i32::from_ne_bytes(b[28..32].try_into().unwrap()), 1);
        assert_eq!(
            i32::from_ne_bytes(b[36..40].try_into().unwrap()),
            0x534f434b
        );
        assert_eq!(FEEDER_COMM.len(), "chrfix-feeder".len());
    }
}
