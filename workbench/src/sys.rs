//! Facts about processes read from Linux's `/proc`: peak memory (for the `resources` event and the summary) and
//! whether a recorded process is still alive (to mark runs whose `wb` died as interrupted, and to tell a running
//! `wb aws serve` from a stale state file). Elsewhere every function answers `None`, and callers treat that as
//! "unknown". [`send_signal`] signals a process without `unsafe` code, through the shell's `kill`.

use std::path::Path;

pub use workbench_runner::rss::{parse_vm_hwm, peak_rss_bytes};

/// When process `pid` started, in clock ticks since boot (field 22 of `/proc/<pid>/stat`). Stored with a pid it
/// tells a live process from a later one that was given the same pid.
pub fn process_start_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces: count fields after the last ')'.
    let after = &stat[stat.rfind(')')? + 1..];
    after.split_whitespace().nth(19)?.parse().ok()
}

/// The state letter of process `pid` (field 3 of `/proc/<pid>/stat`: `R`, `S`, `Z` for a zombie, ...).
pub fn process_state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat[stat.rfind(')')? + 1..].split_whitespace().next()?.chars().next()
}

/// Whether the process that was `pid`, started at `start_ticks` (when known), is still running. A zombie (ended,
/// not yet reaped by its parent) is not. `None` when this platform cannot tell.
pub fn process_alive(pid: u32, start_ticks: Option<u64>) -> Option<bool> {
    if !Path::new("/proc/self/stat").exists() {
        return None;
    }
    if matches!(process_state(pid), Some('Z' | 'X')) {
        return Some(false);
    }
    match (process_start_ticks(pid), start_ticks) {
        (None, _) => Some(false),
        (Some(now), Some(then)) => Some(now == then),
        (Some(_), None) => Some(true),
    }
}

/// Sends `signal` (a name such as `TERM` or `KILL`) to process `pid` with the shell's `kill`; true when it was
/// delivered (false when the process is gone or the signal was refused).
pub fn send_signal(pid: u32, signal: &str) -> bool {
    std::process::Command::new("/bin/sh")
        .args(["-c", r#"kill -s "$1" "$2" 2>/dev/null"#, "wb-kill", signal, &pid.to_string()])
        .stdin(std::process::Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// Resolves on Ctrl-C (and on SIGTERM on Unix); never, when the signals cannot be listened to.
pub async fn interrupted() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_has_a_peak() {
        if !Path::new("/proc/self/stat").exists() {
            return;
        }
        let pid = std::process::id();
        let ticks = process_start_ticks(pid);
        assert!(ticks.is_some());
        assert_eq!(process_alive(pid, ticks), Some(true));
        assert_eq!(process_alive(pid, ticks.map(|t| t + 1)), Some(false));
        assert!(peak_rss_bytes().unwrap() > 0);
        assert!(matches!(process_state(pid), Some('R' | 'S')), "{:?}", process_state(pid));
    }

    #[test]
    fn a_zombie_is_not_alive_and_a_signal_ends_a_process() {
        if !Path::new("/proc/self/stat").exists() {
            return;
        }
        let mut child = std::process::Command::new("sleep").arg("30").spawn().unwrap();
        let pid = child.id();
        let ticks = process_start_ticks(pid);
        assert_eq!(process_alive(pid, ticks), Some(true));
        assert!(send_signal(pid, "TERM"));
        // Not reaped yet: a zombie until `wait`.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while process_alive(pid, ticks) != Some(false) {
            assert!(std::time::Instant::now() < deadline, "pid {pid} still alive");
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        child.wait().unwrap();
        assert!(!send_signal(pid, "TERM"), "the process is gone");
    }
}
