//! Making object_store's retries visible.
//!
//! object_store retries failed requests itself (bounded backoff, see
//! [`S3Endpoint::object_store`](crate::S3Endpoint::object_store)) and only reports them as
//! `tracing` events at INFO level, which nobody sees unless the binary installs a `tracing`
//! subscriber. Its retry loop is private, but every attempt goes through the public
//! [`HttpService`] trait (`object_store::client`, available with the `aws` feature), so
//! [`ObservedConnector`] wraps the usual reqwest client and notices a retry for what it is: the
//! same request (method and URI) sent again shortly after an attempt that failed in a way
//! object_store retries (a connection error, or HTTP 5xx, 429 or 408). Each one is counted and
//! handed to the [`RetryLog`]'s hook as a [`RetryEvent`].
//!
//! What it cannot see: why object_store gave up (that arrives as the operation's error) and the
//! backoff it chose. Two identical requests in flight at once (the same GET of the same object
//! from two tasks) could be mistaken for one retry; the pipeline does not do that.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use object_store::ClientOptions;
use object_store::client::{
    HttpClient, HttpConnector, HttpError, HttpRequest, HttpResponse, HttpService, ReqwestConnector,
};

/// A failed attempt is matched with a resend of the same request for this long: longer than
/// the retry policy's whole budget (5 s), so every retry it allows is seen.
const MATCH_WINDOW: Duration = Duration::from_secs(10);

/// How many recent events a [`RetryLog`] keeps for [`RetryLog::recent`].
const RECENT: usize = 32;

/// One retry object_store made: the request was sent again after a failed attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryEvent {
    /// The HTTP method, e.g. `GET`.
    pub method: String,
    /// The full request URI (path-style S3 URL; no credentials, those travel in headers).
    pub uri: String,
    /// Which retry of this request this is: 1 for the first resend.
    pub retry: u32,
    /// Why the previous attempt failed, e.g. `HTTP 503 Service Unavailable` or
    /// `connection error: ...`.
    pub cause: String,
}

impl fmt::Display for RetryEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "S3 retry {} of {} {} after {}", self.retry, self.method, self.uri, self.cause)
    }
}

type Hook = Arc<dyn Fn(&RetryEvent) + Send + Sync>;

#[derive(Default)]
struct LogInner {
    count: AtomicU64,
    recent: Mutex<VecDeque<RetryEvent>>,
    hook: Mutex<Option<Hook>>,
}

/// Where retries are reported: a counter, the last 32 events, and an optional hook (a binary
/// prints them, the runner turns them into log events, a test counts them). Cheap to clone;
/// clones share everything.
///
/// [`S3Endpoint::object_store`](crate::S3Endpoint::object_store) reports to
/// [`RetryLog::global`]; use
/// [`S3Endpoint::object_store_with_retry_log`](crate::S3Endpoint::object_store_with_retry_log)
/// for a separate one. Nothing is printed unless a hook does it, so a terminal UI stays intact.
#[derive(Clone, Default)]
pub struct RetryLog {
    inner: Arc<LogInner>,
}

impl RetryLog {
    /// A new, empty log with no hook.
    pub fn new() -> Self {
        Self::default()
    }

