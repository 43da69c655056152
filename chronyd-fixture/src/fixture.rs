//! [`Fixture`]: one chronyd under test (plus its server or feeder) in a private directory.

use std::fmt::Write as _;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use crate::procs::{self, Proc};
use crate::programs::{Chrony, program};
use crate::tracking::{self, ChronycTracking};
use crate::{Mode, feeder, guardian, leapday, ports, tmpdir};

/// How long `start` waits for the expected chronyc state.
const READY_TIMEOUT: Duration = Duration::from_secs(15);
/// Poll interval while waiting.
const POLL: Duration = Duration::from_millis(20);
/// Attempts with fresh ports when a port turns out to be taken.
const PORT_ATTEMPTS: usize = 5;
/// chronyc 4.3 binds `DIR/chronyc.<pid>.sock`, which must fit in sun_path (108 bytes with the NUL): DIR + 14 +
/// the pid's digits < 108, so 86 bytes for any pid up to 7 digits (Linux's pid_max is at most 4194304).
/// chronyc 4.8 and later bind `DIR/chronyc.<pid>/<16 random>/sock` (DIR + 31 + the pid's digits), so with them
/// chronyc reaches a directory of more than 69 bytes only over UDP (`wait_synced` then polls over UDP).
const MAX_DIR_LEN: usize = 86;
/// The name of [`Mode::Sources`]' source that never resolves: `.invalid` is reserved (RFC 2606), so even a
/// resolver that asked would get no address.
pub const UNRESOLVABLE_NAME: &str = "unresolvable.invalid";

/// The name service configuration of a daemon run in its own mount namespace ([`Fixture::resolves_offline`]):
/// host names from /etc/hosts only, so no lookup leaves the machine (no DNS).
const NSSWITCH_FILES: &str = "passwd: files\ngroup: files\nshadow: files\nhosts: files\n";

/// What chronyc prints when its own socket beside chronyd's would not fit in sun_path.
const CHRONYC_PATH_TOO_LONG: &str = "is too long";
/// Log lines that mean the daemon runs without something the fixture needs.
const BAD_LOG: [&str; 4] = [
    "Could not open",
    "Disabled command socket",
    "Wrong permissions",
    "Fatal",
];

/// A chronyd under test on loopback, never touching the clock (`-x`).
///
/// Files in [`Fixture::dir`]: `client.conf|log|pid` (the daemon under test), `server.*` and `server2.*` (its
/// NTP servers in [`Mode::Synced`], [`Mode::Sources`] and [`Mode::EightSources`]), `chronyd.sock`, `refclock.sock`
/// and `feeder.log` ([`Mode::Refclock`], [`Mode::Sources`], [`Mode::EightSources`]), `nts.key` and `nts.crt` ([`Mode::Nts`]).
/// Dropping it stops everything it started (thawing a frozen daemon first) and removes the directory it created.
#[derive(Debug)]
pub struct Fixture {
    dir: PathBuf,
    owns_dir: bool,
    mode: Mode,
    /// The chronyd and chronyc it runs (found once, at start).
    chrony: Chrony,
    cmd_port: u16,
    ntp_port: u16,
    /// The NTS-KE (TCP) port of [`Mode::Nts`]'s server.
    nts_port: u16,
    faketime_offset: Option<i64>,
    client: Option<Proc>,
    server: Option<Proc>,
    /// The second NTP server of [`Mode::Sources`] and [`Mode::EightSources`] (127.0.0.2).
    server2: Option<Proc>,
    feeder: Option<Proc>,
    /// Library mode: stops the daemons if this process dies without dropping the fixture.
    guardian: Option<Proc>,
    last_pid: u32,
    /// CLI mode: the processes outlive this value, and the feeder has its own session.
    detached: bool,
}

fn log_tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

