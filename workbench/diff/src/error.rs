//! Why a diff could not be made, each with the table, key and side involved and what to do instead.

use polars::prelude::PolarsError;

/// Why two tables could not be diffed.
#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    /// No key columns were given.
    #[error("cannot diff {table}: no key columns; pass --key with the columns that identify a row")]
    NoKeys {
        /// Table name.
        table: String,
    },
    /// A key column is missing on one side.
    #[error(
        "cannot diff {table} on key {key}: {side} has no column {key} (it has {}); pass --key with columns both \
         sides have",
        columns.join(", ")
    )]
    MissingKey {
        /// Table name.
        table: String,
        /// The key column.
        key: String,
        /// The side lacking it.
        side: String,
        /// The columns that side has.
        columns: Vec<String>,
    },
    /// A key column has different types on the two sides, so rows cannot be matched.
    #[error(
        "cannot diff {} on key {}: it is {} in {} but {} in {}; pass --key with columns of the same type on both \
         sides",
        .0.table, .0.key, .0.a_type, .0.a, .0.b_type, .0.b
    )]
    KeyTypes(Box<KeyTypes>),
    /// The key does not identify one row on a side.
    #[error(
        "cannot diff {table} on key {}: {repeated} key value(s) occur more than once in {side} (e.g. {example}); \
         pass --key with the columns that identify one row",
        keys.join(", ")
    )]
    DuplicateKeys {
        /// Table name.
        table: String,
        /// The key columns.
        keys: Vec<String>,
        /// The side with repeated keys.
        side: String,
        /// How many key values repeat.
        repeated: u64,
        /// The first repeated key, formatted.
        example: String,
    },
    /// polars failed on a step of the diff.
    #[error("cannot diff {table} ({step}): {source}")]
    Polars {
        /// Table name.
        table: String,
        /// What the engine was doing.
        step: String,
        /// What polars said.
        #[source]
        source: PolarsError,
    },
    /// polars failed reading a value the engine computed itself (a bug: report it with the command line).
    #[error("internal error while diffing: {0}; please report it with the command line")]
    Internal(#[from] PolarsError),
}

impl DiffError {
    /// A polars failure while diffing `table`, at `step`.
    pub fn polars(table: &str, step: &str, source: PolarsError) -> Self {
        DiffError::Polars { table: table.to_string(), step: step.to_string(), source }
    }
}

/// The details of [`DiffError::KeyTypes`] (boxed: errors stay small).
#[derive(Debug)]
pub struct KeyTypes {
    /// Table name.
    pub table: String,
    /// The key column.
    pub key: String,
    /// Side A's label.
    pub a: String,
    /// Its type in A.
    pub a_type: String,
    /// Side B's label.
    pub b: String,
    /// Its type in B.
    pub b_type: String,
}
