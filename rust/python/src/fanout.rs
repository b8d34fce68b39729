//! What the querier's four request classes (`DistributedQuery`,
//! `SeriesQuery`, `LabelsQuery`, `ProxySeries`) share: Rust plans the store
//! calls, Python makes them and hands the answers back, and a failing store
//! becomes a warning under partial response. [`FanOut`] is that plan;
//! [`Pending`] holds one until it is executed, once.

use std::sync::Mutex;

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use thanos_core::labels::Labels;
use thanos_core::{bail, Result};
use thanos_query::select::StoreInfo;

/// A store as Python describes it: (label sets, min time ms, max time ms).
pub type PyStore = (Vec<Vec<(String, String)>>, i64, i64);

/// A call as Python receives it: (group, store index, serialized request).
/// The calls of a group run concurrently, at most
/// `--query.max-concurrent-select` groups at a time.
pub type PyCall<'py> = (usize, usize, Bound<'py, PyBytes>);

/// A request fanned out to the stores.
pub trait FanOut: Send {
    /// Whether a failing store leaves a warning (true) or fails the request.
    fn partial_response(&self) -> bool;

    /// The calls to make: (group, store index, serialized request).
    fn calls(&mut self, stores: &[StoreInfo]) -> Vec<(usize, usize, Vec<u8>)>;

    /// A warning from outside the answers, such as a store that failed.
    fn add_warning(&mut self, warning: String);
}

/// A request until it is executed: every method of a class that wraps one
/// goes through here, so that a request used after executing raises the same
/// error from every class.
pub struct Pending<T>(Mutex<Option<T>>);

impl<T: FanOut> Pending<T> {
    pub fn new(request: T) -> Self {
        Pending(Mutex::new(Some(request)))
    }

    /// `f` on the request, with the GIL held.
    pub fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> PyResult<R> {
        let mut guard = self.0.lock().unwrap();
        let inner = guard.as_mut().ok_or_else(|| PyRuntimeError::new_err("this query has already been executed"))?;
        Ok(f(inner))
    }

    /// `f` on the request, for code running without the GIL.
    pub fn running<R>(&self, f: impl FnOnce(&mut T) -> R) -> Result<R> {
        let mut guard = self.0.lock().unwrap();
        let Some(inner) = guard.as_mut() else { bail!(Internal, "this call has already finished") };
        Ok(f(inner))
    }

    /// The request, to execute; it cannot be used afterwards.
    pub fn take(&self) -> PyResult<T> {
        self.0.lock().unwrap().take().ok_or_else(|| PyRuntimeError::new_err("this query has already been executed"))
    }

    pub fn partial_response(&self) -> PyResult<bool> {
        self.with(|r| r.partial_response())
    }

    pub fn calls<'py>(&self, py: Python<'py>, stores: Vec<PyStore>) -> PyResult<Vec<PyCall<'py>>> {
        let stores: Vec<StoreInfo> = stores
            .into_iter()
            .map(|(sets, min_time, max_time)| StoreInfo {
                label_sets: sets.into_iter().map(Labels::from_pairs).collect(),
                min_time,
                max_time,
            })
            .collect();
        let calls = self.with(|r| r.calls(&stores))?;
        Ok(calls.into_iter().map(|(group, store, request)| (group, store, PyBytes::new(py, &request))).collect())
    }

    pub fn add_warning(&self, warning: String) -> PyResult<()> {
        self.with(|r| r.add_warning(warning))
    }
}
