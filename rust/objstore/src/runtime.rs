//! The tokio runtime that drives the `object_store` crate's futures for the
//! blocking [`Bucket`](crate::Bucket) API.
//!
//! It starts on the first bucket call, not on import: Python processes fork
//! (multiprocessing, the test suite's servers) and a forked child must not
//! inherit a runtime whose threads did not come along. Callers block on it from
//! their own threads (Python's, with the GIL released), so its workers only
//! run the HTTP connections; two of them, as the machines this runs on have
//! few cores and a request is mostly waiting.

use std::future::Future;
use std::sync::OnceLock;

use tokio::runtime::{Builder, Runtime};

const WORKER_THREADS: usize = 2;

fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        Builder::new_multi_thread()
            .worker_threads(WORKER_THREADS)
            .thread_name("objstore")
            .enable_all()
            .build()
            .expect("start the object storage runtime")
    })
}

/// Runs `future` to completion on the runtime, blocking the calling thread.
/// Never called from inside the runtime (the crate's futures do not call back
/// into the blocking API), where tokio would panic.
pub fn block_on<F: Future>(future: F) -> F::Output {
    runtime().block_on(future)
}
