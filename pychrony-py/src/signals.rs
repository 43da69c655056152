//! Ctrl-C while the interpreter is released: chrony-core polls `interrupted` at least every
//! 100 ms while it waits; each poll briefly re-attaches to run Python's signal handlers.

use pyo3::{PyErr, Python};

/// The `interrupted` callback for chrony-core, and the Python exception it caught.
#[derive(Debug, Default)]
pub(crate) struct SignalCheck {
    raised: Option<PyErr>,
}

impl SignalCheck {
    /// Runs pending signal handlers; true (stop waiting) once one of them raised.
    ///
    /// `check_signals` does nothing outside the main thread, as in Python itself.
    pub(crate) fn poll(&mut self) -> bool {
        if self.raised.is_none() {
            if let Err(err) = Python::attach(|py| py.check_signals()) {
                self.raised = Some(err);
            }
        }
        self.raised.is_some()
    }

    /// The exception a signal handler raised (usually `KeyboardInterrupt`), if any.
    ///
    /// It wins over the call's own result: Python code would have seen it at that point.
    pub(crate) fn into_raised(self) -> Option<PyErr> {
        self.raised
    }
}
