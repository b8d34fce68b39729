//! Protobuf types generated from `proto/` at build time (see `build.rs`).

/// Package `thanos`: the StoreAPI and its labels.
pub mod thanos {
    include!(concat!(env!("OUT_DIR"), "/thanos.rs"));

    /// Package `thanos.info`: the Info API.
    pub mod info {
        include!(concat!(env!("OUT_DIR"), "/thanos.info.rs"));
    }
}

/// Package `prometheus`: remote read.
pub mod prometheus {
    include!(concat!(env!("OUT_DIR"), "/prometheus.rs"));
}
