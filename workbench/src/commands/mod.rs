//! One module per `wb` command: its `*Args` (from [`crate::cli`]) become a request, a service carries it out, and
//! the result is presented. Nothing imports a command; a command imports no other command.

pub mod affected;
pub mod aws;
pub mod check;
pub mod completions;
pub mod coverage;
pub mod diff;
pub mod doctor;
pub mod help;
pub mod kpi;
pub mod new_market;
pub mod outbox;
pub mod run;
pub mod runs;
pub mod watch;
