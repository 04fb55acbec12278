//! Local AWS backends for the workbench: an S3 service to run the pipeline against without AWS.
//!
//! Every backend ends up as an [`S3Endpoint`] (URL plus credentials), and provisioning
//! ([`S3Endpoint::create_bucket`], [`S3Endpoint::upload_dir`]) and the pipeline's
//! [`S3Endpoint::object_store`] clients are the same whichever backend runs behind it.
//! [`Backend::start`] starts any of them from the workspace's state directory (`.workbench/`):
//!
//! * [`Backend::Embedded`] (default): [`EmbeddedS3`], an in-process `s3s` + `s3s-fs` server on
//!   an ephemeral loopback port, SigV4 checked, one folder per bucket and one plain file per
//!   object under `<state>/s3`;
//! * [`Backend::LocalStack`]: [`LocalStackProcess`], real LocalStack (`localstack-core`
//!   2026.3.0) run as a host process from a venv [`ensure_venv`] builds from the pinned
//!   [`LOCK_FILE`] with a Python >= 3.13 that [`find_python`] locates;
//! * [`Backend::Container`]: [`LocalStackContainer`], LocalStack in Docker via testcontainers
//!   (image [`DEFAULT_IMAGE`], or the offline-built [`LOCAL_IMAGE`], or `WB_LOCALSTACK_IMAGE`);
//! * [`Backend::Endpoint`]: [`ExternalS3`], whatever `AWS_ENDPOINT_URL` and the usual AWS
//!   variables name, probed before use.
//!
//! object_store retries failed requests; each retry is reported to a [`RetryLog`].
//!
//! The same endpoint speaks SES for alerts ([`S3Endpoint::send_email`], [`S3Endpoint::verify_email_identity`]):
//! LocalStack (host process and container) runs `s3,ses`, and keeps what it sent at `/_aws/ses`
//! ([`S3Endpoint::localstack_sent_emails`]).

mod backend;
mod container;
mod credentials;
mod embedded;
mod endpoint;
mod error;
mod external;
mod fs_store;
mod host;
mod probe;
mod python;
mod retry;
mod ses;
mod venv;
mod watchdog;

pub use backend::{Backend, EMBEDDED_VERSION, RunningBackend, embedded_data_dir};
pub use container::{
    DEFAULT_IMAGE, DockerFacts, GATEWAY_PORT, IMAGE_ENV, LOCAL_IMAGE, LocalStackContainer, docker_facts, docker_host,
};
pub use credentials::Credentials;
pub use embedded::{EmbeddedS3, lock_path};
pub use endpoint::S3Endpoint;
pub use error::LocalAwsError;
pub use external::ExternalS3;
pub use host::{LocalStackProcess, START_TIMEOUT, STOP_GRACE};
pub use python::{MIN_PYTHON, Python, PythonVersion, find_python, find_python_with};
pub use retry::{RetryEvent, RetryLog};
pub use ses::{Email, SentEmail, SesError};
pub use venv::{
    LOCALSTACK_VERSION, LOCK_FILE, VENV_DIR_NAME, VENV_HASH_FILE, ensure_venv, is_current, lock_hash, venv_dir,
    venv_python,
};
