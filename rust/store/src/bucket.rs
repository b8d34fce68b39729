//! The store gateway's StoreAPI over blocks in object storage (Thanos's
//! `BucketStore`, `pkg/store/bucket.go`): each block answers with its
//! external labels (the `thanos` section of its `meta.json`) added to its
//! series, and a request's matchers on those labels pick the blocks.
//!
//! Blocks of one label set that overlap in time (a compacted block and its
//! sources, during a compactor's run) give one series with merged chunks;
//! blocks of different label sets give different series.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use bytes::Bytes;
use prost::Message;
use thanos_core::labels::{matches_external_labels, Labels, Matcher};
use thanos_core::{bail, Result};
use thanos_tsdb::bucket::BucketBlock;
use thanos_tsdb::merge::merge_chunks;
use thanos_tsdb::Chunk;

use crate::labelpb;
use crate::pb::thanos;
use crate::request::decode;
use crate::response::{Batcher, RawChunk};
use crate::storepb;

/// A series' full label set (external labels in, the request's replica
/// labels out) with its chunks from one block.
type Found = (Vec<(String, String)>, Vec<Chunk>);

/// A block the store serves, with its external labels.
struct Served {
    external: Labels,
    block: Arc<BucketBlock>,
}

/// The blocks a store gateway serves, by ULID. Calls read a snapshot of the
/// set, so blocks can come and go while they run.
#[derive(Default)]
pub struct BucketStore {
    blocks: RwLock<BTreeMap<String, Arc<Served>>>,
}

impl BucketStore {
    pub fn add(&self, external: Labels, block: BucketBlock) {
        let ulid = block.meta().ulid.clone();
        let served = Arc::new(Served { external, block: Arc::new(block) });
        self.blocks.write().expect("not poisoned").insert(ulid, served);
    }

    pub fn remove(&self, ulid: &str) -> bool {
        self.blocks.write().expect("not poisoned").remove(ulid).is_some()
    }

    /// The ULIDs served, sorted.
    pub fn ulids(&self) -> Vec<String> {
        self.blocks.read().expect("not poisoned").keys().cloned().collect()
    }

    fn snapshot(&self) -> Vec<Arc<Served>> {
        self.blocks.read().expect("not poisoned").values().cloned().collect()
    }

    /// The time range of the blocks, `[min, max]` in ms (the last block's max
    /// time is exclusive, as Thanos announces it); `None` without blocks.
    pub fn time_range(&self) -> Option<(i64, i64)> {
        let blocks = self.snapshot();
        let min = blocks.iter().map(|s| s.block.meta().min_time).min()?;
        let max = blocks.iter().map(|s| s.block.meta().max_time).max()?;
        Some((min, max))
    }

    /// The distinct external label sets of the blocks, sorted.
    pub fn label_sets(&self) -> Vec<Labels> {
        let mut sets: Vec<Labels> = self.snapshot().iter().map(|s| s.external.clone()).collect();
        sets.sort();
        sets.dedup();
        sets
    }

    /// Starts answering a `thanos.SeriesRequest`: the series of every block
    /// the request selects are read now, and encoded in label order as
    /// [`BucketSeries::next_messages`] asks for them.
    pub fn series(&self, request: &[u8]) -> Result<BucketSeries> {
        let req: thanos::SeriesRequest = decode("SeriesRequest", request)?;
        let matchers = storepb::matchers_from_proto(&req.matchers)?;
        let mut found: Vec<Found> = Vec::new();
        for served in self.snapshot() {
            let Some(rest) = series_matchers(&matchers, &served.external)? else { continue };
            for s in served.block.select(&rest, req.min_time, req.max_time)? {
                let pairs = s.labels.iter().map(|l| (l.name.as_str(), l.value.as_str()));
                let labels = labelpb::extend_sorted(pairs, &served.external, &req.without_replica_labels);
                let owned = labels.into_iter().map(|(n, v)| (n.to_string(), v.to_string())).collect();
                found.push((owned, s.chunks));
            }
        }
        found.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(BucketSeries {
            found: found.into_iter().peekable(),
            batcher: Batcher::new(req.response_batch_size),
            skip_chunks: req.skip_chunks,
            done: false,
        })
    }

