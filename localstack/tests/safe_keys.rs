//! The embedded S3 refuses keys that could climb out of their bucket's folder, reach another object's sidecar, or
//! carry control bytes; honours If-Match on reads; and accepts only its own per-start secret. Requests are real
//! SigV4-signed HTTP/1.1 sent byte for byte over TCP, so no client normalises `..` away before the server sees it.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use localstack::{Backend, Credentials, EmbeddedS3, LocalAwsError, S3Endpoint};
use object_store::path::Path as ObjectPath;
use object_store::{GetOptions, ObjectStoreExt, PutPayload};
use sha2::{Digest, Sha256};

/// One HTTP answer: status code and body.
#[derive(Debug)]
struct Answer {
    status: u16,
    body: String,
}

impl Answer {
    /// The `<Code>` of an S3 XML error body.
    fn code(&self) -> &str {
        let start = self.body.find("<Code>").map(|i| i + "<Code>".len()).unwrap_or(0);
        let end = self.body[start..].find("</Code>").map(|i| start + i).unwrap_or(start);
        &self.body[start..end]
    }
}

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.iter().map(|b| b ^ byte).collect::<Vec<u8>>();
    let inner = Sha256::new().chain_update(pad(0x36)).chain_update(data).finalize();
    Sha256::new().chain_update(pad(0x5c)).chain_update(inner).finalize().into()
}

/// SigV4's URI encoding: everything but unreserved characters and `/` as `%XX`.
fn uri_encode(path: &str) -> String {
    encode(path, false)
}

/// SigV4's encoding of everything but unreserved characters; `slash`: `/` too.
fn encode(text: &str, slash: bool) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => char::from(b).to_string(),
            b'/' if !slash => "/".to_owned(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The canonical (sorted, encoded) form of a query `a=1&b`.
fn canonical_query(query: &str) -> String {
    let mut pairs: Vec<String> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (name, value) = p.split_once('=').unwrap_or((p, ""));
            format!("{}={}", encode(name, true), encode(value, true))
        })
        .collect();
    pairs.sort();
    pairs.join("&")
}

