//! The embedded S3 backend, exercised over real HTTP with real SigV4 signing.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::TryStreamExt;
use localstack::{Credentials, EmbeddedS3, LocalAwsError};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use s3s::crypto::{Checksum, Md5};

async fn start(dir: &Path) -> EmbeddedS3 {
    EmbeddedS3::start(dir, Credentials::local()).await.unwrap()
}

/// A started server with bucket `bucket` created, plus a client for it.
async fn server_with_bucket(dir: &Path, bucket: &str) -> (EmbeddedS3, Arc<dyn ObjectStore>) {
    let server = start(dir).await;
    let endpoint = server.endpoint();
    endpoint.create_bucket(bucket).await.unwrap();
    let store = endpoint.object_store(bucket).unwrap();
    (server, store)
}

fn md5_hex(data: &[u8]) -> String {
    Md5::checksum(data).iter().map(|b| format!("{b:02x}")).collect()
}

async fn put(store: &Arc<dyn ObjectStore>, key: &str, data: &[u8]) {
    store.put(&ObjectPath::from(key), Bytes::copy_from_slice(data).into()).await.unwrap();
}

async fn head_e_tag(store: &Arc<dyn ObjectStore>, key: &str) -> String {
    let meta = store.head(&ObjectPath::from(key)).await.unwrap();
    meta.e_tag.unwrap().trim_matches('"').to_owned()
}

async fn list(store: &Arc<dyn ObjectStore>, prefix: Option<&str>) -> Vec<String> {
    let prefix = prefix.map(ObjectPath::from);
    let mut keys: Vec<String> =
        store.list(prefix.as_ref()).map_ok(|meta| meta.location.to_string()).try_collect().await.unwrap();
    keys.sort();
    keys
}

