//! Real chronyd daemons on loopback for this workspace's tests, never touching the clock.
//!
//! A [`Fixture`] runs the chronyd under test (`-x`: no clock control) with a unix command socket in a short
//! private directory and a UDP command port on 127.0.0.1 and ::1, synchronised according to its [`Mode`]:
//! to a second chronyd over NTP, to nothing, to its local reference, or to a SOCK refclock fed by a small feeder
//! process (optionally with a pending leap second, under libfaketime). `start` returns once `chronyc` shows the
//! mode's state; `Drop` stops everything it started.
//!
//! `cargo xtask chronyd start|start-unsync|status|stop DIR` is the same fixture for other languages ([`cli`]).
//!
//! ```no_run
//! use chronyd_fixture::{Fixture, Mode};
//! let fx = Fixture::start(Mode::Synced)?;
//! let t = fx.chronyc_tracking()?;
//! assert_eq!((t.ref_id, t.stratum, t.leap.as_str()), (0x7F000001, 2, "Normal"));
//! println!("unix {} udp {} {}", fx.socket_path().display(), fx.udp_v4(), fx.udp_v6());
//! # Ok::<(), std::io::Error>(())
//! ```
#![deny(missing_docs)]

pub mod cli;
pub mod fake;
mod feeder;
mod fixture;
mod guarantee;
mod guardian;
mod leapday;
mod mode;
mod nobody;
mod ports;
mod procs;
mod tmpdir;
mod tracking;
pub mod wire;

pub use fake::FakeChronyd;
pub use fixture::Fixture;
pub use guarantee::{REQUIRE_GUARANTEES_ENV, check_guarantee};
pub use mode::Mode;
pub use nobody::nobody_command;
pub use tracking::ChronycTracking;

/// chronyd and chronyc can be found (on PATH, or in /usr/sbin and /usr/bin where Debian puts them, which a
/// non-root PATH may lack). Tests that need them fail, never skip, without them; this is for messages.
pub fn chronyd_available() -> bool {
    find_program("chronyd").is_some() && find_program("chronyc").is_some()
}

/// The path of `name`: PATH first, then the usual system directories.
pub(crate) fn find_program(name: &str) -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(
            [
                "/usr/sbin",
                "/usr/bin",
                "/sbin",
                "/bin",
                "/usr/local/sbin",
                "/usr/local/bin",
            ]
            .map(Into::into),
        )
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// `find_program(name)`, or the bare name (so the spawn error names what is missing).
pub(crate) fn program(name: &str) -> std::path::PathBuf {
    find_program(name).unwrap_or_else(|| name.into())
}
