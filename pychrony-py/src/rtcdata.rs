//! `get_rtc_data()`: chronyd's tracking of the real-time clock (`chronyc rtcdata`), or None.

use std::path::PathBuf;

use chrony_core::RtcData;
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::read;
use crate::tracking::epoch_seconds;

/// Reads chronyd's rtcdata report over its unix socket (a pooled connection, as
/// `get_tracking()` uses); returns the 6 values of `pychrony.RTCData`, in its field order, or
/// None when chronyd tracks no RTC (no `rtcfile`, or `rtcsync`: chronyc's "513 RTC driver not
/// running").
#[pyfunction]
#[pyo3(signature = (socket_path, timeout))]
pub(crate) fn get_rtc_data(
    py: Python<'_>,
    socket_path: Option<PathBuf>,
    timeout: f64,
) -> PyResult<Option<Bound<'_, PyTuple>>> {
    let report = read::pooled::<Option<RtcData>>(py, socket_path, timeout)?;
    to_optional_tuple(py, report.as_ref())
}

/// In `RTCData` field order (pychrony 2.x's): `ref_time` (seconds since the Unix epoch, as
/// `TrackingStatus.ref_time`), `samples`, `runs`, `span`, `offset`, `freq_offset`.
pub(crate) fn to_tuple<'py>(py: Python<'py>, r: &RtcData) -> PyResult<Bound<'py, PyTuple>> {
    let items: [Bound<'py, PyAny>; 6] = [
        epoch_seconds(r.ref_time).into_pyobject(py)?.into_any(),
        r.samples.into_pyobject(py)?.into_any(),
        r.runs.into_pyobject(py)?.into_any(),
        r.span.into_pyobject(py)?.into_any(),
        r.offset.into_pyobject(py)?.into_any(),
        r.freq_offset.into_pyobject(py)?.into_any(),
    ];
    PyTuple::new(py, items)
}

/// [`to_tuple`], or None when chronyd has no RTC tracking.
pub(crate) fn to_optional_tuple<'py>(
    py: Python<'py>,
    report: Option<&RtcData>,
) -> PyResult<Option<Bound<'py, PyTuple>>> {
    report.map(|r| to_tuple(py, r)).transpose()
}
