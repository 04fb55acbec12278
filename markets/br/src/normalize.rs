//! BR raw extracts name their columns in Portuguese; they are renamed to the canonical names, then parsed by the
//! base with the market's raw format.

use pipeline_core::hooks::base;
use pipeline_core::raw::{ParsedTable, RawTable};
use pipeline_core::{MarketConfig, Result, Table};

/// Portuguese raw column → canonical column, per table.
pub const COLUMN_NAMES: [(Table, &[(&str, &str)]); 3] = [
    (
        Table::Customers,
        &[
            ("id_cliente", "customer_id"),
            ("segmento", "segment"),
            ("regiao", "region"),
            ("idioma", "language"),
            ("data_cadastro", "signup_date"),
            ("aceita_email", "email_opt_in"),
            ("aceita_sms", "sms_opt_in"),
            ("aceita_telefone", "phone_opt_in"),
        ],
    ),
    (
        Table::Orders,
        &[
            ("id_pedido", "order_id"),
            ("id_cliente", "customer_id"),
            ("data_pedido", "order_date"),
            ("quantidade", "quantity"),
            ("valor", "amount"),
        ],
    ),
    (
        Table::Interactions,
        &[
            ("id_interacao", "interaction_id"),
            ("id_cliente", "customer_id"),
            ("canal", "channel"),
            ("data_hora", "ts"),
            ("abriu", "opened"),
            ("clicou", "clicked"),
        ],
    ),
];

/// Renames the Portuguese columns, then normalises as the base does.
pub fn normalize(config: &MarketConfig, mut raw: RawTable) -> Result<ParsedTable> {
    let names = COLUMN_NAMES.iter().find(|(t, _)| *t == raw.table).map(|(_, names)| *names).unwrap_or(&[]);
    raw.rename(names)?;
    base::normalize(config, raw)
}
