//! `SampleArray`: decoded timestamps or values handed to Python without a copy.
//!
//! It exposes its Rust vector through the buffer protocol (format `q` for int64,
//! `d` for float64, native byte order), so `memoryview`, `array.array`, numpy and
//! `struct` read it in place.

use std::ffi::{c_char, c_int, c_void, CStr};

use pyo3::exceptions::{PyBufferError, PyIndexError};
use pyo3::ffi;
use pyo3::prelude::*;

enum Data {
    Int64(Vec<i64>),
    Float64(Vec<f64>),
}

/// A read-only array of int64 (`typecode == "q"`) or float64 (`"d"`) items.
#[pyclass(frozen, module = "thanos_rs.chunkenc")]
pub struct SampleArray {
    data: Data,
    // The buffer protocol hands out pointers to these; the object owns them.
    shape: [ffi::Py_ssize_t; 1],
    strides: [ffi::Py_ssize_t; 1],
}

const ITEM_SIZE: usize = 8;

impl SampleArray {
    fn new(data: Data) -> Self {
        let len = match &data {
            Data::Int64(v) => v.len(),
            Data::Float64(v) => v.len(),
        };
        SampleArray { data, shape: [len as ffi::Py_ssize_t], strides: [ITEM_SIZE as ffi::Py_ssize_t] }
    }

    pub fn int64(v: Vec<i64>) -> Self {
        Self::new(Data::Int64(v))
    }

    pub fn float64(v: Vec<f64>) -> Self {
        Self::new(Data::Float64(v))
    }

    fn len(&self) -> usize {
        self.shape[0] as usize
    }

    fn format(&self) -> &'static CStr {
        match self.data {
            Data::Int64(_) => c"q",
            Data::Float64(_) => c"d",
        }
    }

    fn ptr(&self) -> *const c_void {
        match &self.data {
            Data::Int64(v) => v.as_ptr() as *const c_void,
            Data::Float64(v) => v.as_ptr() as *const c_void,
        }
    }
}

#[pymethods]
impl SampleArray {
    #[getter]
    fn typecode(&self) -> &'static str {
        self.format().to_str().unwrap()
    }

    #[getter]
    fn itemsize(&self) -> usize {
        ITEM_SIZE
    }

    fn __len__(&self) -> usize {
        self.len()
    }

    fn __getitem__(&self, py: Python<'_>, index: isize) -> PyResult<Py<PyAny>> {
        let len = self.len() as isize;
        let i = if index < 0 { index + len } else { index };
        if i < 0 || i >= len {
            return Err(PyIndexError::new_err("SampleArray index out of range"));
        }
        Ok(match &self.data {
            Data::Int64(v) => v[i as usize].into_pyobject(py)?.into_any().unbind(),
            Data::Float64(v) => v[i as usize].into_pyobject(py)?.into_any().unbind(),
        })
    }

    fn tolist(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        Ok(match &self.data {
            Data::Int64(v) => v.into_pyobject(py)?.into_any().unbind(),
            Data::Float64(v) => v.into_pyobject(py)?.into_any().unbind(),
        })
    }

    fn __repr__(&self) -> String {
        format!("SampleArray(typecode={:?}, len={})", self.typecode(), self.len())
    }

    unsafe fn __getbuffer__(slf: Bound<'_, Self>, view: *mut ffi::Py_buffer, flags: c_int) -> PyResult<()> {
        if view.is_null() {
            return Err(PyBufferError::new_err("null Py_buffer"));
        }
        if flags & ffi::PyBUF_WRITABLE == ffi::PyBUF_WRITABLE {
            return Err(PyBufferError::new_err("SampleArray is read-only"));
        }
        let this = slf.get();
        // SAFETY: `view` is non-null and owned by the caller for the duration of the
        // export; every pointer we store points into `this`, which the new reference
        // in `obj` keeps alive, and `frozen` means nothing moves or changes it.
        unsafe {
            (*view).buf = this.ptr() as *mut c_void;
            (*view).len = (this.len() * ITEM_SIZE) as ffi::Py_ssize_t;
            (*view).readonly = 1;
            (*view).itemsize = ITEM_SIZE as ffi::Py_ssize_t;
            (*view).format = if flags & ffi::PyBUF_FORMAT == ffi::PyBUF_FORMAT {
                this.format().as_ptr() as *mut c_char
            } else {
                std::ptr::null_mut()
            };
            (*view).ndim = 1;
            (*view).shape = if flags & ffi::PyBUF_ND == ffi::PyBUF_ND {
                this.shape.as_ptr() as *mut ffi::Py_ssize_t
            } else {
                std::ptr::null_mut()
            };
            (*view).strides = if flags & ffi::PyBUF_STRIDES == ffi::PyBUF_STRIDES {
                this.strides.as_ptr() as *mut ffi::Py_ssize_t
            } else {
                std::ptr::null_mut()
            };
            (*view).suboffsets = std::ptr::null_mut();
            (*view).internal = std::ptr::null_mut();
            (*view).obj = slf.into_any().into_ptr();
        }
        Ok(())
    }

    unsafe fn __releasebuffer__(&self, _view: *mut ffi::Py_buffer) {}
}
