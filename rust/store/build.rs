//! Generates the protobuf types from `proto/` with protox, a pure-Rust
//! compiler, so building needs no system `protoc`.

use std::path::PathBuf;

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../proto");
    let files = [
        "store/labelpb/types.proto",
        "store/storepb/types.proto",
        "store/storepb/rpc.proto",
        "info/infopb/rpc.proto",
        "prompb/types.proto",
        "prompb/remote.proto",
        "rules/rulespb/rpc.proto",
        "targets/targetspb/rpc.proto",
        "metadata/metadatapb/rpc.proto",
        "exemplars/exemplarspb/rpc.proto",
    ];
    for f in &files {
        println!("cargo:rerun-if-changed={}", root.join(f).display());
    }
    let descriptors = protox::compile(files, [&root]).expect("proto/ does not compile");
    prost_build::Config::new()
        // Chunk data stays a slice of the message buffer instead of a copy.
        .bytes(["."])
        .compile_fds(descriptors)
        .expect("code generation from proto/ failed");
}
