//! Peak memory of this process, read from Linux's `/proc` (the runner's `resources` event, and `wb`'s own run
//! record). Elsewhere it answers `None`, and callers treat that as "unknown".

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vm_hwm_is_read_in_bytes() {
        let status = "Name:\twb\nVmPeak:\t  99999 kB\nVmHWM:\t    1234 kB\nVmRSS:\t 1000 kB\n";
        assert_eq!(parse_vm_hwm(status), Some(1234 * 1024));
        assert_eq!(parse_vm_hwm("Name:\twb\n"), None);
        assert_eq!(parse_vm_hwm("VmHWM:\t2 MB\n"), Some(2 * 1024 * 1024));
        assert_eq!(parse_vm_hwm("VmHWM:\t2 GB\n"), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn this_process_has_a_peak() {
        assert!(peak_rss_bytes().unwrap() > 0);
    }
}
