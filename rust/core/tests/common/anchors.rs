//! The 3,000 chunks Prometheus 2.42 encoded (`tests/testdata/anchors/`), shared
//! by the golden tests and the codec benchmark.

const ANCHORS: &[u8] = include_bytes!("../../../../tests/testdata/anchors/prom242-xor-chunks.bin");

/// The chunks in file order; each is stored after its length (4 bytes, big-endian).
pub fn chunks() -> Vec<&'static [u8]> {
    let mut out = Vec::new();
    let mut rest = ANCHORS;
    while !rest.is_empty() {
        let len = u32::from_be_bytes(rest[..4].try_into().unwrap()) as usize;
        out.push(&rest[4..4 + len]);
        rest = &rest[4 + len..];
    }
    out
}
