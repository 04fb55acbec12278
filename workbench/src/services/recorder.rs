//! One run's bookkeeping, shared by `wb run` and the TUI: it turns the supervisor's [`Update`]s into each
//! market's state (records, as_of, how it ended) and writes them to the run history as they happen, so a run
//! is recorded even when it fails or is cancelled. Printing is the caller's business.

use std::time::Instant;

use pipeline_core::{Event, RunStatus, StageRecord};

use crate::history::{History, HistoryError, MarketEnd, RunEnd};

use crate::services::supervisor::{Exit, Update};
use markets::MarketId;

/// One market's state during a run.
#[derive(Debug, Clone)]
pub struct MarketProgress {
    /// The market.
    pub id: MarketId,
    /// Its finished stages, in execution order.
    pub records: Vec<StageRecord>,
    /// as_of, once the runner said it.
    pub as_of: Option<String>,
    /// What the runner's `run_finished` said: status, duration, error.
    pub finished: Option<(RunStatus, u64, Option<String>)>,
    /// How the market ended, once its runner is gone.
    pub end: Option<MarketEnd>,
    /// The runner's peak RSS.
    pub peak_rss: Option<u64>,
    /// When its runner was spawned.
    pub started: Option<Instant>,
}

impl MarketProgress {
    fn new(id: MarketId) -> Self {
        Self { id, records: Vec::new(), as_of: None, finished: None, end: None, peak_rss: None, started: None }
    }

    /// Its outcome; a market that never ended counts as cancelled.
    pub fn status(&self) -> RunStatus {
        self.end.as_ref().map(|e| e.status).unwrap_or(RunStatus::Cancelled)
    }
}

/// What applying an update changed, for the caller to show.
#[derive(Debug, Clone, PartialEq)]
pub enum Applied {
    /// Nothing worth showing beyond the update itself.
    Nothing,
    /// A stage finished and was recorded.
    Stage(Box<StageRecord>),
    /// A market's runner ended. `said_by_runner` is false when the runner died (or was cancelled) before its
    /// `run_finished`, so the caller may want to say it for it.
    MarketEnded {
        /// How it ended.
        end: MarketEnd,
        /// The runner printed `run_finished` itself.
        said_by_runner: bool,
    },
}

/// A run's markets and their history rows.
#[derive(Debug)]
pub struct Recorder {
    run_id: String,
    markets: Vec<MarketProgress>,
    cancelled: bool,
}

impl Recorder {
    /// A recorder for `run_id` over `markets` (the run row itself is written by [`History::begin_run`]).
    pub fn new(run_id: impl Into<String>, markets: &[MarketId]) -> Self {
        Self {
            run_id: run_id.into(),
            markets: markets.iter().cloned().map(MarketProgress::new).collect(),
            cancelled: false,
        }
    }

    /// The run id.
    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// The markets, in the order given.
    pub fn markets(&self) -> &[MarketProgress] {
        &self.markets
    }

    /// Marks the run cancelled: markets whose runner ends without `run_finished` end as cancelled.
    pub fn cancel(&mut self) {
        self.cancelled = true;
    }

