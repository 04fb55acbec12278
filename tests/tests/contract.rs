//! The hook contract, run for every market the registry holds (no market has to opt in): each declared override
//! lives in the file it names and defines its hook, and each hook a market does not declare behaves as the base
//! on that market's committed raw fixtures. Each market's own tests add samples that show its overrides differ.

#[path = "../../pipeline-core/tests/common/market_contract.rs"]
mod market_contract;

use std::path::Path;

use bytes::Bytes;
use pipeline_core::Table;
use pipeline_core::raw::RawFile;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

/// The market's committed raw extracts (`fixtures/data/<market>/`), as ingest reads them.
fn committed_raw(market: &str) -> Vec<RawFile> {
    [Table::Customers, Table::Orders, Table::Interactions]
        .into_iter()
        .map(|table| {
            let path = Path::new(ROOT).join("fixtures/data").join(market).join(format!("{}.csv", table.name()));
            let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            RawFile { table, url: format!("s3://raw/{market}/{}.csv", table.name()), bytes: Bytes::from(bytes) }
        })
        .collect()
}

macro_rules! contract_tests {
    ($($krate:ident = $id:literal),* $(,)?) => {
        $(
            #[test]
            fn $krate() {
                let market = markets::load($id).expect("market loads");
                market_contract::assert_overrides_listed(market.as_ref(), Path::new(ROOT));
                market_contract::assert_unlisted_hooks_behave_as_base(market.as_ref(), &committed_raw($id));
            }
        )*
    };
}

/// One test per registered market, named after its crate.
mod every_market_keeps_the_hook_contract {
    use super::*;

    markets::for_each_market!(contract_tests);
}
