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

    /// Another embedded server (in this or another process) serves the data directory: two
    /// servers over one folder overwrite each other's temporary files.
    #[error(
        "embedded S3: {data_dir} is already served by another process (it holds the lock {lock}); \
         attach to that server, or wait until it stops"
    )]
    StoreInUse {
        /// The data directory.
        data_dir: PathBuf,
        /// The lock file held by the server that owns it.
        lock: PathBuf,
    },

    /// The OS could not provide random bytes for the embedded server's secret access key.
    #[error("embedded S3: cannot generate a secret access key: {reason}; check that /dev/urandom is readable")]
    Secret {
        /// What the OS said.
        reason: String,
    },

    /// No ephemeral port could be opened on the loopback interface (for the embedded server, or
    /// to pick LocalStack's port).
    #[error(
        "cannot listen on 127.0.0.1 (ephemeral port): {source}; check that the loopback interface \
         is up and that the process may open sockets"
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

    /// The workbench state directory (or a file in it) could not be created or written.
    #[error("cannot use {path}: {source}; check that the workspace's .workbench/ is a writable directory")]
    StateDir {
        /// The directory or file.
        path: PathBuf,
        /// What the file system said.
        #[source]
        source: std::io::Error,
    },

    /// No Python >= 3.13 was found for the `localstack` backend.
    #[error(
        "backend `localstack` needs Python >= 3.13 and none was found (looked at: {tried}); install \
         one (`pyenv install 3.13`, your package manager's `python3.13`, or \
         https://www.python.org/downloads/) and, if it is not on PATH, set WB_PYTHON=/path/to/python3.13; \
         or use `--aws embedded`"
    )]
    PythonNotFound {
        /// Every place looked at and what was found there, `; `-separated.
        tried: String,
    },

    /// `WB_PYTHON` names something that is not a usable Python >= 3.13.
    #[error(
        "WB_PYTHON={path}: {reason}; point WB_PYTHON at a Python >= 3.13 interpreter, or unset it to \
         search PATH and pyenv"
    )]
    WbPythonUnusable {
        /// The value of `WB_PYTHON`.
        path: PathBuf,
        /// Why it cannot be used.
        reason: String,
    },

    /// Creating the LocalStack venv failed.
    #[error(
        "backend `localstack`: cannot create the venv {venv}: {step}: {detail}; see {log} (last \
         lines:\n{tail}\n); pip needs network access to PyPI (or PIP_INDEX_URL / PIP_FIND_LINKS) \
         the first time"
    )]
    Venv {
        /// The venv directory.
        venv: PathBuf,
        /// Which step failed.
        step: &'static str,
        /// How it failed.
        detail: String,
        /// The log with the step's full output.
        log: PathBuf,
        /// The log's last lines.
        tail: String,
    },

    /// A program could not be started at all.
    #[error("backend `{backend}`: cannot run {program}: {source}")]
    Spawn {
        /// The backend's name.
        backend: &'static str,
        /// The program.
        program: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },

    /// LocalStack (host process or container) did not become ready.
    #[error("backend `{backend}`: LocalStack did not start: {reason}; see {log} (last lines:\n{tail}\n)")]
    LocalStackStart {
        /// The backend's name (`localstack` or `container`).
        backend: &'static str,
        /// What went wrong (exited with status N, no `Ready.` within N s, unhealthy).
        reason: String,
        /// LocalStack's log file.
        log: PathBuf,
        /// The log's last lines.
        tail: String,
    },

    /// The Docker daemon cannot be reached (not installed, not running, no permission).
    #[error(
        "backend `container`: cannot reach Docker at {host}: {reason}; install and start Docker (and \
         make sure this user may use its socket; DOCKER_HOST selects another daemon), or use \
         `--aws localstack`"
    )]
    DockerUnavailable {
        /// The daemon address tried (`DOCKER_HOST` or the default socket).
        host: String,
        /// What went wrong.
        reason: String,
    },

    /// The LocalStack image is not present locally and cannot be pulled.
    #[error(
        "backend `container`: image {image} is not available: {reason}; build the local image with \
         `just localstack-image` (workbench/localstack:2026.3.0, used by default while \
         WB_LOCALSTACK_IMAGE is unset), or set WB_LOCALSTACK_IMAGE to an image Docker has"
    )]
    ImageMissing {
        /// The image reference.
        image: String,
        /// Why it is not available (not present, pull failed: ...).
        reason: String,
    },

    /// Docker refused or failed an operation on the LocalStack container.
    #[error("backend `container`: {operation} for image {image} failed: {reason}")]
    Container {
        /// The image reference.
        image: String,
        /// The operation, e.g. `create container`.
        operation: &'static str,
        /// What Docker (or testcontainers) said.
        reason: String,
    },

    /// The backend's endpoint does not answer HTTP at all.
    #[error("backend `{backend}`: nothing answers at {endpoint} ({reason}); {hint}")]
    EndpointDown {
        /// The backend's name.
        backend: &'static str,
        /// The endpoint URL.
        endpoint: String,
        /// Why: `connection refused`, `no answer within 5 s`, ...
        reason: String,
        /// What to do about it.
        hint: &'static str,
    },

    /// A backend name that is not one of `embedded|localstack|container|endpoint`.
    #[error("unknown backend `{name}`; expected one of embedded, localstack, container, endpoint")]
    UnknownBackend {
        /// What was given.
        name: String,
    },
}
