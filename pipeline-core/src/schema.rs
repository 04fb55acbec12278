//! The canonical tables every market's raw extracts are normalised into (spec: "canonical tables after ingest").

use serde::{Deserialize, Serialize};

/// Every interaction channel, in the tie-break order of `preferred_channel`.
pub const CHANNELS: [&str; 5] = ["email", "sms", "call", "visit", "web"];

/// Channels a customer can be contacted on (`web` never is).
pub const CONTACT_CHANNELS: [&str; 4] = ["email", "sms", "call", "visit"];

/// The three raw extracts and canonical tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Table {
    /// One row per customer.
    Customers,
    /// One row per order.
    Orders,
    /// One row per contact or web interaction.
    Interactions,
}

impl Table {
    /// All tables in ingest order.
    pub const ALL: [Table; 3] = [Table::Customers, Table::Orders, Table::Interactions];

    /// The table's name, also its raw file stem and output file stem.
    pub fn name(self) -> &'static str {
        match self {
            Table::Customers => "customers",
            Table::Orders => "orders",
            Table::Interactions => "interactions",
        }
    }

    /// The raw extract's file name.
    pub fn raw_file(self) -> String {
        format!("{}.csv", self.name())
    }

    /// The canonical columns of this table.
    pub fn columns(self) -> Vec<ColumnSpec> {
        use ColumnType::*;
        let c = ColumnSpec::required;
        match self {
            Table::Customers => vec![
                c("customer_id", Str),
                c("segment", Str),
                c("region", Str),
                c("language", Str),
                c("signup_date", Date),
                c("email_opt_in", Bool),
                c("sms_opt_in", Bool),
                c("phone_opt_in", Bool),
                // Only DE extracts carry double opt-in; everywhere else it is implied.
                ColumnSpec::with_default("doi_confirmed", true),
            ],
            Table::Orders => vec![
                c("order_id", Str),
                c("customer_id", Str),
                c("order_date", Date),
                c("quantity", Int),
                c("amount", Float),
            ],
            Table::Interactions => vec![
                c("interaction_id", Str),
                c("customer_id", Str),
                c("channel", Str),
                c("ts", Datetime),
                c("opened", Bool),
                c("clicked", Bool),
            ],
        }
    }
}

impl std::fmt::Display for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The type a raw string column is parsed into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    /// Kept as text.
    Str,
    /// A calendar date, in the market's `raw.date_format`.
    Date,
    /// A naive local datetime, in the market's `raw.datetime_format`.
    Datetime,
    /// A 64-bit integer.
    Int,
    /// A 64-bit float, with the market's decimal separator.
    Float,
    /// A boolean, from the market's true/false tokens.
    Bool,
}

impl ColumnType {
    /// A short name for error messages.
    pub fn describe(self) -> &'static str {
        match self {
            ColumnType::Str => "text",
            ColumnType::Date => "date",
            ColumnType::Datetime => "datetime",
            ColumnType::Int => "integer",
            ColumnType::Float => "number",
            ColumnType::Bool => "boolean",
        }
    }
}

/// One canonical column: its name, type, and the value used when a market's extract does not carry it.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnSpec {
    /// Canonical column name.
    pub name: &'static str,
    /// Parsed type.
    pub ty: ColumnType,
    /// When set, the column may be absent from the extract and takes this boolean for every row.
    pub default: Option<bool>,
}

impl ColumnSpec {
    /// A column the extract must carry.
    pub fn required(name: &'static str, ty: ColumnType) -> Self {
        Self { name, ty, default: None }
    }

    /// A boolean column that may be absent, taking `default` for every row.
    pub fn with_default(name: &'static str, default: bool) -> Self {
        Self { name, ty: ColumnType::Bool, default: Some(default) }
    }
}
