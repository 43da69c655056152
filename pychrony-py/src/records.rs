//! A Python record built here: a new instance of the class the package passes in (a frozen
//! dataclass such as `TrackingStatus`) whose `__dict__` gets the fields, as
//! `pychrony._build.builder` does in Python (see there why that is the object `__init__` makes),
//! without a Python frame, a tuple and a `zip` per call: the hot path of a poller's
//! `get_tracking()`.

use pyo3::exceptions::PyValueError;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyTuple, PyType};

/// `object.__new__`, looked up once.
static OBJECT_NEW: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// A `class` whose fields, named by `fields` (`pychrony._build.field_names`), are `values`, in
/// that order.
pub(crate) fn build<'py, const N: usize>(
    class: &Bound<'py, PyType>,
    fields: &Bound<'py, PyTuple>,
    values: [Bound<'py, PyAny>; N],
) -> PyResult<Bound<'py, PyAny>> {
    let py = class.py();
    if fields.len() != N {
        return Err(PyValueError::new_err(format!(
            "{} has {} fields and the report {N} values: pass the class's own \
             pychrony._build.field_names",
            class.name()?,
            fields.len()
        )));
    }
    let new = OBJECT_NEW.get_or_try_init(py, || {
        let object = py.get_type::<PyAny>();
        object.getattr(intern!(py, "__new__")).map(Bound::unbind)
    })?;
    let record = new.bind(py).call1((class,))?;
    let dict = record
        .getattr(intern!(py, "__dict__"))?
        .cast_into::<PyDict>()?;
    for (name, value) in fields.iter().zip(values) {
        dict.set_item(name, value)?;
    }
    Ok(record)
}
