//! The bucket's operations against a FILESYSTEM bucket in a temporary directory.

use bytes::Bytes;
use thanos_core::ErrorKind;
use thanos_objstore::{Bucket, BucketConfig, Provider};

fn bucket(dir: &std::path::Path, prefix: &str) -> Bucket {
    let config =
        BucketConfig { provider: Provider::Filesystem { directory: dir.to_path_buf() }, prefix: prefix.to_string() };
    Bucket::new(&config).unwrap()
}

/// A block's layout: two objects at the top of it, one in a sub-directory.
fn with_block(b: &Bucket) {
    b.upload("01B/meta.json", Bytes::from_static(b"{}")).unwrap();
    b.upload("01B/index", Bytes::from_static(b"index bytes")).unwrap();
    b.upload("01B/chunks/000001", Bytes::from_static(b"0123456789")).unwrap();
    b.upload("01C/meta.json", Bytes::from_static(b"{}")).unwrap();
}

#[test]
fn iter_lists_one_level_with_directories_marked() {
    let dir = tempfile::tempdir().unwrap();
    let b = bucket(dir.path(), "");
    with_block(&b);
    assert_eq!(b.iter("", false).unwrap(), ["01B/", "01C/"]);
    // With or without the trailing delimiter, as Thanos's Iter takes it.
    assert_eq!(b.iter("01B", false).unwrap(), ["01B/chunks/", "01B/index", "01B/meta.json"]);
    assert_eq!(b.iter("01B/", false).unwrap(), ["01B/chunks/", "01B/index", "01B/meta.json"]);
    assert_eq!(b.iter("01B", true).unwrap(), ["01B/chunks/000001", "01B/index", "01B/meta.json"]);
    assert!(b.iter("01X", false).unwrap().is_empty());
}

#[test]
fn reads_whole_objects_ranges_and_sizes() {
    let dir = tempfile::tempdir().unwrap();
    let b = bucket(dir.path(), "");
    with_block(&b);
    assert_eq!(b.get("01B/index").unwrap(), "index bytes");
    assert_eq!(b.get_range("01B/chunks/000001", 2..5).unwrap(), "234");
    let parts = b.get_ranges("01B/chunks/000001", &[0..1, 8..10, 3..4]).unwrap();
    assert_eq!(parts, ["0", "89", "3"]);
    assert_eq!(b.size("01B/chunks/000001").unwrap(), 10);
    assert!(b.exists("01B/index").unwrap());
    assert!(!b.exists("01B/tombstones").unwrap());
}

#[test]
fn missing_objects_are_their_own_kind() {
    let dir = tempfile::tempdir().unwrap();
    let b = bucket(dir.path(), "");
    let missing = [
        b.get("nope").unwrap_err(),
        b.size("nope").unwrap_err(),
        b.delete("nope").unwrap_err(),
        b.get_ranges("nope", &[0..1, 2..3]).unwrap_err(),
    ];
    for err in missing {
        assert_eq!(err.kind(), ErrorKind::ObjectNotFound, "{err}");
        assert!(err.message().contains("nope: object not found"), "{err}");
    }
    assert_eq!(b.get("../escape").unwrap_err().kind(), ErrorKind::BadData);
    assert_eq!(b.get_ranges("../escape", &[0..1, 2..3]).unwrap_err().kind(), ErrorKind::BadData);
}

#[test]
fn ranges_past_the_end_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let b = bucket(dir.path(), "");
    with_block(&b);
    let err = b.get_ranges("01B/chunks/000001", &[0..1, 8..11]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Bucket);
    assert_eq!(err.message(), "get ranges 01B/chunks/000001: range 8..11 is outside the object's 10 bytes");
}

#[test]
fn delete_removes_emptied_directories() {
    let dir = tempfile::tempdir().unwrap();
    let b = bucket(dir.path(), "");
    with_block(&b);
    for name in b.iter("01B", true).unwrap() {
        b.delete(&name).unwrap();
    }
    assert_eq!(b.iter("", false).unwrap(), ["01C/"]);
    assert!(!dir.path().join("01B").exists());
}

#[test]
fn prefix_puts_every_object_under_a_directory() {
    let dir = tempfile::tempdir().unwrap();
    let b = bucket(dir.path(), "/tenant-a/");
    with_block(&b);
    assert_eq!(b.iter("", false).unwrap(), ["01B/", "01C/"]);
    assert!(dir.path().join("tenant-a/01B/index").is_file());
    assert_eq!(bucket(dir.path(), "").iter("", false).unwrap(), ["tenant-a/"]);
    assert_eq!(b.get_ranges("01B/chunks/000001", &[2..4, 5..6]).unwrap(), ["23", "5"]);
}

#[test]
fn upload_file_streams_large_files_in_parts() {
    let dir = tempfile::tempdir().unwrap();
    let b = bucket(&dir.path().join("bucket"), "");
    // Above the 16 MiB part size, so it goes up as a multipart upload.
    let data: Vec<u8> = (0..(17u32 << 20)).map(|i| (i % 251) as u8).collect();
    let file = dir.path().join("chunks");
    std::fs::write(&file, &data).unwrap();
    b.upload_file("01B/chunks/000001", &file).unwrap();
    assert_eq!(b.size("01B/chunks/000001").unwrap(), data.len() as u64);
    assert_eq!(b.get("01B/chunks/000001").unwrap(), data);
    std::fs::write(&file, b"small").unwrap();
    b.upload_file("01B/meta.json", &file).unwrap();
    assert_eq!(b.get("01B/meta.json").unwrap(), "small");
    let missing = b.upload_file("x", &dir.path().join("missing")).unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::Bucket);
}

#[test]
fn name_follows_thanos() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(bucket(dir.path(), "").name(), format!("fs: {}", dir.path().display()));
}
