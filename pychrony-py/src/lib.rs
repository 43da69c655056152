//! `pychrony._native`: the I/O half of the Python package `pychrony`.
//!
//! Everything Python users see as semantics (the frozen `TrackingStatus` dataclass, the exception
//! hierarchy, argument checks) is plain Python in `python/pychrony/`. This module only talks to
//! chronyd through `chrony-core`, with the interpreter released while it waits, and hands back
//! plain tuples (a list of them for the sources report), except the tracking report: its
//! `TrackingStatus` is built here (`records`), from the class and field names the package passes. Its surface is described by the
//! hand-written `python/pychrony/_native.pyi`.
#![forbid(unsafe_code)]

mod activity;
mod aio;
mod authdata;
mod clients;
mod connection;
mod errors;
mod ntpdata;
mod read;
mod records;
mod rtcdata;
mod selectdata;
mod serverstats;
mod signals;
mod smoothing;
mod snapshot;
mod sourcename;
mod sources;
mod sourcestats;
mod timeout;
mod tracking;

/// The native module, imported as `pychrony._native`.
#[pyo3::pymodule]
mod _native {

    #[pymodule_export]
    use crate::activity::get_activity;
    #[pymodule_export]
    use crate::aio::{AsyncConnection, Call};
    #[pymodule_export]
    use crate::authdata::get_auth_data;
    #[pymodule_export]
    use crate::clients::get_clients;
    #[pymodule_export]
    use crate::connection::Connection;
    #[pymodule_export]
    use crate::ntpdata::{get_all_ntp_data, get_ntp_data};
    #[pymodule_export]
    use crate::rtcdata::get_rtc_data;
    #[pymodule_export]
    use crate::selectdata::get_select_data;
    #[pymodule_export]
    use crate::serverstats::get_server_stats;
    #[pymodule_export]
    use crate::smoothing::get_smoothing;
    #[pymodule_export]
    use crate::snapshot::get_snapshot;
    #[pymodule_export]
    use crate::sourcename::get_source_names;
    #[pymodule_export]
    use crate::sources::get_sources;
    #[pymodule_export]
    use crate::sourcestats::get_source_stats;
    #[pymodule_export]
    use crate::tracking::get_tracking;
}

#[cfg(test)]
mod tests {
    /// The Python package writes chrony-core's default timeout as a literal (a signature default
    /// that `import pychrony` must have without the native module): it must say the same.
    #[test]
    fn the_python_default_timeout_is_chrony_cores() {
        let api = include_str!("../python/pychrony/_api.py");
        let line = format!(
            "\nDEFAULT_TIMEOUT = {:?}\n",
            chrony_core::DEFAULT_TIMEOUT.as_secs_f64()
        );
        assert!(
            api.contains(&line),
            "python/pychrony/_api.py lacks {line:?}"
        );
    }
}
