//! stop / restart / kill9 / freeze, parallel fixtures, and cleanup.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use chronyd_fixture::{
    Fixture, Mode, chronyd_available, nobody_command, nobody_command_with_libraries,
};

fn start(mode: Mode) -> Fixture {
    assert!(
        chronyd_available(),
        "{}",
        chronyd_fixture::Chrony::find().unwrap_err()
    );
    Fixture::start(mode).unwrap_or_else(|e| panic!("start {mode}: {e}"))
}

fn proc_alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            s.rsplit_once(')')
                .map(|(_, rest)| rest.trim_start().to_string())
        })
        .is_some_and(|rest| !rest.starts_with('Z') && !rest.starts_with('X'))
}

#[test]
fn drop_stops_everything_and_removes_dir() {
    let fx = start(Mode::Synced);
    let (dir, pid, server) = (fx.dir().to_path_buf(), fx.pid(), fx.server_pid().unwrap());
    assert!(proc_alive(pid) && proc_alive(server));
    drop(fx);
    assert!(!proc_alive(pid) && !proc_alive(server));
    assert!(!dir.exists());
}

#[test]
fn drop_stops_refclock_feeder() {
    let fx = start(Mode::Refclock { leap: 0 });
    let feeder = fx.feeder_pid().unwrap();
    assert!(proc_alive(feeder));
    drop(fx);
    assert!(!proc_alive(feeder));
}

#[test]
fn stop_removes_socket_and_restart_comes_back() {
    let mut fx = start(Mode::Synced);
    let port = fx.cmd_port();
    let old = fx.pid();
    fx.stop().unwrap();
    assert!(!fx.socket_path().exists(), "SIGTERM removes the socket");
    assert!(!proc_alive(old));
    fx.stop().unwrap(); // idempotent
    let t0 = Instant::now();
    fx.restart().unwrap();
    eprintln!("restart (synced) took {:?}", t0.elapsed());
    assert_eq!(fx.cmd_port(), port);
    assert_ne!(fx.pid(), old);
    assert_eq!(fx.chronyc_tracking_udp().unwrap().ref_id, 0x7F00_0001);
}

#[test]
fn kill9_leaves_stale_socket_then_restart() {
    let mut fx = start(Mode::Unsynced);
    let pid = fx.pid();
    fx.kill9().unwrap();
    assert!(!proc_alive(pid));
    assert!(fx.socket_path().exists(), "SIGKILL leaves the socket file");
    let err = std::os::unix::net::UnixDatagram::unbound()
        .unwrap()
        .connect(fx.socket_path())
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
    fx.restart().unwrap();
    assert_eq!(fx.chronyc_tracking().unwrap().leap, "Not synchronised");
}

#[test]
fn freeze_silences_and_thaw_resumes() {
    let fx = start(Mode::Unsynced);
    fx.freeze().unwrap();
    // A frozen daemon's socket still accepts datagrams, but nothing answers: a raw round trip times out.
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    udp.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    udp.connect(fx.udp_v4()).unwrap();
    // A REQ_TRACKING request, padded as chronyc pads it.
    let req =
        chronyd_fixture::wire::request(chronyd_fixture::wire::command::TRACKING, 124, 0, [0; 4]);
    udp.send(&req).unwrap();
    let mut buf = [0u8; 1024];
    assert!(
        udp.recv(&mut buf).is_err(),
        "a frozen daemon must not answer"
    );
    fx.thaw().unwrap();
    udp.send(&req).unwrap();
    udp.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    assert!(udp.recv(&mut buf).unwrap() > 0, "a thawed daemon answers");
    fx.freeze().unwrap();
    // Dropping a frozen fixture must still stop it.
}

#[test]
fn frozen_daemon_stops() {
    let mut fx = start(Mode::Unsynced);
    let pid = fx.pid();
    fx.freeze().unwrap();
    let t0 = Instant::now();
    fx.stop().unwrap();
    assert!(
        t0.elapsed() < Duration::from_secs(3),
        "SIGCONT after SIGTERM lets it exit promptly"
    );
    assert!(!proc_alive(pid));
}

#[test]
fn parallel_fixtures_do_not_interfere() {
    let handles: Vec<_> = (0..4)
        .map(|i| {
            std::thread::spawn(move || {
                let mode = if i % 2 == 0 {
                    Mode::Synced
                } else {
                    Mode::Local { stratum: 5 + i }
                };
                let fx = start(mode);
                let t = fx.chronyc_tracking_udp().unwrap();
                assert!(mode.is_ready(&t), "{mode}: {}", t.raw);
                fx
            })
        })
        .collect();
    let fixtures: Vec<Fixture> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let mut ports: Vec<u16> = fixtures.iter().map(Fixture::cmd_port).collect();
    ports.sort_unstable();
    ports.dedup();
    assert_eq!(ports.len(), 4);
    for fx in &fixtures {
        assert!(fx.mode().is_ready(&fx.chronyc_tracking().unwrap()));
    }
}

