//! `get_clients()`: chronyd's client access log (`chronyc clients`), or None.

use std::path::PathBuf;

use chrony_core::{Client, ReferenceAddress};
use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};

use crate::read;

/// Reads chronyd's clients report over its unix socket (a pooled connection, as
/// `get_tracking()` uses); returns one tuple per client, in `pychrony.Client` field order, or
/// None when chronyd has `noclientlog` (chronyc's "519 Client logging is not active in the
/// daemon").
#[pyfunction]
#[pyo3(signature = (socket_path, timeout))]
pub(crate) fn get_clients(
    py: Python<'_>,
    socket_path: Option<PathBuf>,
    timeout: f64,
) -> PyResult<Option<Bound<'_, PyList>>> {
    let report = read::pooled::<Option<Vec<Client>>>(py, socket_path, timeout)?;
    to_optional_list(py, report.as_deref())
}

/// In `Client` field order: `address` (text as chronyc prints it: `::192.0.2.1` where `IpAddr`'s
/// text is `::c000:201`), `ntp_hits`, `nke_hits`, `cmd_hits`, `ntp_drops`,
/// `nke_drops`, `cmd_drops`, `ntp_interval`, `nke_interval`, `cmd_interval`,
/// `ntp_timeout_interval` (log2 s, None: no data), `last_ntp_hit_ago`, `last_nke_hit_ago`,
/// `last_cmd_hit_ago` (None: never).
pub(crate) fn to_tuple<'py>(py: Python<'py>, c: &Client) -> PyResult<Bound<'py, PyTuple>> {
    let items: [Bound<'py, PyAny>; 14] = [
        ReferenceAddress::Ip(c.address)
            .to_string()
            .into_pyobject(py)?
            .into_any(),
        c.ntp_hits.into_pyobject(py)?.into_any(),
        c.nke_hits.into_pyobject(py)?.into_any(),
        c.cmd_hits.into_pyobject(py)?.into_any(),
        c.ntp_drops.into_pyobject(py)?.into_any(),
        c.nke_drops.into_pyobject(py)?.into_any(),
        c.cmd_drops.into_pyobject(py)?.into_any(),
        c.ntp_interval.into_pyobject(py)?.into_any(),
        c.nke_interval.into_pyobject(py)?.into_any(),
        c.cmd_interval.into_pyobject(py)?.into_any(),
        c.ntp_timeout_interval.into_pyobject(py)?.into_any(),
        c.last_ntp_hit_ago.into_pyobject(py)?.into_any(),
        c.last_nke_hit_ago.into_pyobject(py)?.into_any(),
        c.last_cmd_hit_ago.into_pyobject(py)?.into_any(),
    ];
    PyTuple::new(py, items)
}

/// The report as a list of [`to_tuple`]s in chronyd's order, or None when chronyd logs no
/// clients.
pub(crate) fn to_optional_list<'py>(
    py: Python<'py>,
    report: Option<&[Client]>,
) -> PyResult<Option<Bound<'py, PyList>>> {
    report
        .map(|list| {
            let tuples = list
                .iter()
                .map(|c| to_tuple(py, c))
                .collect::<PyResult<Vec<_>>>()?;
            PyList::new(py, tuples)
        })
        .transpose()
}
