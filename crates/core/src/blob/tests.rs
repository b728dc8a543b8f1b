//! Local filesystem round trips; the S3 path runs in the integration tests
//! against a real S3-compatible server.

use super::*;
use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt, stream};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// A deterministic body of `len` bytes in `chunk`-sized pieces.
fn body(len: usize, chunk: usize) -> (Vec<u8>, Vec<Result<Bytes, std::io::Error>>) {
    let data: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
    let chunks = data
        .chunks(chunk)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    (data, chunks)
}

async fn read_all(blob: Blob) -> Vec<u8> {
    let parts: Vec<Bytes> = blob.stream.try_collect().await.unwrap();
    parts.concat()
}

fn store() -> (tempfile::TempDir, BlobStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::from_url("", dir.path()).unwrap();
    (dir, store)
}

#[tokio::test]
async fn a_small_streamed_upload_reads_back_whole() {
    let (_dir, store) = store();
    let key = key(Uuid::now_v7(), Variant::Original);
    let (data, chunks) = body(100_000, 7_000);
    let written = store
        .put_stream(&key, stream::iter(chunks), 1 << 20)
        .await
        .unwrap();
    assert_eq!(written.size, 100_000);
    assert_eq!(written.sha256, <[u8; 32]>::from(Sha256::digest(&data)));
    assert_eq!(&written.first_bytes[..], &data[..SNIFF_LEN]);
    let blob = store.get(&key).await.unwrap();
    assert_eq!((blob.size, blob.range.clone()), (100_000, 0..100_000));
    assert_eq!(read_all(blob).await, data);
}

#[tokio::test]
async fn a_large_streamed_upload_goes_multipart_and_supports_ranges() {
    let (_dir, store) = store();
    let key = key(Uuid::now_v7(), Variant::Original);
    let (data, chunks) = body(12 * 1024 * 1024 + 123, 64 * 1024);
    let written = store
        .put_stream(&key, stream::iter(chunks), 25 << 20)
        .await
        .unwrap();
    assert_eq!(written.size, data.len() as u64);
    assert_eq!(store.head(&key).await.unwrap().size, data.len() as u64);
    assert_eq!(read_all(store.get(&key).await.unwrap()).await, data);

    let range = 5_000_000..5_300_001;
    let part = store.get_range(&key, range.clone()).await.unwrap();
    assert_eq!(
        (part.size, part.range.clone()),
        (data.len() as u64, range.clone())
    );
    assert_eq!(read_all(part).await, &data[5_000_000..5_300_001]);
    let tail = store
        .get_range(&key, 12 * 1024 * 1024..data.len() as u64)
        .await;
    assert_eq!(read_all(tail.unwrap()).await, &data[12 * 1024 * 1024..]);
    let empty = store.get_range(&key, 10..10).await;
    assert!(matches!(empty, Err(BlobError::InvalidRange)));

    store.delete(&key).await.unwrap();
    assert!(matches!(store.get(&key).await, Err(BlobError::NotFound(_))));
    store.delete(&key).await.expect("deleting twice is fine");
}

#[tokio::test]
async fn an_upload_over_the_limit_stores_nothing() {
    let (_dir, store) = store();
    for (len, limit) in [(2_000, 1_999), (12 << 20, 7 << 20)] {
        let key = key(Uuid::now_v7(), Variant::Original);
        let (_, chunks) = body(len, 64 * 1024);
        let result = store.put_stream(&key, stream::iter(chunks), limit).await;
        assert!(matches!(result, Err(BlobError::TooLarge { limit: l }) if l == limit));
        assert!(matches!(
            store.head(&key).await,
            Err(BlobError::NotFound(_))
        ));
    }
}

#[tokio::test]
async fn a_body_that_fails_midway_stores_nothing() {
    let (_dir, store) = store();
    let key = key(Uuid::now_v7(), Variant::Original);
    let (_, mut chunks) = body(8 << 20, 64 * 1024);
    chunks.insert(100, Err(std::io::Error::other("client went away")));
    let result = store.put_stream(&key, stream::iter(chunks), 25 << 20).await;
    assert!(matches!(result, Err(BlobError::Body(_))));
    assert!(matches!(
        store.head(&key).await,
        Err(BlobError::NotFound(_))
    ));
}

#[tokio::test]
async fn an_upload_can_be_renamed_to_its_final_key() {
    let (dir, store) = store();
    let id = Uuid::now_v7();
    store
        .put(&upload_key(id), Bytes::from_static(b"hello"))
        .await
        .unwrap();
    store
        .rename(&upload_key(id), &key(id, Variant::Original))
        .await
        .unwrap();
    let blob = store.get(&key(id, Variant::Original)).await.unwrap();
    assert_eq!(read_all(blob).await, b"hello");
    assert!(
        dir.path()
            .join(format!("files/files/{id}/original"))
            .is_file()
    );
    assert!(matches!(
        store.head(&upload_key(id)).await,
        Err(BlobError::NotFound(_))
    ));
    store.ping().await.unwrap();
}

#[test]
fn blob_urls_choose_the_backend() {
    let dir = tempfile::tempdir().unwrap();
    let local = BlobStore::from_url("", dir.path()).unwrap();
    assert!(dir.path().join("files").is_dir());
    assert!(local.describe().starts_with("file://"));

    let elsewhere = dir.path().join("elsewhere");
    let url = format!("file://{}", elsewhere.display());
    BlobStore::from_url(&url, dir.path()).unwrap();
    assert!(elsewhere.is_dir());

    let s3 = BlobStore::from_url("s3://bucket/some/prefix/", dir.path()).unwrap();
    assert_eq!(s3.describe(), "s3://bucket/some/prefix");
    assert!(!format!("{s3:?}").contains("secret"));

    for bad in [
        "file://relative/path",
        "s3://",
        "s3:///prefix",
        "gs://bucket",
        "/tmp/x",
    ] {
        assert!(BlobStore::from_url(bad, dir.path()).is_err(), "{bad}");
    }
}

#[test]
fn put_stream_can_run_inside_a_spawned_task() {
    fn assert_send<T: Send>(_: T) {}
    let store = BlobStore::from_url("", tempfile::tempdir().unwrap().path()).unwrap();
    let key = key(Uuid::now_v7(), Variant::Original);
    let body = stream::iter(Vec::<Result<Bytes, std::io::Error>>::new()).boxed();
    assert_send(store.put_stream(&key, body, 1));
}