#[test]
fn start_in_given_dir_keeps_it() {
    let base = std::env::temp_dir().join(format!("chrin.{}", std::process::id()));
    let dir = base.join("d");
    {
        let fx = Fixture::start_in(&dir, Mode::Unsynced).unwrap();
        let mode = std::fs::metadata(fx.dir()).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o750);
        assert!(fx.socket_path().exists());
        let err = Fixture::start_in(&dir, Mode::Unsynced).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::AlreadyExists, "{err}");
    }
    assert!(dir.exists());
    assert!(!dir.join("chronyd.sock").exists());
    std::fs::remove_dir_all(&base).unwrap();
}

#[test]
fn the_longest_directory_starts_with_every_chronyc() {
    // 86 bytes: chronyc 4.3's client socket fits beside chronyd's, chronyc 4.8's
    // (DIR/chronyc.PID/RANDOM/sock) does not; start waits over UDP then.
    let mut dir = format!("/tmp/chrlong.{}.", std::process::id());
    dir.push_str(&"l".repeat(86 - dir.len()));
    let _ = std::fs::remove_dir_all(&dir);
    {
        let fx = Fixture::start_in(Path::new(&dir), Mode::Local { stratum: 5 })
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(fx.socket_path().exists());
        assert_eq!(fx.chronyc_tracking_udp().unwrap().stratum, 5);
    }
    let mut longer = dir.clone();
    longer.push('l');
    let err = Fixture::start_in(Path::new(&longer), Mode::Unsynced).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
    let _ = std::fs::remove_dir_all(&longer);
}

#[test]
fn nobody_command_runs_as_nobody() {
    let mut cmd = nobody_command(Path::new("/usr/bin/id")).unwrap();
    let out = cmd.arg("-un").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "nobody");
}

#[test]
fn nobody_cannot_use_unix_socket_but_udp_works() {
    let fx = start(Mode::Unsynced);
    let sock = fx.socket_path();
    // The fixture's own chronyc (installed, or unpacked with its libraries), as nobody.
    let chronyc =
        || nobody_command_with_libraries(&fx.chrony().chronyc, &fx.chrony().library_path).unwrap();
    let out = chronyc()
        .args(["-h", &sock.to_string_lossy(), "-c", "tracking"])
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "nobody must not reach the root daemon's unix socket"
    );
    let out = chronyc()
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &fx.cmd_port().to_string(),
            "-c",
            "tracking",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).ends_with("Not synchronised\n"));
}

/// Helper for `daemons_die_with_the_test_process`: only acts when run by it.
#[test]
fn helper_start_and_exit_without_drop() {
    let Some(out) = std::env::var_os("CHRFIX_HELPER_OUT") else {
        return;
    };
    let fx = start(Mode::Synced);
    let rc = start(Mode::Refclock { leap: 0 });
    let pids = [
        fx.pid(),
        fx.server_pid().unwrap(),
        rc.pid(),
        rc.feeder_pid().unwrap(),
    ];
    let mut text: Vec<String> = pids.iter().map(u32::to_string).collect();
    text.push(fx.dir().display().to_string());
    text.push(rc.dir().display().to_string());
    std::fs::write(out, text.join(",")).unwrap();
    // Exit without running Drop, like a test binary killed by a timeout.
    std::process::exit(0);
}

#[test]
fn daemons_die_with_the_test_process() {
    let file = std::env::temp_dir().join(format!("chrfix-helper.{}", std::process::id()));
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "helper_start_and_exit_without_drop",
            "--test-threads=1",
        ])
        .env("CHRFIX_HELPER_OUT", &file)
        .output()
        .unwrap();
    let text = std::fs::read_to_string(&file).unwrap_or_default();
    let _ = std::fs::remove_file(&file);
    let pids: Vec<u32> = text.split(',').filter_map(|p| p.parse().ok()).collect();
    let dirs: Vec<&str> = text.split(',').filter(|p| p.starts_with('/')).collect();
    let helper_out = String::from_utf8_lossy(&out.stdout);
    assert_eq!((pids.len(), dirs.len()), (4, 2), "helper: {helper_out}");
    let t0 = Instant::now();
    while pids.iter().any(|&p| proc_alive(p)) || dirs.iter().any(|d| Path::new(d).exists()) {
        let (pids, dirs) = (&pids, &dirs);
        assert!(
            t0.elapsed() < Duration::from_secs(8),
            "left behind: {pids:?} {dirs:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    eprintln!(
        "orphans stopped and dirs removed {:?} after the test process exited",
        t0.elapsed()
    );
}