/// Hidden side files `s3s-fs` keeps directly in the data directory.
fn side_files(data_dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(data_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.starts_with('.'))
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn put_get_head_list_delete_round_trip_as_plain_files() {
    let dir = tempfile::tempdir().unwrap();
    let (server, store) = server_with_bucket(dir.path(), "raw").await;
    let data = b"customer_id,name\n1,Ada\n2,Grace\n";
    let key = "foobar-au/customers.csv";

    put(&store, key, data).await;

    let on_disk = dir.path().join("raw/foobar-au/customers.csv");
    assert_eq!(std::fs::read(&on_disk).unwrap(), data);

    let got = store.get(&ObjectPath::from(key)).await.unwrap();
    assert_eq!(got.bytes().await.unwrap().as_ref(), data);

    let meta = store.head(&ObjectPath::from(key)).await.unwrap();
    assert_eq!(meta.size, data.len() as u64);
    assert_eq!(meta.location.as_ref(), key);

    assert_eq!(list(&store, None).await, vec![key.to_owned()]);

    // Side data sits beside the bucket folders, not inside them.
    let sides = side_files(dir.path());
    assert!(sides.iter().any(|n| n.ends_with(".internal.json")), "{sides:?}");
    let bucket_entries: Vec<_> =
        std::fs::read_dir(dir.path().join("raw")).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(bucket_entries, vec!["foobar-au"]);

    store.delete(&ObjectPath::from(key)).await.unwrap();
    assert!(!on_disk.exists());
    assert!(list(&store, None).await.is_empty());
    let err = store.head(&ObjectPath::from(key)).await.unwrap_err();
    assert!(matches!(err, object_store::Error::NotFound { .. }), "{err:?}");
    assert!(side_files(dir.path()).is_empty(), "sidecars outlived their object: {:?}", side_files(dir.path()));

    server.shutdown().await;
}

#[tokio::test]
async fn nested_keys_and_prefix_listing_return_exactly_the_objects() {
    let dir = tempfile::tempdir().unwrap();
    let (server, store) = server_with_bucket(dir.path(), "curated").await;
    let keys = ["a/b/c.parquet", "a/b/d.parquet", "a/e.parquet", "ab/f.parquet", "z.json"];
    for key in keys {
        put(&store, key, key.as_bytes()).await;
    }

    assert_eq!(std::fs::read(dir.path().join("curated/a/b/c.parquet")).unwrap(), b"a/b/c.parquet");
    assert_eq!(list(&store, None).await, keys.to_vec());
    assert_eq!(list(&store, Some("a")).await, vec!["a/b/c.parquet", "a/b/d.parquet", "a/e.parquet"]);
    assert_eq!(list(&store, Some("a/b")).await, vec!["a/b/c.parquet", "a/b/d.parquet"]);
    assert!(list(&store, Some("nope")).await.is_empty());

    let listed = store.list_with_delimiter(Some(&ObjectPath::from("a"))).await.unwrap();
    let dirs: Vec<String> = listed.common_prefixes.iter().map(|p| p.to_string()).collect();
    let files: Vec<String> = listed.objects.iter().map(|o| o.location.to_string()).collect();
    assert_eq!(dirs, vec!["a/b"]);
    assert_eq!(files, vec!["a/e.parquet"]);

    let got = store.get(&ObjectPath::from("a/b/c.parquet")).await.unwrap().bytes().await.unwrap();
    assert_eq!(got.as_ref(), b"a/b/c.parquet");

    server.shutdown().await;
}

#[tokio::test]
async fn large_object_round_trips_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let (server, store) = server_with_bucket(dir.path(), "raw").await;
    let data: Vec<u8> = (0..20 * 1024 * 1024u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();

    put(&store, "big/blob.bin", &data).await;

    let on_disk = std::fs::read(dir.path().join("raw/big/blob.bin")).unwrap();
    assert!(on_disk == data, "file on disk differs from upload");
    let got = store.get(&ObjectPath::from("big/blob.bin")).await.unwrap().bytes().await.unwrap();
    assert_eq!(got.len(), data.len());
    assert!(got.as_ref() == data.as_slice(), "download differs");
    assert_eq!(head_e_tag(&store, "big/blob.bin").await, md5_hex(&data));

    let range = store.get_range(&ObjectPath::from("big/blob.bin"), 1000..2000).await.unwrap();
    assert_eq!(range.as_ref(), &data[1000..2000]);

    server.shutdown().await;
}

#[tokio::test]
async fn multipart_upload_lands_as_one_plain_file() {
    let dir = tempfile::tempdir().unwrap();
    let (server, store) = server_with_bucket(dir.path(), "raw").await;
    let part_a = vec![b'a'; 5 * 1024 * 1024];
    let part_b = vec![b'b'; 1024];

    let mut upload = store.put_multipart(&ObjectPath::from("mp/file.bin")).await.unwrap();
    upload.put_part(PutPayload::from(part_a.clone())).await.unwrap();
    upload.put_part(PutPayload::from(part_b.clone())).await.unwrap();
    upload.complete().await.unwrap();

    let expected: Vec<u8> = [part_a, part_b].concat();
    let on_disk = std::fs::read(dir.path().join("raw/mp/file.bin")).unwrap();
    assert!(on_disk == expected, "multipart result differs");
    assert_eq!(list(&store, None).await, vec!["mp/file.bin"]);
    // Only the finished object's sidecars remain: parts and upload records are cleaned up.
    let sides = side_files(dir.path());
    assert!(sides.iter().all(|n| n.ends_with(".internal.json") || n.ends_with(".metadata.json")), "{sides:?}");
    // A multipart ETag is not the MD5 of the bytes, but it is still the one a listing reports.
    let e_tag = head_e_tag(&store, "mp/file.bin").await;
    assert!(e_tag.ends_with("-2"), "{e_tag}");
    let listed = store.list(None).try_collect::<Vec<_>>().await.unwrap();
    assert_eq!(listed[0].e_tag.as_deref().map(|t| t.trim_matches('"')), Some(e_tag.as_str()));

    server.shutdown().await;
}

#[tokio::test]
async fn e_tags_are_content_derived_and_stable() {
    let dir = tempfile::tempdir().unwrap();
    let (server, store) = server_with_bucket(dir.path(), "raw").await;
    let data = b"order_id,amount\n1,9.99\n";

    put(&store, "one.csv", data).await;
    put(&store, "two.csv", data).await;
    put(&store, "other.csv", b"something else").await;

    let one = head_e_tag(&store, "one.csv").await;
    assert_eq!(one, md5_hex(data), "ETag is the MD5 of the bytes");
    assert_eq!(head_e_tag(&store, "two.csv").await, one, "same bytes, same ETag");
    assert_ne!(head_e_tag(&store, "other.csv").await, one);

    // Re-uploading the same bytes keeps the ETag; the GET response carries the same one.
    put(&store, "one.csv", data).await;
    assert_eq!(head_e_tag(&store, "one.csv").await, one);
    let got = store.get(&ObjectPath::from("one.csv")).await.unwrap();
    assert_eq!(got.meta.e_tag.as_deref().map(|t| t.trim_matches('"')), Some(one.as_str()));

    // Listings carry the same ETags as HEAD (s3s-fs alone leaves them out).
    let listed = store.list(None).try_collect::<Vec<_>>().await.unwrap();
    for meta in &listed {
        let from_list = meta.e_tag.as_deref().unwrap().trim_matches('"').to_owned();
        assert_eq!(from_list, head_e_tag(&store, meta.location.as_ref()).await);
    }

    // After a server restart, the same bytes still have the same ETag.
    server.shutdown().await;
    let (server, store) = server_with_bucket(dir.path(), "raw").await;
    assert_eq!(head_e_tag(&store, "one.csv").await, one);

    // A file changed directly on disk gets the ETag of its new bytes, not the recorded one.
    tokio::time::sleep(Duration::from_millis(20)).await;
    std::fs::write(dir.path().join("raw/one.csv"), b"edited by hand").unwrap();
    assert_eq!(head_e_tag(&store, "one.csv").await, md5_hex(b"edited by hand"));
    // ... and a file placed directly into a bucket folder gets the MD5 of its bytes too.
    std::fs::write(dir.path().join("raw/dropped.csv"), data).unwrap();
    assert_eq!(head_e_tag(&store, "dropped.csv").await, one);
    let listed = store.list(None).try_collect::<Vec<_>>().await.unwrap();
    let dropped = listed.iter().find(|m| m.location.as_ref() == "dropped.csv").unwrap();
    assert_eq!(dropped.e_tag.as_deref().map(|t| t.trim_matches('"')), Some(one.as_str()));

    server.shutdown().await;
}

#[tokio::test]
async fn wrong_secret_is_rejected_with_403() {
    let dir = tempfile::tempdir().unwrap();
    let (server, store) = server_with_bucket(dir.path(), "raw").await;
    put(&store, "secret.csv", b"x").await;

    let mut bad = server.endpoint();
    bad.credentials.secret_access_key = "not-the-secret".to_owned();
    let bad_store = bad.object_store("raw").unwrap();

    let err = bad_store.get(&ObjectPath::from("secret.csv")).await.unwrap_err();
    assert!(matches!(err, object_store::Error::PermissionDenied { .. }), "{err:?}");
    assert!(err.to_string().contains("403"), "{err}");

    let err = bad_store.put(&ObjectPath::from("intruder.csv"), PutPayload::from_static(b"x")).await.unwrap_err();
    assert!(matches!(err, object_store::Error::PermissionDenied { .. }), "{err:?}");
    assert!(!dir.path().join("raw/intruder.csv").exists());

    let err = bad.create_bucket("other").await.unwrap_err();
    match &err {
        LocalAwsError::AccessDenied { status, code, .. } => {
            assert_eq!(*status, 403);
            assert_eq!(code, "SignatureDoesNotMatch");
        }
        other => panic!("expected AccessDenied, got {other:?}"),
    }
    assert!(err.to_string().contains("AWS_SECRET_ACCESS_KEY"), "{err}");
    eprintln!("wrong secret: {err}");
    assert!(!dir.path().join("other").exists());

    // So is an unsigned (anonymous) request.
    let anonymous = object_store::aws::AmazonS3Builder::new()
        .with_endpoint(server.endpoint().url)
        .with_bucket_name("raw")
        .with_region("us-east-1")
        .with_allow_http(true)
        .with_skip_signature(true)
        .build()
        .unwrap();
    let err = anonymous.get(&ObjectPath::from("secret.csv")).await.unwrap_err();
    assert!(matches!(err, object_store::Error::PermissionDenied { .. }), "{err:?}");

    // An unknown access key is rejected too.
    let mut unknown = server.endpoint();
    unknown.credentials.access_key_id = "someone-else".to_owned();
    let err = unknown.create_bucket("other").await.unwrap_err();
    assert!(matches!(err, LocalAwsError::AccessDenied { status: 403, .. }), "{err:?}");

    server.shutdown().await;
}

#[tokio::test]
async fn create_bucket_is_idempotent_and_makes_a_folder() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let endpoint = server.endpoint();

    endpoint.create_bucket("raw").await.unwrap();
    endpoint.create_bucket("raw").await.unwrap();
    endpoint.create_bucket("curated").await.unwrap();
    assert!(dir.path().join("raw").is_dir());
    assert!(dir.path().join("curated").is_dir());

    let err = endpoint.create_bucket("Not_A_Bucket").await.unwrap_err();
    assert!(matches!(err, LocalAwsError::S3 { status: 400, .. }), "{err:?}");
    assert!(err.to_string().contains("Not_A_Bucket"), "{err}");

    server.shutdown().await;
}

