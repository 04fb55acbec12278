//! The one error type of this crate.

use std::path::PathBuf;

/// Everything that can go wrong while starting a local AWS backend or talking to its S3 endpoint.
///
/// Each message names the backend, endpoint, bucket or path involved and says what to do next, so
/// it can be shown to a person as is.
#[derive(Debug, thiserror::Error)]
pub enum LocalAwsError {
    /// The embedded S3 data directory could not be created or opened.
    #[error(
        "embedded S3: cannot use data directory {path}: {source}; check that the path is a \
         writable directory (or pick another one)"
    )]
    DataDir {
        /// The data directory given to `EmbeddedS3::start`.
        path: PathBuf,
        /// What the file system said.
        #[source]
        source: std::io::Error,
    },

    /// The embedded S3 server could not listen on the loopback interface.
    #[error(
        "embedded S3: cannot listen on 127.0.0.1 (ephemeral port): {source}; check that the \
         loopback interface is up and that the process may open sockets"
    )]
    Bind {
        /// What the socket layer said.
        #[source]
        source: std::io::Error,
    },

    /// An object store client for a bucket could not be configured.
    #[error(
        "S3 endpoint {endpoint}: cannot configure a client for bucket `{bucket}`: {source}; check \
         the endpoint URL and the credentials"
    )]
    Client {
        /// The S3 endpoint URL.
        endpoint: String,
        /// The bucket the client was for.
        bucket: String,
        /// What object_store said.
        #[source]
        source: Box<object_store::Error>,
    },

    /// A request could not be sent or its answer not read (connection refused, timeout, ...).
    #[error(
        "S3 endpoint {endpoint}: {operation} on bucket `{bucket}` failed to reach the server: \
         {source}; check that the backend is running and that the URL is right"
    )]
    Unreachable {
        /// The S3 endpoint URL.
        endpoint: String,
        /// The bucket the request was about.
        bucket: String,
        /// The S3 operation, e.g. `CreateBucket`.
        operation: &'static str,
        /// What the HTTP client said.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    /// The server rejected the request's signature or credentials (HTTP 401/403).
    #[error(
        "S3 endpoint {endpoint}: {operation} on bucket `{bucket}` was denied (HTTP {status}, \
         {code}): {message}; check that AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY match what the \
         backend expects"
    )]
    AccessDenied {
        /// The S3 endpoint URL.
        endpoint: String,
        /// The bucket the request was about.
        bucket: String,
        /// The S3 operation, e.g. `CreateBucket`.
        operation: &'static str,
        /// The HTTP status code.
        status: u16,
        /// The S3 error code, e.g. `SignatureDoesNotMatch`.
        code: String,
        /// The S3 error message.
        message: String,
    },

    /// The server answered a request with another S3 error.
    #[error(
        "S3 endpoint {endpoint}: {operation} on bucket `{bucket}` failed (HTTP {status}, {code}): \
         {message}; check the bucket name and the backend's log"
    )]
    S3 {
        /// The S3 endpoint URL.
        endpoint: String,
        /// The bucket the request was about.
        bucket: String,
        /// The S3 operation, e.g. `CreateBucket`.
        operation: &'static str,
        /// The HTTP status code.
        status: u16,
        /// The S3 error code, e.g. `InvalidBucketName`.
        code: String,
        /// The S3 error message.
        message: String,
    },

    /// An object store operation on one object or prefix failed.
    #[error(
        "S3 endpoint {endpoint}: {operation} of `{bucket}/{key}` failed: {source}; check that the \
         bucket exists (create it first) and that the backend is running"
    )]
    Object {
        /// The S3 endpoint URL.
        endpoint: String,
        /// The bucket.
        bucket: String,
        /// The object key or prefix.
        key: String,
        /// The operation, e.g. `upload` or `list`.
        operation: &'static str,
        /// What object_store said.
        #[source]
        source: Box<object_store::Error>,
    },

    /// A local file or directory to upload could not be read.
    #[error("cannot read {path} for upload: {source}; check that it exists and is readable")]
    ReadLocal {
        /// The local path.
        path: PathBuf,
        /// What the file system said.
        #[source]
        source: std::io::Error,
    },

    /// A local path cannot be turned into an S3 key because it is not valid UTF-8.
    #[error("cannot upload {path}: its name is not valid UTF-8; rename it")]
    NonUtf8Path {
        /// The offending path.
        path: PathBuf,
    },

    /// A variable the `endpoint` backend needs is not set.
    #[error(
        "backend `endpoint`: environment variable {var} is not set; set AWS_ENDPOINT_URL, \
         AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_REGION (or AWS_DEFAULT_REGION), or use \
         the `embedded` backend"
    )]
    MissingEnv {
        /// The missing variable's name.
        var: &'static str,
    },

    /// A backend that this build knows by name but cannot start yet.
    #[error(
        "backend `{backend}` is not available yet; use `embedded` (the default) or `endpoint` \
         (AWS_ENDPOINT_URL) for now"
    )]
    NotAvailable {
        /// The backend's name.
        backend: String,
    },

    /// A backend name that is not one of `embedded|localstack|container|endpoint`.
    #[error("unknown backend `{name}`; expected one of embedded, localstack, container, endpoint")]
    UnknownBackend {
        /// What was given.
        name: String,
    },
}
