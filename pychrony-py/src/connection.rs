//! `Connection`: chrony-core's `SharedConnection`, kept open across calls, for pollers.

use chrony_core::{Options, SharedConnection, Transport};
use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple, PyType};

use crate::errors::finish;
use crate::read;
use crate::signals::SignalCheck;
use crate::{
    activity, authdata, clients, ntpdata, rtcdata, selectdata, serverstats, smoothing, snapshot,
    sourcename, sources, sourcestats, timeout, tracking,
};

/// A connection to chronyd (Unix socket or UDP command port), opened on first use.
///
/// `SharedConnection` makes threads take turns without holding a lock while a call waits, so
/// a signal handler that uses or closes the connection during a call cannot deadlock, and a
/// forked child never inherits a lock held by another thread. Every call releases the
/// interpreter.
#[pyclass(module = "pychrony._native", name = "Connection", frozen)]
pub(crate) struct Connection {
    inner: SharedConnection,
}

pub(crate) fn transport_name(transport: Transport) -> &'static str {
    match transport {
        Transport::Unix => "unix",
        Transport::Udp => "udp",
    }
}

/// A native connection's repr: its class, and the transport and address once open.
pub(crate) fn repr(class: &str, transport: Option<Transport>, address: Option<String>) -> String {
    match (transport, address) {
        (Some(t), Some(a)) => format!("<pychrony._native.{class} {} {a:?}>", transport_name(t)),
        _ => format!("<pychrony._native.{class} (not open)>"),
    }
}

#[pymethods]
impl Connection {
    /// A connection to a Unix socket path, a UDP address, or None for the default paths. Nothing
    /// is opened yet.
    #[new]
    #[pyo3(signature = (address, timeout))]
    fn new(address: Option<String>, timeout: f64) -> PyResult<Self> {
        let options = Options::new().with_timeout(timeout::from_secs(timeout)?);
        Ok(Self {
            inner: SharedConnection::new(address.as_deref(), &options),
        })
    }

    /// Opens the socket now if it is not open.
    fn open(&self, py: Python<'_>) -> PyResult<()> {
        let result = py.detach(|| self.inner.open());
        finish(py, result, SignalCheck::default())
    }

    /// Reads the tracking report; a `record` as `get_tracking()` returns.
    fn tracking<'py>(
        &self,
        py: Python<'py>,
        record: &Bound<'py, PyType>,
        fields: &Bound<'py, PyTuple>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (result, signals) = py.detach(|| {
            let mut signals = SignalCheck::default();
            let result = self.inner.tracking_interruptible(&mut || signals.poll());
            (result, signals)
        });
        let status = finish(py, result, signals)?;
        tracking::to_record(record, fields, &status)
    }

    /// Reads the activity report; the same 5 values as `get_activity()`.
    fn activity<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let report = read::shared::<chrony_core::Activity>(py, &self.inner)?;
        activity::to_tuple(py, &report)
    }

    /// Reads the serverstats report; the same 17 values as `get_server_stats()`.
    fn server_stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let report = read::shared::<chrony_core::ServerStats>(py, &self.inner)?;
        serverstats::to_tuple(py, &report)
    }

    /// Reads the sources report; the same tuples as `get_sources()`.
    fn sources<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let list = read::shared::<Vec<chrony_core::Source>>(py, &self.inner)?;
        sources::to_list(py, &list)
    }

    /// Reads the sourcestats report; the same tuples as `get_source_stats()`.
    fn source_stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let list = read::shared::<Vec<chrony_core::SourceStats>>(py, &self.inner)?;
        sourcestats::to_list(py, &list)
    }

    /// Reads the rtcdata report; the same 6 values as `get_rtc_data()`, or None when chronyd
    /// tracks no RTC.
    fn rtc_data<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyTuple>>> {
        let report = read::shared::<Option<chrony_core::RtcData>>(py, &self.inner)?;
        rtcdata::to_optional_tuple(py, report.as_ref())
    }

    /// Reads the sourcename report; the same tuples as `get_source_names()`.
    fn source_names<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let list = read::shared::<Vec<chrony_core::SourceName>>(py, &self.inner)?;
        sourcename::to_list(py, &list)
    }

    /// Reads the authdata report; the same tuples as `get_auth_data()`.
    fn auth_data<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let list = read::shared::<Vec<chrony_core::AuthData>>(py, &self.inner)?;
        authdata::to_list(py, &list)
    }

    /// Reads the smoothing report; the same 7 values as `get_smoothing()`, or None when chronyd
    /// has no `smoothtime`.
    fn smoothing<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyTuple>>> {
        let report = read::shared::<Option<chrony_core::Smoothing>>(py, &self.inner)?;
        smoothing::to_optional_tuple(py, report.as_ref())
    }

    /// Reads the clients report; the same tuples as `get_clients()`, or None when chronyd has
    /// `noclientlog`.
    fn clients<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyList>>> {
        let report = read::shared::<Option<Vec<chrony_core::Client>>>(py, &self.inner)?;
        clients::to_optional_list(py, report.as_deref())
    }

    /// Reads the ntpdata report of the NTP source at `address`; the same values as
    /// `get_ntp_data()`, or None when chronyd has no NTP source there.
    fn ntp_data<'py>(
        &self,
        py: Python<'py>,
        address: &str,
    ) -> PyResult<Option<Bound<'py, PyTuple>>> {
        let address = ntpdata::parse_address(address)?;
        let (result, signals) = py.detach(|| {
            let mut signals = SignalCheck::default();
            let result = self
                .inner
                .ntp_data_interruptible(address, &mut || signals.poll());
            (result, signals)
        });
        let report = finish(py, result, signals)?;
        report.map(|d| ntpdata::to_tuple(py, &d)).transpose()
    }

    /// Reads the ntpdata report of every NTP source with an address; as `get_all_ntp_data()`.
    fn all_ntp_data<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let list = read::shared::<Vec<chrony_core::NtpData>>(py, &self.inner)?;
        ntpdata::to_list(py, &list)
    }

    /// Reads the selectdata report; the same tuples as `get_select_data()`.
    fn select_data<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let list = read::shared::<Vec<chrony_core::SelectData>>(py, &self.inner)?;
        selectdata::to_list(py, &list)
    }

    /// Reads every report (or the `parts` named) in one pipelined round; the same tuple as
    /// `get_snapshot()`.
    #[pyo3(signature = (parts=None))]
    fn snapshot<'py>(
        &self,
        py: Python<'py>,
        parts: Option<Vec<String>>,
    ) -> PyResult<Bound<'py, PyTuple>> {
        let report = match snapshot::parts_of(parts)? {
            chrony_core::Parts::ALL => read::shared::<chrony_core::Snapshot>(py, &self.inner)?,
            parts => {
                let (result, signals) = py.detach(|| {
                    let mut signals = SignalCheck::default();
                    let result = self
                        .inner
                        .snapshot_of_interruptible(&parts, &mut || signals.poll());
                    (result, signals)
                });
                finish(py, result, signals)?
            }
        };
        snapshot::to_tuple(py, &report)
    }

    /// Closes the socket and removes the files it created; a call in flight stops. Does
    /// nothing when nothing is open.
    fn close(&self, py: Python<'_>) {
        py.detach(|| self.inner.close());
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
        repr("Connection", self.inner.transport(), self.inner.address())
    }
}