/// `YYYYMMDDTHHMMSSZ` for now.
fn amz_date() -> String {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Sends `method /bucket/key[?query]` (the key SigV4-encoded as is: `..` stays `..`) signed with `credentials`,
/// with `extra` headers (signed too) and `body`.
fn send(
    endpoint: &S3Endpoint,
    credentials: &Credentials,
    method: &str,
    path: &str,
    extra: &[(&str, &str)],
    body: &[u8],
) -> Answer {
    let host = endpoint.url.trim_start_matches("http://").to_owned();
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    let (encoded, query) = (uri_encode(path), canonical_query(query));
    let date = amz_date();
    let payload = hex::encode(Sha256::digest(body));
    let mut headers: Vec<(String, String)> = vec![
        ("host".into(), host.clone()),
        ("x-amz-content-sha256".into(), payload.clone()),
        ("x-amz-date".into(), date.clone()),
    ];
    headers.extend(extra.iter().map(|(n, v)| (n.to_ascii_lowercase(), (*v).to_owned())));
    headers.sort();
    let signed: Vec<&str> = headers.iter().map(|(n, _)| n.as_str()).collect();
    let signed = signed.join(";");
    let canonical_headers: String = headers.iter().map(|(n, v)| format!("{n}:{v}\n")).collect();
    let canonical = format!("{method}\n{encoded}\n{query}\n{canonical_headers}\n{signed}\n{payload}");
    let scope = format!("{}/{}/s3/aws4_request", &date[..8], credentials.region);
    let to_sign = format!("AWS4-HMAC-SHA256\n{date}\n{scope}\n{}", hex::encode(Sha256::digest(canonical.as_bytes())));
    let mut key = hmac(format!("AWS4{}", credentials.secret_access_key).as_bytes(), &date.as_bytes()[..8]);
    for part in [credentials.region.as_str(), "s3", "aws4_request"] {
        key = hmac(&key, part.as_bytes());
    }
    let signature = hex::encode(hmac(&key, to_sign.as_bytes()));
    let authorization = format!(
        "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed}, Signature={signature}",
        credentials.access_key_id
    );

    let target = if query.is_empty() { encoded } else { format!("{encoded}?{query}") };
    let mut request = format!("{method} {target} HTTP/1.1\r\n");
    for (name, value) in &headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str(&format!(
        "authorization: {authorization}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    ));
    let mut stream = TcpStream::connect(&host).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut raw = Vec::new();
    // A connection the server drops without an answer (a panicking task) reads as empty.
    let _ = stream.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    Answer { status, body }
}

fn md5_hex(data: &[u8]) -> String {
    use s3s::crypto::{Checksum, Md5};
    Md5::checksum(data).iter().map(|b| format!("{b:02x}")).collect()
}

/// Every file under `dir`, relative, sorted.
fn files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                out.push(path.strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    out.sort();
    out
}

/// A server over `<tmp>/s3` with buckets `raw` and `work` and one object `raw/a.csv`.
async fn server(tmp: &Path) -> (EmbeddedS3, S3Endpoint) {
    let server = EmbeddedS3::start(&tmp.join("s3"), Credentials::generate().unwrap()).await.unwrap();
    let endpoint = server.endpoint();
    endpoint.create_bucket("raw").await.unwrap();
    endpoint.create_bucket("work").await.unwrap();
    let store = endpoint.object_store("raw").unwrap();
    store.put(&ObjectPath::from("a.csv"), PutPayload::from_static(b"id\n1\n")).await.unwrap();
    (server, endpoint)
}

/// Sends `method` on `key` in bucket `raw` and asserts a 400 with `code` and the key named in the message.
async fn refused(endpoint: &S3Endpoint, method: &str, key: &str, extra: &[(&str, &str)], code: &str) -> Answer {
    let (endpoint, key_owned, extra): (S3Endpoint, String, Vec<(String, String)>) =
        (endpoint.clone(), key.to_owned(), extra.iter().map(|(n, v)| ((*n).into(), (*v).into())).collect());
    let method_owned = method.to_owned();
    let answer = tokio::task::spawn_blocking(move || {
        let extra: Vec<(&str, &str)> = extra.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        send(&endpoint, &endpoint.credentials, &method_owned, &format!("/raw/{key_owned}"), &extra, b"forged")
    })
    .await
    .unwrap();
    // HEAD answers carry no body, so only the status can be checked there.
    let got = if method == "HEAD" { code } else { answer.code() };
    assert_eq!((answer.status, got), (400, code), "{key:?} {method}: {answer:?}");
    answer
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_that_climb_out_of_the_bucket_are_refused_with_400_and_write_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let (server, endpoint) = server(tmp.path()).await;
    let before = files(tmp.path());
    let sidecar_name = format!(".bucket-cmF3.object-{}.internal.json", "YS5jc3Y");
    assert!(before.contains(&format!("s3/{sidecar_name}")), "{before:?}");

    let bad = [
        ("../work/x", "it has a `..` segment"),
        ("a/../../x", "it has a `..` segment"),
        ("..", "it has a `..` segment"),
        (".", "it has a `.` segment"),
        ("a/./b", "it has a `.` segment"),
        ("a//b", "it has an empty segment"),
        ("a/", "it has an empty segment"),
        // The key that overwrote `a.csv`'s ETag sidecar before.
        (&format!("../{sidecar_name}") as &str, "it has a `..` segment"),
        ("a\0b", "it contains a control character"),
        ("a\nb", "it contains a control character"),
    ];
    for (key, why) in bad {
        for method in ["PUT", "GET", "HEAD", "DELETE"] {
            let answer = refused(&endpoint, method, key, &[], "InvalidArgument").await;
            if method != "HEAD" {
                assert!(answer.body.contains(why), "{key:?} {method}: {answer:?}");
            }
        }
        // COPY with the bad key as destination, and as source.
        refused(&endpoint, "PUT", key, &[("x-amz-copy-source", "/raw/a.csv")], "InvalidArgument").await;
        let source = format!("/raw/{}", uri_encode(key));
        refused(&endpoint, "PUT", "copy.csv", &[("x-amz-copy-source", &source)], "InvalidArgument").await;
    }
    // An absolute key: `/raw//x` is the key `/x`.
    refused(&endpoint, "PUT", "/x", &[], "InvalidArgument").await;

    // Multipart uploads and listings are checked too.
    let e = endpoint.clone();
    let listed = tokio::task::spawn_blocking(move || {
        [
            send(&e, &e.credentials, "POST", "/raw/../work/x?uploads", &[], b""),
            send(&e, &e.credentials, "GET", "/raw?list-type=2&prefix=../work/", &[], b""),
            send(&e, &e.credentials, "GET", "/raw?list-type=2&prefix=/x", &[], b""),
        ]
    })
    .await
    .unwrap();
    for answer in listed {
        assert_eq!((answer.status, answer.code()), (400, "InvalidArgument"), "{answer:?}");
    }

    // Nothing was written anywhere, the sidecar is intact, and the server still serves.
    assert_eq!(files(tmp.path()), before);
    let store = endpoint.object_store("raw").unwrap();
    let meta = store.head(&ObjectPath::from("a.csv")).await.unwrap();
    assert_eq!(meta.e_tag.as_deref().map(|t| t.trim_matches('"')), Some(md5_hex(b"id\n1\n").as_str()));
    assert_eq!(store.get(&ObjectPath::from("a.csv")).await.unwrap().bytes().await.unwrap().as_ref(), b"id\n1\n");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_whose_if_match_names_another_e_tag_fails_with_412() {
    let tmp = tempfile::tempdir().unwrap();
    let (server, endpoint) = server(tmp.path()).await;
    let store = endpoint.object_store("raw").unwrap();
    let path = ObjectPath::from("a.csv");
    let e_tag = store.head(&path).await.unwrap().e_tag.unwrap();

    let same = GetOptions { if_match: Some(e_tag.clone()), ..GetOptions::default() };
    assert_eq!(store.get_opts(&path, same).await.unwrap().bytes().await.unwrap().as_ref(), b"id\n1\n");

    // Re-provisioned in between: the read fails instead of returning other bytes than the key hashed.
    store.put(&path, PutPayload::from_static(b"id\n2\n")).await.unwrap();
    let stale = GetOptions { if_match: Some(e_tag.clone()), ..GetOptions::default() };
    let err = store.get_opts(&path, stale).await.unwrap_err();
    assert!(matches!(err, object_store::Error::Precondition { .. }), "{err:?}");

    let missing = GetOptions { if_match: Some(e_tag), ..GetOptions::default() };
    let err = store.get_opts(&ObjectPath::from("gone.csv"), missing).await.unwrap_err();
    assert!(matches!(err, object_store::Error::Precondition { .. } | object_store::Error::NotFound { .. }), "{err:?}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embedded_backend_has_a_random_secret_and_refuses_the_public_pair() {
    let tmp = tempfile::tempdir().unwrap();
    let running = Backend::Embedded.start(tmp.path()).await.unwrap();
    let endpoint = running.endpoint();
    assert_eq!(endpoint.credentials.access_key_id, "workbench");
    assert_ne!(endpoint.credentials.secret_access_key, Credentials::local().secret_access_key);
    assert_eq!(endpoint.credentials.secret_access_key.len(), 64, "32 random bytes in hex");
    endpoint.create_bucket("raw").await.unwrap();

    let public = S3Endpoint { url: endpoint.url.clone(), credentials: Credentials::local() };
    let err = public.create_bucket("other").await.unwrap_err();
    assert!(matches!(err, LocalAwsError::AccessDenied { status: 403, .. }), "{err:?}");
    let e = endpoint.clone();
    let answer = tokio::task::spawn_blocking(move || send(&e, &Credentials::local(), "PUT", "/raw/x.csv", &[], b"x"))
        .await
        .unwrap();
    assert_eq!((answer.status, answer.code()), (403, "SignatureDoesNotMatch"), "{answer:?}");
    assert!(!tmp.path().join("s3/raw/x.csv").exists());
    running.shutdown().await;

    // The next start has another secret: the old one is refused.
    let again = Backend::Embedded.start(tmp.path()).await.unwrap();
    assert_ne!(again.endpoint().credentials, endpoint.credentials);
    let old = S3Endpoint { url: again.endpoint().url, credentials: endpoint.credentials.clone() };
    assert!(matches!(old.create_bucket("other").await, Err(LocalAwsError::AccessDenied { status: 403, .. })));
    again.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_server_over_the_same_folder_is_refused_until_the_first_stops() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("s3");
    let first = EmbeddedS3::start(&data, Credentials::local()).await.unwrap();
    let err = EmbeddedS3::start(&data, Credentials::local()).await.unwrap_err();
    let lock = tmp.path().join("s3.lock");
    assert_eq!(
        err.to_string(),
        format!(
            "embedded S3: {} is already served by another process (it holds the lock {}); attach to that server, \
             or wait until it stops",
            data.canonicalize().unwrap().display(),
            lock.canonicalize().unwrap().display()
        )
    );
    first.shutdown().await;
    let second = EmbeddedS3::start(&data, Credentials::local()).await.unwrap();
    second.shutdown().await;
}
