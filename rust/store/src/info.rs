//! What a sidecar says about itself: `thanos.info.Info/Info`, which queriers
//! call first, and the legacy `thanos.Store/Info` a v0.26 querier falls back to
//! (`pkg/info` and `PrometheusStore.Info` upstream).

use prost::Message;
use thanos_core::labels::Labels;

use crate::labelpb;
use crate::pb::thanos::{self, info};

/// The component names queriers show and use to pick APIs.
pub const COMPONENT: &str = "sidecar";
pub const STORE_GATEWAY: &str = "store";

/// The label sets: the external labels, or none at all when there are none.
fn label_sets(external: &Labels) -> Vec<thanos::ZLabelSet> {
    proto_sets(std::slice::from_ref(external))
}

fn proto_sets(sets: &[Labels]) -> Vec<thanos::ZLabelSet> {
    sets.iter().filter(|s| !s.is_empty()).map(|s| thanos::ZLabelSet { labels: labelpb::to_proto(s) }).collect()
}

/// `thanos.info.InfoResponse` of a store gateway: one label set per external
/// label set of its blocks, and the time range of its blocks (Thanos's
/// `BucketStore.TimeRange`: from `MaxInt64` to `MinInt64` without blocks).
pub fn store_gateway_info(label_sets: &[Labels], min_time: i64, max_time: i64) -> Vec<u8> {
    info_of(STORE_GATEWAY, proto_sets(label_sets), Some((min_time, max_time)), &[])
}

/// The APIs beside the StoreAPI that a sidecar serves, by the names of
/// `thanos_query::info::APIS`; Info announces exactly these.
pub const SIDECAR_APIS: &[&str] = &["rules", "targets", "metadata", "exemplars"];

/// An `InfoResponse` announcing the StoreAPI over `store`'s time range, and
/// the other `apis`.
fn info_of(component: &str, label_sets: Vec<thanos::ZLabelSet>, store: Option<(i64, i64)>, apis: &[&str]) -> Vec<u8> {
    let has = |name| apis.contains(&name);
    info::InfoResponse {
        label_sets,
        component_type: component.to_string(),
        store: store.map(|(min_time, max_time)| info::StoreInfo {
            min_time,
            max_time,
            supports_without_replica_labels: true,
            ..Default::default()
        }),
        rules: has("rules").then_some(info::RulesInfo {}),
        targets: has("targets").then_some(info::TargetsInfo {}),
        metric_metadata: has("metadata").then_some(info::MetricMetadataInfo {}),
        // Thanos's sidecar announces an empty range (WithExemplarsInfoFunc
        // without a function): its querier asks every exemplar store anyway.
        exemplars: has("exemplars").then_some(info::ExemplarsInfo::default()),
        ..Default::default()
    }
    .encode_to_vec()
}

/// `thanos.InfoResponse` of a store gateway's legacy `Store/Info`.
pub fn store_gateway_store_info(label_sets: &[Labels], min_time: i64, max_time: i64) -> Vec<u8> {
    thanos::InfoResponse {
        labels: Vec::new(),
        min_time,
        max_time,
        store_type: thanos::StoreType::Store as i32,
        label_sets: proto_sets(label_sets),
    }
    .encode_to_vec()
}

/// `thanos.info.InfoResponse`. `store` is the served time range, or `None` while
/// the sidecar cannot serve (Prometheus unreachable): a querier then sees no
/// StoreAPI here and leaves the sidecar out of queries. The other APIs are
/// announced whatever Prometheus's state, as Thanos's sidecar does.
pub fn info_response(external: &Labels, store: Option<(i64, i64)>) -> Vec<u8> {
    info_of(COMPONENT, label_sets(external), store, SIDECAR_APIS)
}

/// `thanos.InfoResponse` of the legacy `Store/Info`.
pub fn store_info_response(external: &Labels, min_time: i64, max_time: i64) -> Vec<u8> {
    thanos::InfoResponse {
        labels: labelpb::to_proto(external),
        min_time,
        max_time,
        store_type: thanos::StoreType::Sidecar as i32,
        label_sets: label_sets(external),
    }
    .encode_to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_carries_labels_and_the_store_range_when_ready() {
        let ext = Labels::from_pairs([("replica", "0"), ("cluster", "eu1")]);
        let msg = info::InfoResponse::decode(info_response(&ext, Some((-5, i64::MAX))).as_slice()).unwrap();
        assert_eq!(msg.component_type, "sidecar");
        assert_eq!(msg.label_sets.len(), 1);
        assert_eq!(msg.label_sets[0].labels[0].name, "cluster");
        let store = msg.store.unwrap();
        assert_eq!((store.min_time, store.max_time), (-5, i64::MAX));
        assert!(store.supports_without_replica_labels);
        let served =
            [msg.rules.is_some(), msg.targets.is_some(), msg.metric_metadata.is_some(), msg.exemplars.is_some()];
        let expected = ["rules", "targets", "metadata", "exemplars"].map(|api| SIDECAR_APIS.contains(&api));
        assert_eq!(served, expected);
        let unready = info::InfoResponse::decode(info_response(&ext, None).as_slice()).unwrap();
        assert!(unready.store.is_none());
        let none = info::InfoResponse::decode(info_response(&Labels::new(), None).as_slice()).unwrap();
        assert!(none.label_sets.is_empty());
    }

    #[test]
    fn a_store_gateway_announces_each_label_set_of_its_blocks() {
        let sets = [Labels::from_pairs([("replica", "0")]), Labels::from_pairs([("replica", "1")]), Labels::new()];
        let msg = info::InfoResponse::decode(store_gateway_info(&sets, 10, 20).as_slice()).unwrap();
        assert_eq!(msg.component_type, "store");
        assert_eq!(msg.label_sets.len(), 2);
        assert_eq!(msg.store.map(|s| (s.min_time, s.max_time)), Some((10, 20)));
        let legacy = thanos::InfoResponse::decode(store_gateway_store_info(&sets, 10, 20).as_slice()).unwrap();
        assert_eq!(legacy.store_type, thanos::StoreType::Store as i32);
        assert_eq!(legacy.label_sets.len(), 2);
    }

    #[test]
    fn store_info_is_a_sidecar() {
        let ext = Labels::from_pairs([("cluster", "eu1")]);
        let msg = thanos::InfoResponse::decode(store_info_response(&ext, 1, 2).as_slice()).unwrap();
        assert_eq!(msg.store_type, thanos::StoreType::Sidecar as i32);
        assert_eq!((msg.min_time, msg.max_time), (1, 2));
        assert_eq!(msg.labels, msg.label_sets[0].labels);
    }
}
