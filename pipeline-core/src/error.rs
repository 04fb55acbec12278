//! The one error type of the pipeline core, with the context (market, stage, file, column) a user needs to act.

use std::fmt;

/// Everything that can stop a stage or a run. Messages name the file, column, market or stage involved and,
/// where there is one, the next thing to do.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// A required raw extract is absent from the raw bucket.
    #[error(
        "missing raw file {url}: provision the raw bucket (`wb run` loads fixtures/data) or check the market's extract"
    )]
    MissingFile {
        /// The S3 URL that was looked up.
        url: String,
    },
    /// A raw extract has a header row but no data rows.
    #[error("raw file {url} has no data rows: the extract is empty")]
    EmptyFile {
        /// The S3 URL of the empty file.
        url: String,
    },
    /// A raw extract lacks a column the canonical table needs.
    #[error("raw file {url} is missing required column '{column}' (header has: {header})")]
    MissingColumn {
        /// The S3 URL of the file.
        url: String,
        /// The raw column name that was expected.
        column: String,
        /// The header that was found, for comparison.
        header: String,
    },
    /// A raw extract's header row cannot be read (not UTF-8, or a quote that does not close).
    #[error("raw file {url}: its header row {problem}: fix the extract's first line")]
    BadHeader {
        /// The S3 URL of the file.
        url: String,
        /// What is wrong with the header.
        problem: String,
    },
    /// A raw extract's header names a column twice, so it is ambiguous which one is meant.
    #[error("raw file {url} has column '{column}' twice in its header: rename or drop one of them in the extract")]
    DuplicateColumn {
        /// The S3 URL of the file.
        url: String,
        /// The repeated column name.
        column: String,
    },
    /// The market's `market.toml` or `model.toml` does not parse or lacks a key.
    #[error("invalid {file} for market {market}: {message}")]
    Config {
        /// The market id.
        market: String,
        /// Which file (`market.toml`, `model.toml`).
        file: String,
        /// What is wrong.
        message: String,
    },
    /// A stage's own output is missing when a later stage needs it.
    #[error("output {url} of stage {stage} is missing: run `wb run --market {market} --stage {stage} --no-cache`")]
    MissingOutput {
        /// The market.
        market: String,
        /// The stage whose output is missing.
        stage: String,
        /// The URL looked up.
        url: String,
    },
    /// A polars operation failed inside a stage.
    #[error("{market}/{stage}: table operation failed: {source}")]
    Polars {
        /// The market.
        market: String,
        /// The stage.
        stage: String,
        /// The polars error.
        #[source]
        source: polars::error::PolarsError,
    },
    /// Reading or writing an object failed.
    #[error("{op} {url} failed: {source}")]
    Store {
        /// What was attempted (`get`, `put`, `head`, `list`).
        op: &'static str,
        /// The S3 URL.
        url: String,
        /// The object_store error.
        #[source]
        source: object_store::Error,
    },
    /// A raw object changed between the moment its ETag went into a cache key and the moment it was read.
    #[error(
        "{url} changed while this run was reading it (its ETag was {etag} when the cache key was computed): \
         another process re-provisioned it; run again"
    )]
    Changed {
        /// The S3 URL.
        url: String,
        /// The ETag the run expected.
        etag: String,
    },
    /// Anything else, with its context in the message.
    #[error("{0}")]
    Other(String),
}

impl PipelineError {
    /// Whether the error is the environment's (the object store failed, or an input changed under the run) rather
    /// than the data's or the code's: such a run ends as ERROR, not FAIL.
    pub fn is_environment(&self) -> bool {
        matches!(self, PipelineError::Store { .. } | PipelineError::Changed { .. })
    }
}

/// The most characters an error or check message may have once bounded by [`bounded`]; a longer one (say, a
/// reader error quoting the rest of a file) would flood run history, events and terminals.
pub const MAX_MESSAGE_CHARS: usize = 500;

/// `message` cut to at most [`MAX_MESSAGE_CHARS`] characters, saying how many were cut, e.g.
/// `"… (316,242 more characters cut)"`. Shorter messages are returned unchanged.
pub fn bounded(message: &str) -> String {
    let total = message.chars().count();
    if total <= MAX_MESSAGE_CHARS {
        return message.to_string();
    }
    let mut kept = MAX_MESSAGE_CHARS;
    loop {
        let suffix = format!("… ({} more characters cut)", thousands((total - kept) as u64));
        if kept + suffix.chars().count() <= MAX_MESSAGE_CHARS {
            let mut out: String = message.chars().take(kept).collect();
            out.push_str(&suffix);
            return out;
        }
        kept -= 1;
    }
}

/// `n` with commas between groups of three digits, e.g. `316,242`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Result alias used across the crate.
pub type Result<T, E = PipelineError> = std::result::Result<T, E>;

/// Attaches market and stage context to polars errors.
pub trait PolarsContext<T> {
    /// Converts a polars error into [`PipelineError::Polars`] for the given market and stage.
    fn ctx(self, market: &str, stage: impl fmt::Display) -> Result<T>;
}

impl<T> PolarsContext<T> for polars::error::PolarsResult<T> {
    fn ctx(self, market: &str, stage: impl fmt::Display) -> Result<T> {
        self.map_err(|source| PipelineError::Polars { market: market.to_string(), stage: stage.to_string(), source })
    }
}
