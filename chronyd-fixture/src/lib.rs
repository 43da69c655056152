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
//! Which chronyd and chronyc run: `CHRONY_DIR` if set, else an installed chrony, else the Debian package that
//! `cargo xtask chrony` unpacks under the workspace's `target/chrony/` ([`Chrony::find`]).
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
mod programs;
pub mod prometheus;
pub mod relay;
pub mod source_build;
mod tmpdir;
mod tracking;
pub mod unpack;
pub mod wire;

pub use fake::FakeChronyd;
pub use fixture::{Fixture, UNRESOLVABLE_NAME};
pub use guarantee::{REQUIRE_GUARANTEES_ENV, check_guarantee};
pub use mode::Mode;
pub use nobody::{nobody_command, nobody_command_with_libraries};
pub use programs::{CHRONY_DIR_ENV, Chrony, MANIFEST, Origin, default_unpacked_dir, unpacked_root};
pub use tracking::ChronycTracking;

/// chronyd and chronyc can be found ([`Chrony::find`]: `CHRONY_DIR`, an installed chrony, or the one
/// `cargo xtask chrony` unpacked under target/chrony/). Tests that need them fail, never skip, without them; this
/// is for messages.
pub fn chronyd_available() -> bool {
    Chrony::find().is_ok()
}
