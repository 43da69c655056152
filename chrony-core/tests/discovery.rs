//! Default socket discovery (`/run/chrony/chronyd.sock`, then `/var/run/chrony/chronyd.sock`)
//! against real chronyd daemons at those very paths, through the `tracking` example (the one-call
//! API without an address, each scenario in a fresh process) and `discover_socket()`:
//!
//! 1. only /run: its daemon answers; 2. only /var/run (/run/chrony exists, without a socket): that
//!    one; 3. both: /run wins; 4. neither: -2 naming both paths; 5. as `nobody`, /run/chrony 0750
//!    root: -3 (not a fall-through to an empty /var/run/chrony, which would be -2).
//!
//! The paths are the system's, so this runs only in the private mount namespace that
//! `cargo xtask test-socket-discovery` (CI's `discovery` stage) prepares: tmpfs over /run, /var
//! and /tmp. Elsewhere it is `#[ignore]`d, and it refuses to run outside that namespace.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

use chronyd_fixture::{Fixture, Mode};
use common::example_binary;

const RUN_SOCK: &str = "/run/chrony/chronyd.sock";
const VAR_SOCK: &str = "/var/run/chrony/chronyd.sock";
/// The two daemons report different references, so a report shows which socket was used.
const RUN_MODE: Mode = Mode::Synced;
const VAR_MODE: Mode = Mode::Local { stratum: 9 };

/// Set by `cargo xtask test-socket-discovery` inside its namespace.
const NAMESPACE_ENV: &str = "CHRONY_DISCOVERY_NAMESPACE";

/// True when /run is the tmpfs of the discovery namespace (never the host's /run).
fn in_discovery_namespace() -> bool {
    std::env::var(NAMESPACE_ENV).is_ok_and(|v| v == "1")
        && std::fs::read_to_string("/proc/self/mountinfo").is_ok_and(|m| {
            m.lines().any(|l| {
                let (mount, fs) = l.split_once(" - ").unwrap_or_default();
                mount.split_whitespace().nth(4) == Some("/run")
                    && fs.starts_with("tmpfs discovery ")
            })
        })
}

/// A fixture daemon whose socket is `socket` (its directory: 0750, root).
fn start(socket: &str, mode: Mode) -> Fixture {
    let dir = Path::new(socket).parent().expect("a directory");
    let fx = Fixture::start_in(dir, mode)
        .unwrap_or_else(|e| panic!("cannot start chronyd ({mode}) in {}: {e}", dir.display()));
    assert_eq!(fx.socket_path(), Path::new(socket));
    let (refid, stratum) = mode.expected_ref();
    let t = fx.chronyc_tracking().unwrap();
    assert_eq!(
        (t.ref_id, t.stratum),
        (refid, stratum),
        "not ready: {}",
        t.raw
    );
    fx
}

/// Stops a fixture; its socket must be gone (else the next scenario would see a stale one).
fn stop(mut fx: Fixture, socket: &str) {
    fx.stop().unwrap();
    drop(fx);
    assert!(
        !Path::new(socket).exists(),
        "{socket} left after stopping its chronyd"
    );
}

/// The example's report of `mode`'s daemon, or its error.
fn run_example(as_nobody: bool) -> Output {
    let mut cmd = if as_nobody {
        chronyd_fixture::nobody_command(&example_binary()).unwrap()
    } else {
        Command::new(example_binary())
    };
    cmd.current_dir("/").output().unwrap()
}

/// The example printed the report of the daemon in `mode`.
fn assert_used(scenario: &str, mode: Mode, socket: &str) {
    let out = run_example(false);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{scenario}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (refid, stratum) = mode.expected_ref();
    assert!(
        stdout.contains(&format!("Reference ID    : {refid:08X} "))
            && stdout.contains(&format!("Stratum         : {stratum}\n")),
        "{scenario}: expected the report of {socket}, got:\n{stdout}"
    );
    assert_eq!(
        chrony_core::discover_socket().unwrap(),
        Path::new(socket),
        "{scenario}"
    );
}

/// The example failed with `code` (its exit status is |code|), naming each of `paths`.
fn assert_fails(scenario: &str, code: i32, paths: &[&str], as_nobody: bool) {
    let out = run_example(as_nobody);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code.abs()), "{scenario}: {stderr}");
    assert!(
        stderr.starts_with(&format!("error {code}: ")),
        "{scenario}: {stderr}"
    );
    for path in paths {
        assert!(
            stderr.contains(path),
            "{scenario}: does not name {path}: {stderr}"
        );
    }
}

#[test]
#[ignore = "needs the private mount namespace of `cargo xtask test-socket-discovery`"]
fn default_socket_discovery_at_the_system_paths() {
    assert!(
        in_discovery_namespace(),
        "this test starts daemons at /run/chrony and /var/run/chrony: it runs only in the \
         namespace of `cargo xtask test-socket-discovery` ({NAMESPACE_ENV}=1, tmpfs over /run)"
    );
    std::fs::create_dir_all("/var/run").unwrap();

    let run_fx = start(RUN_SOCK, RUN_MODE);
    assert_used("only /run", RUN_MODE, RUN_SOCK);
    stop(run_fx, RUN_SOCK);

    let var_fx = start(VAR_SOCK, VAR_MODE);
    assert_used("only /var/run", VAR_MODE, VAR_SOCK);

    let run_fx = start(RUN_SOCK, RUN_MODE);
    assert_used("both", RUN_MODE, RUN_SOCK);
    stop(run_fx, RUN_SOCK);
    stop(var_fx, VAR_SOCK);

    assert_fails("neither", -2, &[RUN_SOCK, VAR_SOCK], false);
    assert_eq!(chrony_core::discover_socket().unwrap_err().code(), -2);

    // /var/run/chrony searchable and empty: falling through to it would give -2, not -3.
    let run_fx = start(RUN_SOCK, RUN_MODE);
    std::fs::set_permissions("/var/run/chrony", std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_fails("nobody, /run/chrony 0750", -3, &[RUN_SOCK], true);
    stop(run_fx, RUN_SOCK);
}
