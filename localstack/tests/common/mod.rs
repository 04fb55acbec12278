//! Helpers shared by the LocalStack and container tests.
#![allow(dead_code)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::TryStreamExt;
use localstack::S3Endpoint;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt};
use s3s::crypto::{Checksum, Md5};

/// The workspace's `.workbench/`, so every test run reuses one LocalStack venv (creating it takes
/// about 90 s; reusing it a few milliseconds).
pub fn state_dir() -> PathBuf {
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    workspace.canonicalize().unwrap_or(workspace).join(".workbench")
}

/// `CI=true`: missing prerequisites fail the test instead of skipping it.
pub fn on_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Reports a missing prerequisite: panics on CI, otherwise prints what is missing (the message
/// says how to get it) so the caller can return early.
pub fn missing(what: &str) {
    assert!(!on_ci(), "CI=true, so this is required: {what}");
    eprintln!("SKIPPED (set CI=true to make this a failure): {what}");
}

/// The process is gone: no `/proc` entry, or only a zombie waiting for its parent to reap it.
pub fn process_gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat.rsplit_once(") ").is_some_and(|(_, rest)| rest.starts_with('Z')),
    }
}

/// Waits up to `limit` for `pid` to be gone; true if it is.
pub async fn wait_gone(pid: u32, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while !process_gone(pid) {
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    true
}

/// The command line of a running process, arguments separated by spaces.
pub fn cmdline(pid: u32) -> String {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
        .unwrap_or_default()
}

fn md5_hex(data: &[u8]) -> String {
    Md5::checksum(data).iter().map(|b| format!("{b:02x}")).collect()
}

async fn e_tag(store: &dyn ObjectStore, key: &str) -> String {
    let meta = store.head(&ObjectPath::from(key)).await.unwrap();
    meta.e_tag.expect("S3 reports an ETag").trim_matches('"').to_owned()
}

/// The same checks for every LocalStack: a bucket is created (twice: idempotent), objects are put,
/// read back, listed, and the same bytes always get the same ETag (the MD5 of the bytes), also
/// after being written again and in listings.
pub async fn exercise(endpoint: &S3Endpoint) {
    let bucket = "workbench-test";
    endpoint.create_bucket(bucket).await.unwrap();
    endpoint.create_bucket(bucket).await.unwrap();
    let store = endpoint.object_store(bucket).unwrap();
    let data = Bytes::from_static(b"customer_id,name\n1,Ada\n2,Grace\n");
    for key in ["raw/au/customers.csv", "raw/br/customers.csv"] {
        store.put(&ObjectPath::from(key), data.clone().into()).await.unwrap();
    }
    let got = store.get(&ObjectPath::from("raw/au/customers.csv")).await.unwrap().bytes().await.unwrap();
    assert_eq!(got, data);

    let mut listed: Vec<(String, Option<String>)> = store
        .list(Some(&ObjectPath::from("raw")))
        .map_ok(|meta| (meta.location.to_string(), meta.e_tag.map(|e| e.trim_matches('"').to_owned())))
        .try_collect()
        .await
        .unwrap();
    listed.sort();
    let expected = md5_hex(&data);
    assert_eq!(
        listed,
        vec![
            ("raw/au/customers.csv".to_owned(), Some(expected.clone())),
            ("raw/br/customers.csv".to_owned(), Some(expected.clone())),
        ]
    );
    assert_eq!(endpoint.list_keys(bucket, "raw/br").await.unwrap(), vec!["raw/br/customers.csv".to_owned()]);

    let first = e_tag(store.as_ref(), "raw/au/customers.csv").await;
    store.put(&ObjectPath::from("raw/au/customers.csv"), data.clone().into()).await.unwrap();
    let again = e_tag(store.as_ref(), "raw/au/customers.csv").await;
    assert_eq!(first, expected, "ETag is the MD5 of the bytes");
    assert_eq!(again, first, "the same bytes written again keep their ETag");
    assert_eq!(e_tag(store.as_ref(), "raw/br/customers.csv").await, first, "same bytes, same ETag under another key");
}

/// The same SES checks for every LocalStack (alerts go through it): sending from an unverified sender is refused
/// with SES's own error, named; once the sender is verified (twice: idempotent) the message is sent, and
/// LocalStack's record of sent mail (`/_aws/ses`) holds exactly it, field by field.
pub async fn exercise_ses(endpoint: &S3Endpoint) {
    use localstack::{Email, SentEmail, SesError};
    let email = Email {
        from: "workbench@foobar.example".into(),
        to: vec!["data-quality@foobar.example".into(), "oncall@foobar.example".into()],
        subject: "[workbench] foobar-au run r1 ALERT: 3 alerts, 0 failures".into(),
        text: "market   foobar-au\nstatus   alert ± 1σ\n".into(),
        html: Some("<p>foobar-au</p>".into()),
    };
    let unverified = endpoint.send_email(&email).await.unwrap_err();
    let SesError::Service { operation: "SendEmail", status: 400, code, message, .. } = &unverified else {
        panic!("{unverified:?}")
    };
    assert_eq!(code, "MessageRejected", "{unverified}");
    assert!(message.contains("workbench@foobar.example"), "{unverified}");

    endpoint.verify_email_identity(&email.from).await.unwrap();
    endpoint.verify_email_identity(&email.from).await.unwrap();
    let id = endpoint.send_email(&email).await.unwrap();
    let sent = endpoint.localstack_sent_emails().await.unwrap();
    assert_eq!(
        sent,
        [SentEmail {
            id,
            from: email.from.clone(),
            to: email.to.clone(),
            subject: email.subject.clone(),
            text: Some(email.text.clone()),
            html: email.html.clone(),
        }]
    );
}
