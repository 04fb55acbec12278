//! `wb new-market`: its options.

use clap::Args;

use super::parse::MarketId;

/// Options of `wb new-market`.
#[derive(Debug, Clone, Args)]
pub struct NewMarketArgs {
    /// The new market's id, `franchise-cc` (lowercase franchise, a dash, the two-letter country code), e.g.
    /// `foobar-nz`; its crate goes to `markets/<cc>`.
    #[arg(value_name = "ID")]
    pub id: String,
    /// The registered market to start from: its raw format, configuration, model and hook overrides are copied.
    #[arg(long, value_name = "MARKET", value_parser = MarketId::parse)]
    pub like: MarketId,
    /// ISO 4217 currency code of raw amounts (default: the other market's).
    #[arg(long, value_name = "CODE")]
    pub currency: Option<String>,
    /// Multiplier from the local currency to USD (default: the other market's).
    #[arg(long, value_name = "RATE")]
    pub fx: Option<f64>,
    /// IANA time zone, e.g. `Pacific/Auckland` (default: the other market's).
    #[arg(long, value_name = "ZONE")]
    pub timezone: Option<String>,
    /// ISO 639-1 languages, default first, comma-separated, e.g. `en,mi` (default: the other market's).
    #[arg(long, value_name = "LANGS", value_delimiter = ',')]
    pub languages: Option<Vec<String>>,
    /// Field delimiter of the raw extracts, one ASCII character (default: the other market's).
    #[arg(long, value_name = "CHAR")]
    pub delimiter: Option<String>,
    /// Create, register and write the fixtures, but do not build and write the goldens (they need a `cargo
    /// test` of the golden suite; `just golden` writes them later).
    #[arg(long)]
    pub no_goldens: bool,
    /// Print one JSON object (what was created and the next steps) instead of text.
    #[arg(long)]
    pub json: bool,
}
