//! The streaming k-way merge behind the querier's own StoreAPI (Thanos's
//! `ProxyResponseHeap` in `pkg/store/proxy_heap.go`): each store's messages
//! are pushed as they arrive, and a series is ready to go out as soon as
//! every store still sending has moved past its labels. The answer is never
//! held whole: what waits is what the merge has not decided yet and what the
//! caller has not taken, and a store that runs ahead is told to pause
//! ([`ProxyHeap::backlogged`]).

use std::collections::VecDeque;

use bytes::Bytes;
use prost::Message;
use thanos_core::Result;
use thanos_store::pb::thanos::{chunk, series_response, AggrChunk, Chunk, Label, Series, SeriesBatch, SeriesResponse};

use crate::response::{sort_and_join, sort_chunks, SeriesStream, StoreSeries};

/// Bytes of decided-not-yet series one store may have waiting before it is
/// paused: a few of the stores' own batches (`STORE_BATCH_SIZE` series of a
/// few KiB each), so a pause costs no round trip on a healthy stream.
const BACKLOG_BYTES: usize = 8 << 20;

/// Bytes of ready messages the caller may leave untaken before every store
/// is paused: the caller reads slower than the stores send.
const READY_BYTES: usize = 8 << 20;

/// One store's stream in the merge.
#[derive(Default)]
struct Input {
    stream: SeriesStream,
    /// Series no later message can add to, in label order.
    queue: VecDeque<StoreSeries>,
    queued_bytes: usize,
    done: bool,
}

impl Input {
    fn take_closed(&mut self, end: bool) {
        for s in self.stream.take_closed(end) {
            self.queued_bytes += size(&s);
            self.queue.push_back(s);
        }
        self.done |= end;
    }

    fn pop(&mut self) -> Option<StoreSeries> {
        let s = self.queue.pop_front()?;
        self.queued_bytes -= size(&s);
        Some(s)
    }
}

/// What a series holds on to, about: its label strings and chunk bytes.
fn size(s: &StoreSeries) -> usize {
    s.labels.iter().map(|l| l.name.len() + l.value.len()).sum::<usize>()
        + s.chunks.iter().map(|c| c.data.len() + c.aggregates.as_ref().map_or(0, |a| a.size()) + 16).sum::<usize>()
}

/// The merge of `n` stores' `Series` streams into serialized `SeriesResponse`s.
pub struct ProxyHeap {
    inputs: Vec<Input>,
    /// Series per `SeriesBatch` out; 0 sends one series per message.
    batch: usize,
    pending: Vec<Series>,
    /// Serialized messages ready to send, in order, until taken.
    ready: VecDeque<Vec<u8>>,
    ready_bytes: usize,
}

impl ProxyHeap {
    pub fn new(inputs: usize, batch: usize) -> Self {
        let inputs = (0..inputs).map(|_| Input { stream: SeriesStream::new(), ..Default::default() }).collect();
        ProxyHeap { inputs, batch, pending: Vec::new(), ready: VecDeque::new(), ready_bytes: 0 }
    }

    /// Takes messages of store `input` and merges what they decide.
    pub fn push(&mut self, input: usize, messages: Vec<Bytes>) -> Result<()> {
        let Some(i) = self.inputs.get_mut(input) else { return Ok(()) };
        for m in messages {
            i.stream.push(m)?;
        }
        i.take_closed(false);
        self.emit();
        Ok(())
    }

    /// Store `input` has sent everything it will (or failed): what it sent
    /// counts, and the merge no longer waits for it.
    pub fn finish_input(&mut self, input: usize) {
        if let Some(i) = self.inputs.get_mut(input) {
            i.take_closed(true);
        }
        self.emit();
    }

    /// The messages ready to send, in order; the next call returns the ones
    /// that became ready since.
    pub fn take_ready(&mut self) -> Vec<Vec<u8>> {
        self.ready_bytes = 0;
        self.ready.drain(..).collect()
    }

    /// Whether store `input` should wait before sending more: it has this
    /// much decided while the merge waits on another store, or the caller
    /// has not taken what is ready.
    pub fn backlogged(&self, input: usize) -> bool {
        self.ready_bytes > READY_BYTES || self.inputs.get(input).is_some_and(|i| i.queued_bytes > BACKLOG_BYTES)
    }

