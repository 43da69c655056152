//! `get_smoothing()`: the state of chronyd's server time smoothing (`chronyc smoothing`), or None.

use std::path::PathBuf;

use chrony_core::Smoothing;
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::read;

/// Reads chronyd's smoothing report over its unix socket (a pooled connection, as
/// `get_tracking()` uses); returns the 7 values of `pychrony.Smoothing`, in its field order, or
/// None when chronyd has no `smoothtime` (chronyc's "505 Facility not enabled in daemon").
#[pyfunction]
#[pyo3(signature = (socket_path, timeout))]
pub(crate) fn get_smoothing(
    py: Python<'_>,
    socket_path: Option<PathBuf>,
    timeout: f64,
) -> PyResult<Option<Bound<'_, PyTuple>>> {
    let report = read::pooled::<Option<Smoothing>>(py, socket_path, timeout)?;
    to_optional_tuple(py, report.as_ref())
}

/// In `Smoothing` field order: `active`, `leap_only`, `offset`, `freq_ppm`, `wander_ppm`,
/// `last_update_ago`, `remaining_time`.
pub(crate) fn to_tuple<'py>(py: Python<'py>, s: &Smoothing) -> PyResult<Bound<'py, PyTuple>> {
    let items: [Bound<'py, PyAny>; 7] = [
        s.active.into_pyobject(py)?.to_owned().into_any(),
        s.leap_only.into_pyobject(py)?.to_owned().into_any(),
        s.offset.into_pyobject(py)?.into_any(),
        s.freq_ppm.into_pyobject(py)?.into_any(),
        s.wander_ppm.into_pyobject(py)?.into_any(),
        s.last_update_ago.into_pyobject(py)?.into_any(),
        s.remaining_time.into_pyobject(py)?.into_any(),
    ];
    PyTuple::new(py, items)
}

/// [`to_tuple`], or None when chronyd has no smoothing.
pub(crate) fn to_optional_tuple<'py>(
    py: Python<'py>,
    report: Option<&Smoothing>,
) -> PyResult<Option<Bound<'py, PyTuple>>> {
    report.map(|s| to_tuple(py, s)).transpose()
}
