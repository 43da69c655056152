//! `cargo xtask chronyd ...`: the fixture for tests in other languages (pytest).
//!
//! ```text
//! start [--mode M] DIR   start the daemons (M: synced (default), unsynced, local:N, refclock, refclock-leap:1|2,
//!                        sources, sources:8, nts, noclientlog),
//!                        write DIR/fixture.env and print it: SOCKET, CMD_PORT, UDP_V4, UDP_V6, PID, MODE,
//!                        CHRONYD, CHRONYC, CHRONY_LIBRARY_PATH (run CHRONYC with LD_LIBRARY_PATH set to it
//!                        when not empty), ...
//! start-unsync DIR       start --mode unsynced DIR
//! status DIR             print DIR/fixture.env; exit 0 if everything in it runs, 1 otherwise
//! stop DIR               stop everything listed in DIR/fixture.env (exit 0 also when already stopped)
//! ```
//!
//! Nothing stays in the foreground: chronyd daemonises itself, and a refclock feeder is a forked child in its own
//! session with stdio on DIR/feeder.log. The hidden `feed SOCKET LEAP OFFSET` runs a feeder loop in the
//! foreground (for debugging; `start` does not need it).

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use crate::procs::Proc;
use crate::{Fixture, Mode, feeder};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

const USAGE: &str = "usage: cargo xtask chronyd start [--mode synced|unsynced|local:N|refclock|refclock-leap:1|2|sources|sources:8|nts|noclientlog] DIR\n\
                     \x20      cargo xtask chronyd start-unsync DIR\n\
                     \x20      cargo xtask chronyd status DIR\n\
                     \x20      cargo xtask chronyd stop DIR";

/// The environment file `start` writes into DIR.
pub const ENV_FILE: &str = "fixture.env";

/// Run `cargo xtask chronyd ARGS...` (`args` excludes `chronyd`).
pub fn run(args: &[String]) -> Result<()> {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["start", "--mode", mode, dir] | ["start", dir, "--mode", mode] => {
            start(Path::new(dir), mode.parse()?)
        }
        ["start", dir] => start(Path::new(dir), Mode::Synced),
        ["start-unsync", dir] => start(Path::new(dir), Mode::Unsynced),
        ["status", dir] => status(Path::new(dir)),
        ["stop", dir] => stop(Path::new(dir)),
        ["feed", socket, leap, offset] => {
            feeder::run_foreground(Path::new(socket), leap.parse()?, offset.parse()?)?;
            Ok(())
        }
        ["-h" | "--help" | "help"] => {
            println!("{USAGE}");
            Ok(())
        }
        _ => Err(format!("bad arguments {args:?}\n{USAGE}").into()),
    }
}

fn start(dir: &Path, mode: Mode) -> Result<()> {
    if let Ok(env) = read_env(dir) {
        if all_alive(dir, &env)? {
            return Err(format!(
                "a fixture is already running in {} (stop it first)",
                dir.display()
            )
            .into());
        }
        // A half-dead earlier fixture (e.g. its chronyd was killed): clear away what is left of it.
        stop(dir)?;
    }
    let fx = Fixture::start_in_inner(dir, mode, true)?;
    let lines: String = fx
        .env_lines()
        .iter()
        .map(|(k, v)| format!("{k}={v}\n"))
        .collect();
    let env_path = fx.dir().join(ENV_FILE);
    let tmp = fx.dir().join(format!("{ENV_FILE}.tmp"));
    let written = std::fs::write(&tmp, &lines).and_then(|()| std::fs::rename(&tmp, &env_path));
    if let Err(e) = written {
        drop(fx); // stops everything
        return Err(format!("cannot write {}: {e}", env_path.display()).into());
    }
    fx.detach();
    print!("{lines}");
    Ok(())
}

fn env_path(dir: &Path) -> PathBuf {
    dir.join(ENV_FILE)
}

/// Parse DIR/fixture.env into KEY -> VALUE.
fn read_env(dir: &Path) -> io::Result<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(env_path(dir))?;
    Ok(text
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect())
}

fn procs(dir: &Path, env: &BTreeMap<String, String>) -> io::Result<Vec<Proc>> {
    let dir = env
        .get("DIR")
        .map_or_else(|| dir.to_path_buf(), PathBuf::from);
    let records = env.get("PROCS").map(String::as_str).unwrap_or("");
    records
        .split(',')
        .filter(|r| !r.is_empty())
        .map(|r| {
            Proc::from_record(r, &dir).ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("bad PROCS record `{r}` in {ENV_FILE}"),
                )
            })
        })
        .collect()
}

fn all_alive(dir: &Path, env: &BTreeMap<String, String>) -> io::Result<bool> {
    let procs = procs(dir, env)?;
    Ok(!procs.is_empty() && procs.iter().all(Proc::alive))
}

fn status(dir: &Path) -> Result<()> {
    let text = std::fs::read_to_string(env_path(dir))
        .map_err(|e| format!("no fixture in {} ({}: {e})", dir.display(), ENV_FILE))?;
    print!("{text}");
    let env = read_env(dir)?;
    let dead: Vec<String> = procs(dir, &env)?
        .iter()
        .filter(|p| !p.alive())
        .map(|p| format!("{} {}", p.comm, p.pid))
        .collect();
    if dead.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "fixture in {} is not running: {} gone",
            dir.display(),
            dead.join(", ")
        )
        .into())
    }
}

fn stop(dir: &Path) -> Result<()> {
    let env = match read_env(dir) {
        Ok(env) => env,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    let mut first_err = None;
    // Recorded as client, server, feeder: stop the feeder first.
    for p in procs(dir, &env)?.iter().rev() {
        if let Err(e) = p.terminate() {
            first_err.get_or_insert(e);
        }
    }
    if let Some(e) = first_err {
        return Err(e.into());
    }
    std::fs::remove_file(env_path(dir))?;
    Ok(())
}
