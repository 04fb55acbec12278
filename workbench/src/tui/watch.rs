//! The TUI's watch mode (`w`): the same file watching, debouncing and affected analysis as `wb watch`
//! ([`crate::services::watch`]), reported to the app as one [`Msg::Changed`] per debounced batch. The app marks the
//! affected cells stale at once, cancels a run a newer change supersedes, and re-runs each affected market up to its
//! last affected stage; the time from the first save of the batch to the results is the feedback time.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use workbench_affected::{Affected, Declarations};

use crate::present::output::sleep_until;
use crate::services::watch::{Debouncer, classify_batch, start_watcher, watched_path};
use crate::tui::app::{Changed, LogLine, Msg};

/// Watches `root` until the message channel closes or the task is aborted. Errors are reported as log lines.
pub async fn watch(root: &Path, quiet: Duration, msgs: mpsc::UnboundedSender<Msg>) {
    let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let error = |text: String| {
        let line = LogLine { source: "watch".into(), level: pipeline_core::events::LogLevel::Error, text };
        let _ = msgs.send(Msg::Log(line));
    };
    let declarations = match Declarations::load(&root) {
        Ok(d) => d,
        Err(e) => return error(format!("watch mode is off: {e}")),
    };
    let (tx, mut rx) = mpsc::unbounded_channel();
    let _watcher = match start_watcher(&root, tx) {
        Ok(watcher) => watcher,
        Err(e) => return error(format!("cannot watch {}: {e}; check the inotify limits", root.display())),
    };
    let mut snapshot: BTreeMap<String, Vec<u8>> = declarations
        .compared_files()
        .into_iter()
        .filter_map(|path| std::fs::read(root.join(&path)).ok().map(|bytes| (path, bytes)))
        .collect();
    let mut debouncer = Debouncer::new(quiet);
    loop {
        let deadline = debouncer.deadline();
        tokio::select! {
            path = rx.recv() => match path {
                Some(path) => {
                    if let Some(relative) = watched_path(&root, &path) {
                        debouncer.add(relative, Instant::now());
                    }
                }
                None => return error("the file watcher stopped; press w twice to restart it".to_string()),
            },
            () = sleep_until(deadline), if deadline.is_some() => {
                let Some(batch) = debouncer.take() else { continue };
                let changes = classify_batch(&root, &declarations, &mut snapshot, &batch.paths);
                if changes.is_empty() {
                    continue;
                }
                let affected = Affected::from_changes("", "", changes);
                let changed = Changed {
                    summaries: affected.changes.iter().map(|c| format!("{} ({})", c.summary, c.reason)).collect(),
                    runs: affected
                        .cells
                        .keys()
                        .filter_map(|m| affected.last_stage(m).map(|s| (m.clone(), s)))
                        .collect(),
                    cells: affected
                        .cells
                        .iter()
                        .flat_map(|(m, stages)| stages.iter().map(move |s| (m.clone(), *s)))
                        .collect(),
                    first_event: batch.first_event,
                };
                if msgs.send(Msg::Changed(changed)).is_err() {
                    return;
                }
            }
        }
    }
}
