//! `get_select_data()`: why each source is or is not selected (`chronyc selectdata`).

use std::path::PathBuf;

use chrony_core::SelectData;
use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};

use crate::read;

/// Reads chronyd's selectdata report over its unix socket (a pooled connection, as
/// `get_tracking()` uses); returns one tuple per source, in `pychrony.SelectData` field order.
#[pyfunction]
#[pyo3(signature = (socket_path, timeout))]
pub(crate) fn get_select_data(
    py: Python<'_>,
    socket_path: Option<PathBuf>,
    timeout: f64,
) -> PyResult<Bound<'_, PyList>> {
    let list = read::pooled::<Vec<SelectData>>(py, socket_path, timeout)?;
    to_list(py, &list)
}

/// In `SelectData` field order: `address` (text), `reference_id`, `state` (the character chronyd
/// sends, as its code, so that Python's `SelectState` keeps one it does not know),
/// `authentication`, `leap_status` (its wire value), `configured_options` and
/// `effective_options` (the bits, unknown ones kept), `last_sample_ago` (None: never), `score`,
/// `low_limit`, `high_limit` (seconds).
pub(crate) fn to_tuple<'py>(py: Python<'py>, s: &SelectData) -> PyResult<Bound<'py, PyTuple>> {
    let items: [Bound<'py, PyAny>; 11] = [
        s.address.to_string().into_pyobject(py)?.into_any(),
        s.reference_id.into_pyobject(py)?.into_any(),
        u32::from(s.state.as_char()).into_pyobject(py)?.into_any(),
        s.authentication.into_pyobject(py)?.to_owned().into_any(),
        s.leap_status.as_u8().into_pyobject(py)?.into_any(),
        s.configured_options.0.into_pyobject(py)?.into_any(),
        s.effective_options.0.into_pyobject(py)?.into_any(),
        s.last_sample_ago.into_pyobject(py)?.into_any(),
        s.score.into_pyobject(py)?.into_any(),
        s.low_limit.into_pyobject(py)?.into_any(),
        s.high_limit.into_pyobject(py)?.into_any(),
    ];
    PyTuple::new(py, items)
}

/// The report as a list of [`to_tuple`]s, in chronyd's order.
pub(crate) fn to_list<'py>(py: Python<'py>, list: &[SelectData]) -> PyResult<Bound<'py, PyList>> {
    let tuples = list
        .iter()
        .map(|s| to_tuple(py, s))
        .collect::<PyResult<Vec<_>>>()?;
    PyList::new(py, tuples)
}
