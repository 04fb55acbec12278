//! Faults: an endpoint that is down at start, and retries made visible.

use std::net::{Ipv4Addr, TcpListener};
use std::sync::{Arc, Mutex};

use localstack::{Credentials, EmbeddedS3, ExternalS3, LocalAwsError, RetryEvent, RetryLog, S3Endpoint};
use object_store::ObjectStoreExt;
use object_store::path::Path as ObjectPath;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A loopback port nothing listens on (it was free a moment ago).
fn closed_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap().local_addr().unwrap().port()
}

fn endpoint_at(url: String) -> S3Endpoint {
    S3Endpoint { url, credentials: Credentials::local() }
}

#[tokio::test]
async fn an_endpoint_that_is_down_fails_at_start_saying_what_to_do() {
    let port = closed_port();
    let err = ExternalS3::connect(endpoint_at(format!("http://127.0.0.1:{port}"))).await.unwrap_err();
    assert!(matches!(err, LocalAwsError::EndpointDown { backend: "endpoint", .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!(
            "backend `endpoint`: nothing answers at http://127.0.0.1:{port} (connection refused); start the S3 \
             service there or point AWS_ENDPOINT_URL at one that runs, or use `--aws embedded`"
        )
    );
}

/// Answers every request with HTTP 503, as an overloaded or half-started backend does.
async fn always_unavailable() -> String {
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buf = [0; 4096];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let _ = socket
                    .write_all(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                    .await;
            });
        }
    });
    url
}

#[tokio::test]
async fn every_retry_on_a_server_error_is_counted_and_reported() {
    let url = always_unavailable().await;
    let log = RetryLog::new();
    let seen: Arc<Mutex<Vec<RetryEvent>>> = Arc::default();
    log.on_retry({
        let seen = Arc::clone(&seen);
        move |event| seen.lock().unwrap().push(event.clone())
    });
    let store = endpoint_at(url.clone()).object_store_with_retry_log("raw", &log).unwrap();

    let err = store.get(&ObjectPath::from("au/customers.csv")).await.unwrap_err();
    assert!(err.to_string().contains("503"), "{err}");

    // The policy allows 3 retries; each one was seen, with the cause of the attempt before it.
    assert_eq!(log.count(), 3);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen, log.recent());
    assert_eq!(seen.iter().map(|e| e.retry).collect::<Vec<_>>(), [1, 2, 3]);
    for event in &seen {
        assert_eq!(event.method, "GET");
        assert_eq!(event.uri, format!("{url}/raw/au/customers.csv"));
        assert_eq!(event.cause, "HTTP 503 Service Unavailable");
    }
    assert_eq!(
        seen[0].to_string(),
        format!("S3 retry 1 of GET {url}/raw/au/customers.csv after HTTP 503 Service Unavailable")
    );
}

#[tokio::test]
async fn retries_after_connection_errors_are_reported_too() {
    let log = RetryLog::new();
    let store =
        endpoint_at(format!("http://127.0.0.1:{}", closed_port())).object_store_with_retry_log("raw", &log).unwrap();
    store.head(&ObjectPath::from("k")).await.unwrap_err();
    assert_eq!(log.count(), 3);
    let causes: Vec<String> = log.recent().into_iter().map(|e| e.cause).collect();
    assert!(causes.iter().all(|c| c.starts_with("Connect error")), "{causes:?}");
}

#[tokio::test]
async fn a_healthy_backend_needs_no_retries() {
    let dir = tempfile::tempdir().unwrap();
    let server = EmbeddedS3::start(dir.path(), Credentials::local()).await.unwrap();
    let endpoint = server.endpoint();
    endpoint.create_bucket("raw").await.unwrap();
    let log = RetryLog::new();
    let store = endpoint.object_store_with_retry_log("raw", &log).unwrap();
    store.put(&ObjectPath::from("k"), "v".into()).await.unwrap();
    assert_eq!(store.get(&ObjectPath::from("k")).await.unwrap().bytes().await.unwrap().as_ref(), b"v");
    assert_eq!(log.count(), 0);
    server.shutdown().await;
}
