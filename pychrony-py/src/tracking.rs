//! `get_tracking()`: one request on a fresh connection, and the report as a `TrackingStatus`
//! built here (`records`).

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use chrony_core::{Options, ReferenceAddress, TrackingStatus};
use pyo3::prelude::*;
use pyo3::types::{PyString, PyTuple, PyType};

use crate::errors::finish;
use crate::signals::SignalCheck;
use crate::{records, timeout};

/// Reads chronyd's tracking report; returns a `record` (`pychrony.TrackingStatus`) with its
/// `fields` set to the report's 15 values. `socket_path` None tries the default Unix socket paths.
#[pyfunction]
#[pyo3(signature = (socket_path, timeout, record, fields))]
pub(crate) fn get_tracking<'py>(
    py: Python<'py>,
    socket_path: Option<PathBuf>,
    timeout: f64,
    record: &Bound<'py, PyType>,
    fields: &Bound<'py, PyTuple>,
) -> PyResult<Bound<'py, PyAny>> {
    let options = Options::new().with_timeout(timeout::from_secs(timeout)?);
    let (result, signals) = py.detach(move || {
        let mut signals = SignalCheck::default();
        let result =
            chrony_core::tracking_interruptible(socket_path.as_deref(), &options, &mut || {
                signals.poll()
            });
        (result, signals)
    });
    let status = finish(py, result, signals)?;
    to_record(record, fields, &status)
}

/// Seconds since the Unix epoch (negative before it), never rounded up into the next second:
/// a float near 1.8e9 has a resolution of about 0.24 µs, so 12:00:00.99999999 would otherwise
/// become 12:00:01.0, and `math.floor` (chronyc prints whole seconds) would be one second off.
pub(crate) fn epoch_seconds(time: SystemTime) -> f64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(after) => {
            let seconds = after.as_secs_f64();
            let whole = after.as_secs() as f64;
            if seconds.floor() > whole {
                // The largest float below the next second (f64::next_down needs Rust 1.86).
                f64::from_bits(seconds.floor().to_bits() - 1)
            } else {
                seconds
            }
        }
        Err(before) => -before.duration().as_secs_f64(),
    }
}

/// The report as a `record` (`TrackingStatus`) with these `fields`.
pub(crate) fn to_record<'py>(
    record: &Bound<'py, PyType>,
    fields: &Bound<'py, PyTuple>,
    s: &TrackingStatus,
) -> PyResult<Bound<'py, PyAny>> {
    records::build(record, fields, values(record.py(), s)?)
}

/// The report as a tuple in `TrackingStatus` field order (a snapshot's part, which the package
/// turns into its record).
pub(crate) fn to_tuple<'py>(py: Python<'py>, s: &TrackingStatus) -> PyResult<Bound<'py, PyTuple>> {
    PyTuple::new(py, values(py, s)?)
}

/// The report in `TrackingStatus` field order: the contract's 13 fields, then `reference_ip`
/// and `ref_time`.
fn values<'py>(py: Python<'py>, s: &TrackingStatus) -> PyResult<[Bound<'py, PyAny>; 15]> {
    let name = PyString::new(py, &s.reference_id_name).into_any();
    // With an address, the name is its text (`TrackingStatus::reference_id_name`): the same str
    // serves both fields, without formatting and converting the address a second time.
    let address = match s.reference_address {
        ReferenceAddress::Unspecified => PyString::new(py, "").into_any(),
        ReferenceAddress::Ip(_) | ReferenceAddress::Id(_) => name.clone(),
    };
    let items: [Bound<'py, PyAny>; 15] = [
        s.reference_id.into_pyobject(py)?.into_any(),
        name,
        s.stratum.into_pyobject(py)?.into_any(),
        s.leap_status.as_u8().into_pyobject(py)?.into_any(),
        s.offset.into_pyobject(py)?.into_any(),
        s.last_offset.into_pyobject(py)?.into_any(),
        s.rms_offset.into_pyobject(py)?.into_any(),
        s.frequency.into_pyobject(py)?.into_any(),
        s.residual_freq.into_pyobject(py)?.into_any(),
        s.skew.into_pyobject(py)?.into_any(),
        s.root_delay.into_pyobject(py)?.into_any(),
        s.root_dispersion.into_pyobject(py)?.into_any(),
        s.update_interval.into_pyobject(py)?.into_any(),
        address,
        epoch_seconds(s.ref_time).into_pyobject(py)?.into_any(),
    ];
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn epoch_seconds_handles_both_sides_of_1970() {
        assert_eq!(epoch_seconds(UNIX_EPOCH), 0.0);
        assert_eq!(epoch_seconds(UNIX_EPOCH + Duration::from_millis(1500)), 1.5);
        assert_eq!(epoch_seconds(UNIX_EPOCH - Duration::from_secs(2)), -2.0);
    }

    #[test]
    fn epoch_seconds_never_round_into_the_next_second() {
        for nanos in [999_999_881, 999_999_999] {
            let t = UNIX_EPOCH + Duration::new(1_795_959_909, nanos);
            let s = epoch_seconds(t);
            assert_eq!(s.floor(), 1_795_959_909.0, "{nanos}");
            assert!(1_795_959_910.0 - s < 1e-6, "{nanos}: {s}");
        }
        let exact = UNIX_EPOCH + Duration::new(1_795_959_910, 0);
        assert_eq!(epoch_seconds(exact), 1_795_959_910.0);
    }
}
