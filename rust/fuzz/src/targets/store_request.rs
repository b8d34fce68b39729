//! The StoreAPI request decoders and what is done with a request before any
//! data moves: the sidecar's (`rust/store/src/prometheus.rs`: `Series` into a
//! remote-read request or a `/api/v1/series` call, `LabelNames` and
//! `LabelValues` into a label API call) and the querier's own StoreAPI
//! (`rust/query`: the proxy's `Series` and the label queries, fanned out to
//! stores).
//!
//! Input: one serialized request, given to every decoder: protobuf fields of
//! one message parse as another's, so each sees something.

use bytes::Bytes;
use prost::Message;
use thanos_core::labels::Labels;
use thanos_query::metadata::LabelsQuery as QuerierLabels;
use thanos_query::proxy::ProxySeries;
use thanos_query::select::StoreInfo;
use thanos_store::pb::thanos::{
    self, LabelMatcher, LabelNamesRequest, LabelValuesRequest, QueryHints, SeriesRequest, ShardInfo,
};
use thanos_store::prometheus::{LabelsQuery, SeriesStream};

use super::{words, Target};
use crate::rng::Rng;

pub const TARGET: Target = Target {
    name: "store_request",
    run,
    generate,
    dictionary: &[
        b"\x08",
        b"\x10",
        b"\x1a",
        b"\x22",
        b"\x62",
        b"\x72",
        b"\x80\x01",
        b".*",
        b"__name__",
        b"\xff\xff\xff\xff\xff\xff\xff\xff\x7f",
    ],
    max_len: 4096,
};

/// Times the sidecar says its Prometheus serves from: the start a request is
/// clamped to.
const SIDECAR_MIN_TIMES: [i64; 4] = [i64::MIN, 0, 1_700_000_000_000, i64::MAX];

const SERIES_JSON: &[u8] =
    br#"{"status":"success","data":[{"__name__":"up","job":"api","replica":"r1"},{"__name__":"up","instance":"x"}]}"#;
const STRINGS_JSON: &[u8] = br#"{"status":"success","data":["job","replica","__name__",""]}"#;

fn external() -> Labels {
    Labels::from_pairs([("cluster", "eu"), ("replica", "a")])
}

fn stores() -> Vec<StoreInfo> {
    vec![
        StoreInfo { label_sets: vec![], min_time: i64::MIN, max_time: i64::MAX },
        StoreInfo { label_sets: vec![external()], min_time: 0, max_time: 1_700_000_000_000 },
        StoreInfo {
            label_sets: vec![Labels::from_pairs([("cluster", "us")]), Labels::from_pairs([("job", "")])],
            min_time: 1,
            max_time: 0,
        },
    ]
}

fn run(data: &[u8]) {
    for min_time in SIDECAR_MIN_TIMES {
        if let Ok(mut s) = SeriesStream::new(data, external(), min_time) {
            let (mint, _) = s.time_range();
            // A request starting before the sidecar's data is moved up to it.
            assert!(mint >= min_time, "start {mint} before the sidecar's {min_time}");
            let _ = (s.matches(), s.skip_chunks(), s.read_request(), s.series_params());
            let _ = s.feed_series_json(SERIES_JSON);
        }
    }
    for q in
        [LabelsQuery::label_names(data, external()), LabelsQuery::label_values(data, external())].into_iter().flatten()
    {
        let _ = (q.answer(), q.path(), q.params());
        let _ = q.response(STRINGS_JSON);
    }

    let bytes = Bytes::copy_from_slice(data);
    if let Ok(mut proxy) = ProxySeries::new(bytes.clone(), &external()) {
        let _ = proxy.partial_response();
        let calls = proxy.calls(&stores());
        let message = |result| Bytes::from(thanos::SeriesResponse { result: Some(result) }.encode_to_vec());
        let series = |name: &str| {
            let labels = vec![thanos::Label { name: "__name__".into(), value: name.into() }];
            message(thanos::series_response::Result::Series(thanos::Series { labels, chunks: vec![] }))
        };
        for (input, (store, _)) in calls.into_iter().enumerate() {
            let answer = vec![
                series("b"),
                series(&store.to_string()),
                message(thanos::series_response::Result::Warning("w".into())),
            ];
            let _ = proxy.push(input, answer);
            proxy.finish_input(input);
            let _ = proxy.take_ready();
        }
        let _ = proxy.finish();
    }
    for values in [false, true] {
        if let Ok(q) = QuerierLabels::from_request(values, bytes.clone()) {
            let _ = (q.kind(), q.partial_response(), q.calls(&stores()));
        }
    }
}

fn matchers(rng: &mut Rng) -> Vec<LabelMatcher> {
    (0..rng.small(4))
        .map(|_| {
            let t = if rng.one_in(10) { rng.next_u64() as i32 } else { rng.below(4) as i32 };
            let value = if t >= 2 { words::pattern(rng) } else { words::value(rng) };
            LabelMatcher { r#type: t, name: words::name(rng), value }
        })
        .collect()
}

fn strings(rng: &mut Rng) -> Vec<String> {
    (0..rng.small(3)).map(|_| words::name(rng)).collect()
}

/// A generated request: one of the three kinds, its fields ordinary or at
/// their limits.
fn generate(rng: &mut Rng) -> Vec<u8> {
    match rng.below(3) {
        0 => SeriesRequest {
            min_time: words::time(rng),
            max_time: words::time(rng),
            matchers: matchers(rng),
            skip_chunks: rng.one_in(3),
            partial_response_disabled: rng.one_in(2),
            query_hints: rng.one_in(2).then(|| QueryHints {
                step_millis: words::count(rng),
                func: Some(thanos::Func { name: words::value(rng) }),
                grouping: None,
                range: Some(thanos::Range { millis: words::count(rng) }),
            }),
            shard_info: rng.one_in(8).then(|| ShardInfo {
                shard_index: words::count(rng),
                total_shards: words::count(rng),
                by: rng.one_in(2),
                labels: strings(rng),
            }),
            without_replica_labels: strings(rng),
            limit: words::count(rng),
            response_batch_size: words::count(rng),
            ..Default::default()
        }
        .encode_to_vec(),
        1 => LabelNamesRequest {
            start: words::time(rng),
            end: words::time(rng),
            matchers: matchers(rng),
            without_replica_labels: strings(rng),
            limit: words::count(rng),
            ..Default::default()
        }
        .encode_to_vec(),
        _ => LabelValuesRequest {
            label: words::name(rng),
            start: words::time(rng),
            end: words::time(rng),
            matchers: matchers(rng),
            without_replica_labels: strings(rng),
            limit: words::count(rng),
            ..Default::default()
        }
        .encode_to_vec(),
    }
}
