//! Watching the workspace: file events under the root (but not `target/`, `.git/`, `.workbench/`) collected into
//! debounced batches, and each batch classified by the affected analysis. Shared by `wb watch` and the TUI's watch
//! mode.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use notify::event::ModifyKind;
use notify::{EventKind, RecursiveMode, Watcher};
use tokio::sync::mpsc;
use workbench_affected::changes::head_content;
use workbench_affected::classify::classify;
use workbench_affected::{Change, Declarations, FileStatus};

/// Directories never watched: build output, git's own, and the workbench's state (runs write there).
pub const IGNORED_DIRS: [&str; 3] = ["target", ".git", ".workbench"];

/// The default quiet period after the last file event before a batch is handled.
pub const DEFAULT_DEBOUNCE_MS: u64 = 300;

/// Collects file events into batches: a batch is ready once no event came for the quiet period.
#[derive(Debug)]
pub struct Debouncer {
    quiet: Duration,
    pending: BTreeSet<String>,
    first: Option<Instant>,
    last: Option<Instant>,
}

/// The paths of one batch and when its first event came (the start of its feedback time).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    /// Changed paths from the workspace root, sorted.
    pub paths: Vec<String>,
    /// When the first event of the batch arrived.
    pub first_event: Instant,
}

impl Debouncer {
    /// A debouncer with `quiet` as its quiet period.
    pub fn new(quiet: Duration) -> Self {
        Self { quiet, pending: BTreeSet::new(), first: None, last: None }
    }

    /// Records an event on `path` at `at`.
    pub fn add(&mut self, path: String, at: Instant) {
        self.pending.insert(path);
        self.first.get_or_insert(at);
        self.last = Some(at);
    }

    /// When the pending batch is ready (None when nothing is pending).
    pub fn deadline(&self) -> Option<Instant> {
        self.last.map(|last| last + self.quiet)
    }

    /// Takes the pending batch.
    pub fn take(&mut self) -> Option<Batch> {
        let first_event = self.first.take()?;
        self.last = None;
        Some(Batch { paths: std::mem::take(&mut self.pending).into_iter().collect(), first_event })
    }
}

/// `path` relative to `root`, `/`-separated, or None when it is outside the root or under an ignored directory.
pub fn watched_path(root: &Path, path: &Path) -> Option<String> {
    let relative = path.strip_prefix(root).ok()?;
    let parts: Vec<String> = relative.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
    if parts.is_empty() || parts.iter().any(|p| IGNORED_DIRS.contains(&p.as_str())) {
        return None;
    }
    Some(parts.join("/"))
}

/// Starts watching `root`: its own files, and each directory in it but the ignored ones, recursively (so
/// `target/`, with its thousands of directories, costs no inotify watches). Every created, written, renamed or
/// removed path is sent on `tx`.
pub fn start_watcher(root: &Path, tx: mpsc::UnboundedSender<PathBuf>) -> notify::Result<notify::RecommendedWatcher> {
    let mut watcher = notify::recommended_watcher(move |result: notify::Result<notify::Event>| {
        let Ok(event) = result else { return };
        let relevant = matches!(
            event.kind,
            EventKind::Any
                | EventKind::Create(_)
                | EventKind::Remove(_)
                | EventKind::Modify(ModifyKind::Data(_) | ModifyKind::Name(_) | ModifyKind::Any)
        );
        if relevant {
            for path in event.paths {
                let _ = tx.send(path);
            }
        }
    })?;
    watcher.watch(root, RecursiveMode::NonRecursive)?;
    for entry in std::fs::read_dir(root).map_err(notify::Error::io)?.flatten() {
        let name = entry.file_name();
        let ignored = IGNORED_DIRS.iter().any(|d| name == *d);
        if !ignored && entry.file_type().is_ok_and(|t| t.is_dir()) {
            watcher.watch(&entry.path(), RecursiveMode::Recursive)?;
        }
    }
    Ok(watcher)
}

/// Classifies the paths of a batch against what was last seen of each (else `HEAD`), and remembers their new
/// content. Directories, files whose content did not change, and temporary files that came and went are left out.
pub fn classify_batch(
    root: &Path,
    declarations: &Declarations,
    snapshot: &mut BTreeMap<String, Vec<u8>>,
    paths: &[String],
) -> Vec<Change> {
    let mut changes = Vec::new();
    for path in paths {
        let full = root.join(path);
        if full.is_dir() {
            continue;
        }
        let after = std::fs::read(&full).ok();
        let before = snapshot.get(path).cloned().or_else(|| head_content(root, path));
        let status = match (&before, &after) {
            (None, None) => continue,
            (Some(b), Some(a)) if a == b => continue,
            (_, None) => FileStatus::Deleted,
            (None, Some(_)) => FileStatus::Added,
            (Some(_), Some(_)) => FileStatus::Modified,
        };
        changes.push(classify(declarations, path, status, before.as_deref(), after.as_deref()));
        match after {
            Some(bytes) => snapshot.insert(path.clone(), bytes),
            None => snapshot.remove(path),
        };
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_of_events_is_one_batch_ready_a_quiet_period_after_the_last() {
        let quiet = Duration::from_millis(300);
        let mut debouncer = Debouncer::new(quiet);
        assert_eq!(debouncer.deadline(), None);
        let t0 = Instant::now();
        debouncer.add("b.rs".into(), t0);
        debouncer.add("a.rs".into(), t0 + Duration::from_millis(100));
        debouncer.add("b.rs".into(), t0 + Duration::from_millis(250));
        assert_eq!(debouncer.deadline(), Some(t0 + Duration::from_millis(550)));
        assert_eq!(debouncer.take(), Some(Batch { paths: vec!["a.rs".into(), "b.rs".into()], first_event: t0 }));
        assert_eq!(debouncer.deadline(), None);
        assert_eq!(debouncer.take(), None);
    }

    #[test]
    fn paths_under_ignored_directories_are_not_watched() {
        let root = Path::new("/ws");
        assert_eq!(
            watched_path(root, Path::new("/ws/markets/br/src/normalize.rs")).as_deref(),
            Some("markets/br/src/normalize.rs")
        );
        assert_eq!(watched_path(root, Path::new("/ws/target/debug/wb")), None);
        assert_eq!(watched_path(root, Path::new("/ws/.git/index")), None);
        assert_eq!(watched_path(root, Path::new("/ws/.workbench/history.sqlite")), None);
        assert_eq!(watched_path(root, Path::new("/ws/markets/br/target/x")), None);
        assert_eq!(watched_path(root, Path::new("/elsewhere/x")), None);
        assert_eq!(watched_path(root, Path::new("/ws")), None);
    }
}
