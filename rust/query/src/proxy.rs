//! The querier's own StoreAPI (Thanos's `ProxyStore`): a `Series` request is
//! passed on to every matching store and the answers are merged as they
//! arrive ([`ProxyHeap`]), without deduplication, so that a querier above
//! deduplicates on its own. This is what lets queriers be stacked.

use bytes::Bytes;
use prost::Message;
use thanos_core::labels::{matches_external_labels, Labels, Matcher};
use thanos_core::{bail, Error, ErrorKind, Result};
use thanos_store::pb::thanos::{series_response, SeriesRequest};
use thanos_store::storepb::{matchers_from_proto, to_proto};

use crate::proxy_heap::{encode, ProxyHeap};
use crate::querier::NO_STORE_MATCHED;
use crate::select::StoreInfo;

/// Series per `SeriesBatch` our querier asks its stores for. Big enough that
/// Python's per-message cost vanishes, small enough for gRPC's message limit
/// (a 6-hour series is about 2 KiB of chunks).
pub const STORE_BATCH_SIZE: i64 = 256;

pub struct ProxySeries {
    request: SeriesRequest,
    /// `None` when the selector labels rule the request out.
    matchers: Option<Vec<Matcher>>,
    /// The merge of the calls' answers, made with the calls.
    heap: ProxyHeap,
    warnings: Vec<String>,
}

impl ProxySeries {
    /// Parses a serialized `SeriesRequest`. Bad matchers are `BadData`, and so
    /// is a request left without matchers once the selector labels are
    /// stripped, as Thanos refuses it.
    pub fn new(request: Bytes, selector_labels: &Labels) -> Result<Self> {
        let request = SeriesRequest::decode(request)
            .map_err(|e| Error::new(ErrorKind::BadData, format!("decode SeriesRequest: {e}")))?;
        let matchers = matches_external_labels(&matchers_from_proto(&request.matchers)?, selector_labels);
        if matchers.as_ref().is_some_and(|m| m.is_empty()) {
            bail!(BadData, "no matchers specified (excluding selector labels)");
        }
        let batch = usize::try_from(request.response_batch_size).unwrap_or(0);
        Ok(ProxySeries { request, matchers, heap: ProxyHeap::new(0, batch), warnings: Vec::new() })
    }

    /// Whether a failing store leaves a warning (true) or fails the call.
    pub fn partial_response(&self) -> bool {
        !self.request.partial_response_disabled
    }

    /// The request each matching store gets, by store index. The answer to
    /// the `k`-th call is input `k` of [`ProxySeries::push`].
    pub fn calls(&mut self, stores: &[StoreInfo]) -> Vec<(usize, SeriesRequest)> {
        let Some(matchers) = &self.matchers else {
            return Vec::new();
        };
        let (mint, maxt) = (self.request.min_time, self.request.max_time);
        let forwarded = SeriesRequest {
            matchers: matchers.iter().map(to_proto).collect(),
            response_batch_size: STORE_BATCH_SIZE,
            ..self.request.clone()
        };
        let calls: Vec<_> = stores
            .iter()
            .enumerate()
            .filter(|(_, s)| s.matches(mint, maxt, matchers))
            .map(|(i, _)| (i, forwarded.clone()))
            .collect();
        if calls.is_empty() {
            self.warnings.push(NO_STORE_MATCHED.to_string());
        }
        let batch = usize::try_from(self.request.response_batch_size).unwrap_or(0);
        self.heap = ProxyHeap::new(calls.len(), batch);
        calls
    }

    /// Messages of call `input`'s answer, merged.
    pub fn push(&mut self, input: usize, messages: Vec<Bytes>) -> Result<()> {
        self.heap.push(input, messages)
    }

    /// Call `input` is over (or failed).
    pub fn finish_input(&mut self, input: usize) {
        self.heap.finish_input(input)
    }

    /// The merged messages ready to send, in order.
    pub fn take_ready(&mut self) -> Vec<Vec<u8>> {
        self.heap.take_ready()
    }

    /// Whether call `input` should pause reading: see [`ProxyHeap::backlogged`].
    pub fn backlogged(&self, input: usize) -> bool {
        self.heap.backlogged(input)
    }

    pub fn add_warning(&mut self, warning: String) {
        self.warnings.push(warning);
    }

    /// The end of the answer once every call is over: the series still
    /// held, then one message per warning (ours, then the stores').
    pub fn finish(self) -> Vec<Vec<u8>> {
        let (mut out, store_warnings) = self.heap.finish();
        for w in self.warnings.into_iter().chain(store_warnings) {
            out.push(encode(series_response::Result::Warning(w)));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::response::tests::{message, pb_series};
    use crate::response::SeriesStream;
    use crate::select::RequestOpts;
    use thanos_promql::engine::storage::SelectHints;
    use thanos_store::pb::thanos::Series;

    fn request(matchers: &[Matcher], batch: i64) -> Bytes {
        let opts = RequestOpts {
            partial_response: true,
            skip_chunks: false,
            response_batch_size: batch,
            max_resolution_window: 0,
        };
        let hints = SelectHints { start: 0, end: 100, ..Default::default() };
        crate::select::series_request(&hints, matchers, opts).encode_to_vec().into()
    }

    fn messages(series: &[Series]) -> Vec<Bytes> {
        series.iter().map(|x| message(series_response::Result::Series(x.clone()))).collect()
    }

    #[test]
    fn merges_stores_and_answers_in_the_shape_asked() {
        let stores = vec![StoreInfo { label_sets: vec![], min_time: 0, max_time: 1000 }; 2];
        // 2^62 is legal too (it once overflowed the pre-allocation): one batch.
        for batch in [0, 2, 1 << 62] {
            let mut p = ProxySeries::new(request(&[Matcher::equal("__name__", "up")], batch), &Labels::new()).unwrap();
            let calls = p.calls(&stores);
            assert_eq!(calls.len(), 2);
            assert_eq!(calls[0].1.response_batch_size, STORE_BATCH_SIZE);
            p.push(0, messages(&[pb_series(&[("a", "1")], &[(0, 9, b"x")]), pb_series(&[("a", "3")], &[])])).unwrap();
            p.push(1, messages(&[pb_series(&[("a", "1")], &[(0, 9, b"x")]), pb_series(&[("a", "2")], &[])])).unwrap();
            p.finish_input(0);
            p.finish_input(1);
            let mut out = p.take_ready();
            p.add_warning("store b: gone".into());
            out.extend(p.finish());
            let mut back = SeriesStream::new();
            for m in &out {
                back.push(Bytes::from(m.clone())).unwrap();
            }
            assert!(back.is_sorted());
            let set = back.finish();
            assert_eq!(set.series.len(), 3);
            assert_eq!(set.series[0].chunks.len(), 1, "identical chunks collapse");
            assert_eq!(set.warnings, vec!["store b: gone"]);
            assert_eq!(
                out.len(),
                match batch {
                    0 => 4,
                    2 => 3,
                    _ => 2,
                }
            );
        }
    }

    #[test]
    fn selector_labels_and_bad_requests() {
        let sel = Labels::from_pairs([("region", "eu")]);
        let err = ProxySeries::new(request(&[Matcher::equal("region", "eu")], 0), &sel).err().unwrap();
        assert!(err.message().contains("no matchers specified"), "{err}");
        let mut p =
            ProxySeries::new(request(&[Matcher::equal("region", "us"), Matcher::equal("a", "b")], 0), &sel).unwrap();
        assert!(p.calls(&[StoreInfo::default()]).is_empty());
        assert!(ProxySeries::new(Bytes::from_static(b"\xff"), &sel).is_err());
    }
}
