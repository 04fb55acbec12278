//! Where an S3 service is and how to talk to it: the one client code path shared by every backend.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3Builder, AwsAuthorizer, AwsCredential};
use object_store::client::{HttpConnector, HttpRequest, HttpRequestBody, ReqwestConnector};
use object_store::path::Path as ObjectPath;
use object_store::{BackoffConfig, ClientOptions, ObjectStore, ObjectStoreExt, RetryConfig};

use crate::retry::ObservedConnector;
use crate::{Credentials, LocalAwsError, RetryLog};

/// How many files `upload_dir` sends at once: enough to overlap request latency, few enough to
/// keep memory bounded (each file is read whole).
const UPLOAD_CONCURRENCY: usize = 4;

/// An S3-compatible service: its base URL plus the credentials requests are signed with.
///
/// Every backend (embedded, LocalStack, a container, any `AWS_ENDPOINT_URL`) ends up as one of
/// these, so provisioning and the pipeline use exactly the same client code whatever runs behind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Endpoint {
    /// Base URL, e.g. `http://127.0.0.1:43127`; buckets are addressed path-style below it.
    pub url: String,
    /// Credentials and region used to sign every request.
    pub credentials: Credentials,
}

impl S3Endpoint {
    /// Reads the endpoint from the usual AWS variables: `AWS_ENDPOINT_URL`, `AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY` and `AWS_REGION` (falling back to `AWS_DEFAULT_REGION`), so the
    /// `endpoint` backend works with anything those can point at.
    pub fn from_env() -> Result<Self, LocalAwsError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Same as [`S3Endpoint::from_env`] but with variables looked up through `lookup`, so callers
    /// (and tests) need not change the process environment. Empty values count as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, LocalAwsError> {
        let get = |var: &'static str| lookup(var).filter(|value| !value.trim().is_empty());
        let require = |var: &'static str| get(var).ok_or(LocalAwsError::MissingEnv { var });
        let url = require("AWS_ENDPOINT_URL")?;
        let access_key_id = require("AWS_ACCESS_KEY_ID")?;
        let secret_access_key = require("AWS_SECRET_ACCESS_KEY")?;
        let region = get("AWS_REGION")
            .or_else(|| get("AWS_DEFAULT_REGION"))
            .ok_or(LocalAwsError::MissingEnv { var: "AWS_REGION (or AWS_DEFAULT_REGION)" })?;
        Ok(Self {
            url: url.trim_end_matches('/').to_owned(),
            credentials: Credentials { access_key_id, secret_access_key, region },
        })
    }

    /// An `object_store` client for `bucket` at this endpoint: path-style requests, plain HTTP
    /// allowed, signed with these credentials, and a short bounded retry policy (3 retries, 50 ms
    /// to 500 ms backoff, 5 s in all) because a local backend either answers at once or is down.
    /// Every retry is reported to [`RetryLog::global`].
    pub fn object_store(&self, bucket: &str) -> Result<Arc<dyn ObjectStore>, LocalAwsError> {
        self.object_store_with_retry_log(bucket, RetryLog::global())
    }

    /// [`S3Endpoint::object_store`] reporting retries to `retry_log` instead of the global log.
    pub fn object_store_with_retry_log(
        &self,
        bucket: &str,
        retry_log: &RetryLog,
    ) -> Result<Arc<dyn ObjectStore>, LocalAwsError> {
        let retry = RetryConfig {
            backoff: BackoffConfig {
                init_backoff: Duration::from_millis(50),
                max_backoff: Duration::from_millis(500),
                base: 2.0,
            },
            max_retries: 3,
            retry_timeout: Duration::from_secs(5),
        };
        let store = AmazonS3Builder::new()
            .with_endpoint(&self.url)
            .with_bucket_name(bucket)
            .with_region(&self.credentials.region)
            .with_access_key_id(&self.credentials.access_key_id)
            .with_secret_access_key(&self.credentials.secret_access_key)
            .with_virtual_hosted_style_request(false)
            .with_allow_http(true)
            .with_retry(retry)
            .with_http_connector(ObservedConnector::new(retry_log.clone()))
            .build()
            .map_err(|source| LocalAwsError::Client {
                endpoint: self.url.clone(),
                bucket: bucket.to_owned(),
                source: Box::new(source),
            })?;
        Ok(Arc::new(store))
    }

    /// Creates `bucket` with a SigV4-signed `PUT /{bucket}` (S3 CreateBucket), the same request
    /// real S3, LocalStack and MinIO accept. A bucket that already exists
    /// (`BucketAlreadyOwnedByYou` or `BucketAlreadyExists`) counts as success, so provisioning can
    /// run again and again.
    pub async fn create_bucket(&self, bucket: &str) -> Result<(), LocalAwsError> {
        const OPERATION: &str = "CreateBucket";
        let url = format!("{}/{}", self.url.trim_end_matches('/'), bucket);
        // us-east-1 is the one region whose CreateBucket carries no LocationConstraint.
        let body = if self.credentials.region == "us-east-1" {
            Bytes::new()
        } else {
            Bytes::from(format!(
                "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
                 <LocationConstraint>{}</LocationConstraint></CreateBucketConfiguration>",
                self.credentials.region
            ))
        };

        let mut request = HttpRequest::new(HttpRequestBody::from(body));
        *request.method_mut() = "PUT".parse().expect("PUT is a valid HTTP method");
        *request.uri_mut() = url.parse().map_err(|source| LocalAwsError::Unreachable {
            endpoint: self.url.clone(),
            bucket: bucket.to_owned(),
            operation: OPERATION,
            source: Box::new(source),
        })?;

        let credential = AwsCredential {
            key_id: self.credentials.access_key_id.clone(),
            secret_key: self.credentials.secret_access_key.clone(),
            token: None,
        };
        AwsAuthorizer::new(&credential, "s3", &self.credentials.region)
            .try_authorize(&mut request, None)
            .map_err(|source| self.client_error(bucket, source))?;

        let options = ClientOptions::new().with_allow_http(true).with_timeout(Duration::from_secs(30));
        let client =
            ReqwestConnector::default().connect(&options).map_err(|source| self.client_error(bucket, source))?;
        let unreachable = |source: Box<dyn std::error::Error + Send + Sync>| LocalAwsError::Unreachable {
            endpoint: self.url.clone(),
            bucket: bucket.to_owned(),
            operation: OPERATION,
            source,
        };
        let response = client.execute(request).await.map_err(|e| unreachable(Box::new(e)))?;
        let status = response.status();
        let body = response.into_body().bytes().await.map_err(|e| unreachable(Box::new(e)))?;
        if status.is_success() {
            return Ok(());
        }

        let text = String::from_utf8_lossy(&body);
        let code = xml_element(&text, "Code").unwrap_or_default();
        if code == "BucketAlreadyOwnedByYou" || code == "BucketAlreadyExists" {
            return Ok(());
        }
        let message = match xml_element(&text, "Message") {
            Some(message) => message,
            None if !code.is_empty() => "the server gave no message".to_owned(),
            None => text.trim().chars().take(300).collect(),
        };
        let code = if code.is_empty() { "no S3 error code".to_owned() } else { code };
        let (endpoint, bucket, status) = (self.url.clone(), bucket.to_owned(), status.as_u16());
        Err(if status == 401 || status == 403 {
            LocalAwsError::AccessDenied { endpoint, bucket, operation: OPERATION, status, code, message }
        } else {
            LocalAwsError::S3 { endpoint, bucket, operation: OPERATION, status, code, message }
        })
    }

    /// Uploads every regular file under `dir` (recursively; symlinks and other special files are
    /// skipped) to `bucket` at `prefix/<path relative to dir>` with `/` separators, and returns how
    /// many files were uploaded. An empty `prefix` puts files at the bucket's root. This is how
    /// fixtures are loaded into `raw`, identically for every backend.
    pub async fn upload_dir(&self, bucket: &str, prefix: &str, dir: &Path) -> Result<usize, LocalAwsError> {
        let files = regular_files(dir).await?;
        let prefix = prefix.trim_matches('/');
        let mut uploads = Vec::with_capacity(files.len());
        for path in files {
            let relative = path.strip_prefix(dir).expect("walked paths lie under dir");
            let mut parts = Vec::new();
            for component in relative.components() {
                let part =
                    component.as_os_str().to_str().ok_or_else(|| LocalAwsError::NonUtf8Path { path: path.clone() })?;
                parts.push(part);
            }
            let relative_key = parts.join("/");
            let key = if prefix.is_empty() { relative_key } else { format!("{prefix}/{relative_key}") };
            uploads.push((path, key));
        }

        let store = self.object_store(bucket)?;
        let count = uploads.len();
        futures::stream::iter(uploads)
            .map(|(path, key)| {
                let store = Arc::clone(&store);
                async move {
                    let data =
                        tokio::fs::read(&path).await.map_err(|source| LocalAwsError::ReadLocal { path, source })?;
                    store
                        .put(&ObjectPath::from(key.as_str()), data.into())
                        .await
                        .map_err(|source| self.object_error(bucket, &key, "upload", source))?;
                    Ok::<(), LocalAwsError>(())
                }
            })
            .buffer_unordered(UPLOAD_CONCURRENCY)
            .try_collect::<Vec<()>>()
            .await?;
        Ok(count)
    }

    /// Lists the keys in `bucket` below the directory-like `prefix` (`""` for all), sorted. A
    /// small helper for provisioning checks and tests.
    pub async fn list_keys(&self, bucket: &str, prefix: &str) -> Result<Vec<String>, LocalAwsError> {
        let store = self.object_store(bucket)?;
        let prefix_path = (!prefix.is_empty()).then(|| ObjectPath::from(prefix));
        let mut keys: Vec<String> = store
            .list(prefix_path.as_ref())
            .map_ok(|meta| meta.location.to_string())
            .try_collect()
            .await
            .map_err(|source| self.object_error(bucket, prefix, "list", source))?;
        keys.sort();
        Ok(keys)
    }

    fn client_error(&self, bucket: &str, source: object_store::Error) -> LocalAwsError {
        LocalAwsError::Client { endpoint: self.url.clone(), bucket: bucket.to_owned(), source: Box::new(source) }
    }

    fn object_error(
        &self,
        bucket: &str,
        key: &str,
        operation: &'static str,
        source: object_store::Error,
    ) -> LocalAwsError {
        LocalAwsError::Object {
            endpoint: self.url.clone(),
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            operation,
            source: Box::new(source),
        }
    }
}

/// Every regular file under `dir`, sorted, found without following symlinks.
async fn regular_files(dir: &Path) -> Result<Vec<PathBuf>, LocalAwsError> {
    let read_error = |path: &Path| {
        let path = path.to_owned();
        move |source| LocalAwsError::ReadLocal { path, source }
    };
    let mut files = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(current) = pending.pop() {
        let mut entries = tokio::fs::read_dir(&current).await.map_err(read_error(&current))?;
        while let Some(entry) = entries.next_entry().await.map_err(read_error(&current))? {
            let file_type = entry.file_type().await.map_err(read_error(&entry.path()))?;
            if file_type.is_dir() {
                pending.push(entry.path());
            } else if file_type.is_file() {
                files.push(entry.path());
            }
        }
    }
    files.sort();
    Ok(files)
}

/// The text of the first `<name>…</name>` element in an S3 error document, if any.
pub(crate) fn xml_element(document: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let start = document.find(&open)? + open.len();
    let len = document[start..].find(&close)?;
    Some(document[start..start + len].trim().to_owned())
}
