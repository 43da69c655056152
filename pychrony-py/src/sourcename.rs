//! `get_source_names()`: the name each NTP source was configured with (`chronyc -N sources`).

use std::path::PathBuf;

use chrony_core::SourceName;
use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};

use crate::read;

/// Reads chronyd's sourcename report over its unix socket (a pooled connection, as
/// `get_tracking()` uses); returns one `(address, name)` tuple per NTP source (reference clocks
/// have no name). With a libchrony that lacks the report, the library error -4 before anything
/// is sent.
#[pyfunction]
#[pyo3(signature = (socket_path, timeout))]
pub(crate) fn get_source_names(
    py: Python<'_>,
    socket_path: Option<PathBuf>,
    timeout: f64,
) -> PyResult<Bound<'_, PyList>> {
    let names = read::pooled::<Vec<SourceName>>(py, socket_path, timeout)?;
    to_list(py, &names)
}

/// In `SourceName` field order: `address` (the sources report's text: an IP address or `ID#…`
/// for a name chronyd has not resolved), `name`.
pub(crate) fn to_tuple<'py>(py: Python<'py>, s: &SourceName) -> PyResult<Bound<'py, PyTuple>> {
    let items: [Bound<'py, PyAny>; 2] = [
        s.address.to_string().into_pyobject(py)?.into_any(),
        s.name.as_str().into_pyobject(py)?.into_any(),
    ];
    PyTuple::new(py, items)
}

/// The report as a list of [`to_tuple`]s, in chronyd's order.
pub(crate) fn to_list<'py>(py: Python<'py>, names: &[SourceName]) -> PyResult<Bound<'py, PyList>> {
    let tuples = names
        .iter()
        .map(|s| to_tuple(py, s))
        .collect::<PyResult<Vec<_>>>()?;
    PyList::new(py, tuples)
}
