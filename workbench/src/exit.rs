//! How `wb` ends: one [`ExitStatus`] per outcome, mapped to the process exit code here and nowhere else.

use std::process::ExitCode;

use pipeline_core::RunStatus;

/// The outcome of a command, as the shell sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Done: every check passed, or only alerted (0).
    Ok,
    /// A check failed, a stage failed on bad data, or a verdict is FAIL (1).
    Fail,
    /// A usage or environment error: bad option, backend down, runner died, no workspace (2).
    Error,
    /// Cancelled with Ctrl-C or SIGTERM (130, as shells report 128 + SIGINT).
    Cancelled,
    /// The terminal app panicked; the terminal was restored first (101, as Rust reports a panic).
    Panic,
}

impl ExitStatus {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            Self::Ok => 0,
            Self::Fail => 1,
            Self::Error => 2,
            Self::Cancelled => 130,
            Self::Panic => 101,
        }
    }

    /// The exit status of a run's overall status.
    pub fn of_run(status: RunStatus) -> Self {
        match status {
            RunStatus::Ok | RunStatus::Alert => Self::Ok,
            RunStatus::Fail => Self::Fail,
            RunStatus::Error => Self::Error,
            RunStatus::Cancelled => Self::Cancelled,
        }
    }
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> Self {
        ExitCode::from(status.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_are_the_documented_ones() {
        let codes: Vec<u8> =
            [ExitStatus::Ok, ExitStatus::Fail, ExitStatus::Error, ExitStatus::Cancelled, ExitStatus::Panic]
                .map(ExitStatus::code)
                .to_vec();
        assert_eq!(codes, [0, 1, 2, 130, 101]);
        assert_eq!(ExitStatus::of_run(RunStatus::Alert), ExitStatus::Ok);
        assert_eq!(ExitStatus::of_run(RunStatus::Cancelled), ExitStatus::Cancelled);
    }
}
