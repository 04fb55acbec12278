//! `wb kpi`: the KPI screen's figures without the TUI (checks per market, model drift p-values, recorded
//! metrics, stage times, budget, cache, tests and coverage), as text or `--json`; `--metrics` lists the metric
//! names. The figures are [`crate::services::kpi`]'s, the rendering [`crate::present::kpi`]'s.

use std::io::Write;

use crate::cli::KpiArgs;
use crate::exit::ExitStatus;
use crate::history::History;
use crate::present::kpi::{kpi_json, kpi_text, metrics_json, metrics_text};
use crate::services::kpi::Kpis;
use crate::workspace::Workspace;

/// `wb kpi`: prints the KPIs of the workspace holding the current directory; exit 0, or 2 on an error.
pub fn main(args: &KpiArgs) -> ExitStatus {
    if args.metrics {
        let catalog = pipeline_core::metrics::catalog();
        let text = if args.json { format!("{}\n", metrics_json(&catalog)) } else { metrics_text(&catalog) };
        let _ = std::io::stdout().lock().write_all(text.as_bytes());
        return ExitStatus::Ok;
    }
    let result = (|| -> Result<Kpis, String> {
        let workspace = Workspace::discover_from_cwd().map_err(|e| e.to_string())?;
        let history = History::open(&workspace.history_path()).map_err(|e| e.to_string())?;
        let selected: Vec<&str> = args.market.iter().map(|m| m.as_str()).collect();
        let markets = if selected.is_empty() { markets::ids() } else { selected.clone() };
        let mut kpis = Kpis::load_for(&history, workspace.settings().coverage, args.limit.get(), &markets)
            .map_err(|e| e.to_string())?;
        if !selected.is_empty() {
            kpis.retain_markets(&selected);
        }
        Ok(kpis)
    })();
    match result {
        Ok(kpis) => {
            let text = if args.json { format!("{}\n", kpi_json(&kpis)) } else { kpi_text(&kpis) };
            // A closed pipe (`| head`) is not an error.
            let _ = std::io::stdout().lock().write_all(text.as_bytes());
            ExitStatus::Ok
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitStatus::Error
        }
    }
}