    /// The encoded `thanos.LabelNamesResponse` for a `LabelNamesRequest`.
    pub fn label_names(&self, request: &[u8]) -> Result<Vec<u8>> {
        let req: thanos::LabelNamesRequest = decode("LabelNamesRequest", request)?;
        let matchers = storepb::matchers_from_proto(&req.matchers)?;
        let mut names = Vec::new();
        for served in self.blocks_in(req.start, req.end) {
            let Some(rest) = matches_external_labels(&matchers, &served.external) else { continue };
            let block_names = served.block.label_names(&rest)?;
            // A block's series carry its external labels too, when it has any series.
            if !block_names.is_empty() {
                names.extend(served.external.iter().map(|l| l.name.clone()));
            }
            names.extend(block_names);
        }
        Ok(thanos::LabelNamesResponse { names: finish(names, &req.without_replica_labels), ..Default::default() }
            .encode_to_vec())
    }

    /// The encoded `thanos.LabelValuesResponse` for a `LabelValuesRequest`.
    pub fn label_values(&self, request: &[u8]) -> Result<Vec<u8>> {
        let req: thanos::LabelValuesRequest = decode("LabelValuesRequest", request)?;
        if req.label.is_empty() {
            bail!(BadData, "label name parameter cannot be empty");
        }
        let matchers = storepb::matchers_from_proto(&req.matchers)?;
        let mut values = Vec::new();
        if !req.without_replica_labels.contains(&req.label) {
            for served in self.blocks_in(req.start, req.end) {
                let Some(rest) = matches_external_labels(&matchers, &served.external) else { continue };
                if served.external.has(&req.label) {
                    // One value on every series of the block, if it has any.
                    if !served.block.label_names(&rest)?.is_empty() {
                        values.push(served.external.get(&req.label).to_string());
                    }
                } else {
                    values.extend(served.block.label_values(&req.label, &rest)?);
                }
            }
        }
        Ok(thanos::LabelValuesResponse { values: finish(values, &[]), ..Default::default() }.encode_to_vec())
    }

    /// The blocks holding data in `[start, end]`.
    fn blocks_in(&self, start: i64, end: i64) -> Vec<Arc<Served>> {
        self.snapshot().into_iter().filter(|s| s.block.overlaps(start, end)).collect()
    }
}

/// The matchers of a `Series` call left for a block once its external
/// labels are taken out; `None` when one of those fails. A request of
/// external-label matchers only is refused, as the sidecar refuses it.
fn series_matchers(matchers: &[Matcher], external: &Labels) -> Result<Option<Vec<Matcher>>> {
    let rest = matches_external_labels(matchers, external);
    if rest.as_ref().is_some_and(Vec::is_empty) {
        bail!(BadData, "no matchers specified (excluding external labels)");
    }
    Ok(rest)
}

fn finish(mut strings: Vec<String>, without: &[String]) -> Vec<String> {
    strings.retain(|s| !without.contains(s));
    strings.sort_unstable();
    strings.dedup();
    strings
}

fn raw_chunks(chunks: &[Chunk]) -> Result<Vec<RawChunk<'_>>> {
    chunks
        .iter()
        .map(|c| {
            let Some(encoding) = storepb::chunk_encoding(i32::from(c.encoding)) else {
                bail!(CorruptBlock, "chunk of encoding {}, which the StoreAPI cannot carry", c.encoding);
            };
            Ok(RawChunk { min_time: c.meta.min_time, max_time: c.meta.max_time, encoding, data: &c.data })
        })
        .collect()
}

/// The answer of one `Series` call, encoded a piece at a time so that only
/// about one piece of messages exists at once beside the series read.
pub struct BucketSeries {
    found: std::iter::Peekable<std::vec::IntoIter<Found>>,
    batcher: Batcher,
    skip_chunks: bool,
    done: bool,
}

impl BucketSeries {
    /// The next `SeriesResponse` messages, once at least `budget` bytes of
    /// them are ready (a series is never split); empty only when the answer
    /// is complete. A series held by several blocks (of one label set) is
    /// sent once, its chunks merged.
    pub fn next_messages(&mut self, budget: usize) -> Result<Vec<Bytes>> {
        let mut out = Vec::new();
        let mut ready = 0;
        while ready < budget.max(1) && !self.done {
            let before = out.len();
            let Some((labels, chunks)) = self.found.next() else {
                self.batcher.flush(&mut out);
                self.done = true;
                break;
            };
            let mut parts = vec![(chunks, Default::default())];
            while let Some((_, more)) = self.found.next_if(|(l, _)| *l == labels) {
                parts.push((more, Default::default()));
            }
            let chunks = if parts.len() == 1 { parts.pop().expect("one part").0 } else { merge_chunks(parts)? };
            let pairs: Vec<(&str, &str)> = labels.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
            let raw = if self.skip_chunks { Vec::new() } else { raw_chunks(&chunks)? };
            self.batcher.push(&pairs, &raw, &mut out);
            ready += out[before..].iter().map(Bytes::len).sum::<usize>();
        }
        Ok(out)
    }
}
