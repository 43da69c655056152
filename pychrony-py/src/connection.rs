//! `Connection`: one chrony-core connection kept open across calls, for pollers.

use std::sync::{Mutex, MutexGuard};

use chrony_core::{Options, Transport};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::errors::finish;
use crate::signals::SignalCheck;
use crate::{timeout, tracking};

/// An open connection to chronyd (Unix socket or UDP command port).
///
/// chrony-core's `Connection` is `Send` but not `Sync` (one request in flight at a time); the
/// mutex makes threads take turns. It is only ever locked with the interpreter released, so a
/// thread waiting for it never blocks the thread that holds it from re-attaching.
#[pyclass(module = "pychrony._native", name = "Connection", frozen)]
pub(crate) struct Connection {
    inner: Mutex<Option<chrony_core::Connection>>,
    address: String,
    transport: &'static str,
}

impl Connection {
    fn lock(&self) -> MutexGuard<'_, Option<chrony_core::Connection>> {
        // A panic while locked cannot leave the connection half-updated: keep going.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn transport_name(transport: Transport) -> &'static str {
    match transport {
        Transport::Unix => "unix",
        Transport::Udp => "udp",
    }
}

#[pymethods]
impl Connection {
    /// Opens a connection: a Unix socket path, a UDP address, or None for the default paths.
    #[staticmethod]
    #[pyo3(signature = (address, timeout))]
    fn open(py: Python<'_>, address: Option<String>, timeout: f64) -> PyResult<Self> {
        let options = Options::new().with_timeout(timeout::from_secs(timeout)?);
        let result =
            py.detach(move || chrony_core::Connection::open_with(address.as_deref(), &options));
        let conn = finish(py, result, SignalCheck::default())?;
        Ok(Self {
            address: conn.address().to_owned(),
            transport: transport_name(conn.transport()),
            inner: Mutex::new(Some(conn)),
        })
    }

    /// Reads the tracking report; the same 15 values as `get_tracking()`.
    fn tracking<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let (result, signals) = py.detach(|| {
            let mut signals = SignalCheck::default();
            let result = self
                .lock()
                .as_mut()
                .map(|conn| conn.tracking_interruptible(&mut || signals.poll()));
            (result, signals)
        });
        let Some(result) = result else {
            return Err(PyValueError::new_err("the connection is closed"));
        };
        let status = finish(py, result, signals)?;
        tracking::to_tuple(py, &status)
    }

    /// Closes the socket and removes the files it created; does nothing when already closed.
    fn close(&self, py: Python<'_>) {
        let conn = py.detach(|| self.lock().take());
        // Dropping runs chrony-core's cleanup (close, unlink); do it released too.
        py.detach(move || drop(conn));
    }

    /// The address in use: the socket path, or the UDP address with its port.
    #[getter]
    fn address(&self) -> &str {
        &self.address
    }

    /// `"unix"` or `"udp"`.
    #[getter]
    fn transport(&self) -> &'static str {
        self.transport
    }

    /// True once `close()` was called.
    #[getter]
    fn closed(&self, py: Python<'_>) -> bool {
        py.detach(|| self.lock().is_none())
    }

    fn __repr__(&self) -> String {
        format!(
            "<pychrony._native.Connection {} {:?}>",
            self.transport, self.address
        )
    }
}
