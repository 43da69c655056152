//! `get_auth_data()`: how each NTP source is authenticated (`chronyc authdata`).

use std::path::PathBuf;

use chrony_core::{AuthData, AuthMode};
use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};

use crate::read;

/// Reads chronyd's authdata report over its unix socket (a pooled connection, as
/// `get_tracking()` uses); returns one tuple per NTP source, in `pychrony.AuthData` field order.
#[pyfunction]
#[pyo3(signature = (socket_path, timeout))]
pub(crate) fn get_auth_data(
    py: Python<'_>,
    socket_path: Option<PathBuf>,
    timeout: f64,
) -> PyResult<Bound<'_, PyList>> {
    let list = read::pooled::<Vec<AuthData>>(py, socket_path, timeout)?;
    to_list(py, &list)
}

/// The mode as chronyd sends it, so that Python's `AuthMode` keeps a value it does not know.
fn mode_value(mode: AuthMode) -> u16 {
    match mode {
        AuthMode::None => 0,
        AuthMode::SymmetricKey => 1,
        AuthMode::Nts => 2,
        AuthMode::Unknown(v) => v,
    }
}

/// In `AuthData` field order: `address` (text), `mode` (chronyd's number), `key_type`, `key_id`,
/// `key_length`, `ke_attempts`, `last_ke_ago` (None: never), `cookies`, `cookie_length`, `nak`.
pub(crate) fn to_tuple<'py>(py: Python<'py>, a: &AuthData) -> PyResult<Bound<'py, PyTuple>> {
    let items: [Bound<'py, PyAny>; 10] = [
        a.address.to_string().into_pyobject(py)?.into_any(),
        mode_value(a.mode).into_pyobject(py)?.into_any(),
        a.key_type.into_pyobject(py)?.into_any(),
        a.key_id.into_pyobject(py)?.into_any(),
        a.key_length.into_pyobject(py)?.into_any(),
        a.ke_attempts.into_pyobject(py)?.into_any(),
        a.last_ke_ago.into_pyobject(py)?.into_any(),
        a.cookies.into_pyobject(py)?.into_any(),
        a.cookie_length.into_pyobject(py)?.into_any(),
        a.nak.into_pyobject(py)?.to_owned().into_any(),
    ];
    PyTuple::new(py, items)
}

/// The report as a list of [`to_tuple`]s, in chronyd's order.
pub(crate) fn to_list<'py>(py: Python<'py>, list: &[AuthData]) -> PyResult<Bound<'py, PyList>> {
    let tuples = list
        .iter()
        .map(|a| to_tuple(py, a))
        .collect::<PyResult<Vec<_>>>()?;
    PyList::new(py, tuples)
}
