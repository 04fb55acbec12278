//! What people read: text, Markdown and JSON rendered from the services' results, shared by the commands, the
//! reports and the TUI. Rendering only reads; nothing here runs anything.

pub mod check_report;
pub mod coverage;
pub mod doctor;
pub mod kpi;
pub mod new_market;
pub mod outbox;
pub mod output;
pub mod report;
pub mod run_lines;
pub mod run_report;
pub mod runs;
pub mod svg;
