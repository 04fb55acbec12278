//! Key → frame latency of the TUI under load (`just bench-tui`): the real event loop and drawing code on a
//! `TestBackend`, five markets' runners flooding it with progress, stage and log events (about 15 per millisecond,
//! far more than real runners send), while a second task presses a key every 20 ms. For every key it measures the time from reading the key to
//! the end of the draw that shows it, and prints the distribution against the 50 ms target.
//!
//! Usage: `cargo bench -p workbench --bench tui_latency -- [KEYS]` (default 250 keys).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use markets::MarketId;
use pipeline_core::events::LogLevel;
use pipeline_core::{Event, Stage, StageRecord, StageStatus};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tokio::sync::mpsc;
use workbench::services::supervisor::Update;
use workbench::tui::app::{App, Effect, Msg};
use workbench::tui::event_loop::{self, KeyInput};

const TARGET: Duration = Duration::from_millis(50);

fn main() {
    let keys: usize =
        std::env::args().skip(1).find(|a| !a.starts_with('-')).and_then(|a| a.parse().ok()).unwrap_or(250);
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let (stats, sent, elapsed) = runtime.block_on(async move {
        let (msg_tx, mut msgs) = mpsc::unbounded_channel();
        let (key_tx, mut keys_rx) = mpsc::unbounded_channel();
        let markets = MarketId::all();
        let flood = tokio::spawn(flood(markets.clone(), msg_tx));
        let presser = tokio::spawn(async move {
            let mut ticker = tokio::time::interval(Duration::from_millis(20));
            for i in 0..keys {
                ticker.tick().await;
                let code = if i % 2 == 0 { KeyCode::Char('j') } else { KeyCode::Char('l') };
                let _ = key_tx.send(KeyInput { key: KeyEvent::new(code, KeyModifiers::NONE), at: Instant::now() });
            }
            ticker.tick().await;
            let quit = KeyEvent::new(KeyCode::Char('q'), KeyModifiers::NONE);
            let _ = key_tx.send(KeyInput { key: quit, at: Instant::now() });
        });
        let started = Instant::now();
        let mut terminal = Terminal::new(TestBackend::new(140, 40)).unwrap();
        let mut app = App::new(markets);
        // Five markets running: the run is active, so updates land on running cells.
        app.handle(Msg::Key(KeyEvent::new(KeyCode::Char('a'), KeyModifiers::NONE)));
        let mut effects: Vec<Effect> = Vec::new();
        let stats = event_loop::run(&mut terminal, &mut app, &mut keys_rx, &mut msgs, &mut effects).await.unwrap();
        let elapsed = started.elapsed();
        // Closing the channel stops the flood.
        drop(msgs);
        presser.await.unwrap();
        let sent = flood.await.unwrap_or(0);
        (stats, sent, elapsed)
    });
    let mut latencies = stats.key_to_frame.clone();
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() - 1) as f64 * p).round() as usize];
    let ms = |d: Duration| format!("{:.2} ms", d.as_secs_f64() * 1000.0);
    println!(
        "TUI key → frame latency under load (5 markets streaming events, {} keys, 140×40 screen)",
        latencies.len()
    );
    println!(
        "  runner events applied: {} ({:.0}/s), frames drawn: {}",
        stats.messages,
        stats.messages as f64 / elapsed.as_secs_f64(),
        stats.frames
    );
    println!("  events sent by the flood: {sent}");
    println!("  p50 {}  p95 {}  p99 {}  max {}", ms(pct(0.50)), ms(pct(0.95)), ms(pct(0.99)), ms(pct(1.0)));
    let verdict = if pct(1.0) <= TARGET { "PASS" } else { "OVER" };
    println!("  target: every key on screen within {} → {verdict} (worst {})", ms(TARGET), ms(pct(1.0)));
}

/// Sends runner updates for every market as fast as it can until the loop stops taking them; returns how many.
async fn flood(markets: Vec<MarketId>, msgs: mpsc::UnboundedSender<Msg>) -> usize {
    let mut sent = 0usize;
    let mut rows = 0u64;
    loop {
        for market in &markets {
            rows += 97;
            let stage = Stage::ALL[(rows / 997) as usize % Stage::ALL.len()];
            let events = [
                Event::StageProgress { market: market.to_string(), stage, rows, message: "reading".into() },
                Event::Log {
                    market: market.to_string(),
                    stage: Some(stage),
                    level: LogLevel::Info,
                    message: format!("{rows} rows"),
                },
                Event::StageFinished { market: market.to_string(), record: record(stage, rows) },
            ];
            for event in events {
                let update = Update::Event { market: market.clone(), event: Box::new(event), line: String::new() };
                if msgs.send(Msg::Runner { id: 1, update: Box::new(update) }).is_err() {
                    return sent;
                }
                sent += 1;
            }
        }
        // About 15 events per millisecond (~100 times what five real runners send), without starving the runtime.
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

fn record(stage: Stage, rows: u64) -> StageRecord {
    StageRecord {
        metrics: Default::default(),
        stage,
        cache_key: "0123456789abcdef0123".into(),
        status: StageStatus::Ok,
        cache_hit: false,
        rows,
        tables: BTreeMap::new(),
        bytes: rows * 40,
        duration_ms: rows % 5000,
        checks: Vec::new(),
        outputs: Vec::new(),
        produced_by: "bench".into(),
        error: None,
    }
}
