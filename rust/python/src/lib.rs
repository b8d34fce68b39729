//! `thanos_rs._core`: the Python face of the Rust core. This crate holds no
//! logic of its own: it extracts arguments, releases the GIL around the work
//! (see [`errors::detach`]) and converts results and errors.

use pyo3::prelude::*;

/// Rust's allocations in the extension go to mimalloc: a query over many
/// series allocates and frees a string per label, and with glibc's malloc that
/// was 40 % of the querier's work on an instant query over 30,000 series (41 ->
/// 23 ms, benches/README.md). Dynamic TLS because Python loads us with dlopen.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod apis;
mod arrays;
mod chunkenc;
mod compact;
mod errors;
mod fanout;
mod objstore;
mod promql;
mod query;
mod remote_client;
mod rules;
mod store;
mod store_gateway;

#[pymodule]
#[pyo3(name = "_core")]
fn core_module(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    // What built us, for the querier's buildinfo (build.rs).
    m.add("RUSTC_VERSION", env!("THANOS_RS_RUSTC_VERSION"))?;
    m.add("TARGET", env!("THANOS_RS_TARGET"))?;
    // Prometheus's API bounds, so that Python has them from the one place.
    m.add("MIN_TIME", thanos_core::timestamp::MIN_TIME)?;
    m.add("MAX_TIME", thanos_core::timestamp::MAX_TIME)?;
    apis::register(m)?;
    chunkenc::register(m)?;
    compact::register(m)?;
    objstore::register(m)?;
    promql::register(m)?;
    query::register(m)?;
    remote_client::register(m)?;
    rules::register(m)?;
    store::register(m)?;
    store_gateway::register(m)?;
    Ok(())
}
