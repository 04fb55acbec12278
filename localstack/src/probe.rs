//! Plain HTTP checks of a backend before it is handed out: is anything listening, and is it a
//! healthy LocalStack (and which version)?

use std::time::{Duration, Instant};

use bytes::Bytes;
use object_store::ClientOptions;
use object_store::client::{HttpConnector, HttpErrorKind, HttpRequest, HttpRequestBody, ReqwestConnector};

/// How long one probe may take: a local backend that is up answers in milliseconds.
pub(crate) const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// What an HTTP server answered.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    /// The `Server` header, if any.
    pub(crate) server: Option<String>,
    pub(crate) body: Bytes,
}

/// One unsigned GET of `url` with no retries. The error is a short reason fit for a message:
/// `connection refused`, `no answer within 5 s`, or the HTTP client's own words.
pub(crate) async fn get(url: &str) -> Result<Answer, String> {
    let mut request = HttpRequest::new(HttpRequestBody::from(Bytes::new()));
    *request.uri_mut() = url.parse().map_err(|e| format!("invalid URL {url}: {e}"))?;
    let options =
        ClientOptions::new().with_allow_http(true).with_timeout(PROBE_TIMEOUT).with_connect_timeout(PROBE_TIMEOUT);
    let client = ReqwestConnector::default().connect(&options).map_err(|e| e.to_string())?;
    let response = client.execute(request).await.map_err(|e| describe(e.kind(), &e))?;
    let status = response.status().as_u16();
    let server = response.headers().get("server").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let body = response.into_body().bytes().await.map_err(|e| describe(e.kind(), &e))?;
    Ok(Answer { status, server, body })
}

/// A short reason for a failed request: the io error kind when there is one.
fn describe(kind: HttpErrorKind, error: &(dyn std::error::Error + 'static)) -> String {
    let mut current = Some(error);
    while let Some(e) = current {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            match io.kind() {
                std::io::ErrorKind::ConnectionRefused => return "connection refused".to_owned(),
                std::io::ErrorKind::TimedOut => return no_answer(),
                std::io::ErrorKind::ConnectionReset => return "connection reset".to_owned(),
                _ => {}
            }
        }
        current = e.source();
    }
    if kind == HttpErrorKind::Timeout {
        return no_answer();
    }
    crate::retry::error_chain(error)
}

fn no_answer() -> String {
    format!("no answer within {} s", PROBE_TIMEOUT.as_secs())
}

/// Checks `<base_url>/_localstack/health`: S3 must be `available` or `running`. Returns the
/// LocalStack version it reports (e.g. `2026.3.0`).
pub(crate) async fn localstack_health(base_url: &str) -> Result<String, String> {
    let url = format!("{}/_localstack/health", base_url.trim_end_matches('/'));
    let answer = get(&url).await?;
    if answer.status != 200 {
        return Err(format!("GET {url} answered HTTP {}", answer.status));
    }
    let health: serde_json::Value =
        serde_json::from_slice(&answer.body).map_err(|e| format!("GET {url} answered no JSON: {e}"))?;
    let s3 = health.pointer("/services/s3").and_then(|v| v.as_str()).unwrap_or("missing");
    if s3 != "available" && s3 != "running" {
        return Err(format!("GET {url}: service s3 is {s3}, not available"));
    }
    Ok(health.get("version").and_then(|v| v.as_str()).unwrap_or("unknown").to_owned())
}

/// [`localstack_health`] until it succeeds or `limit` has passed (`Ready.` is printed a moment
/// before every service is guaranteed to report in).
pub(crate) async fn wait_healthy(base_url: &str, limit: Duration) -> Result<String, String> {
    let deadline = Instant::now() + limit;
    loop {
        match localstack_health(base_url).await {
            Ok(version) => return Ok(version),
            Err(reason) if Instant::now() > deadline => return Err(reason),
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}
