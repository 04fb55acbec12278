//! Facts about processes read from Linux's `/proc`: peak memory (for the `resources` event and the summary) and
//! whether a recorded process is still alive (to mark runs whose `wb` died as interrupted). Elsewhere every
//! function answers `None`, and callers treat that as "unknown".

use std::path::Path;

/// Peak resident set size of this process in bytes (`VmHWM` in `/proc/self/status`), or `None` when the
/// platform does not report it.
pub fn peak_rss_bytes() -> Option<u64> {
    parse_vm_hwm(&std::fs::read_to_string("/proc/self/status").ok()?)
}

/// The `VmHWM` line of a `/proc/<pid>/status` text, in bytes.
pub fn parse_vm_hwm(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let mut parts = line["VmHWM:".len()..].split_whitespace();
    let value: u64 = parts.next()?.parse().ok()?;
    let unit = parts.next().unwrap_or("kB");
    let factor = match unit {
        "kB" => 1024,
        "mB" | "MB" => 1024 * 1024,
        "B" => 1,
        _ => return None,
    };
    Some(value * factor)
}

/// When process `pid` started, in clock ticks since boot (field 22 of `/proc/<pid>/stat`). Stored with a pid it
/// tells a live process from a later one that was given the same pid.
pub fn process_start_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces: count fields after the last ')'.
    let after = &stat[stat.rfind(')')? + 1..];
    after.split_whitespace().nth(19)?.parse().ok()
}

/// Whether the process that was `pid`, started at `start_ticks` (when known), is still running. `None` when
/// this platform cannot tell.
pub fn process_alive(pid: u32, start_ticks: Option<u64>) -> Option<bool> {
    if !Path::new("/proc/self/stat").exists() {
        return None;
    }
    match (process_start_ticks(pid), start_ticks) {
        (None, _) => Some(false),
        (Some(now), Some(then)) => Some(now == then),
        (Some(_), None) => Some(true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vm_hwm_is_read_in_bytes() {
        let status = "Name:\twb\nVmPeak:\t  200 kB\nVmHWM:\t    1234 kB\nVmRSS:\t 1000 kB\n";
        assert_eq!(parse_vm_hwm(status), Some(1234 * 1024));
        assert_eq!(parse_vm_hwm("Name:\twb\n"), None);
    }

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
    }
}
