//! `get_ntp_data()` and `get_all_ntp_data()`: chronyd's NTP measurements of its NTP sources
//! (`chronyc ntpdata`).

use std::net::IpAddr;
use std::path::PathBuf;

use chrony_core::{NtpData, NtpMode, Options, ReferenceAddress};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};

use crate::errors::finish;
use crate::read;
use crate::signals::SignalCheck;
use crate::timeout;
use crate::tracking::epoch_seconds;

/// Reads the ntpdata report of the NTP source at `address` (an IP address; the Python layer
/// checks it before this is called) over chronyd's unix socket with a pooled connection; the 31
/// values of `pychrony.NTPData`, or None when chronyd has no NTP source there.
#[pyfunction]
#[pyo3(signature = (socket_path, timeout, address))]
pub(crate) fn get_ntp_data<'py>(
    py: Python<'py>,
    socket_path: Option<PathBuf>,
    timeout: f64,
    address: &str,
) -> PyResult<Option<Bound<'py, PyTuple>>> {
    let address = parse_address(address)?;
    let options = Options::new().with_timeout(timeout::from_secs(timeout)?);
    let (result, signals) = py.detach(move || {
        let mut signals = SignalCheck::default();
        let result = chrony_core::ntp_data(socket_path.as_deref(), &options, address, &mut || {
            signals.poll()
        });
        (result, signals)
    });
    let report = finish(py, result, signals)?;
    report.map(|d| to_tuple(py, &d)).transpose()
}

/// Reads the ntpdata report of every NTP source with an address, in chronyd's order.
#[pyfunction]
#[pyo3(signature = (socket_path, timeout))]
pub(crate) fn get_all_ntp_data(
    py: Python<'_>,
    socket_path: Option<PathBuf>,
    timeout: f64,
) -> PyResult<Bound<'_, PyList>> {
    let report = read::pooled::<Vec<NtpData>>(py, socket_path, timeout)?;
    to_list(py, &report)
}

/// The address as an `IpAddr`; a ValueError (nothing is sent) when it is not one.
pub(crate) fn parse_address(address: &str) -> PyResult<IpAddr> {
    address.parse().map_err(|_| {
        PyValueError::new_err(format!(
            "address must be an IPv4 or IPv6 address such as '192.0.2.1', not {address:?}"
        ))
    })
}

fn mode_value(mode: NtpMode) -> u8 {
    match mode {
        NtpMode::SymmetricActive => 1,
        NtpMode::SymmetricPassive => 2,
        NtpMode::Server => 4,
        NtpMode::Unknown(v) => v,
    }
}

/// In `NTPData` field order: the addresses as chronyc prints them (`::192.0.2.1` where
/// `IpAddr`'s text is `::c000:201`; local: None before the first response),
/// the leap status and mode as their wire values, `ref_time` in seconds since the Unix epoch,
/// the 10 packet tests as a tuple of bools, then interleaved and authenticated, the timestamping sources as chronyc's words.
pub(crate) fn to_tuple<'py>(py: Python<'py>, d: &NtpData) -> PyResult<Bound<'py, PyTuple>> {
    // chronyd's 10 packet tests, in chronyc's order (chrony-core's `test_passed(0..10)`).
    let tests = PyTuple::new(py, (0..10).map(|i| d.flags.test_passed(i)))?;
    let items: [Bound<'py, PyAny>; 31] = [
        ReferenceAddress::Ip(d.remote_address)
            .to_string()
            .into_pyobject(py)?
            .into_any(),
        d.local_address
            .map(|a| ReferenceAddress::Ip(a).to_string())
            .into_pyobject(py)?
            .into_any(),
        d.remote_port.into_pyobject(py)?.into_any(),
        d.leap_status.as_u8().into_pyobject(py)?.into_any(),
        d.version.into_pyobject(py)?.into_any(),
        mode_value(d.mode).into_pyobject(py)?.into_any(),
        d.stratum.into_pyobject(py)?.into_any(),
        d.poll.into_pyobject(py)?.into_any(),
        d.precision.into_pyobject(py)?.into_any(),
        d.root_delay.into_pyobject(py)?.into_any(),
        d.root_dispersion.into_pyobject(py)?.into_any(),
        d.reference_id.into_pyobject(py)?.into_any(),
        epoch_seconds(d.ref_time).into_pyobject(py)?.into_any(),
        d.offset.into_pyobject(py)?.into_any(),
        d.peer_delay.into_pyobject(py)?.into_any(),
        d.peer_dispersion.into_pyobject(py)?.into_any(),
        d.response_time.into_pyobject(py)?.into_any(),
        d.jitter_asymmetry.into_pyobject(py)?.into_any(),
        tests.into_pyobject(py)?.into_any(),
        d.flags
            .interleaved()
            .into_pyobject(py)?
            .to_owned()
            .into_any(),
        d.flags
            .authenticated()
            .into_pyobject(py)?
            .to_owned()
            .into_any(),
        d.tx_timestamping.to_string().into_pyobject(py)?.into_any(),
        d.rx_timestamping.to_string().into_pyobject(py)?.into_any(),
        d.total_tx.into_pyobject(py)?.into_any(),
        d.total_rx.into_pyobject(py)?.into_any(),
        d.total_valid_rx.into_pyobject(py)?.into_any(),
        d.total_good_rx.into_pyobject(py)?.into_any(),
        d.total_kernel_tx.into_pyobject(py)?.into_any(),
        d.total_kernel_rx.into_pyobject(py)?.into_any(),
        d.total_hw_tx.into_pyobject(py)?.into_any(),
        d.total_hw_rx.into_pyobject(py)?.into_any(),
    ];
    PyTuple::new(py, items)
}

pub(crate) fn to_list<'py>(py: Python<'py>, list: &[NtpData]) -> PyResult<Bound<'py, PyList>> {
    let tuples = list
        .iter()
        .map(|d| to_tuple(py, d))
        .collect::<PyResult<Vec<_>>>()?;
    PyList::new(py, tuples)
}