#[tokio::test]
async fn upload_dir_uploads_a_tree_and_counts_files() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = tempfile::tempdir().unwrap();
    let files = ["customers.csv", "orders/2024-01.csv", "orders/2024-02.csv", "deep/er/still/x.json"];
    for file in files {
        let path = fixtures.path().join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, file.as_bytes()).unwrap();
    }
    std::fs::create_dir_all(fixtures.path().join("empty")).unwrap();

    let (server, store) = server_with_bucket(dir.path(), "raw").await;
    let endpoint = server.endpoint();
    let count = endpoint.upload_dir("raw", "foobar-au/", fixtures.path()).await.unwrap();
    assert_eq!(count, 4);

    let mut expected: Vec<String> = files.iter().map(|f| format!("foobar-au/{f}")).collect();
    expected.sort();
    assert_eq!(endpoint.list_keys("raw", "").await.unwrap(), expected);
    assert_eq!(
        endpoint.list_keys("raw", "foobar-au/orders").await.unwrap(),
        vec!["foobar-au/orders/2024-01.csv", "foobar-au/orders/2024-02.csv"]
    );
    for file in files {
        let on_disk = std::fs::read(dir.path().join("raw/foobar-au").join(file)).unwrap();
        assert_eq!(on_disk, file.as_bytes());
    }

    // An empty prefix uploads to the bucket root.
    let count = endpoint.upload_dir("raw", "", &fixtures.path().join("orders")).await.unwrap();
    assert_eq!(count, 2);
    assert_eq!(list(&store, None).await.len(), 6);
    assert!(dir.path().join("raw/2024-01.csv").is_file());

    // A missing directory is a clear error naming it.
    let missing = fixtures.path().join("missing");
    let err = endpoint.upload_dir("raw", "x", &missing).await.unwrap_err();
    assert!(matches!(&err, LocalAwsError::ReadLocal { path, .. } if *path == missing), "{err:?}");
    // Uploading into a bucket that does not exist names the bucket.
    let err = endpoint.upload_dir("no-such-bucket", "x", fixtures.path()).await.unwrap_err();
    assert!(err.to_string().contains("no-such-bucket"), "{err}");
    assert!(err.to_string().contains("NoSuchBucket"), "{err}");
    assert!(!dir.path().join("no-such-bucket").exists());
    eprintln!("missing bucket: {err}");

    server.shutdown().await;
}

