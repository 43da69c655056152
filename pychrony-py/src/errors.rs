//! chrony-core's `Error` → the Python exception classes of `pychrony._errors`.
//!
//! The classes are plain Python (they need `__init__`, attributes and `__str__` of their own), so
//! they are looked up when raising: `pychrony._errors._from_native(message, code)` picks the class
//! from the code, so every variant converts the same way, through `Error::code()`.

use pyo3::exceptions::{PyKeyboardInterrupt, PyOSError, PyRuntimeError};
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
        Ok(exception) => {
            let exception = PyErr::from_value(exception);
            // Keep the system error for callers that want the errno: `e.__cause__` is the
            // matching OSError subclass (FileNotFoundError, ConnectionRefusedError, ...).
            if let Some(errno) = err.raw_os_error() {
                exception.set_cause(py, Some(os_error(py, errno)));
            }
            exception
        }
        Err(lookup) => {
            let err = PyRuntimeError::new_err(format!(
                "{message} (error code: {code}); pychrony._errors is unusable"
            ));
            err.set_cause(py, Some(lookup));
            err
        }
    }
}

/// `OSError(errno, strerror)`, which Python turns into the subclass for that errno.
fn os_error(py: Python<'_>, errno: i32) -> PyErr {
    let strerror = py
        .import("os")
        .and_then(|os| os.call_method1("strerror", (errno,)))
        .and_then(|text| text.extract::<String>())
        .unwrap_or_else(|_| format!("errno {errno}"));
    PyOSError::new_err((errno, strerror))
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

#[cfg(test)]
mod tests {
    use std::io;
    use std::time::Duration;

    use chrony_core::{Error, Transport};
    use pyo3::prelude::*;

    use super::to_pyerr;

    /// A system error with a Linux errno, as chrony-core keeps them.
    fn os_error(errno: i32) -> io::Error {
        io::Error::from_raw_os_error(errno)
    }

    /// Every chrony-core variant, with the Python class and code it must become.
    fn every_variant() -> Vec<(Error, &'static str, i32)> {
        vec![
            (
                Error::ConnectionRefused {
                    address: "/x/chronyd.sock".into(),
                    transport: Transport::Unix,
                    source: os_error(111),
                },
                "ChronyConnectionError",
                -1,
            ),
            (
                Error::Io {
                    address: "/x".into(),
                    operation: "send the request",
                    source: os_error(32),
                },
                "ChronyConnectionError",
                -1,
            ),
            (
                Error::Library {
                    chrony_err: 1,
                    source: os_error(12),
                },
                "ChronyConnectionError",
                -1,
            ),
            (
                Error::NotFound {
                    tried: vec!["/a".into(), "/b".into()],
                    source: os_error(2),
                },
                "ChronyConnectionError",
                -2,
            ),
            (
                Error::InvalidAddress {
                    address: "x y".into(),
                    reason: "not an address",
                },
                "ChronyConnectionError",
                -2,
            ),
            (
                Error::PathTooLong {
                    path: "/x".into(),
                    len: 120,
                },
                "ChronyConnectionError",
                -2,
            ),
            (
                Error::PermissionDenied {
                    address: "/x".into(),
                    operation: "connect to",
                    source: os_error(13),
                },
                "ChronyPermissionError",
                -3,
            ),
            (
                Error::NotAuthorised {
                    address: "127.0.0.1:323".into(),
                    chrony_err: 9,
                },
                "ChronyPermissionError",
                -3,
            ),
            (
                Error::Protocol {
                    address: "/x".into(),
                    chrony_err: 13,
                },
                "ChronyDataError",
                -4,
            ),
            (
                Error::InvalidValue {
                    field: "stratum",
                    value: "300".into(),
                },
                "ChronyDataError",
                -4,
            ),
            (
                Error::Unsupported {
                    address: "/x".into(),
                    report: "selectdata",
                    chrony_err: 12,
                },
                "ChronyDataError",
                -4,
            ),
            (
                Error::UnsupportedByLibrary {
                    report: "sourcename",
                },
                "ChronyDataError",
                -4,
            ),
            (
                Error::SourcesChanged {
                    address: "/x".into(),
                    report: "sources",
                    attempts: 3,
                },
                "ChronyDataError",
                -5,
            ),
            (
                Error::IncompleteData {
                    detail: "no stratum".into(),
                    chrony_err: Some(14),
                },
                "ChronyDataError",
                -5,
            ),
            (
                Error::Timeout {
                    address: "/x".into(),
                    timeout: Duration::from_millis(500),
                },
                "ChronyConnectionError",
                -6,
            ),
            (
                Error::Closed {
                    address: "/x".into(),
                },
                "ChronyConnectionError",
                -1,
            ),
            (
                Error::Tampered {
                    path: "/x/chrony-core.1.0000abcd".into(),
                    what: "directory",
                },
                "ChronyConnectionError",
                -1,
            ),
        ]
    }

    #[test]
    fn every_variant_becomes_its_python_class_with_message_and_code() {
        Python::initialize();
        Python::attach(|py| {
            // The pure-Python half, from the source tree (this is a Rust unit test).
            let source = concat!(env!("CARGO_MANIFEST_DIR"), "/python");
            py.import("sys")
                .and_then(|sys| sys.getattr("path"))
                .and_then(|path| path.call_method1("insert", (0, source)))
                .expect("sys.path");
            let errors = py.import("pychrony._errors").expect("pychrony._errors");
            let base = errors.getattr("ChronyError").expect("ChronyError");
            for (err, class, code) in every_variant() {
                assert_eq!(err.code(), code, "{err:?}");
                let message = err.to_string();
                let value = to_pyerr(py, &err).into_value(py).into_bound(py);
                let name: String = value
                    .get_type()
                    .getattr("__name__")
                    .and_then(|n| n.extract())
                    .expect("__name__");
                assert_eq!(name, class, "{err:?}");
                assert!(value.is_instance(&base).expect("isinstance"));
                let got_code: i32 = value.getattr("error_code").unwrap().extract().unwrap();
                assert_eq!(got_code, code);
                let got_message: String = value.getattr("message").unwrap().extract().unwrap();
                assert_eq!(got_message, message);
                let text = value.str().unwrap().to_string();
                assert_eq!(text, format!("{message} (error code: {code})"));
                let cause = value.getattr("__cause__").unwrap();
                match err.raw_os_error() {
                    Some(errno) => {
                        let got: i32 = cause.getattr("errno").unwrap().extract().unwrap();
                        assert_eq!(got, errno, "{err:?}");
                        let class: String = cause
                            .get_type()
                            .getattr("__name__")
                            .and_then(|n| n.extract())
                            .unwrap();
                        let expected = match errno {
                            2 => "FileNotFoundError",
                            13 => "PermissionError",
                            32 => "BrokenPipeError",
                            111 => "ConnectionRefusedError",
                            _ => "OSError",
                        };
                        assert_eq!(class, expected, "{err:?}");
                    }
                    None => assert!(cause.is_none(), "{err:?}"),
                }
            }
            let interrupted = to_pyerr(py, &Error::Interrupted);
            assert!(interrupted.is_instance_of::<pyo3::exceptions::PyKeyboardInterrupt>(py));
        });
    }
}
