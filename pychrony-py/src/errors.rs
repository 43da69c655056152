//! chrony-core's `Error` → the Python exception classes of `pychrony._errors`.
//!
//! The classes are plain Python (they need `__init__`, attributes and `__str__` of their own), so
//! they are looked up when raising: `pychrony._errors._from_native(message, code)` picks the class
//! from the code, so every variant converts the same way, through `Error::code()`.

use pyo3::exceptions::{PyKeyboardInterrupt, PyRuntimeError};
use pyo3::prelude::*;

use crate::signals::SignalCheck;

/// The Python exception for a chrony-core error.
pub(crate) fn to_pyerr(py: Python<'_>, err: &chrony_core::Error) -> PyErr {
    if matches!(err, chrony_core::Error::Interrupted) {
        // Only our SignalCheck asks to stop, and it keeps the handler's exception; see finish().
        return PyKeyboardInterrupt::new_err(err.to_string());
    }
    let message = err.to_string();
    let code = err.code();
    let built = py
        .import("pychrony._errors")
        .and_then(|module| module.getattr("_from_native"))
        .and_then(|from_native| from_native.call1((message.as_str(), code)));
    match built {
        Ok(exception) => PyErr::from_value(exception),
        Err(lookup) => {
            let err = PyRuntimeError::new_err(format!(
                "{message} (error code: {code}); pychrony._errors is unusable"
            ));
            err.set_cause(py, Some(lookup));
            err
        }
    }
}

/// Turns the outcome of a released call into the Python result: an exception raised by a signal
/// handler while waiting comes first, then chrony-core's error.
pub(crate) fn finish<T>(
    py: Python<'_>,
    result: chrony_core::Result<T>,
    signals: SignalCheck,
) -> PyResult<T> {
    if let Some(raised) = signals.into_raised() {
        return Err(raised);
    }
    result.map_err(|err| to_pyerr(py, &err))
}
