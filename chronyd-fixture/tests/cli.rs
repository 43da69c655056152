//! `cargo xtask chronyd start|status|stop DIR` round trip (through `cli::run`, as xtask calls it).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use chronyd_fixture::{ChronycTracking, chronyd_available, cli};

fn run(args: &[&str]) -> Result<(), String> {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    cli::run(&args).map_err(|e| e.to_string())
}

fn env(dir: &Path) -> BTreeMap<String, String> {
    std::fs::read_to_string(dir.join(cli::ENV_FILE))
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// chronyc as the fixture reported it (CHRONYC and CHRONY_LIBRARY_PATH), the way pytest runs it.
fn tracking(e: &BTreeMap<String, String>, args: &[&str]) -> ChronycTracking {
    let mut cmd = Command::new(&e["CHRONYC"]);
    if !e["CHRONY_LIBRARY_PATH"].is_empty() {
        cmd.env("LD_LIBRARY_PATH", &e["CHRONY_LIBRARY_PATH"]);
    }
    let out = cmd.args(args).args(["-c", "tracking"]).output().unwrap();
    ChronycTracking::parse(&String::from_utf8_lossy(&out.stdout)).unwrap()
}

fn pid_alive(pid: &str) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rsplit_once(')').map(|(_, r)| r.trim_start().to_string()))
        .is_some_and(|r| !r.starts_with('Z'))
}

fn test_dir(tag: &str) -> PathBuf {
    PathBuf::from(format!("/tmp/chrcli.{tag}.{}", std::process::id()))
}

#[test]
fn start_status_stop_synced() {
    assert!(
        chronyd_available(),
        "{}",
        chronyd_fixture::Chrony::find().unwrap_err()
    );
    let dir = test_dir("s");
    let d = dir.to_str().unwrap();
    run(&["start", d]).unwrap();
    let e = env(&dir);
    assert_eq!(e["MODE"], "synced");
    assert_eq!(e["SOCKET"], format!("{d}/chronyd.sock"));
    assert_eq!(e["UDP_V4"], format!("127.0.0.1:{}", e["CMD_PORT"]));
    assert_eq!(e["UDP_V6"], format!("[::1]:{}", e["CMD_PORT"]));
    // The programs the fixture runs, for other languages' tests.
    let chrony = chronyd_fixture::Chrony::find().unwrap();
    assert_eq!(e["CHRONYD"], chrony.chronyd.display().to_string());
    assert_eq!(e["CHRONYC"], chrony.chronyc.display().to_string());
    let t = tracking(&e, &["-h", &e["SOCKET"]]);
    assert_eq!((t.ref_id, t.stratum), (0x7F00_0001, 2));
    let t = tracking(&e, &["-h", "::1", "-p", &e["CMD_PORT"]]);
    assert_eq!((t.ref_id, t.stratum), (0x7F00_0001, 2));
    run(&["status", d]).unwrap();
    assert!(run(&["start", d]).unwrap_err().contains("already running"));
    let pids: Vec<String> = e["PIDS"].split(',').map(str::to_string).collect();
    assert_eq!(pids.len(), 2);
    run(&["stop", d]).unwrap();
    assert!(pids.iter().all(|p| !pid_alive(p)));
    assert!(run(&["status", d]).is_err());
    run(&["stop", d]).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn status_fails_when_daemon_died() {
    let dir = test_dir("u");
    let d = dir.to_str().unwrap();
    run(&["start-unsync", d]).unwrap();
    let e = env(&dir);
    assert_eq!(e["MODE"], "unsynced");
    assert_eq!(tracking(&e, &["-h", &e["SOCKET"]]).leap, "Not synchronised");
    Command::new("kill")
        .args(["-9", &e["PID"]])
        .status()
        .unwrap();
    while pid_alive(&e["PID"]) {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let err = run(&["status", d]).unwrap_err();
    assert!(err.contains("not running"), "{err}");
    // start clears what is left of the half-dead fixture and starts afresh
    run(&["start-unsync", d]).unwrap();
    run(&["status", d]).unwrap();
    run(&["stop", d]).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn refclock_leap_mode_and_feeder_stop() {
    let dir = test_dir("r");
    let d = dir.to_str().unwrap();
    run(&["start", "--mode", "refclock-leap:1", d]).unwrap();
    let e = env(&dir);
    assert_eq!(e["MODE"], "refclock-leap:1");
    let t = tracking(&e, &["-h", &e["SOCKET"]]);
    assert_eq!(
        (t.ref_id, t.name.as_str(), t.leap.as_str()),
        (0x4750_5300, "GPS", "Insert second")
    );
    let feeder = e["FEEDER_PID"].clone();
    assert!(pid_alive(&feeder));
    run(&["stop", d]).unwrap();
    assert!(!pid_alive(&feeder) && !pid_alive(&e["PID"]));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_arguments_are_errors() {
    assert!(run(&[]).is_err());
    assert!(run(&["start", "--mode", "bogus", "/tmp/chrcli.never"]).is_err());
    assert!(!Path::new("/tmp/chrcli.never").exists());
}
