//! `AsyncConnection` and `Call`: chrony-core's `LoopConnection` for `pychrony.aio`. A method
//! starts a call and returns it at once; asyncio steps it whenever its socket is readable or its
//! wake-up has come. Every step returns at once (non-blocking sends and receives), so the
//! interpreter is never held while chronyd is waited for, and no thread waits either.

use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use chrony_core::{
    Activity, AuthData, Client, LoopCall, LoopConnection, NtpData, Options, RtcData, SelectData,
    ServerStats, Smoothing, Snapshot, Source, SourceName, SourceStats, TrackingStatus,
};
use pyo3::IntoPyObjectExt;
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::{PyTuple, PyType};

use crate::connection::{repr, transport_name};
use crate::errors::to_pyerr;
use crate::{
    activity, authdata, clients, ntpdata, rtcdata, selectdata, serverstats, smoothing, snapshot,
    sourcename, sources, sourcestats, timeout, tracking,
};

/// A connection for asyncio (Unix socket or UDP command port), opened on first use. Its
/// methods return a [`Call`] each; `pychrony.aio` makes the calls on one connection take turns.
#[pyclass(module = "pychrony._native", name = "AsyncConnection", frozen)]
pub(crate) struct AsyncConnection {
    inner: LoopConnection,
}

/// Turns a report into what the blocking method returns.
type Convert<T> = Box<dyn for<'py> Fn(Python<'py>, &T) -> PyResult<Bound<'py, PyAny>> + Send>;

/// A call with its report's type erased, for [`Call`].
trait Pending: Send {
    /// Polls once; true when the call is over.
    fn step(&mut self) -> bool;
    /// The socket to watch, the wake-up, and the number of sockets replaced so far.
    fn waiting(&self) -> (Option<i32>, Option<Instant>, u64);
    /// The report converted, or its error; once.
    fn result(&mut self, py: Python<'_>) -> PyResult<Py<PyAny>>;
}

struct Typed<T> {
    call: LoopCall<T>,
    outcome: Option<chrony_core::Result<T>>,
    convert: Convert<T>,
}

impl<T: Send> Pending for Typed<T> {
    fn step(&mut self) -> bool {
        if let Some(outcome) = self.call.step() {
            self.outcome = Some(outcome);
        }
        self.call.is_done()
    }

    fn waiting(&self) -> (Option<i32>, Option<Instant>, u64) {
        let call = &self.call;
        (call.fd(), call.wakeup(), call.replaced_sockets())
    }

    fn result(&mut self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        match self.outcome.take() {
            Some(Ok(report)) => Ok((self.convert)(py, &report)?.unbind()),
            Some(Err(err)) => Err(to_pyerr(py, &err)),
            None if self.call.is_done() => Err(PyRuntimeError::new_err(
                "this call's result was already taken; start a new call",
            )),
            None => Err(PyRuntimeError::new_err(
                "this call is not over; step it until step() returns True",
            )),
        }
    }
}

/// One report's read in flight: `step()` until it returns True (at first, then whenever `fd()`
/// is readable or `delay()` seconds have passed), then `result()`. Dropping it, or `cancel()`,
/// stops it: nothing more is sent, and the connection gets its socket back.
#[pyclass(module = "pychrony._native", name = "Call", frozen)]
pub(crate) struct Call {
    /// `None` once cancelled.
    inner: Mutex<Option<Box<dyn Pending>>>,
}

impl Call {
    fn new<T: Send + 'static>(call: LoopCall<T>, convert: Convert<T>) -> Call {
        Call {
            inner: Mutex::new(Some(Box::new(Typed {
                call,
                outcome: None,
                convert,
            }))),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Box<dyn Pending>>> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn waiting(&self) -> (Option<i32>, Option<Instant>, u64) {
        self.lock()
            .as_ref()
            .map_or((None, None, 0), |p| p.waiting())
    }
}

#[pymethods]
impl Call {
    /// Does what can be done now without waiting; True when the call is over (or cancelled).
    fn step(&self) -> bool {
        self.lock().as_mut().is_none_or(|p| p.step())
    }

    /// The socket to watch for readability until the next step; None when not waiting.
    fn fd(&self) -> Option<i32> {
        self.waiting().0
    }

    /// How many sockets the call has replaced (a restarted chronyd): when it changes, `fd()` is
    /// a new socket even if its number is the old one's.
    fn replaced_sockets(&self) -> u64 {
        self.waiting().2
    }

    /// Seconds from now until the call must be stepped if its socket stays silent; None when
    /// not waiting.
    fn delay(&self) -> Option<f64> {
        self.waiting().1.map(|until| {
            until
                .saturating_duration_since(Instant::now())
                .as_secs_f64()
        })
    }

    /// What the blocking method returns, or raises its exception; once, after the last step.
    fn result(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        match self.lock().as_mut() {
            Some(p) => p.result(py),
            None => Err(PyRuntimeError::new_err(
                "this call was cancelled; start a new call",
            )),
        }
    }

    /// Stops the call now, as dropping it does: nothing more is sent, and the connection gets
    /// its socket back (the next call abandons the unanswered request).
    fn cancel(&self) {
        let old = self.lock().take();
        drop(old);
    }
}

/// A [`Call`] of `Q`, its report converted by `convert` (with the report's own `to_*`).
fn start<Q: chrony_core::Query + 'static>(
    inner: &LoopConnection,
    convert: impl for<'py> Fn(Python<'py>, &Q) -> PyResult<Bound<'py, PyAny>> + Send + 'static,
) -> Call {
    Call::new(inner.query::<Q>(), Box::new(convert))
}