    /// Whether the run was cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.cancelled
    }

    /// Tracks one update and records what finished in `history`. The state is updated even when the history
    /// write fails (the error is returned for the caller to warn about once).
    pub fn apply(&mut self, history: &mut History, update: &Update) -> (Applied, Result<(), HistoryError>) {
        let run_id = self.run_id.clone();
        let cancelled = self.cancelled;
        match update {
            Update::Spawned { market, .. } => {
                if let Some(m) = self.market_mut(market) {
                    m.started = Some(Instant::now());
                }
                (Applied::Nothing, Ok(()))
            }
            Update::Event { market, event, .. } => {
                let Some(m) = self.market_mut(market) else { return (Applied::Nothing, Ok(())) };
                match event.as_ref() {
                    Event::RunStarted { as_of, .. } => m.as_of = Some(as_of.clone()),
                    Event::StageFinished { record, .. } => {
                        let seq = m.records.len();
                        m.records.push(record.clone());
                        let written = history.record_stage(&run_id, market.as_str(), seq, record);
                        return (Applied::Stage(Box::new(record.clone())), written);
                    }
                    Event::RunFinished { status, duration_ms, error, .. } => {
                        m.finished = Some((*status, *duration_ms, error.clone()));
                    }
                    Event::Resources { peak_rss_bytes, .. } => m.peak_rss = Some(*peak_rss_bytes),
                    _ => {}
                }
                (Applied::Nothing, Ok(()))
            }
            Update::Stray { .. } | Update::Stderr { .. } => (Applied::Nothing, Ok(())),
            Update::Exited { market, exit } => {
                let Some(m) = self.market_mut(market) else { return (Applied::Nothing, Ok(())) };
                let end = market_end(m, exit, cancelled);
                m.end = Some(end.clone());
                let said_by_runner = m.finished.is_some();
                let written = history.finish_market(&run_id, &end);
                (Applied::MarketEnded { end, said_by_runner }, written)
            }
        }
    }

    /// The overall status: cancelled if cancelled, else the worst market's.
    pub fn status(&self) -> RunStatus {
        if self.cancelled {
            return RunStatus::Cancelled;
        }
        self.markets.iter().map(MarketProgress::status).max().unwrap_or(RunStatus::Ok)
    }

    /// The status the run ends with given a run-wide `error`: an error (backend lost, provisioning failed)
    /// makes it `error` unless it was cancelled, else the markets decide.
    pub fn final_status(&self, error: Option<&str>) -> RunStatus {
        if error.is_some() && !self.cancelled { RunStatus::Error } else { self.status() }
    }

    /// Closes the run in history with its [`Recorder::final_status`]; `error` is a run-wide error.
    pub fn finish(
        &self,
        history: &mut History,
        endpoint: Option<String>,
        duration_ms: u64,
        error: Option<String>,
    ) -> Result<(), HistoryError> {
        let status = self.final_status(error.as_deref());
        let end = RunEnd { status, endpoint, duration_ms, peak_rss_bytes: crate::sys::peak_rss_bytes(), error };
        history.finish_run(&self.run_id, &end)
    }

    /// Each market's outcome, for the summary.
    pub fn summaries(&self) -> Vec<MarketSummary> {
        self.markets
            .iter()
            .map(|m| MarketSummary {
                market: m.id.to_string(),
                status: m.status(),
                records: m.records.clone(),
                duration_ms: m.end.as_ref().and_then(|e| e.duration_ms).unwrap_or(0),
                error: m.end.as_ref().and_then(|e| e.error.clone()),
            })
            .collect()
    }

    fn market_mut(&mut self, id: &MarketId) -> Option<&mut MarketProgress> {
        self.markets.iter_mut().find(|m| &m.id == id)
    }
}

/// How a market ended: what its runner said, else cancelled (when the run was) or an error describing the exit.
fn market_end(m: &MarketProgress, exit: &Exit, cancelled: bool) -> MarketEnd {
    let elapsed = m.started.map(|s| s.elapsed().as_millis() as u64).unwrap_or(0);
    let (status, duration_ms, error) = match (&m.finished, exit.cancelled || cancelled) {
        (Some(finished), _) => finished.clone(),
        (None, true) => (RunStatus::Cancelled, elapsed, Some("cancelled".to_string())),
        (None, false) => (RunStatus::Error, elapsed, Some(exit.describe(&m.id))),
    };
    MarketEnd {
        market: m.id.to_string(),
        status,
        as_of: m.as_of.clone(),
        error,
        duration_ms: Some(duration_ms),
        peak_rss_bytes: m.peak_rss,
    }
}

/// One market's outcome, as the summary table shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct MarketSummary {
    /// Market id.
    pub market: String,
    /// Outcome.
    pub status: RunStatus,
    /// Its stages, in execution order.
    pub records: Vec<StageRecord>,
    /// Wall time of the market's run.
    pub duration_ms: u64,
    /// The error that ended it.
    pub error: Option<String>,
}
