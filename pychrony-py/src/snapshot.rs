//! `get_snapshot()`: every report in one pipelined round (chrony-core's `Snapshot`), each part
//! converted by its own report's `to_tuple`, or the exception a single call would raise; with
//! `parts`, only those (the others None without an error, nothing sent for them).

use std::path::PathBuf;

use chrony_core::{Error, Options, Parts, Snapshot, SourceSnapshot};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};

use crate::errors::{finish, to_pyerr};
use crate::read;
use crate::signals::SignalCheck;
use crate::{
    activity, authdata, ntpdata, rtcdata, selectdata, serverstats, smoothing, sources, sourcestats,
    timeout, tracking,
};

/// The names of the parts `parts` may list: `pychrony.Snapshot`'s and
/// `pychrony.SourceSnapshot`'s field names (the Python layer checks them first, with this list).
pub(crate) const PART_NAMES: [&str; 11] = [
    "tracking",
    "sources",
    "activity",
    "server_stats",
    "smoothing",
    "rtc",
    "stats",
    "select",
    "ntp",
    "auth",
    "name",
];

/// The [`Parts`] named by `names` (None: every part); a ValueError for a name not in
/// [`PART_NAMES`].
pub(crate) fn parts_of(names: Option<Vec<String>>) -> PyResult<Parts> {
    let Some(names) = names else {
        return Ok(Parts::ALL);
    };
    let mut parts = Parts::NONE;
    for name in names {
        let flag = match name.as_str() {
            "tracking" => &mut parts.tracking,
            "sources" => &mut parts.sources,
            "activity" => &mut parts.activity,
            "server_stats" => &mut parts.server_stats,
            "smoothing" => &mut parts.smoothing,
            "rtc" => &mut parts.rtc_data,
            "stats" => &mut parts.stats,
            "select" => &mut parts.select_data,
            "ntp" => &mut parts.ntp_data,
            "auth" => &mut parts.auth_data,
            "name" => &mut parts.name,
            _ => {
                return Err(PyValueError::new_err(format!(
                    "unknown snapshot part {name:?}; use some of {}",
                    PART_NAMES.join(", ")
                )));
            }
        };
        *flag = true;
    }
    Ok(parts)
}

/// Reads every report over chronyd's unix socket (a pooled connection, as `get_tracking()`
/// uses), within `timeout` seconds; see [`to_tuple`] for what comes back.
/// `parts`: the names of the parts to read (see [`parts_of`]), None for all.
#[pyfunction]
#[pyo3(signature = (socket_path, timeout, parts=None))]
pub(crate) fn get_snapshot(
    py: Python<'_>,
    socket_path: Option<PathBuf>,
    timeout: f64,
    parts: Option<Vec<String>>,
) -> PyResult<Bound<'_, PyTuple>> {
    let snapshot = match parts_of(parts)? {
        Parts::ALL => read::pooled::<Snapshot>(py, socket_path, timeout)?,
        parts => {
            let options = Options::new().with_timeout(timeout::from_secs(timeout)?);
            let (result, signals) = py.detach(move || {
                let mut signals = SignalCheck::default();
                let result =
                    chrony_core::snapshot_of(socket_path.as_deref(), &options, &parts, &mut || {
                        signals.poll()
                    });
                (result, signals)
            });
            finish(py, result, signals)?
        }
    };
    to_tuple(py, &snapshot)
}

/// A part: its report's value as `convert` makes it, or, when chronyd refused it or it failed,
/// the exception object (not raised) that the single report's call would raise, so Python
/// keeps the others; None for a part not asked for.
fn part<'py, T>(
    py: Python<'py>,
    result: &chrony_core::Result<T>,
    convert: impl FnOnce(&T) -> PyResult<Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    match result {
        Ok(value) => convert(value),
        Err(Error::NotRequested { .. }) => Ok(py.None().into_bound(py)),
        Err(err) => Ok(to_pyerr(py, err).into_value(py).into_bound(py).into_any()),
    }
}

/// A part whose report may be absent without an error (None).
fn optional<'py, T>(
    py: Python<'py>,
    result: &chrony_core::Result<Option<T>>,
    convert: impl FnOnce(&T) -> PyResult<Bound<'py, PyTuple>>,
) -> PyResult<Bound<'py, PyAny>> {
    part(py, result, |value| {
        Ok(value.as_ref().map(convert).transpose()?.into_pyobject(py)?)
    })
}

/// `(tracking, activity, server_stats, smoothing, rtc_data, sources)`, the order of
/// `pychrony.Snapshot`'s fields as the Python layer builds them; `sources` a list of
/// [`source_tuple`]s. Each part is as [`part`] says.
pub(crate) fn to_tuple<'py>(py: Python<'py>, s: &Snapshot) -> PyResult<Bound<'py, PyTuple>> {
    let items: [Bound<'py, PyAny>; 6] = [
        part(py, &s.tracking, |t| {
            Ok(tracking::to_tuple(py, t)?.into_any())
        })?,
        part(py, &s.activity, |a| {
            Ok(activity::to_tuple(py, a)?.into_any())
        })?,
        part(py, &s.server_stats, |v| {
            Ok(serverstats::to_tuple(py, v)?.into_any())
        })?,
        optional(py, &s.smoothing, |v| smoothing::to_tuple(py, v))?,
        optional(py, &s.rtc_data, |v| rtcdata::to_tuple(py, v))?,
        part(py, &s.sources, |list| {
            let tuples = list
                .iter()
                .map(|p| source_tuple(py, p))
                .collect::<PyResult<Vec<_>>>()?;
            Ok(PyList::new(py, tuples)?.into_any())
        })?,
    ];
    PyTuple::new(py, items)
}

/// `(source, stats, select, ntp, auth, name)`: the source's tuple as `get_sources()` gives it,
/// then its other records as their reports give them (ntp, auth and name None where the source
/// has none), each as [`part`] says.
fn source_tuple<'py>(py: Python<'py>, p: &SourceSnapshot) -> PyResult<Bound<'py, PyTuple>> {
    let items: [Bound<'py, PyAny>; 6] = [
        sources::to_tuple(py, &p.source)?.into_any(),
        part(py, &p.stats, |v| {
            Ok(sourcestats::to_tuple(py, v)?.into_any())
        })?,
        part(py, &p.select_data, |v| {
            Ok(selectdata::to_tuple(py, v)?.into_any())
        })?,
        optional(py, &p.ntp_data, |v| ntpdata::to_tuple(py, v))?,
        optional(py, &p.auth_data, |v| authdata::to_tuple(py, v))?,
        part(py, &p.name, |name| {
            Ok(name.as_deref().into_pyobject(py)?.into_any())
        })?,
    ];
    PyTuple::new(py, items)
}
