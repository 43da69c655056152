//! `chrony_open_socket` / `chrony_close_socket`: the address grammar, the
//! errno of each failure (against real chronyd daemons), and that closing
//! removes everything opening created.

mod common;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use chronyd_fixture::{Fixture, Mode};
use common::{Conn, close, given, list_dir, open};
use libchrony_sys::{self as sys, Guarantee};

fn start(mode: Mode) -> Fixture {
    Fixture::start(mode).unwrap_or_else(|e| panic!("starting chronyd ({mode:?}): {e}"))
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

/// A private short directory for sockets of our own.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let mut template = format!("/tmp/lcs{tag}.XXXXXX\0").into_bytes();
        // SAFETY: template is a writable NUL-terminated buffer ending in XXXXXX.
        let p = unsafe { libc::mkdtemp(template.as_mut_ptr().cast()) };
        assert!(!p.is_null(), "mkdtemp: errno {}", common::errno());
        template.pop();
        TempDir(PathBuf::from(String::from_utf8(template).unwrap()))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A bound unix datagram socket at `path` (a live "server" nobody reads).
fn bind_unix(path: &Path) -> std::os::unix::net::UnixDatagram {
    std::os::unix::net::UnixDatagram::bind(path)
        .unwrap_or_else(|e| panic!("bind {}: {e}", path.display()))
}

#[test]
fn invalid_addresses_give_einval() {
    let long_path = format!("/tmp/{}", "x".repeat(110));
    for address in [
        "[::1]",
        "1.2.3.4:",
        "999.1.1.1",
        "relative.sock",
        "localhost",
        ":323",
        "[::1]:",
        "[::1]x:323",
        long_path.as_str(),
    ] {
        assert_eq!(open(address), Err(libc::EINVAL), "{address:?}");
    }
    // libchrony 0.2 takes atoi() of the port: these open port 0, 70000 % 65536...
    if given(Guarantee::StrictPorts) {
        for address in ["1.2.3.4:abc", "1.2.3.4:70000", "1.2.3.4:0", "1.2.3.4:+1"] {
            assert_eq!(open(address), Err(libc::EINVAL), "{address:?}");
        }
    }
    // Too long for the 256-byte copy of an IP address.
    assert_eq!(open(&"1".repeat(300)), Err(libc::EINVAL));
}

#[test]
fn accepted_ip_address_forms() {
    for address in [
        "127.0.0.1",
        "127.0.0.1:1323",
        "::1",
        "[::1]:323",
        // Three colons without brackets: the IPv6 address ::1:323, port 323.
        "::1:323",
    ] {
        let fd = open(address).unwrap_or_else(|e| panic!("{address:?}: errno {e}"));
        close(fd);
    }
}

#[test]
fn default_address_opens_something() {
    // The UDP fallbacks always connect locally, with or without a daemon.
    for fd in [open("").expect("\"\""), {
        // SAFETY: NULL selects the default addresses.
        let fd = unsafe { sys::chrony_open_socket(std::ptr::null()) };
        assert!(fd >= 0, "NULL: errno {}", common::errno());
        fd
    }] {
        close(fd);
    }
}

#[test]
fn missing_socket_gives_enoent() {
    let fx = start(Mode::Unsynced);
    let missing = fx.dir().join("missing.sock");
    assert_eq!(open(path_str(&missing)), Err(libc::ENOENT));
    assert_eq!(
        open("/nonexistent-libchrony-dir/chronyd.sock"),
        Err(libc::ENOENT)
    );
    assert_eq!(open("/nonexistent-libchrony.sock"), Err(libc::ENOENT));
}

#[test]
fn stopped_daemon_gives_enoent() {
    let mut fx = start(Mode::Unsynced);
    let path = fx.socket_path();
    fx.stop().unwrap();
    assert_eq!(open(path_str(&path)), Err(libc::ENOENT));
}

#[test]
fn stale_socket_after_kill9_gives_econnrefused() {
    let mut fx = start(Mode::Unsynced);
    let before = list_dir(fx.dir());
    fx.kill9().unwrap();
    let path = fx.socket_path();
    assert!(path.exists(), "SIGKILL leaves the socket file");
    assert_eq!(open(path_str(&path)), Err(libc::ECONNREFUSED));
    assert_eq!(list_dir(fx.dir()), before, "nothing created on failure");
}

#[test]
fn regular_file_gives_econnrefused() {
    let fx = start(Mode::Unsynced);
    let file = fx.dir().join("file.sock");
    std::fs::write(&file, b"").unwrap();
    assert_eq!(open(path_str(&file)), Err(libc::ECONNREFUSED));
}

/// Set in the environment of the as-nobody child when the test binary itself is the probe.
const PROBE_ENV: &str = "LIBCHRONY_SYS_OPEN_PROBE";

/// The child half of the as-nobody tests when examples are not built (e.g.
/// `cargo test --tests`): with PROBE_ENV set, behaves like examples/open_probe.
#[test]
fn open_probe_child() {
    let Some(address) = std::env::var_os(PROBE_ENV) else {
        return;
    };
    match open(address.to_str().expect("UTF-8 address")) {
        Ok(fd) => {
            close(fd);
            println!("open_probe: ok");
        }
        Err(errno) => println!("open_probe: errno={errno}"),
    }
}

/// Runs `chrony_open_socket(address)` as `nobody`; returns what the probe printed.
fn open_as_nobody(address: &str) -> String {
    let exe = std::env::current_exe().unwrap();
    let example = exe.parent().unwrap().join("../examples/open_probe");
    let mut cmd = if example.exists() {
        let mut c = chronyd_fixture::nobody_command(&example).unwrap();
        c.arg(address);
        c
    } else {
        let mut c = chronyd_fixture::nobody_command(&exe).unwrap();
        c.args([
            "--exact",
            "open_probe_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(PROBE_ENV, address);
        c
    };
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    stdout
        .lines()
        .find_map(|l| l.split_once("open_probe: ").map(|(_, outcome)| outcome))
        .unwrap_or_else(|| {
            panic!(
                "the probe printed no outcome: {out:?}\nstdout: {stdout}\nstderr: {}",
                String::from_utf8_lossy(&out.stderr)
            )
        })
        .to_string()
}

#[test]
fn non_root_user_gets_eacces() {
    let fx = start(Mode::Unsynced);
    let before = list_dir(fx.dir());
    assert_eq!(
        open_as_nobody(path_str(&fx.socket_path())),
        format!("errno={}", libc::EACCES)
    );
    assert_eq!(list_dir(fx.dir()), before);
    // The same user over UDP is fine.
    assert_eq!(open_as_nobody(&fx.udp_v4()), "ok");
}

#[test]
fn client_socket_lives_in_private_directories_and_close_removes_them() {
    let fx = start(Mode::Unsynced);
    let before = list_dir(fx.dir());
    let fd = open(path_str(&fx.socket_path())).unwrap();

    let during = list_dir(fx.dir());
    let new: Vec<&String> = during.iter().filter(|n| !before.contains(n)).collect();
    assert_eq!(new.len(), 1, "one new entry: {during:?}");
    let dir1_name = new[0];
    let rand1 = dir1_name
        .strip_prefix("libchrony.")
        .expect("libchrony.<random>");
    assert_eq!(rand1.len(), 12);
    assert!(rand1.chars().all(|c| c.is_ascii_alphanumeric()));

    let dir1 = fx.dir().join(dir1_name);
    let inner = list_dir(&dir1);
    assert_eq!(inner.len(), 1);
    assert_eq!(inner[0].len(), 16);
    assert!(inner[0].chars().all(|c| c.is_ascii_alphanumeric()));
    let dir2 = dir1.join(&inner[0]);
    assert_eq!(list_dir(&dir2), ["sock"]);
    // SAFETY: geteuid has no preconditions.
    let euid = unsafe { libc::geteuid() };
    for (path, mode) in [(&dir1, 0o711), (&dir2, 0o711), (&dir2.join("sock"), 0o666)] {
        let md = std::fs::symlink_metadata(path).unwrap();
        assert_eq!(md.permissions().mode() & 0o7777, mode, "{}", path.display());
        assert_eq!(md.uid(), euid);
    }

    // The socket works, then closing removes the socket and both directories.
    {
        let conn = Conn::on_fd(fd);
        assert!(conn.record("tracking", 0).is_ok());
    }
    close(fd);
    assert_eq!(list_dir(fx.dir()), before);
}

#[test]
fn closing_after_every_report_leaves_nothing_behind() {
    let fx = start(Mode::Synced);
    let before = list_dir(fx.dir());
    for _ in 0..20 {
        let conn = Conn::open(path_str(&fx.socket_path()));
        assert!(conn.record("tracking", 0).is_ok());
    }
    assert_eq!(list_dir(fx.dir()), before);
}

#[test]
fn client_path_too_long_gives_einval_and_creates_nothing() {
    // A socket directory of 70 characters: the server path fits in sun_path,
    // but <dir>/libchrony.<12>/<16>/sock does not.
    let tmp = TempDir::new("long");
    let dir = tmp.0.join("d".repeat(70 - tmp.0.as_os_str().len() - 1));
    std::fs::create_dir(&dir).unwrap();
    assert_eq!(dir.as_os_str().len(), 70);
    let server = dir.join("s.sock");
    let _listener = bind_unix(&server);
    let before = list_dir(&dir);
    assert_eq!(open(path_str(&server)), Err(libc::EINVAL));
    assert_eq!(list_dir(&dir), before);
}

#[test]
fn unwritable_socket_directory_gives_eacces_as_nobody() {
    // The probe connect succeeds (socket 0777, directory searchable), but
    // nobody cannot create its private directory next to the socket.
    let tmp = TempDir::new("ro");
    std::fs::set_permissions(&tmp.0, std::fs::Permissions::from_mode(0o755)).unwrap();
    let server = tmp.0.join("s.sock");
    let _listener = bind_unix(&server);
    std::fs::set_permissions(&server, std::fs::Permissions::from_mode(0o777)).unwrap();
    assert_eq!(
        open_as_nobody(path_str(&server)),
        format!("errno={}", libc::EACCES)
    );
    assert_eq!(list_dir(&tmp.0), ["s.sock"]);
}

#[test]
fn close_leaves_foreign_sockets_alone() {
    // An AF_UNIX socket bound by someone else: close only closes it.
    // (libchrony 0.2 unlinks whatever path the socket is bound to.)
    if !given(Guarantee::VerifiedClientSocket) {
        return;
    }
    let tmp = TempDir::new("own");
    let path = tmp.0.join("mine.sock");
    let sock = bind_unix(&path);
    let fd = std::os::fd::IntoRawFd::into_raw_fd(sock);
    close(fd);
    assert!(
        path.exists(),
        "a socket not created by chrony_open_socket stays"
    );
}

#[test]
fn setgid_socket_directory_is_accepted() {
    // Directories created in a setgid directory inherit S_ISGID: harmless,
    // and not a reason for EPROTO.
    let tmp = TempDir::new("sgid");
    std::fs::set_permissions(&tmp.0, std::fs::Permissions::from_mode(0o2750)).unwrap();
    let server = tmp.0.join("s.sock");
    let _listener = bind_unix(&server);
    let fd = open(path_str(&server)).unwrap_or_else(|e| panic!("errno {e}"));
    let entries = list_dir(&tmp.0);
    assert_eq!(entries.len(), 2, "{entries:?}");
    close(fd);
    assert_eq!(list_dir(&tmp.0), ["s.sock"]);
}

#[test]
fn socket_directly_in_the_root_directory_gives_einval() {
    // The probe connect succeeds, but there is no directory to create the
    // client socket in.
    let path = PathBuf::from(format!("/libchrony-sys-test.{}.sock", std::process::id()));
    struct Unlink<'a>(&'a Path);
    impl Drop for Unlink<'_> {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(self.0);
        }
    }
    let _cleanup = Unlink(&path);
    let _listener = bind_unix(&path);
    assert_eq!(open(path_str(&path)), Err(libc::EINVAL));
}
