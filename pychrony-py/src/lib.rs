//! `pychrony._native`: the I/O half of the Python package `pychrony`.
//!
//! Everything Python users see as semantics (the frozen `TrackingStatus` dataclass, the exception
//! hierarchy, argument checks) is plain Python in `python/pychrony/`. This module only talks to
//! chronyd through `chrony-core`, with the interpreter released while it waits, and hands back
//! plain tuples. Its surface is described by the hand-written `python/pychrony/_native.pyi`.
#![forbid(unsafe_code)]

mod connection;
mod errors;
mod signals;
mod timeout;
mod tracking;

/// The native module, imported as `pychrony._native`.
#[pyo3::pymodule]
mod _native {
    use pyo3::prelude::*;

    #[pymodule_export]
    use crate::connection::Connection;
    #[pymodule_export]
    use crate::tracking::get_tracking;

    #[pymodule_init]
    fn init(m: &Bound<'_, PyModule>) -> PyResult<()> {
        m.add(
            "DEFAULT_TIMEOUT",
            chrony_core::DEFAULT_TIMEOUT.as_secs_f64(),
        )?;
        m.add(
            "DEFAULT_SOCKET_PATHS",
            chrony_core::DEFAULT_SOCKET_PATHS.to_vec(),
        )?;
        Ok(())
    }
}
