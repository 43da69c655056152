//! A watchdog child per library-mode fixture: if the test process dies without running `Drop` (killed by a
//! timeout, Ctrl-C, `abort`), it stops the daemons that fixture started, so none are left behind.
//!
//! Like the feeder, it is forked without exec from a possibly multi-threaded process, so it only makes
//! async-signal-safe system calls and never allocates: the targets are copied into a fixed array before the fork,
//! and /proc/PID/stat is read into stack buffers.

use std::ffi::CString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// Most processes one fixture starts.
const MAX: usize = 4;

/// The process name of a guardian, as `comm` shows it.
pub(crate) const GUARDIAN_COMM: &str = "chrfix-guard";

/// Field 22 (starttime) of /proc/PID/stat, read without allocating; None if gone or a zombie.
fn starttime(pid: u32) -> Option<u64> {
    let mut path = [0u8; 32];
    let prefix = b"/proc/";
    path[..prefix.len()].copy_from_slice(prefix);
    let mut digits = [0u8; 10];
    let (mut n, mut len) = (pid, 0);
    loop {
        digits[len] = b'0' + (n % 10) as u8;
        len += 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    let mut at = prefix.len();
    for i in (0..len).rev() {
        path[at] = digits[i];
        at += 1;
    }
    path[at..at + 5].copy_from_slice(b"/stat");
    // path[at + 5] stays 0: NUL terminator.
    let mut buf = [0u8; 1024];
    // SAFETY: path is NUL-terminated; buf is a writable stack buffer of the given length; fd closed below.
    let got = unsafe {
        let fd = libc::open(path.as_ptr().cast(), libc::O_RDONLY | libc::O_CLOEXEC);
        if fd < 0 {
            return None;
        }
        let got = libc::read(fd, buf.as_mut_ptr().cast(), buf.len());
        libc::close(fd);
        got
    };
    let text = buf.get(..usize::try_from(got).ok()?)?;
    let close = text.iter().rposition(|&b| b == b')')?;
    let mut fields = text[close + 1..]
        .split(|&b| b == b' ')
        .filter(|f| !f.is_empty());
    let state = fields.next()?;
    if matches!(state.first(), Some(b'Z' | b'X' | b'x')) {
        return None;
    }
    let field = fields.nth(18)?;
    let mut value: u64 = 0;
    for &b in field {
        if !b.is_ascii_digit() {
            return None;
        }
        value = value.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    Some(value)
}

fn terminate_all(targets: &[(u32, u64)]) {
    for sig in [libc::SIGTERM, libc::SIGCONT] {
        for &(pid, start) in targets {
            if starttime(pid) == Some(start) {
                // SAFETY: kill has no memory-safety preconditions; the start time proves it is the same process.
                unsafe { libc::kill(pid as libc::pid_t, sig) };
            }
        }
    }
    let req = libc::timespec {
        tv_sec: 0,
        tv_nsec: 50_000_000,
    };
    for _ in 0..100 {
        if targets
            .iter()
            .all(|&(pid, start)| starttime(pid) != Some(start))
        {
            return;
        }
        // SAFETY: valid timespec; no remainder wanted.
        unsafe { libc::nanosleep(&req, std::ptr::null_mut()) };
    }
    for &(pid, start) in targets {
        if starttime(pid) == Some(start) {
            // SAFETY: as above.
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
        }
    }
}

/// Fork a guardian for `targets` (pid, starttime); returns its pid. If `remove_dir` is given, the guardian also
/// removes that directory after stopping the targets (by exec'ing `rm -rf`, prepared before the fork).
pub(crate) fn spawn(targets: &[(u32, u64)], remove_dir: Option<&Path>) -> io::Result<u32> {
    let rm_args: Option<[CString; 4]> = match remove_dir {
        Some(dir) => Some([
            CString::new("rm")?,
            CString::new("-rf")?,
            CString::new("--")?,
            CString::new(dir.as_os_str().as_bytes())?,
        ]),
        None => None,
    };
    let rm_argv: Option<[*const libc::c_char; 5]> = rm_args.as_ref().map(|a| {
        [
            a[0].as_ptr(),
            a[1].as_ptr(),
            a[2].as_ptr(),
            a[3].as_ptr(),
            std::ptr::null(),
        ]
    });
    let mut fixed = [(0u32, 0u64); MAX];
    let count = targets.len().min(MAX);
    fixed[..count].copy_from_slice(&targets[..count]);
    // SAFETY: getpid has no preconditions.
    let parent = unsafe { libc::getpid() };
    // SAFETY: after fork the child only makes async-signal-safe system calls (no allocation, no locks) and ends
    // with _exit, so forking a multi-threaded process is sound here.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(io::Error::last_os_error());
    }
    if pid == 0 {
        // SAFETY: see the fork above. Inherited pipes of other threads must not be kept open (their readers
        // would wait for EOF); the name is NUL-terminated.
        unsafe {
            let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
            for fd in 0..3 {
                libc::dup2(null, fd);
            }
            if libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32) != 0 {
                for fd in 3..4096 {
                    libc::close(fd);
                }
            }
            libc::prctl(libc::PR_SET_NAME, c"chrfix-guard".as_ptr());
        }
        let req = libc::timespec {
            tv_sec: 0,
            tv_nsec: 100_000_000,
        };
        loop {
            // SAFETY: getppid has no preconditions.
            if unsafe { libc::getppid() } != parent {
                terminate_all(&fixed[..count]);
                if let Some(argv) = &rm_argv {
                    // SAFETY: execv is async-signal-safe; path and argv are NUL-terminated and were built before
                    // the fork (the child's copy of the parent's memory keeps them alive).
                    unsafe { libc::execv(c"/bin/rm".as_ptr(), argv.as_ptr()) };
                }
                // SAFETY: ends the child without running the parent's atexit handlers or destructors.
                unsafe { libc::_exit(0) };
            }
            // SAFETY: valid timespec; no remainder wanted.
            unsafe { libc::nanosleep(&req, std::ptr::null_mut()) };
        }
    }
    Ok(pid as u32)
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_own_starttime() {
        let me = std::process::id();
        let text = std::fs::read_to_string(format!("/proc/{me}/stat")).unwrap();
        let rest = &text[text.rfind(')').unwrap() + 1..];
        let expected: u64 = rest.split_whitespace().nth(19).unwrap().parse().unwrap();
        assert_eq!(super::starttime(me), Some(expected));
        assert_eq!(super::starttime(u32::MAX), None);
    }
}
