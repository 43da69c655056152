//! How every report is read, written once: over a pooled connection (the module functions,
//! as `get_tracking()`) or over a `Connection` (its methods). Both release the interpreter while
//! they wait and let a Python signal handler interrupt the wait.

use std::path::PathBuf;

use chrony_core::{Options, Query, SharedConnection};
use pyo3::prelude::*;

use crate::errors::finish;
use crate::signals::SignalCheck;
use crate::timeout;

/// Reads `Q` over chronyd's unix socket (`socket_path`, or the default paths) with a pooled
/// connection, within `timeout` seconds.
pub(crate) fn pooled<Q: Query + Send>(
    py: Python<'_>,
    socket_path: Option<PathBuf>,
    timeout: f64,
) -> PyResult<Q> {
    let options = Options::new().with_timeout(timeout::from_secs(timeout)?);
    let (result, signals) = py.detach(move || {
        let mut signals = SignalCheck::default();
        let result =
            chrony_core::query::<Q>(socket_path.as_deref(), &options, &mut || signals.poll());
        (result, signals)
    });
    finish(py, result, signals)
}

/// Reads `Q` over `connection`, within its timeout.
pub(crate) fn shared<Q: Query + Send>(
    py: Python<'_>,
    connection: &SharedConnection,
) -> PyResult<Q> {
    let (result, signals) = py.detach(|| {
        let mut signals = SignalCheck::default();
        let result = connection.query_interruptible::<Q>(&mut || signals.poll());
        (result, signals)
    });
    finish(py, result, signals)
}