    /// The rest of the answer once every store is finished, then the stores'
    /// warnings in store order.
    pub fn finish(mut self) -> (Vec<Vec<u8>>, Vec<String>) {
        for i in 0..self.inputs.len() {
            self.finish_input(i);
        }
        if !self.streams_sorted() {
            // Held back (see `emit`): sorted and merged now, all at once.
            let mut rest: Vec<StoreSeries> =
                self.inputs.iter_mut().flat_map(|i| std::mem::take(&mut i.queue)).collect();
            sort_and_join(&mut rest);
            for s in rest {
                self.send(s);
            }
        }
        if !self.pending.is_empty() {
            let series = std::mem::take(&mut self.pending);
            self.ready.push_back(encode(series_response::Result::Batch(SeriesBatch { series })));
        }
        let warnings = self.inputs.iter_mut().flat_map(|i| i.stream.take_warnings()).collect();
        (self.take_ready(), warnings)
    }

    fn streams_sorted(&self) -> bool {
        self.inputs.iter().all(|i| i.stream.is_sorted())
    }

    /// Sends series while they are decided: the smallest label set queued,
    /// with its chunks from every store that has it, once every store still
    /// sending is known to be past it (its next series, even one that may
    /// continue, sorts after it).
    fn emit(&mut self) {
        // A store that breaks the label order is merged at the end instead:
        // what it sends later may belong before anything decided now.
        if !self.streams_sorted() {
            return;
        }
        loop {
            let mut first: Option<usize> = None;
            for (k, i) in self.inputs.iter().enumerate() {
                if let Some(s) = i.queue.front() {
                    if first.is_none_or(|f| s.labels < self.inputs[f].queue[0].labels) {
                        first = Some(k);
                    }
                }
            }
            let Some(first) = first else { break };
            let next = &self.inputs[first].queue[0].labels;
            let decided = self
                .inputs
                .iter()
                .all(|i| i.done || !i.queue.is_empty() || i.stream.open_labels().is_some_and(|open| next < open));
            if !decided {
                break;
            }
            let mut series = self.inputs[first].pop().expect("a queued series");
            let mut joined = false;
            for i in &mut self.inputs[first + 1..] {
                if i.queue.front().is_some_and(|s| s.labels == series.labels) {
                    series.chunks.extend(i.pop().expect("a queued series").chunks);
                    joined = true;
                }
            }
            if joined {
                sort_chunks(&mut series.chunks);
            }
            self.send(series);
        }
    }

    fn send(&mut self, series: StoreSeries) {
        let series = to_pb_series(series);
        let message = if self.batch == 0 {
            encode(series_response::Result::Series(series))
        } else {
            self.pending.push(series);
            if self.pending.len() < self.batch {
                return;
            }
            encode(series_response::Result::Batch(SeriesBatch { series: std::mem::take(&mut self.pending) }))
        };
        self.ready_bytes += message.len();
        self.ready.push_back(message);
    }
}

pub(crate) fn encode(result: series_response::Result) -> Vec<u8> {
    SeriesResponse { result: Some(result) }.encode_to_vec()
}

