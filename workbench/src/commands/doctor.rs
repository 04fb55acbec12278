//! `wb doctor`: what works on this machine, what does not, and the command that fixes each. The checks are
//! [`crate::services::doctor`]'s, the rendering [`crate::present::doctor`]'s; this only wires them to the process.

use std::io::Write;

use crate::cli::DoctorArgs;
use crate::exit::ExitStatus;
use crate::present::doctor::{report_json, report_text};
use crate::services::doctor::{Machine, diagnose};

/// `wb doctor`: checks this machine from the current directory, prints the report; exit 0 unless a required
/// check failed (then 1), 2 when the current directory cannot be read.
pub fn main(args: &DoctorArgs) -> ExitStatus {
    let cwd = match std::env::current_dir() {
        Ok(cwd) => cwd,
        Err(e) => {
            eprintln!("error: cannot read the current directory: {e}; cd into the workbench checkout");
            return ExitStatus::Error;
        }
    };
    let report = diagnose(&Machine::from_env(), &cwd);
    let text = if args.json { format!("{}\n", report_json(&report)) } else { report_text(&report) };
    // A closed pipe (`| head`) is not an error.
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    if report.ok() { ExitStatus::Ok } else { ExitStatus::Fail }
}
