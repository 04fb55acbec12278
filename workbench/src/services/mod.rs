//! What the commands and the TUI do, once: each service takes a typed request and returns typed results (or a
//! `thiserror` error with its context); none prints, parses a command line or draws. Services never import
//! [`crate::cli`], [`crate::commands`], [`crate::present`] or [`crate::tui`].

pub mod affected;
pub mod alert_email;
pub mod alerts;
pub mod aws;
pub mod build;
pub mod check_scope;
pub mod coverage;
pub mod diff;
pub mod doctor;
pub mod kpi;
pub mod new_market;
pub mod plan;
pub mod provision;
pub mod recorder;
pub mod reports;
pub mod revision;
pub mod runs;
pub mod supervisor;
pub mod watch;
