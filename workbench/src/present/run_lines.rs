//! The lines a run's progress prints, shared by `wb run`, `wb watch` and `wb check` so the three show a run
//! alike: the `--json` stream (each runner event line as received, plus what the runner could not say itself)
//! and the text lines (a line per finished stage and per ended market, runner warnings and stray output).

use pipeline_core::Event;
use pipeline_core::events::LogLevel;

use crate::present::report;
use crate::services::recorder::Applied;
use crate::services::supervisor::Update;

/// The `--json` lines of one runner update of run `run_id`: the event line as the runner printed it, a stray
/// stdout line as an info log event, and for a market whose runner ended without `run_finished` the
/// `run_finished` it could not say (so every market's stream ends alike).
pub fn json_lines(run_id: &str, update: &Update, applied: &Applied) -> Vec<String> {
    match update {
        Update::Event { line, .. } => vec![line.clone()],
        Update::Stray { market, line } => {
            let event =
                Event::Log { market: market.to_string(), stage: None, level: LogLevel::Info, message: line.clone() };
            vec![event.to_json_line()]
        }
        Update::Exited { market, .. } => match applied {
            Applied::MarketEnded { end, said_by_runner: false } => {
                let event = Event::RunFinished {
                    run_id: run_id.to_string(),
                    market: market.to_string(),
                    status: end.status,
                    duration_ms: end.duration_ms.unwrap_or(0),
                    error: end.error.clone(),
                };
                vec![event.to_json_line()]
            }
            _ => Vec::new(),
        },
        Update::Spawned { .. } | Update::Stderr { .. } => Vec::new(),
    }
}

/// The text lines of a run's results in one update: a finished stage's lines and an ended market's lines
/// (`width` aligns the market names).
pub fn result_lines(update: &Update, applied: &Applied, width: usize, quarantine: &str) -> Vec<String> {
    match (update, applied) {
        (Update::Event { market, event, .. }, _) => match event.as_ref() {
            Event::StageFinished { record, .. } => report::stage_lines(market.as_str(), width, record, quarantine),
            _ => Vec::new(),
        },
        (Update::Exited { market, .. }, Applied::MarketEnded { end, .. }) => {
            report::market_lines(market.as_str(), width, end.status, end.duration_ms.unwrap_or(0), end.error.as_deref())
        }
        _ => Vec::new(),
    }
}

/// The text lines `wb run` prints for one update: [`result_lines`], plus the markets' start (as_of and stages),
/// run-wide warnings and errors of the runners, and stray stdout lines.
pub fn text_lines(update: &Update, applied: &Applied, width: usize, quarantine: &str) -> Vec<String> {
    match update {
        Update::Event { market, event, .. } => match event.as_ref() {
            Event::RunStarted { stages, as_of, .. } => {
                let names: Vec<&str> = stages.iter().map(|s| s.name()).collect();
                vec![format!("{market:<width$}  as_of {as_of}: {}", names.join(" → "))]
            }
            Event::Log { stage: None, level: LogLevel::Warn | LogLevel::Error, message, .. } => {
                vec![format!("{market:<width$}  {message}")]
            }
            _ => result_lines(update, applied, width, quarantine),
        },
        Update::Stray { market, line } => vec![format!("{market:<width$}  | {line}")],
        _ => result_lines(update, applied, width, quarantine),
    }
}