fn user_args() -> Vec<String> {
    // SAFETY: geteuid has no preconditions.
    let uid = unsafe { libc::geteuid() };
    if uid == 0 {
        return vec!["-u".into(), "root".into()];
    }
    // Not root: chronyd refuses to start unless told not to check (-U) and to keep this user.
    let mut buf = vec![0 as libc::c_char; 4096];
    // SAFETY: passwd is plain old data; all-zero is a valid value.
    let mut pw: libc::passwd = unsafe { std::mem::zeroed() };
    let mut result: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: every pointer is valid for the call and buf's length is passed.
    let rc = unsafe { libc::getpwuid_r(uid, &mut pw, buf.as_mut_ptr(), buf.len(), &mut result) };
    let name = if rc == 0 && !result.is_null() {
        // SAFETY: on success pw_name points to a NUL-terminated string inside buf.
        unsafe { std::ffi::CStr::from_ptr(pw.pw_name) }
            .to_string_lossy()
            .into_owned()
    } else {
        uid.to_string()
    };
    vec!["-U".into(), "-u".into(), name]
}

impl Fixture {
    /// Start `mode` in a new directory `/tmp/chr.XXXXXX` (removed on drop); returns when chronyc shows the
    /// mode's ready state.
    pub fn start(mode: Mode) -> io::Result<Fixture> {
        let chrony = Chrony::find()?;
        let dir = tmpdir::make("chr", 0o750)?;
        let mut fx = Fixture::new(dir.clone(), true, mode, chrony, false);
        match fx.launch_fresh() {
            Ok(()) => Ok(fx),
            Err(e) => {
                drop(fx);
                let _ = std::fs::remove_dir_all(&dir);
                Err(e)
            }
        }
    }

    /// Start `mode` in `dir` (created if missing, set to mode 0750, kept on drop). `dir` must be short: the
    /// unix sockets inside it must fit in 108 bytes.
    pub fn start_in(dir: &Path, mode: Mode) -> io::Result<Fixture> {
        Fixture::start_in_inner(dir, mode, false)
    }

