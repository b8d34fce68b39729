//! The store gateway's per-call limits (Thanos's `pkg/store/limiter.go`):
//! each `Series` call reserves the series it touches and the chunks it
//! sends, and fails as soon as either passes its limit.

use std::sync::atomic::{AtomicU64, Ordering};

use thanos_core::{Error, ErrorKind, Result};

/// The most samples a chunk holds: Thanos turns its sample limit into a
/// chunk limit with it (`MaxSamplesPerChunk`, `pkg/store/bucket.go`).
pub const MAX_SAMPLES_PER_CHUNK: u64 = 120;

/// A store gateway's limits; 0 is no limit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Limits {
    /// `--store.grpc.series-sample-limit`.
    pub samples: u64,
    /// `--store.grpc.touched-series-limit`.
    pub series: u64,
}

/// Counts what one call reserved against one limit; its blocks reserve
/// from several threads.
pub struct Limiter {
    limit: u64,
    reserved: AtomicU64,
}

impl Limiter {
    pub fn new(limit: u64) -> Self {
        Limiter { limit, reserved: AtomicU64::new(0) }
    }

    /// Reserves `n` more; past the limit, the error Thanos gives.
    pub fn reserve(&self, n: usize) -> Result<()> {
        let reserved = self.reserved.fetch_add(n as u64, Ordering::Relaxed).saturating_add(n as u64);
        if self.limit != 0 && reserved > self.limit {
            return Err(Error::new(
                ErrorKind::LimitExceeded,
                format!("limit {} violated (got {reserved})", self.limit),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_limit_fails_once_passed_and_zero_is_none() {
        let l = Limiter::new(10);
        assert!(l.reserve(10).is_ok());
        let e = l.reserve(2).unwrap_err();
        assert_eq!((e.kind(), e.message()), (ErrorKind::LimitExceeded, "limit 10 violated (got 12)"));
        assert!(Limiter::new(0).reserve(usize::MAX).is_ok());
    }
}
