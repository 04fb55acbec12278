//! What the headless commands print: one line on stdout, flushed at once (so piped output and `--json` streams
//! arrive line by line), and an error on stderr that turns into exit code 2.

use crate::exit::ExitStatus;
use std::io::Write;

/// Prints `line` on stdout and flushes it; a closed stdout is ignored (the reader went away).
pub fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// Prints `text` (a whole document, its own newlines included) on stdout and flushes it, or says the error; the
/// exit status of a command that prints one document.
pub fn document(text: Result<String, impl std::fmt::Display>) -> ExitStatus {
    match text {
        Ok(text) => {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(text.as_bytes());
            let _ = out.flush();
            ExitStatus::Ok
        }
        Err(e) => fail(e),
    }
}

/// Says `error: {message}` on stderr and returns the exit code of an environment or usage error (2).
pub fn fail(message: impl std::fmt::Display) -> ExitStatus {
    eprintln!("error: {message}");
    ExitStatus::Error
}

/// Sleeps until `deadline`, or forever when there is none (a `select!` arm that is off until a deadline is set).
pub async fn sleep_until(deadline: Option<std::time::Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}
