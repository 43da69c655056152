//! `get_activity()`: the activity report (how many sources are in each online/offline state).

use std::path::PathBuf;

use chrony_core::Activity;
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::read;

/// Reads chronyd's activity report over its unix socket (a pooled connection, as `get_tracking()`
/// uses); returns the 5 values of `pychrony.Activity`, in its field order.
#[pyfunction]
#[pyo3(signature = (socket_path, timeout))]
pub(crate) fn get_activity(
    py: Python<'_>,
    socket_path: Option<PathBuf>,
    timeout: f64,
) -> PyResult<Bound<'_, PyTuple>> {
    let activity = read::pooled::<Activity>(py, socket_path, timeout)?;
    to_tuple(py, &activity)
}

/// `online`, `offline`, `burst_online`, `burst_offline`, `unresolved`.
pub(crate) fn to_tuple<'py>(py: Python<'py>, a: &Activity) -> PyResult<Bound<'py, PyTuple>> {
    PyTuple::new(
        py,
        [
            a.online,
            a.offline,
            a.burst_online,
            a.burst_offline,
            a.unresolved,
        ],
    )
}
