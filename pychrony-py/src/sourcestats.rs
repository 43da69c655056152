//! `get_source_stats()`: the sourcestats report, as a list of plain tuples.

use std::path::PathBuf;

use chrony_core::SourceStats;
use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};

use crate::read;

/// Reads chronyd's sourcestats report over its unix socket (a pooled connection, as
/// `get_tracking()` uses); returns one tuple per source, in `pychrony.SourceStats` field order.
/// `socket_path` None tries the default Unix socket paths.
#[pyfunction]
#[pyo3(signature = (socket_path, timeout))]
pub(crate) fn get_source_stats(
    py: Python<'_>,
    socket_path: Option<PathBuf>,
    timeout: f64,
) -> PyResult<Bound<'_, PyList>> {
    let stats = read::pooled::<Vec<SourceStats>>(py, socket_path, timeout)?;
    to_list(py, &stats)
}

/// One source in `SourceStats` field order, pychrony 2.x's: `reference_id`, `address` (the
/// sources report's text: IP, `ID#…` or a reference clock's refid), `samples`, `runs`, `span`,
/// `std_dev`, `resid_freq`, `skew`, `offset`, `offset_err`.
pub(crate) fn to_tuple<'py>(py: Python<'py>, s: &SourceStats) -> PyResult<Bound<'py, PyTuple>> {
    let items: [Bound<'py, PyAny>; 10] = [
        s.reference_id.into_pyobject(py)?.into_any(),
        s.address.to_string().into_pyobject(py)?.into_any(),
        s.samples.into_pyobject(py)?.into_any(),
        s.runs.into_pyobject(py)?.into_any(),
        s.span.into_pyobject(py)?.into_any(),
        s.std_dev.into_pyobject(py)?.into_any(),
        s.resid_freq.into_pyobject(py)?.into_any(),
        s.skew.into_pyobject(py)?.into_any(),
        s.offset.into_pyobject(py)?.into_any(),
        s.offset_err.into_pyobject(py)?.into_any(),
    ];
    PyTuple::new(py, items)
}

/// The report as a list of [`to_tuple`]s, in chronyd's order.
pub(crate) fn to_list<'py>(py: Python<'py>, stats: &[SourceStats]) -> PyResult<Bound<'py, PyList>> {
    let tuples = stats
        .iter()
        .map(|s| to_tuple(py, s))
        .collect::<PyResult<Vec<_>>>()?;
    PyList::new(py, tuples)
}
