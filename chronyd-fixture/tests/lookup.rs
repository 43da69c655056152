//! `CHRONY_DIR` comes first in the lookup: the fixture runs the chronyd of that version directory.
//!
//! Machine-independent: the version directory is made here from copies of whatever chronyd and chronyc the
//! lookup finds first (`CHRONY_DIR` when the suite runs against another version, else an installed one or the
//! one unpacked by `cargo xtask chrony`), so the test proves the same thing on every machine: the running
//! daemon's /proc/PID/exe is the copy. Its own test binary: it sets an environment variable for the whole
//! process.

use std::path::{Path, PathBuf};
use std::process::Command;

use chronyd_fixture::{CHRONY_DIR_ENV, Chrony, Fixture, MANIFEST, Mode, Origin};

fn copy(from: &Path, to: &Path) {
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    // `cp` in a child: a write fd to an executable held here could leak into children forked meanwhile (ETXTBSY).
    let status = Command::new("cp")
        .arg("--")
        .arg(from)
        .arg(to)
        .status()
        .unwrap();
    assert!(status.success(), "cp {} {}", from.display(), to.display());
}

#[test]
fn chrony_dir_overrides_the_lookup_and_the_fixture_runs_that_chronyd() {
    // The programs to copy: those of CHRONY_DIR when it is set (the copy then overrides that override).
    let found = Chrony::find().unwrap_or_else(|e| panic!("{e}"));

    let dir = PathBuf::from(format!("/tmp/chrlookup.{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    copy(&found.chronyd, &dir.join("sbin/chronyd"));
    copy(&found.chronyc, &dir.join("bin/chronyc"));
    // The libraries the original needs, by absolute path (a manifest may name them either way).
    let libs: Vec<String> = found
        .library_path
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    std::fs::write(
        dir.join(MANIFEST),
        format!(
            "# a test version directory\nCHRONYD=sbin/chronyd\nCHRONYC=bin/chronyc\nLIBRARY_PATH={}\n",
            libs.join(":")
        ),
    )
    .unwrap();

    // SAFETY: this test binary has this one test, and nothing else runs yet that reads the environment.
    unsafe { std::env::set_var(CHRONY_DIR_ENV, &dir) };
    let chrony = Chrony::find().unwrap();
    assert_eq!(chrony.origin, Origin::Override);
    assert_eq!(chrony.chronyd, dir.join("sbin/chronyd"));
    assert_eq!(chrony.chronyc, dir.join("bin/chronyc"));

    let fx = Fixture::start(Mode::Unsynced).unwrap();
    assert_eq!(fx.chrony(), &chrony);
    let exe = std::fs::read_link(format!("/proc/{}/exe", fx.pid())).unwrap();
    assert_eq!(exe, dir.join("sbin/chronyd"), "the daemon under test");
    // chronyc (the copy) answers too: readiness used it already; once more over UDP.
    assert_eq!(fx.chronyc_tracking_udp().unwrap().stratum, 0);
    drop(fx);

    // A directory without chronyd is an error naming the variable, not a fall-back to another chronyd.
    std::fs::remove_file(dir.join("sbin/chronyd")).unwrap();
    let err = Fixture::start(Mode::Unsynced).unwrap_err().to_string();
    assert!(err.contains(CHRONY_DIR_ENV), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn chronyd_version_is_the_one_chronyc_names() {
    let chrony = Chrony::find().unwrap();
    let (major, minor) = chrony.version().unwrap();
    assert!((major, minor) >= (4, 3), "{major}.{minor}");
    let out = chrony.chronyc_command().arg("-v").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!("version {major}.{minor}")),
        "chronyd {major}.{minor}, chronyc says {text:?}"
    );
}
