//! The pipeline core: the stage framework, the market hook trait with the base behaviour, the six reference
//! stages, quality checks, cache keys and S3 IO. It knows nothing of terminals or processes (the workbench is
//! the shell around it): stages take frames and return frames.

pub mod cache;
pub mod checks;
pub mod config;
pub mod drift;
pub mod engine;
pub mod error;
pub mod events;
pub mod hooks;
pub mod io;
pub mod market_macro;
pub mod metrics;
pub mod quality;
pub mod raw;
pub mod schema;
pub mod sources;
pub mod stages;

pub use checks::{Band, CheckDetail, CheckResult, CheckStatus, DriftDetail};
pub use config::{MarketConfig, ModelWeights, RawFormat};
pub use engine::{RunOutcome, RunRequest, run_market};
pub use error::{PipelineError, Result};
pub use events::{Event, RunStatus, StageRecord, StageStatus};
pub use hooks::{ExportFormat, Hook, HookOverride, Market, MarketDef};
pub use io::{Buckets, StageIo};
pub use schema::Table;
pub use stages::Stage;
