//! Local AWS for the workbench's processes: which backend a command uses ([`session::choose`]), the backend a
//! `wb aws up` left running ([`state`]), and attaching to the embedded S3 another `wb` owns ([`owner`]).

pub mod owner;
pub mod session;
pub mod state;

/// The serve process's log in `.workbench/logs/` (rewritten by every `wb aws up`).
pub const SERVE_LOG: &str = "aws-serve.log";

/// `1.2 ms`, `3.1 s`: a start-up time.
pub fn startup_text(ms: f64) -> String {
    if ms < 1000.0 { format!("{ms:.1} ms") } else { format!("{:.1} s", ms / 1000.0) }
}

/// `45s`, `5m03s`, `2h05m`: how long a backend has been up.
pub fn uptime_text(seconds: u64) -> String {
    match seconds {
        0..60 => format!("{seconds}s"),
        60..3600 => format!("{}m{:02}s", seconds / 60, seconds % 60),
        _ => format!("{}h{:02}m", seconds / 3600, seconds % 3600 / 60),
    }
}
