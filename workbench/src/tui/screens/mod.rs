//! The screens. Each has the same shape: a state struct, an update method that changes it for an [`Action`]
//! (`handle`, no IO) and returns an [`Outcome`] the app maps onto its own state and effects, and drawing that only
//! reads it (`draw(&self, frame, area)`). The matrix, run list and run detail read the app's state through a
//! borrowed view; the others own their state. Screens never import [`crate::tui::app`]: the app imports them.
//!
//! [`Action`]: crate::tui::keys::Action

pub mod coverage;
pub mod diff;
pub mod explorer;
pub mod kpi;
pub mod matrix;
pub mod outbox;
pub mod run_detail;
pub mod runs;

use crate::tui::keys::Screen;

/// How many lines PgUp and PgDn scroll the diff, the explorer and the coverage screens.
pub const PAGE: usize = 15;

/// What a screen's update asks of the app; `R` is the screen's request (a diff to compute, a run to load).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome<R = ()> {
    /// Not this screen's action: the app handles it.
    Ignored,
    /// Handled (or nothing to do).
    Done,
    /// Handled; the status line says this.
    Status(String),
    /// Go to this screen.
    Goto(Screen),
    /// Handled; the app must carry out this request.
    Request(R),
}
