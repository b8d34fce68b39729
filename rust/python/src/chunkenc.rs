//! `thanos_rs.chunkenc`: the XOR codec for Python.

use pyo3::buffer::PyBuffer;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use thanos_core::chunkenc;

use crate::arrays::SampleArray;
use crate::errors::{detach, to_pyerr, Domain};

/// Decodes one chunk into `(timestamps, values)`.
#[pyfunction]
fn decode_xor(py: Python<'_>, chunk: &[u8]) -> PyResult<(SampleArray, SampleArray)> {
    let (mut ts, mut vs) = (Vec::new(), Vec::new());
    chunkenc::decode_into(chunk, &mut ts, &mut vs).map_err(|e| to_pyerr(py, &e, Domain::General))?;
    Ok((SampleArray::int64(ts), SampleArray::float64(vs)))
}

/// Decodes many chunks with the GIL released into `(counts, timestamps, values)`,
/// samples concatenated in chunk order.
#[pyfunction]
fn decode_xor_many(
    py: Python<'_>,
    chunks: Vec<Bound<'_, PyBytes>>,
) -> PyResult<(SampleArray, SampleArray, SampleArray)> {
    let slices: Vec<&[u8]> = chunks.iter().map(|c| c.as_bytes()).collect();
    let (counts, ts, vs) = detach(py, Domain::General, || {
        let (mut ts, mut vs) = (Vec::new(), Vec::new());
        let counts = chunkenc::decode_many(&slices, &mut ts, &mut vs)?;
        Ok((counts.into_iter().map(|n| n as i64).collect(), ts, vs))
    })?;
    Ok((SampleArray::int64(counts), SampleArray::int64(ts), SampleArray::float64(vs)))
}

/// Reads an int64 or float64 column from a buffer of the right format, or from
/// any sequence of numbers.
fn column<'py, T>(obj: &Bound<'py, PyAny>) -> PyResult<Vec<T>>
where
    T: pyo3::buffer::Element + Copy + for<'a> pyo3::FromPyObject<'a, 'py>,
{
    if let Ok(buf) = PyBuffer::<T>::get(obj) {
        return buf.to_vec(obj.py());
    }
    obj.extract::<Vec<T>>()
}

/// Encodes one chunk from equal-length timestamps (int64 ms) and values.
#[pyfunction]
fn encode_xor<'py>(
    py: Python<'py>,
    timestamps: &Bound<'py, PyAny>,
    values: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyBytes>> {
    let ts: Vec<i64> = column(timestamps)?;
    let vs: Vec<f64> = column(values)?;
    let chunk = detach(py, Domain::General, || chunkenc::encode(&ts, &vs))?;
    Ok(PyBytes::new(py, &chunk))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<SampleArray>()?;
    m.add_function(wrap_pyfunction!(decode_xor, m)?)?;
    m.add_function(wrap_pyfunction!(decode_xor_many, m)?)?;
    m.add_function(wrap_pyfunction!(encode_xor, m)?)?;
    Ok(())
}
