//! `get_server_stats()`: chronyd's server counters (`chronyc serverstats`).

use std::path::PathBuf;

use chrony_core::ServerStats;
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::read;

/// Reads chronyd's serverstats report over its unix socket (a pooled connection, as
/// `get_tracking()` uses); returns the 17 values of `pychrony.ServerStats`, in its field order
/// (None for a counter this chronyd does not send).
#[pyfunction]
#[pyo3(signature = (socket_path, timeout))]
pub(crate) fn get_server_stats(
    py: Python<'_>,
    socket_path: Option<PathBuf>,
    timeout: f64,
) -> PyResult<Bound<'_, PyTuple>> {
    let stats = read::pooled::<ServerStats>(py, socket_path, timeout)?;
    to_tuple(py, &stats)
}

/// In chronyc's print order (which is `pychrony.ServerStats`'s field order).
pub(crate) fn to_tuple<'py>(py: Python<'py>, s: &ServerStats) -> PyResult<Bound<'py, PyTuple>> {
    let always = [
        s.ntp_hits,
        s.ntp_drops,
        s.cmd_hits,
        s.cmd_drops,
        s.log_drops,
    ];
    let newer = [
        s.nke_hits,
        s.nke_drops,
        s.ntp_auth_hits,
        s.ntp_interleaved_hits,
        s.ntp_timestamps,
        s.ntp_span_seconds,
        s.ntp_daemon_rx_timestamps,
        s.ntp_daemon_tx_timestamps,
        s.ntp_kernel_rx_timestamps,
        s.ntp_kernel_tx_timestamps,
        s.ntp_hw_rx_timestamps,
        s.ntp_hw_tx_timestamps,
    ];
    let items = always
        .iter()
        .map(|v| Some(*v))
        .chain(newer)
        .collect::<Vec<Option<u64>>>();
    PyTuple::new(py, items)
}
