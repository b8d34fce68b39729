"""The compactor: Thanos's ``compact`` command over a bucket. Planning and
bookkeeping here; the merging of blocks in Rust (``rust/compact``)."""