/// `value` (a converted report, or None) as a Python object.
fn any<'py, T: IntoPyObject<'py>>(py: Python<'py>, value: T) -> PyResult<Bound<'py, PyAny>> {
    value.into_bound_py_any(py)
}

#[pymethods]
impl AsyncConnection {
    /// A connection to a Unix socket path, a UDP address, or None for the default paths. Nothing
    /// is opened yet.
    #[new]
    #[pyo3(signature = (address, timeout))]
    fn new(address: Option<String>, timeout: f64) -> PyResult<Self> {
        let options = Options::new().with_timeout(timeout::from_secs(timeout)?);
        Ok(Self {
            inner: LoopConnection::new(address.as_deref(), &options),
        })
    }

    /// Opens the socket now if it is not open (without waiting for chronyd).
    fn open(&self, py: Python<'_>) -> PyResult<()> {
        self.inner.open().map_err(|e| to_pyerr(py, &e))
    }

    /// A call of the tracking report; its result a `record` as `get_tracking()` returns.
    fn tracking(&self, record: Bound<'_, PyType>, fields: Bound<'_, PyTuple>) -> Call {
        let (record, fields) = (record.unbind(), fields.unbind());
        start(&self.inner, move |py, status: &TrackingStatus| {
            tracking::to_record(record.bind(py), fields.bind(py), status)
        })
    }

    /// A call of the activity report; as `Connection.activity()`.
    fn activity(&self) -> Call {
        start(&self.inner, |py, r: &Activity| {
            any(py, activity::to_tuple(py, r)?)
        })
    }

    /// A call of the serverstats report; as `Connection.server_stats()`.
    fn server_stats(&self) -> Call {
        start(&self.inner, |py, r: &ServerStats| {
            any(py, serverstats::to_tuple(py, r)?)
        })
    }

    /// A call of the sources report; as `Connection.sources()`.
    fn sources(&self) -> Call {
        start(&self.inner, |py, r: &Vec<Source>| {
            any(py, sources::to_list(py, r)?)
        })
    }

    /// A call of the sourcestats report; as `Connection.source_stats()`.
    fn source_stats(&self) -> Call {
        start(&self.inner, |py, r: &Vec<SourceStats>| {
            any(py, sourcestats::to_list(py, r)?)
        })
    }

    /// A call of the rtcdata report; as `Connection.rtc_data()`.
    fn rtc_data(&self) -> Call {
        start(&self.inner, |py, r: &Option<RtcData>| {
            any(py, rtcdata::to_optional_tuple(py, r.as_ref())?)
        })
    }

    /// A call of the sourcename report; as `Connection.source_names()`.
    fn source_names(&self) -> Call {
        start(&self.inner, |py, r: &Vec<SourceName>| {
            any(py, sourcename::to_list(py, r)?)
        })
    }

    /// A call of the authdata report; as `Connection.auth_data()`.
    fn auth_data(&self) -> Call {
        start(&self.inner, |py, r: &Vec<AuthData>| {
            any(py, authdata::to_list(py, r)?)
        })
    }

    /// A call of the smoothing report; as `Connection.smoothing()`.
    fn smoothing(&self) -> Call {
        start(&self.inner, |py, r: &Option<Smoothing>| {
            any(py, smoothing::to_optional_tuple(py, r.as_ref())?)
        })
    }

    /// A call of the clients report; as `Connection.clients()`.
    fn clients(&self) -> Call {
        start(&self.inner, |py, r: &Option<Vec<Client>>| {
            any(py, clients::to_optional_list(py, r.as_deref())?)
        })
    }

    /// A call of the ntpdata report of the NTP source at `address`; as `Connection.ntp_data()`.
    fn ntp_data(&self, address: &str) -> PyResult<Call> {
        let address = ntpdata::parse_address(address)?;
        Ok(Call::new(
            self.inner.ntp_data(address),
            Box::new(|py, r: &Option<NtpData>| {
                any(
                    py,
                    r.as_ref().map(|d| ntpdata::to_tuple(py, d)).transpose()?,
                )
            }),
        ))
    }

    /// A call of the ntpdata report of every NTP source; as `Connection.all_ntp_data()`.
    fn all_ntp_data(&self) -> Call {
        start(&self.inner, |py, r: &Vec<NtpData>| {
            any(py, ntpdata::to_list(py, r)?)
        })
    }

    /// A call of the selectdata report; as `Connection.select_data()`.
    fn select_data(&self) -> Call {
        start(&self.inner, |py, r: &Vec<SelectData>| {
            any(py, selectdata::to_list(py, r)?)
        })
    }

    /// A call reading every report (or the `parts` named); as `Connection.snapshot()`.
    #[pyo3(signature = (parts=None))]
    fn snapshot(&self, parts: Option<Vec<String>>) -> PyResult<Call> {
        let parts = snapshot::parts_of(parts)?;
        Ok(Call::new(
            self.inner.snapshot_of(&parts),
            Box::new(|py, r: &Snapshot| any(py, snapshot::to_tuple(py, r)?)),
        ))
    }

    /// Closes the socket and removes the files it created; a call in flight keeps its socket
    /// until it ends, then closes it. Does nothing when nothing is open.
    fn close(&self) {
        self.inner.close();
    }

    /// The address in use once opened (the socket path, or the UDP address with its port).
    #[getter]
    fn address(&self) -> Option<String> {
        self.inner.address()
    }

    /// `"unix"` or `"udp"` once opened.
    #[getter]
    fn transport(&self) -> Option<&'static str> {
        self.inner.transport().map(transport_name)
    }

    /// True while no socket is open.
    #[getter]
    fn closed(&self) -> bool {
        !self.inner.is_open()
    }

    fn __repr__(&self) -> String {
        repr(
            "AsyncConnection",
            self.inner.transport(),
            self.inner.address(),
        )
    }
}
