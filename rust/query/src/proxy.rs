//! The querier's own StoreAPI (Thanos's `ProxyStore`): a `Series` request is
//! passed on to every matching store and the answers are merged, without
//! deduplication, so that a querier above deduplicates on its own. This is
//! what lets queriers be stacked.

use bytes::Bytes;
use prost::Message;
use thanos_core::labels::{matches_external_labels, Labels, Matcher};
use thanos_core::{bail, Error, ErrorKind, Result};
use thanos_store::pb::thanos::{
    series_response, AggrChunk, Chunk, Label, Series, SeriesBatch, SeriesRequest, SeriesResponse,
};

use thanos_store::storepb::{matchers_from_proto, to_proto};

use crate::merge::merge;
use crate::querier::NO_STORE_MATCHED;
use crate::response::{StoreSeries, StoreSet};
use crate::select::StoreInfo;

/// Series per `SeriesBatch` our querier asks its stores for. Big enough that
/// Python's per-message cost vanishes, small enough for gRPC's message limit
/// (a 6-hour series is about 2 KiB of chunks).
pub const STORE_BATCH_SIZE: i64 = 256;

pub struct ProxySeries {
    request: SeriesRequest,
    /// `None` when the selector labels rule the request out.
    matchers: Option<Vec<Matcher>>,
    answers: Vec<StoreSet>,
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
        Ok(ProxySeries { request, matchers, answers: Vec::new(), warnings: Vec::new() })
    }

    /// Whether a failing store leaves a warning (true) or fails the call.
    pub fn partial_response(&self) -> bool {
        !self.request.partial_response_disabled
    }

    /// The request each matching store gets, by store index.
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
        calls
    }

    pub fn add_answer(&mut self, answer: StoreSet) {
        self.answers.push(answer);
    }

    pub fn add_warning(&mut self, warning: String) {
        self.warnings.push(warning);
    }

    /// The answer as serialized `SeriesResponse`s: the merged series (in
    /// batches when the request asked for them, else one per message), then
    /// one message per warning.
    pub fn responses(self) -> Vec<Vec<u8>> {
        let merged = merge(self.answers);
        let batch = usize::try_from(self.request.response_batch_size).unwrap_or(0);
        let mut out = Vec::new();
        let series = merged.series.into_iter().map(to_pb_series);
        if batch > 0 {
            // Any int64 is a legal batch size: room for what there is, not
            // for what was asked (2^62 overflowed `with_capacity`).
            let mut pending = Vec::with_capacity(batch.min(series.len()));
            for s in series {
                pending.push(s);
                if pending.len() == batch {
                    out.push(encode(series_response::Result::Batch(SeriesBatch {
                        series: std::mem::take(&mut pending),
                    })));
                }
            }
            if !pending.is_empty() {
                out.push(encode(series_response::Result::Batch(SeriesBatch { series: pending })));
            }
        } else {
            out.extend(series.map(|s| encode(series_response::Result::Series(s))));
        }
        for w in self.warnings.into_iter().chain(merged.warnings) {
            out.push(encode(series_response::Result::Warning(w)));
        }
        out
    }
}

fn encode(result: series_response::Result) -> Vec<u8> {
    SeriesResponse { result: Some(result) }.encode_to_vec()
}

fn to_pb_series(s: StoreSeries) -> Series {
    Series {
        labels: s.labels.into_vec().into_iter().map(|l| Label { name: l.name, value: l.value }).collect(),
        chunks: s
            .chunks
            .into_iter()
            .map(|c| AggrChunk {
                min_time: c.min_time,
                max_time: c.max_time,
                raw: Some(Chunk { r#type: 0, data: c.data, hash: 0 }),
                ..Default::default()
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::response::tests::{message, pb_series};
    use crate::response::SeriesStream;
    use crate::select::RequestOpts;
    use thanos_promql::engine::storage::SelectHints;

    fn request(matchers: &[Matcher], batch: i64) -> Bytes {
        let opts = RequestOpts { partial_response: true, skip_chunks: false, response_batch_size: batch };
        let hints = SelectHints { start: 0, end: 100, ..Default::default() };
        crate::select::series_request(&hints, matchers, opts).encode_to_vec().into()
    }

    fn answer(series: &[Series]) -> StoreSet {
        let mut s = SeriesStream::new();
        for x in series {
            s.push(message(series_response::Result::Series(x.clone()))).unwrap();
        }
        s.finish()
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
            p.add_answer(answer(&[pb_series(&[("a", "1")], &[(0, 9, b"x")]), pb_series(&[("a", "3")], &[])]));
            p.add_answer(answer(&[pb_series(&[("a", "1")], &[(0, 9, b"x")]), pb_series(&[("a", "2")], &[])]));
            p.add_warning("store b: gone".into());
            let out = p.responses();
            let mut back = SeriesStream::new();
            for m in &out {
                back.push(Bytes::from(m.clone())).unwrap();
            }
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