    pub(crate) fn start_in_inner(dir: &Path, mode: Mode, detached: bool) -> io::Result<Fixture> {
        let chrony = Chrony::find()?;
        std::fs::create_dir_all(dir)?;
        tmpdir::set_mode(dir, 0o750)?;
        let dir = std::fs::canonicalize(dir)?;
        let conf = dir.join("client.conf").to_string_lossy().into_owned();
        let running = procs::read_pidfile(&dir.join("client.pid"))
            .and_then(|pid| procs::identify(pid, "chronyd", &conf, false));
        if let Some(p) = running {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!(
                    "a fixture's chronyd (pid {}) is already running in {}",
                    p.pid,
                    dir.display()
                ),
            ));
        }
        let mut fx = Fixture::new(dir, false, mode, chrony, detached);
        fx.launch_fresh()?;
        Ok(fx)
    }

    fn new(dir: PathBuf, owns_dir: bool, mode: Mode, chrony: Chrony, detached: bool) -> Fixture {
        Fixture {
            dir,
            owns_dir,
            mode,
            chrony,
            cmd_port: 0,
            ntp_port: 0,
            nts_port: 0,
            faketime_offset: None,
            client: None,
            server: None,
            server2: None,
            feeder: None,
            guardian: None,
            last_pid: 0,
            detached,
        }
    }

    /// The directory holding configs, logs and sockets.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The mode this fixture runs.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// The chronyd and chronyc this fixture runs (found by [`Chrony::find`] when it started).
    pub fn chrony(&self) -> &Chrony {
        &self.chrony
    }

    /// The unix command socket of the daemon under test: `DIR/chronyd.sock`.
    pub fn socket_path(&self) -> PathBuf {
        self.dir.join("chronyd.sock")
    }

    /// The UDP command port, bound on 127.0.0.1 and ::1.
    pub fn cmd_port(&self) -> u16 {
        self.cmd_port
    }

    /// `127.0.0.1:PORT`.
    pub fn udp_v4(&self) -> String {
        format!("127.0.0.1:{}", self.cmd_port)
    }

    /// `[::1]:PORT`.
    pub fn udp_v6(&self) -> String {
        format!("[::1]:{}", self.cmd_port)
    }

    /// Pid of the daemon under test (the last one started, even if it has been killed since).
    pub fn pid(&self) -> u32 {
        self.last_pid
    }

    /// Pid of the NTP server daemon (127.0.0.1: [`Mode::Synced`], [`Mode::Sources`], [`Mode::EightSources`],
    /// [`Mode::Nts`]).
    pub fn server_pid(&self) -> Option<u32> {
        self.server.as_ref().map(|p| p.pid)
    }

    /// The unix command socket of the NTP server daemon on 127.0.0.1 (`DIR/server.sock`; it has no UDP command
    /// port): its clients report shows the daemon under test's NTP polls (and, in [`Mode::Nts`], its NTS-KE
    /// sessions). `None` in modes without a server.
    pub fn server_socket_path(&self) -> Option<PathBuf> {
        self.mode.has_server().then(|| self.dir.join("server.sock"))
    }

    /// Pid of the second NTP server daemon (127.0.0.2: [`Mode::Sources`], [`Mode::EightSources`]).
    pub fn server2_pid(&self) -> Option<u32> {
        self.server2.as_ref().map(|p| p.pid)
    }

    /// Pid of the refclock feeder ([`Mode::Refclock`], [`Mode::Sources`], [`Mode::EightSources`]).
    pub fn feeder_pid(&self) -> Option<u32> {
        self.feeder.as_ref().map(|p| p.pid)
    }

    /// The daemon under test is running (possibly frozen).
    pub fn is_alive(&self) -> bool {
        self.client.as_ref().is_some_and(Proc::alive)
    }

    /// The daemon under test is stopped by [`Fixture::freeze`].
    pub fn is_frozen(&self) -> bool {
        self.client.as_ref().is_some_and(Proc::stopped)
    }

    /// The libfaketime offset in seconds (leap modes only).
    pub fn faketime_offset(&self) -> Option<i64> {
        self.faketime_offset
    }

    /// Wait until chronyc (over the unix socket) shows the mode's ready state; polls every 20 ms. Once the
    /// socket exists, a chronyc that cannot bind its own socket beside it (a long directory with chronyc 4.8 or
    /// later, see `MAX_DIR_LEN`) is asked over UDP instead.
    /// The error says what chronyc showed last and ends with the log tail.
    pub fn wait_synced(&self, timeout: Duration) -> io::Result<()> {
        let start = Instant::now();
        let socket = self.socket_path();
        let mut last = String::from("(socket not created)");
        let mut over_udp = false;
        loop {
            if !self.is_alive() {
                return Err(self.error(io::ErrorKind::Other, "chronyd under test is not running"));
            }
            if socket.exists() {
                let tracking = if over_udp {
                    self.chronyc_tracking_udp()
                } else {
                    self.chronyc_tracking()
                };
                match tracking {
                    Ok(t) if self.mode.is_ready(&t) && !self.mode.has_sources() => return Ok(()),
                    // The source list is stable only once both iburst sources have ended their burst.
                    Ok(t) if self.mode.is_ready(&t) => match self.bursts_ended(over_udp) {
                        Ok((true, _)) => return Ok(()),
                        Ok((false, line)) => {
                            last = format!("{} (activity {line}: a source is in its burst)", t.raw)
                        }
                        Err(e) => last = e.to_string(),
                    },
                    Ok(t) => last = t.raw,
                    Err(e) if !over_udp && e.to_string().contains(CHRONYC_PATH_TOO_LONG) => {
                        over_udp = true;
                        last = format!("{e} (asking over UDP from now on)");
                        continue;
                    }
                    Err(e) => last = e.to_string(),
                }
            }
            if start.elapsed() >= timeout {
                let (refid, stratum) = self.mode.expected_ref();
                return Err(self.error(
                    io::ErrorKind::TimedOut,
                    &format!(
                        "chronyd not in the expected state (refid {refid:08X}, stratum {stratum}, {}) after {:?}; \
                         last chronyc: {last}",
                        self.mode.expected_leap(),
                        start.elapsed()
                    ),
                ));
            }
            sleep(POLL);
        }
    }

    /// `chronyc -c activity` over the unix socket or UDP: whether no source is in a burst, and the line.
    fn bursts_ended(&self, over_udp: bool) -> io::Result<(bool, String)> {
        let mut cmd = self.chrony.chronyc_command();
        if over_udp {
            cmd.args(["-h", "127.0.0.1", "-p", &self.cmd_port.to_string()]);
        } else {
            cmd.arg("-h").arg(self.socket_path());
        }
        let out = cmd.args(["-c", "activity"]).output()?;
        let line = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if !out.status.success() {
            return Err(io::Error::other(format!(
                "chronyc -c activity failed ({}): {line} {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        // online, offline, burst online-return, burst offline-return, unresolved
        let fields: Vec<&str> = line.split(',').collect();
        Ok((
            fields.len() == 5 && fields[2] == "0" && fields[3] == "0",
            line,
        ))
    }

    /// `chronyc -h <absolute socket path> -c tracking`.
    pub fn chronyc_tracking(&self) -> io::Result<ChronycTracking> {
        tracking::chronyc_tracking_unix(&self.chrony, &self.socket_path())
    }

    /// `chronyc -h <absolute socket path> ARGS...`: its standard output, or an error with its output when it
    /// fails.
    pub fn chronyc(&self, args: &[&str]) -> io::Result<String> {
        self.chronyc_on(&self.socket_path(), args)
    }

    /// [`Fixture::chronyc`] on the NTP server's unix socket ([`Fixture::server_socket_path`]).
    pub fn chronyc_server(&self, args: &[&str]) -> io::Result<String> {
        let socket = self.server_socket_path().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!("mode {} has no NTP server daemon", self.mode),
            )
        })?;
        self.chronyc_on(&socket, args)
    }

    /// `chronyc -h <absolute socket path> ARGS...` whatever its exit status (for answers chronyc reports as
    /// failures, such as `519 Client logging is not active in the daemon`).
    pub fn chronyc_output(&self, args: &[&str]) -> io::Result<Output> {
        self.chronyc_output_on(&self.socket_path(), args)
    }

    fn chronyc_output_on(&self, socket: &Path, args: &[&str]) -> io::Result<Output> {
        let mut cmd = self.chrony.chronyc_command();
        cmd.arg("-h").arg(socket).args(args);
        cmd.output().map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("cannot run {}: {e}", self.chrony.chronyc.display()),
            )
        })
    }

    fn chronyc_on(&self, socket: &Path, args: &[&str]) -> io::Result<String> {
        let out = self.chronyc_output_on(socket, args)?;
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        if !out.status.success() {
            return Err(io::Error::other(format!(
                "chronyc {} failed ({}): {} {}",
                args.join(" "),
                out.status,
                stdout.trim(),
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        Ok(stdout)
    }

    /// `chronyc -h 127.0.0.1 -p PORT -c tracking`.
    pub fn chronyc_tracking_udp(&self) -> io::Result<ChronycTracking> {
        tracking::chronyc_tracking(&self.chrony, "127.0.0.1", Some(self.cmd_port))
    }

    /// SIGSTOP the daemon under test: it stops answering (clients must time out).
    pub fn freeze(&self) -> io::Result<()> {
        self.client_proc()?.signal(libc::SIGSTOP)
    }

    /// SIGCONT the daemon under test.
    pub fn thaw(&self) -> io::Result<()> {
        self.client_proc()?.signal(libc::SIGCONT)
    }

    /// SIGKILL the daemon under test and wait until it is gone. Its socket file stays behind (stale: connect
    /// gives ECONNREFUSED). The server and feeder keep running.
    pub fn kill9(&mut self) -> io::Result<()> {
        self.client_proc()?.kill9()
    }

    /// Stop everything and start again: same directory, same ports, same mode. Waits until ready.
    pub fn restart(&mut self) -> io::Result<()> {
        self.stop()?;
        self.launch()?;
        self.wait_synced(READY_TIMEOUT).inspect_err(|_| {
            let _ = self.stop();
        })
    }

    /// SIGTERM (+SIGCONT) everything this fixture started and wait for it to exit (SIGKILL after 5 s).
    /// chronyd removes its socket and pid file. A no-op for processes already gone.
    pub fn stop(&mut self) -> io::Result<()> {
        let mut first_err = None;
        let all = [
            self.guardian.take(),
            self.feeder.take(),
            self.client.take(),
            self.server.take(),
            self.server2.take(),
        ];
        for p in all.into_iter().flatten() {
            if let Err(e) = p.terminate() {
                first_err.get_or_insert(e);
            }
        }
        first_err.map_or(Ok(()), Err)
    }

    fn client_proc(&self) -> io::Result<&Proc> {
        self.client.as_ref().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                "the chronyd under test was stopped",
            )
        })
    }

    /// An error whose message ends with the log tails of this fixture.
    fn error(&self, kind: io::ErrorKind, what: &str) -> io::Error {
        let mut msg = format!("{what} (fixture in {})", self.dir.display());
        for name in [
            "client.log",
            "client.stderr",
            "server.log",
            "server.stderr",
            "server2.log",
            "server2.stderr",
            "feeder.log",
        ] {
            let tail = log_tail(&self.dir.join(name), 15);
            if !tail.trim().is_empty() {
                let _ = write!(msg, "\n--- {name} (tail) ---\n{tail}");
            }
        }
        io::Error::new(kind, msg)
    }

    /// First start: pick ports, retrying with new ones on a clash, then wait until ready.
    fn launch_fresh(&mut self) -> io::Result<()> {
        self.mode.validate()?;
        let len = self.dir.as_os_str().as_bytes().len();
        if len > MAX_DIR_LEN {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "fixture directory too long ({len} > {MAX_DIR_LEN} bytes): {}",
                    self.dir.display()
                ),
            ));
        }
        if self.mode.faked() {
            self.faketime_offset = Some(leapday::offset_now());
        }
        let mut attempt = 0;
        loop {
            attempt += 1;
            self.cmd_port = ports::pick(ports::ipv6_loopback())?;
            self.ntp_port = if self.mode.has_server() {
                ports::pick(false)?
            } else {
                0
            };
            self.nts_port = if self.mode == Mode::Nts {
                ports::pick_tcp()?
            } else {
                0
            };
            match self.launch() {
                Ok(()) => break,
                Err(e) if e.kind() == io::ErrorKind::AddrInUse && attempt < PORT_ATTEMPTS => {
                    let _ = self.stop();
                }
                Err(e) => {
                    let _ = self.stop();
                    return Err(e);
                }
            }
        }
        self.wait_synced(READY_TIMEOUT).inspect_err(|_| {
            let _ = self.stop();
        })
    }

    /// Start the processes of the mode with the current ports (no waiting for sync).
    fn launch(&mut self) -> io::Result<()> {
        for stale in [
            "chronyd.sock",
            "server.sock",
            "server2.sock",
            "refclock.sock",
            "unfed.sock",
            "client.pid",
            "server.pid",
            "server2.pid",
        ] {
            let _ = std::fs::remove_file(self.dir.join(stale));
        }
        if self.mode.has_server() {
            let mut conf = self.server_conf("server", "127.0.0.1", 1);
            if self.mode == Mode::Nts {
                conf.push_str(&self.nts_server_conf()?);
            }
            self.write_conf("server", &conf)?;
            self.server = Some(self.run_daemon("server", &["-4"], false)?);
        }
        if self.mode.has_sources() {
            self.write_conf("server2", &self.server_conf("server2", "127.0.0.2", 3))?;
            self.server2 = Some(self.run_daemon("server2", &["-4"], false)?);
        }
        self.write_conf("client", &self.client_conf())?;
        // Without an IPv6 loopback (some containers) chronyd could not bind ::1: run it IPv4-only.
        let client_args: &[&str] = if ports::ipv6_loopback() { &[] } else { &["-4"] };
        let client = self.run_daemon("client", client_args, self.mode.faked())?;
        self.last_pid = client.pid;
        self.client = Some(client);
        if let Some(leap) = self.mode.feeder_leap() {
            let offset = self.faketime_offset.unwrap_or(0);
            let pid = feeder::spawn(
                &self.dir.join("refclock.sock"),
                leap,
                offset,
                &self.dir.join("feeder.log"),
                self.detached,
            )?;
            self.feeder = Some(self.named_child(pid, feeder::FEEDER_COMM)?);
        }
        if !self.detached {
            let targets: Vec<(u32, u64)> = [&self.client, &self.server, &self.server2]
                .into_iter()
                .flatten()
                .map(|p| (p.pid, p.starttime))
                .collect();
            let remove = self.owns_dir.then_some(self.dir.as_path());
            let pid = guardian::spawn(&targets, remove)?;
            self.guardian = Some(self.named_child(pid, guardian::GUARDIAN_COMM)?);
        }
        Ok(())
    }

    /// Wait for a forked child to name itself, so that it can be identified (and stopped) safely.
    fn named_child(&self, pid: u32, comm: &str) -> io::Result<Proc> {
        let deadline = Instant::now() + Duration::from_secs(2);
        loop {
            if let Some(p) = procs::identify(pid, comm, "", true) {
                return Ok(p);
            }
            if Instant::now() > deadline {
                // SAFETY: pid is our own child that just forked; kill has no memory-safety preconditions.
                unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
                return Err(self.error(
                    io::ErrorKind::Other,
                    &format!("the forked {comm} did not start"),
                ));
            }
            sleep(Duration::from_millis(1));
        }
    }

    fn common_conf(&self, name: &str) -> String {
        let d = self.dir.display();
        format!("pidfile {d}/{name}.pid\ndriftfile {d}/{name}.drift\n")
    }

    /// An NTP server daemon on `address` (a loopback address) at the fixture's NTP port, with a unix command
    /// socket `DIR/NAME.sock` (for its clients report) and no UDP command port.
    fn server_conf(&self, name: &str, address: &str, stratum: u8) -> String {
        format!(
            "# NTP server for the chronyd under test (unix command socket only)\n\
             port {p}\nbindaddress {address}\nallow 127.0.0.0/8\nlocal stratum {stratum}\ncmdport 0\n\
             bindcmdaddress {d}/{name}.sock\n{c}",
            p = self.ntp_port,
            d = self.dir.display(),
            c = self.common_conf(name),
        )
    }

    /// The NTS lines of [`Mode::Nts`]'s server, after making its key and self-signed certificate (`nts.key`,
    /// `nts.crt`; the client trusts that certificate).
    fn nts_server_conf(&self) -> io::Result<String> {
        let (key, cert) = (self.dir.join("nts.key"), self.dir.join("nts.crt"));
        let mut openssl = Command::new(program("openssl"));
        openssl.args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
        ]);
        openssl.args(["-nodes", "-days", "30", "-subj", "/CN=127.0.0.1"]);
        openssl.args(["-addext", "subjectAltName=IP:127.0.0.1", "-keyout"]);
        let out = openssl
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .stdin(Stdio::null())
            .output();
        let out = out.map_err(|e| {
            let what = format!(
                "cannot run openssl ({e}) for the NTS certificate: apt-get install openssl"
            );
            self.error(e.kind(), &what)
        })?;
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let what = format!(
                "openssl failed to make the NTS certificate ({}): {stderr}",
                out.status
            );
            return Err(self.error(io::ErrorKind::Other, &what));
        }
        // The NTS-KE server in chronyd's main process (no helper processes to track).
        Ok(format!(
            "ntsserverkey {}\nntsservercert {}\nntsport {}\nntsprocesses 0\n",
            key.display(),
            cert.display(),
            self.nts_port
        ))
    }

    fn client_conf(&self) -> String {
        let d = self.dir.display();
        let mut conf = format!(
            "# chronyd under test, mode {m}\nport 0\ncmdport {p}\nbindcmdaddress 127.0.0.1\n{v6}\
             bindcmdaddress {d}/chronyd.sock\n{c}",
            m = self.mode,
            v6 = if ports::ipv6_loopback() {
                "bindcmdaddress ::1\n"
            } else {
                ""
            },
            p = self.cmd_port,
            c = self.common_conf("client"),
        );
        match self.mode {
            Mode::Synced => {
                let _ = writeln!(
                    conf,
                    "server 127.0.0.1 port {} iburst minpoll -4 maxpoll -4",
                    self.ntp_port
                );
            }
            Mode::Sources | Mode::EightSources => {
                let p = self.ntp_port;
                let _ = write!(
                    conf,
                    "server 127.0.0.1 port {p} iburst minpoll -4 maxpoll -4 prefer\n\
                     server 127.0.0.2 port {p} iburst minpoll -4 maxpoll -4 noselect\n\
                     server 127.0.0.3 port {p} minpoll -4 maxpoll -4\n\
                     refclock SOCK {d}/refclock.sock refid GPS poll -4 filter 1\n\
                     refclock SOCK {d}/unfed.sock refid NONE poll -4\n\
                     smoothtime 400 0.001\n"
                );
                for name in self.unresolved_names() {
                    let _ = writeln!(conf, "server {name} iburst minpoll -4 maxpoll -4");
                }
                if self.mode == Mode::EightSources {
                    for host in 4..=6 {
                        let _ =
                            writeln!(conf, "server 127.0.0.{host} port {p} minpoll -4 maxpoll -4");
                    }
                }
            }
            Mode::Nts => {
                let _ = write!(
                    conf,
                    "server 127.0.0.1 port {} iburst minpoll -4 maxpoll -4 nts ntsport {}\n\
                     ntstrustedcerts {d}/nts.crt\n",
                    self.ntp_port, self.nts_port
                );
            }
            Mode::Unsynced => {}
            Mode::NoClientLog => conf.push_str("noclientlog\n"),
            Mode::Local { stratum } => {
                let _ = writeln!(conf, "local stratum {stratum}");
            }
            Mode::Refclock { .. } => {
                let _ = writeln!(
                    conf,
                    "refclock SOCK {d}/refclock.sock refid GPS poll -4 filter 1"
                );
            }
        }
        conf
    }

    /// Whether [`Mode::Sources`] has its source configured by a name ([`UNRESOLVABLE_NAME`]): only as root,
    /// which can run the daemon in a private mount namespace whose /etc/nsswitch.conf says `hosts: files`
    /// (chronyd would otherwise ask the DNS server of /etc/resolv.conf, off loopback).
    pub fn resolves_offline() -> bool {
        // is_root runs `id -u`; every start asks several times (config, command, fixture.env).
        static ROOT: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        *ROOT.get_or_init(crate::unpack::is_root)
    }

    /// The sources configured by a name that never resolves: [`UNRESOLVABLE_NAME`] in [`Mode::Sources`] when
    /// [`Fixture::resolves_offline`], none otherwise (also `UNRESOLVED_NAMES` in fixture.env).
    pub fn unresolved_names(&self) -> &'static [&'static str] {
        if self.mode == Mode::Sources && Self::resolves_offline() {
            &[UNRESOLVABLE_NAME]
        } else {
            &[]
        }
    }

    /// `command` (a chronyd with its arguments to come) run in a private mount namespace where
    /// /etc/nsswitch.conf is [`NSSWITCH_FILES`] (a file in the fixture's directory bind-mounted over it).
    fn offline_names(&self, command: Command) -> io::Result<Command> {
        let nsswitch = self.dir.join("nsswitch.conf");
        std::fs::write(&nsswitch, NSSWITCH_FILES)?;
        let mut unshare = Command::new(program("unshare"));
        unshare.args(["--mount", "--propagation", "private", "--", "sh", "-c"]);
        unshare.arg("mount --bind \"$1\" /etc/nsswitch.conf && shift && exec \"$@\"");
        unshare
            .arg("sh")
            .arg(&nsswitch)
            .arg(command.get_program())
            .args(command.get_args());
        for (key, value) in command.get_envs() {
            match value {
                Some(v) => unshare.env(key, v),
                None => unshare.env_remove(key),
            };
        }
        Ok(unshare)
    }

    fn write_conf(&self, name: &str, text: &str) -> io::Result<()> {
        std::fs::write(self.dir.join(format!("{name}.conf")), text)
    }

    /// Run `chronyd -x -u root -f DIR/NAME.conf -l DIR/NAME.log -L 0` (with `LD_LIBRARY_PATH` when the chronyd
    /// found needs it); it daemonises once initialised.
    /// Check the pid file, the process and the log.
    fn run_daemon(&self, name: &str, extra: &[&str], faked: bool) -> io::Result<Proc> {
        let conf = self.dir.join(format!("{name}.conf"));
        let log = self.dir.join(format!("{name}.log"));
        let _ = std::fs::remove_file(&log);
        let stderr = std::fs::File::create(self.dir.join(format!("{name}.stderr")))?;
        let mut cmd = match (faked, self.faketime_offset) {
            (true, Some(off)) => {
                let mut c = Command::new(program("faketime"));
                c.arg("-f").arg(format!("{off}s")).arg(&self.chrony.chronyd);
                self.chrony.apply_env(&mut c);
                c
            }
            _ => self.chrony.chronyd_command(),
        };
        if name == "client" && !self.unresolved_names().is_empty() {
            cmd = self.offline_names(cmd)?;
        }
        cmd.arg("-x")
            .args(user_args())
            .arg("-f")
            .arg(&conf)
            .arg("-l")
            .arg(&log)
            .args(["-L", "0"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr);
        let status = cmd.status().map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("cannot run {}: {e}", self.chrony.chronyd.display()),
            )
        })?;
        if !status.success() {
            return Err(self.error(
                io::ErrorKind::Other,
                &format!("chronyd ({name}) failed to start: {status}"),
            ));
        }
        let pid_file = self.dir.join(format!("{name}.pid"));
        let marker = conf.to_string_lossy().into_owned();
        let proc = procs::read_pidfile(&pid_file)
            .and_then(|pid| procs::identify(pid, "chronyd", &marker, false));
        let Some(proc) = proc else {
            return Err(self.error(
                io::ErrorKind::Other,
                &format!("chronyd ({name}) is not running after start"),
            ));
        };
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if let Some(bad) = BAD_LOG.iter().find(|b| text.contains(*b)) {
            let kind = if *bad == "Could not open" {
                io::ErrorKind::AddrInUse
            } else {
                io::ErrorKind::Other
            };
            let err = self.error(kind, &format!("chronyd ({name}) logged `{bad}`"));
            let _ = proc.terminate();
            return Err(err);
        }
        Ok(proc)
    }

    /// KEY=VALUE lines describing this fixture (the CLI's output and fixture.env).
    pub(crate) fn env_lines(&self) -> Vec<(String, String)> {
        let mut v = vec![
            ("DIR".to_string(), self.dir.display().to_string()),
            ("MODE".into(), self.mode.to_string()),
            ("SOCKET".into(), self.socket_path().display().to_string()),
            ("CMD_PORT".into(), self.cmd_port.to_string()),
            ("UDP_V4".into(), self.udp_v4()),
            ("UDP_V6".into(), self.udp_v6()),
            ("PID".into(), self.last_pid.to_string()),
            ("CHRONYD".into(), self.chrony.chronyd.display().to_string()),
            ("CHRONYC".into(), self.chrony.chronyc.display().to_string()),
            (
                "CHRONY_LIBRARY_PATH".into(),
                std::env::join_paths(&self.chrony.library_path)
                    .map(|p| p.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            ),
        ];
        if let Some(p) = &self.server {
            v.push(("SERVER_PID".into(), p.pid.to_string()));
            v.push(("NTP_PORT".into(), self.ntp_port.to_string()));
            if let Some(socket) = self.server_socket_path() {
                v.push(("SERVER_SOCKET".into(), socket.display().to_string()));
            }
        }
        if let Some(p) = &self.feeder {
            v.push(("FEEDER_PID".into(), p.pid.to_string()));
        }
        if let Some(off) = self.faketime_offset {
            v.push(("FAKETIME_OFFSET".into(), off.to_string()));
        }
        if !self.unresolved_names().is_empty() {
            v.push(("UNRESOLVED_NAMES".into(), self.unresolved_names().join(",")));
        }
        let procs: Vec<&Proc> = [&self.client, &self.server, &self.server2, &self.feeder]
            .into_iter()
            .flatten()
            .collect();
        v.push((
            "PIDS".into(),
            procs
                .iter()
                .map(|p| p.pid.to_string())
                .collect::<Vec<_>>()
                .join(","),
        ));
        v.push((
            "PROCS".into(),
            procs
                .iter()
                .map(|p| p.to_record())
                .collect::<Vec<_>>()
                .join(","),
        ));
        v
    }

    /// Leave everything running and forget it (CLI mode).
    pub(crate) fn detach(mut self) {
        self.detached = true;
        self.owns_dir = false;
        self.client = None;
        self.server = None;
        self.server2 = None;
        self.feeder = None;
        self.guardian = None;
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        if self.detached {
            return;
        }
        let _ = self.stop();
        if self.owns_dir {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