#[tokio::test]
async fn two_servers_get_different_ports_and_start_quickly() {
    let dir_a = tempfile::tempdir().unwrap();
    let dir_b = tempfile::tempdir().unwrap();
    let a = start(dir_a.path()).await;
    let b = start(dir_b.path()).await;

    assert_ne!(a.addr().port(), b.addr().port());
    assert!(a.addr().ip().is_loopback());
    assert!(a.endpoint().url.starts_with("http://127.0.0.1:"));
    eprintln!("embedded S3 start-up: {:?} and {:?}", a.startup(), b.startup());
    // The target is < 100 ms; this only catches something pathological on a busy CI machine.
    assert!(a.startup() < Duration::from_secs(5), "{:?}", a.startup());

    a.endpoint().create_bucket("only-in-a").await.unwrap();
    assert!(dir_a.path().join("only-in-a").is_dir());
    assert!(!dir_b.path().join("only-in-a").exists());

    a.shutdown().await;
    b.shutdown().await;
}

#[tokio::test]
async fn shutdown_stops_serving_and_data_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (server, store) = server_with_bucket(dir.path(), "raw").await;
    put(&store, "kept.csv", b"kept").await;
    let endpoint = server.endpoint();

    tokio::time::timeout(Duration::from_secs(10), server.shutdown())
        .await
        .expect("shutdown finishes promptly even with a pooled keep-alive connection");

    let err = endpoint.create_bucket("after").await.unwrap_err();
    assert!(matches!(err, LocalAwsError::Unreachable { .. }), "{err:?}");
    assert!(err.to_string().contains(&endpoint.url), "{err}");

    let (server, store) = server_with_bucket(dir.path(), "raw").await;
    let got = store.get(&ObjectPath::from("kept.csv")).await.unwrap().bytes().await.unwrap();
    assert_eq!(got.as_ref(), b"kept");
    drop(server);
}

#[test]
fn dropping_a_server_does_not_hang() {
    let dir = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let server = runtime.block_on(start(dir.path()));
    let endpoint = server.endpoint();
    runtime.block_on(endpoint.create_bucket("raw")).unwrap();

    // Dropped inside the runtime: the server winds down on its own.
    runtime.block_on(async move { drop(server) });
    // Dropped outside any runtime, after the runtime itself is gone. (Another folder: the first server may
    // still hold its folder's lock while it winds down, and a second server over it is refused by design.)
    let other = tempfile::tempdir().unwrap();
    let late = runtime.block_on(start(other.path()));
    drop(runtime);
    drop(late);
}
