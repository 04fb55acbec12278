//! Local AWS backends for the workbench: an S3 service to run the pipeline against without AWS.
//!
//! Every backend ends up as an [`S3Endpoint`] (URL plus credentials), and provisioning
//! ([`S3Endpoint::create_bucket`], [`S3Endpoint::upload_dir`]) and the pipeline's
//! [`S3Endpoint::object_store`] clients are the same whichever backend runs behind it:
//!
//! * [`Backend::Embedded`] (default): [`EmbeddedS3`], an in-process `s3s` + `s3s-fs` server on
//!   an ephemeral loopback port, SigV4 checked, one folder per bucket and one plain file per
//!   object under its data directory;
//! * [`Backend::Endpoint`]: whatever `AWS_ENDPOINT_URL` and the usual AWS variables name;
//! * [`Backend::LocalStack`], [`Backend::Container`]: real LocalStack, not available yet.

mod backend;
mod credentials;
mod embedded;
mod endpoint;
mod error;
mod fs_store;

pub use backend::{Backend, RunningBackend};
pub use credentials::Credentials;
pub use embedded::EmbeddedS3;
pub use endpoint::S3Endpoint;
pub use error::LocalAwsError;