    /// The process-wide log that [`S3Endpoint::object_store`](crate::S3Endpoint::object_store)
    /// clients report to.
    pub fn global() -> &'static RetryLog {
        static GLOBAL: OnceLock<RetryLog> = OnceLock::new();
        GLOBAL.get_or_init(RetryLog::new)
    }

    /// Calls `hook` for every retry from now on (replacing any earlier hook), e.g.
    /// `RetryLog::global().on_retry(|e| eprintln!("{e}"))`. The hook runs on the request's task:
    /// keep it short and non-blocking.
    pub fn on_retry(&self, hook: impl Fn(&RetryEvent) + Send + Sync + 'static) {
        *self.inner.hook.lock().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(hook));
    }

    /// How many retries have been seen so far.
    pub fn count(&self) -> u64 {
        self.inner.count.load(Ordering::Relaxed)
    }

    /// The most recent retries (up to 32), oldest first.
    pub fn recent(&self) -> Vec<RetryEvent> {
        self.inner.recent.lock().unwrap_or_else(|e| e.into_inner()).iter().cloned().collect()
    }

    fn record(&self, event: RetryEvent) {
        self.inner.count.fetch_add(1, Ordering::Relaxed);
        {
            let mut recent = self.inner.recent.lock().unwrap_or_else(|e| e.into_inner());
            if recent.len() == RECENT {
                recent.pop_front();
            }
            recent.push_back(event.clone());
        }
        let hook = self.inner.hook.lock().unwrap_or_else(|e| e.into_inner()).clone();
        if let Some(hook) = hook {
            hook(&event);
        }
    }
}

impl fmt::Debug for RetryLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RetryLog").field("count", &self.count()).finish_non_exhaustive()
    }
}

/// An [`HttpConnector`] that builds object_store's usual reqwest client and wraps it so that
/// every retry is reported to a [`RetryLog`]; see the module docs.
#[derive(Debug)]
pub(crate) struct ObservedConnector {
    log: RetryLog,
}

impl ObservedConnector {
    pub(crate) fn new(log: RetryLog) -> Self {
        Self { log }
    }
}

impl HttpConnector for ObservedConnector {
    fn connect(&self, options: &ClientOptions) -> object_store::Result<HttpClient> {
        let inner = ReqwestConnector::default().connect(options)?;
        Ok(HttpClient::new(ObservedService { inner, log: self.log.clone(), failed: Mutex::default() }))
    }
}

/// A failed attempt waiting to be matched with its resend.
#[derive(Debug)]
struct Failed {
    at: Instant,
    retries: u32,
    cause: String,
}

#[derive(Debug)]
struct ObservedService {
    inner: HttpClient,
    log: RetryLog,
    /// Failed attempts by `"METHOD uri"`.
    failed: Mutex<HashMap<String, Failed>>,
}

impl ObservedService {
    async fn observe(&self, request: HttpRequest) -> Result<HttpResponse, HttpError> {
        let key = format!("{} {}", request.method(), request.uri());
        let previous = self.failed.lock().unwrap_or_else(|e| e.into_inner()).remove(&key);
        let retries = match previous {
            Some(failed) if failed.at.elapsed() < MATCH_WINDOW => {
                let retry = failed.retries + 1;
                self.log.record(RetryEvent {
                    method: request.method().to_string(),
                    uri: request.uri().to_string(),
                    retry,
                    cause: failed.cause,
                });
                retry
            }
            _ => 0,
        };

        let result = self.inner.execute(request).await;
        let cause = match &result {
            Ok(response) => {
                let status = response.status();
                let retryable = status.is_server_error() || status.as_u16() == 429 || status.as_u16() == 408;
                retryable.then(|| format!("HTTP {status}"))
            }
            Err(error) => Some(format!("{:?} error: {}", error.kind(), error_chain(error))),
        };
        if let Some(cause) = cause {
            let mut failed = self.failed.lock().unwrap_or_else(|e| e.into_inner());
            failed.retain(|_, f| f.at.elapsed() < MATCH_WINDOW);
            failed.insert(key, Failed { at: Instant::now(), retries, cause });
        }
        result
    }
}

impl HttpService for ObservedService {
    // The signature `#[async_trait]` generates for `async fn call(&self, req)`.
    fn call<'life0, 'async_trait>(
        &'life0 self,
        req: HttpRequest,
    ) -> BoxFuture<'async_trait, Result<HttpResponse, HttpError>>
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        Box::pin(self.observe(req))
    }
}

/// `error` and its sources joined with `: `, skipping repeats.
pub(crate) fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current = Some(error);
    while let Some(e) = current {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        current = e.source();
    }
    parts.join(": ")
}
