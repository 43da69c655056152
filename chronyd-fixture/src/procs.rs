//! Processes the fixture started: identity checks through /proc and signals.
//!
//! chronyd daemonises and is reparented, so a pid alone proves nothing: it may be a zombie nobody reaps, or a
//! recycled pid. A process counts as ours only if its comm, its start time and (for chronyd) its cmdline match.

use std::io;
use std::path::Path;
use std::thread::sleep;
use std::time::{Duration, Instant};

/// One process started by a fixture, with what identifies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Proc {
    pub(crate) pid: u32,
    /// `comm` as the kernel reports it (`chronyd`, or the feeder's name).
    pub(crate) comm: String,
    /// Field 22 of /proc/PID/stat, in clock ticks since boot.
    pub(crate) starttime: u64,
    /// A string the cmdline must contain (the config path for chronyd); empty: not checked.
    pub(crate) cmdline_marker: String,
    /// Our own child (must be reaped with waitpid), as opposed to a daemon reparented elsewhere.
    pub(crate) is_child: bool,
}

struct Stat {
    state: char,
    comm: String,
    starttime: u64,
}

fn stat(pid: u32) -> Option<Stat> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let comm = text[open + 1..close].to_string();
    let rest: Vec<&str> = text[close + 1..].split_whitespace().collect();
    let state = rest.first()?.chars().next()?;
    // rest[0] is field 3 (state), so field 22 (starttime) is rest[19].
    let starttime = rest.get(19)?.parse().ok()?;
    Some(Stat {
        state,
        comm,
        starttime,
    })
}

fn cmdline(pid: u32) -> Option<String> {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    Some(String::from_utf8_lossy(&raw).replace('\0', " "))
}

/// Identify the live process `pid` as `comm` whose cmdline contains `marker` ("" = any).
pub(crate) fn identify(pid: u32, comm: &str, marker: &str, is_child: bool) -> Option<Proc> {
    let st = stat(pid)?;
    if st.comm != comm || matches!(st.state, 'Z' | 'X' | 'x') {
        return None;
    }
    if !marker.is_empty() && !cmdline(pid)?.contains(marker) {
        return None;
    }
    Some(Proc {
        pid,
        comm: comm.to_string(),
        starttime: st.starttime,
        cmdline_marker: marker.to_string(),
        is_child,
    })
}

impl Proc {
    /// Still running (not a zombie), and still the same process.
    pub(crate) fn alive(&self) -> bool {
        self.reap();
        match stat(self.pid) {
            Some(st) => {
                st.comm == self.comm
                    && st.starttime == self.starttime
                    && !matches!(st.state, 'Z' | 'X' | 'x')
            }
            None => false,
        }
    }

    /// Stopped by SIGSTOP (state `T`).
    pub(crate) fn stopped(&self) -> bool {
        self.alive() && stat(self.pid).is_some_and(|st| st.state == 'T')
    }

    fn reap(&self) {
        if self.is_child {
            let mut status = 0;
            // SAFETY: waitpid on our own child pid with a valid status pointer; WNOHANG never blocks.
            unsafe { libc::waitpid(self.pid as libc::pid_t, &mut status, libc::WNOHANG) };
        }
    }

    /// Send `sig`, only if the process is still the one we started.
    pub(crate) fn signal(&self, sig: libc::c_int) -> io::Result<()> {
        if !self.alive() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("process {} ({}) is not running", self.pid, self.comm),
            ));
        }
        // SAFETY: kill has no memory-safety preconditions; the pid was just checked to be ours.
        if unsafe { libc::kill(self.pid as libc::pid_t, sig) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Wait until the process is gone; false on timeout.
    pub(crate) fn wait_gone(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if !self.alive() {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            sleep(Duration::from_millis(5));
        }
    }

    /// SIGTERM + SIGCONT, wait up to 5 s, then SIGKILL. Ok if it was not running.
    pub(crate) fn terminate(&self) -> io::Result<()> {
        if !self.alive() {
            return Ok(());
        }
        let _ = self.signal(libc::SIGTERM);
        let _ = self.signal(libc::SIGCONT);
        if self.wait_gone(Duration::from_secs(5)) {
            return Ok(());
        }
        self.kill9()
    }

    /// SIGKILL and wait until it is gone.
    pub(crate) fn kill9(&self) -> io::Result<()> {
        if !self.alive() {
            return Ok(());
        }
        let _ = self.signal(libc::SIGKILL);
        if self.wait_gone(Duration::from_secs(3)) {
            Ok(())
        } else {
            Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("process {} ({}) survived SIGKILL", self.pid, self.comm),
            ))
        }
    }

    /// `comm:pid:starttime`, the form stored in fixture.env.
    pub(crate) fn to_record(&self) -> String {
        format!("{}:{}:{}", self.comm, self.pid, self.starttime)
    }

    /// Parse a record written by [`Proc::to_record`]; `dir` is the marker for chronyd.
    pub(crate) fn from_record(record: &str, dir: &Path) -> Option<Proc> {
        let mut it = record.rsplitn(3, ':');
        let starttime = it.next()?.parse().ok()?;
        let pid = it.next()?.parse().ok()?;
        let comm = it.next()?.to_string();
        let cmdline_marker = if comm == "chronyd" {
            format!("{}/", dir.display())
        } else {
            String::new()
        };
        Some(Proc {
            pid,
            comm,
            starttime,
            cmdline_marker,
            is_child: false,
        })
    }
}

/// Read a pid file written by chronyd.
pub(crate) fn read_pidfile(path: &Path) -> Option<u32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifies_itself() {
        let me = std::process::id();
        let st = stat(me).expect("own stat");
        let p = identify(me, &st.comm, "", false).expect("identify self");
        assert!(p.alive());
        let rec = p.to_record();
        let back = Proc::from_record(&rec, Path::new("/x")).unwrap();
        assert_eq!(back.pid, me);
        assert_eq!(back.starttime, p.starttime);
        assert!(back.alive());
        let other = Proc {
            starttime: p.starttime + 1,
            ..p
        };
        assert!(
            !other.alive(),
            "a different start time is a different process"
        );
    }
}
