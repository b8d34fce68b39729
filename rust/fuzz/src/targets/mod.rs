//! The fuzz targets: each takes any bytes and must return without panicking.
//! Decoders answer errors; the targets add checks of their own (two decoders
//! agree, a result round-trips), whose failures are panics too.

use crate::rng::Rng;

pub mod chunkenc;
pub mod frames;
pub mod promql_eval;
mod promql_gen;
pub mod promql_parse;
pub mod store_request;
pub mod tsdb_files;
mod words;

pub struct Target {
    pub name: &'static str,
    pub run: fn(&[u8]),
    /// A fresh input from the target's own generator, for structure that byte
    /// edits seldom hit (a valid protobuf, a well-typed query).
    pub generate: fn(&mut Rng) -> Vec<u8>,
    /// Tokens of the input format for the mutator to insert.
    pub dictionary: &'static [&'static [u8]],
    pub max_len: usize,
}

pub const ALL: [Target; 6] = [
    chunkenc::TARGET,
    frames::TARGET,
    store_request::TARGET,
    promql_parse::TARGET,
    promql_eval::TARGET,
    tsdb_files::TARGET,
];

pub fn find(name: &str) -> Option<&'static Target> {
    ALL.iter().find(|t| t.name == name)
}