fn to_pb_series(s: StoreSeries) -> Series {
    Series {
        labels: s.labels.into_vec().into_iter().map(|l| Label { name: l.name, value: l.value }).collect(),
        chunks: s
            .chunks
            .into_iter()
            .map(|c| {
                let xor = |data| Some(Chunk { r#type: chunk::Encoding::Xor as i32, data, hash: 0 });
                match c.aggregates {
                    // Passed on as they came, for the querier above to read.
                    Some(a) => AggrChunk {
                        min_time: c.min_time,
                        max_time: c.max_time,
                        count: a.count.and_then(xor),
                        sum: a.sum.and_then(xor),
                        min: a.min.and_then(xor),
                        max: a.max.and_then(xor),
                        counter: a.counter.and_then(xor),
                        ..Default::default()
                    },
                    None => {
                        AggrChunk { min_time: c.min_time, max_time: c.max_time, raw: xor(c.data), ..Default::default() }
                    }
                }
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::response::tests::{message, pb_series};
    use thanos_core::ErrorKind;

    fn msg(v: &str, t: i64, data: &'static [u8]) -> Bytes {
        message(series_response::Result::Series(pb_series(&[("a", v)], &[(t, t + 9, data)])))
    }

    /// The label values and chunk start times in `out`, in order.
    fn sent(out: &[Vec<u8>]) -> Vec<(String, Vec<i64>)> {
        let mut stream = SeriesStream::new();
        for m in out {
            stream.push(Bytes::from(m.clone())).unwrap();
        }
        let set = stream.take_closed(true);
        set.iter().map(|s| (s.labels.get("a").to_string(), s.chunks.iter().map(|c| c.min_time).collect())).collect()
    }

    fn pairs(p: &[(&str, &[i64])]) -> Vec<(String, Vec<i64>)> {
        p.iter().map(|(v, t)| (v.to_string(), t.to_vec())).collect()
    }

    #[test]
    fn a_series_goes_out_once_every_store_is_past_it() {
        let mut h = ProxyHeap::new(2, 0);
        // Store 0's last series may continue in its next message, and store 1
        // has sent nothing: nothing can go out yet.
        h.push(0, vec![msg("1", 0, b"x"), msg("3", 0, b"x")]).unwrap();
        assert!(h.take_ready().is_empty());
        // Store 1 is at "2": "1" is decided.
        h.push(1, vec![msg("2", 0, b"y")]).unwrap();
        assert_eq!(sent(&h.take_ready()), pairs(&[("1", &[0])]));
        // Store 1 moves on to "4": "2" is decided, "3" may still grow.
        h.push(1, vec![msg("4", 0, b"y")]).unwrap();
        assert_eq!(sent(&h.take_ready()), pairs(&[("2", &[0])]));
        h.finish_input(0);
        assert_eq!(sent(&h.take_ready()), pairs(&[("3", &[0])]));
        h.finish_input(1);
        assert_eq!(sent(&h.take_ready()), pairs(&[("4", &[0])]));
        let (rest, warnings) = h.finish();
        assert!(rest.is_empty() && warnings.is_empty());
    }

    #[test]
    fn equal_series_of_several_stores_and_messages_are_joined() {
        let mut h = ProxyHeap::new(2, 10);
        // Store 0 sends series "1" in two messages; store 1 sends it too,
        // with one chunk identical to store 0's.
        h.push(0, vec![msg("1", 0, b"x")]).unwrap();
        h.push(0, vec![msg("1", 10, b"x")]).unwrap();
        h.push(1, vec![msg("1", 10, b"x"), msg("1", 20, b"z")]).unwrap();
        h.finish_input(0);
        h.finish_input(1);
        assert!(h.take_ready().is_empty(), "a batch of 10 waits to be full or for the end");
        let out = h.finish().0;
        assert_eq!(out.len(), 1);
        assert_eq!(sent(&out), pairs(&[("1", &[0, 10, 20])]));
    }

    #[test]
    fn a_store_ahead_of_the_others_is_paused_until_they_catch_up() {
        let mut h = ProxyHeap::new(2, 0);
        static CHUNK: [u8; 1 << 20] = [0; 1 << 20];
        let many: Vec<Bytes> = (0..12).map(|i| msg(&format!("{i:02}"), 0, &CHUNK)).collect();
        h.push(0, many).unwrap();
        assert!(h.backlogged(0));
        assert!(!h.backlogged(1));
        // Store 1 ends: store 0's series are decided, but the caller has not
        // taken them yet, and every store waits for it.
        h.finish_input(1);
        assert!(h.backlogged(0) && h.backlogged(1));
        let out = h.take_ready();
        assert_eq!(out.len(), 11, "all but the series store 0 may still continue");
        assert!(!h.backlogged(0) && !h.backlogged(1));
    }

    #[test]
    fn an_unsorted_store_is_merged_at_the_end() {
        let mut h = ProxyHeap::new(2, 0);
        h.push(0, vec![msg("2", 0, b"x"), msg("1", 0, b"x"), msg("3", 0, b"x")]).unwrap();
        h.push(1, vec![msg("1", 10, b"y")]).unwrap();
        h.finish_input(0);
        h.finish_input(1);
        assert!(h.take_ready().is_empty());
        let (out, _) = h.finish();
        assert_eq!(sent(&out), pairs(&[("1", &[0, 10]), ("2", &[0]), ("3", &[0])]));
    }

    #[test]
    fn a_corrupt_message_is_an_error_and_the_rest_still_counts() {
        let mut h = ProxyHeap::new(2, 0);
        h.push(0, vec![msg("1", 0, b"x")]).unwrap();
        let err = h.push(1, vec![Bytes::from_static(b"\x0a\xff\xff\xff")]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::CorruptFrame);
        h.finish_input(1);
        h.finish_input(0);
        assert_eq!(sent(&h.take_ready()), pairs(&[("1", &[0])]));
    }
}
