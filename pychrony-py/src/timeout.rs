//! The `timeout` argument: seconds as a float, checked before any I/O.

use std::time::Duration;

use pyo3::PyResult;
use pyo3::exceptions::PyValueError;

/// Converts Python's `timeout` (seconds) into chrony-core's `Duration`.
///
/// The Python layer checks this too; checking again here keeps the native module safe to call
/// directly (a NaN or a huge value would otherwise panic in `Duration::from_secs_f64`).
pub(crate) fn from_secs(seconds: f64) -> PyResult<Duration> {
    if !seconds.is_finite() || seconds <= 0.0 {
        return Err(PyValueError::new_err(format!(
            "timeout must be a finite number of seconds > 0, got {seconds}"
        )));
    }
    Duration::try_from_secs_f64(seconds)
        .map_err(|_| PyValueError::new_err(format!("timeout is too large: {seconds} s")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_positive_finite_seconds() {
        assert_eq!(from_secs(3.0).ok(), Some(Duration::from_secs(3)));
        assert_eq!(from_secs(0.25).ok(), Some(Duration::from_millis(250)));
    }
}
