//! `get_sources()`: the sources report, as a list of plain tuples.

use std::path::PathBuf;

use chrony_core::{Source, SourceAddress};
use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};

use crate::read;

/// Reads chronyd's sources report over its unix socket (a pooled connection, as
/// `get_tracking()` uses); returns one tuple per source, in `pychrony.Source` field order.
/// `socket_path` None tries the default Unix socket paths.
#[pyfunction]
#[pyo3(signature = (socket_path, timeout))]
pub(crate) fn get_sources(
    py: Python<'_>,
    socket_path: Option<PathBuf>,
    timeout: f64,
) -> PyResult<Bound<'_, PyList>> {
    let sources = read::pooled::<Vec<Source>>(py, socket_path, timeout)?;
    to_list(py, &sources)
}

/// A reference clock's reference ID, None for other sources.
fn reference_id(address: &SourceAddress) -> Option<u32> {
    match address {
        SourceAddress::RefClock(refid) => Some(*refid),
        _ => None,
    }
}

/// One source in `Source` field order: pychrony 2.x's 11 fields (`address`, `poll`, `stratum`,
/// `state`, `mode`, `flags`, `reachability`, `last_sample_ago`, `orig_latest_meas`,
/// `latest_meas`, `latest_meas_err`), then `reference_id`. State and mode are their wire values.
pub(crate) fn to_tuple<'py>(py: Python<'py>, s: &Source) -> PyResult<Bound<'py, PyTuple>> {
    let items: [Bound<'py, PyAny>; 12] = [
        s.address.to_string().into_pyobject(py)?.into_any(),
        s.poll.into_pyobject(py)?.into_any(),
        s.stratum.into_pyobject(py)?.into_any(),
        s.state.as_u16().into_pyobject(py)?.into_any(),
        s.mode.as_u16().into_pyobject(py)?.into_any(),
        s.flags.into_pyobject(py)?.into_any(),
        s.reachability.into_pyobject(py)?.into_any(),
        s.last_sample_ago.into_pyobject(py)?.into_any(),
        s.measured_offset.into_pyobject(py)?.into_any(),
        s.adjusted_offset.into_pyobject(py)?.into_any(),
        s.offset_error.into_pyobject(py)?.into_any(),
        reference_id(&s.address).into_pyobject(py)?.into_any(),
    ];
    PyTuple::new(py, items)
}

/// The report as a list of [`to_tuple`]s, in chronyd's order.
pub(crate) fn to_list<'py>(py: Python<'py>, sources: &[Source]) -> PyResult<Bound<'py, PyList>> {
    let tuples = sources
        .iter()
        .map(|s| to_tuple(py, s))
        .collect::<PyResult<Vec<_>>>()?;
    PyList::new(py, tuples)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_reference_clocks_have_a_reference_id() {
        assert_eq!(
            reference_id(&SourceAddress::RefClock(0x4750_5300)),
            Some(0x4750_5300)
        );
        assert_eq!(reference_id(&SourceAddress::Unresolved(3)), None);
        assert_eq!(
            reference_id(&SourceAddress::Ip("127.0.0.1".parse().unwrap())),
            None
        );
        assert_eq!(reference_id(&SourceAddress::Unknown), None);
    }
}
