//! A bucket as the store gateway's block reader reads it
//! ([`thanos_tsdb::bucket::ObjectReader`]).

use std::ops::Range;

use bytes::Bytes;
use thanos_core::Result;
use thanos_tsdb::bucket::ObjectReader;

use crate::Bucket;

impl ObjectReader for Bucket {
    fn get(&self, name: &str) -> Result<Bytes> {
        Bucket::get(self, name)
    }

    fn get_ranges(&self, name: &str, ranges: &[Range<u64>]) -> Result<Vec<Bytes>> {
        Bucket::get_ranges(self, name, ranges)
    }

    fn size(&self, name: &str) -> Result<u64> {
        Bucket::size(self, name)
    }
}
