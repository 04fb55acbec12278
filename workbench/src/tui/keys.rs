//! Every key binding of the TUI in one typed table ([`BINDINGS`]): the key, the screens it works on, the
//! [`Action`] it triggers and the sentence the help overlay and the command palette show. Keys are matched here,
//! at the edge; the rest of the app only sees actions.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// Everything a user can ask of the TUI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Move the selection up.
    Up,
    /// Move the selection down.
    Down,
    /// Move the selection left.
    Left,
    /// Move the selection right.
    Right,
    /// Run the selected stage for the selected market (with what it needs upstream).
    RunCell,
    /// Run every stage of the selected market.
    RunMarket,
    /// Run the selected stage for every market.
    RunStage,
    /// Run every stage of every market.
    RunAll,
    /// Cancel the running and queued runs.
    Cancel,
    /// Show or hide the log pane.
    ToggleLog,
    /// Turn watch mode on or off.
    ToggleWatch,
    /// Scroll the log pane up.
    LogUp,
    /// Scroll the log pane down.
    LogDown,
    /// Open the run history.
    OpenRuns,
    /// Open the selected run's details.
    OpenRun,
    /// Open the quality KPIs (checks, stage times, budget, cache, tests and coverage).
    OpenKpis,
    /// Back to the previous screen (or close an overlay).
    Back,
    /// Show the help overlay.
    Help,
    /// Open the command palette.
    Palette,
    /// Quit (cancelling what runs).
    Quit,
    /// Open the diff screen for the selected cell (pick what to compare with).
    OpenDiff,
    /// Open the market explorer for the selected market.
    OpenExplorer,
    /// Compare with the picked choice.
    Compare,
    /// Hide the selected column of the diff.
    HideColumn,
    /// Show every column of the diff again.
    ShowColumns,
    /// Scroll a page up.
    PageUp,
    /// Scroll a page down.
    PageDown,
    /// Open the coverage screen (loads `.workbench/coverage/`).
    OpenCoverage,
    /// Sort the coverage table by the next key.
    CycleSort,
    /// Give the keys to the other pane.
    SwitchPane,
    /// Open the selected item (fold or unfold a crate, open a file).
    OpenItem,
    /// Jump to the next uncovered line.
    NextUncovered,
    /// Jump to the previous uncovered line.
    PrevUncovered,
    /// Scroll to the first line.
    Top,
    /// Scroll to the last line.
    Bottom,
    /// Open the outbox: the alert emails of runs on the embedded backend.
    OpenOutbox,
    /// Open the selected message of the outbox.
    OpenMail,
    /// Open the report of the market in view (run detail): the browser on the local file, else its URL.
    OpenReport,
}

impl Action {
    /// Every action, in the order the palette lists them.
    pub const ALL: [Action; 38] = [
        Action::RunCell,
        Action::RunMarket,
        Action::RunStage,
        Action::RunAll,
        Action::Cancel,
        Action::ToggleLog,
        Action::ToggleWatch,
        Action::OpenRuns,
        Action::OpenRun,
        Action::OpenKpis,
        Action::OpenDiff,
        Action::OpenExplorer,
        Action::OpenCoverage,
        Action::OpenOutbox,
        Action::OpenMail,
        Action::OpenReport,
        Action::Compare,
        Action::HideColumn,
        Action::ShowColumns,
        Action::Back,
        Action::Help,
        Action::Palette,
        Action::Quit,
        Action::Up,
        Action::Down,
        Action::Left,
        Action::Right,
        Action::LogUp,
        Action::LogDown,
        Action::PageUp,
        Action::PageDown,
        Action::CycleSort,
        Action::SwitchPane,
        Action::OpenItem,
        Action::NextUncovered,
        Action::PrevUncovered,
        Action::Top,
        Action::Bottom,
    ];

    /// What it does, as the help and the palette say it.
    pub fn describe(self) -> &'static str {
        match self {
            Action::Up => "move up",
            Action::Down => "move down",
            Action::Left => "move left",
            Action::Right => "move right",
            Action::RunCell => "run the selected stage for the selected market (and what it needs upstream)",
            Action::RunMarket => "run every stage of the selected market",
            Action::RunStage => "run the selected stage for every market",
            Action::RunAll => "run every stage of every market",
            Action::Cancel => "cancel the running and queued runs",
            Action::ToggleLog => "show or hide the log pane",
            Action::ToggleWatch => "watch files: on save, re-run what the change touches",
            Action::LogUp => "scroll the log up",
            Action::LogDown => "scroll the log down",
            Action::OpenRuns => "open the run history",
            Action::OpenRun => "open the selected run",
            Action::OpenKpis => "quality KPIs: checks, stage times, budget, cache hits, tests and coverage",
            Action::Back => "back / close",
            Action::Help => "show the keys of this screen",
            Action::Palette => "command palette: search every action",
            Action::Quit => "quit (cancels running runs)",
            Action::OpenDiff => "diff the selected cell's output with another market's or the base's",
            Action::OpenExplorer => "explore the selected market: hooks, config, model, raw format",
            Action::Compare => "compare with the picked market (or the base)",
            Action::HideColumn => "hide the column under the cursor",
            Action::ShowColumns => "show every column again",
            Action::PageUp => "scroll a page up",
            Action::PageDown => "scroll a page down",
            Action::OpenCoverage => "coverage: per crate and file, patch coverage, hook overrides run by tests",
            Action::CycleSort => "sort by the next column (coverage: worst first)",
            Action::SwitchPane => "switch between the file table and the patch & hooks pane",
            Action::OpenItem => "open the selected file, or fold / unfold the selected crate",
            Action::NextUncovered => "jump to the next uncovered line",
            Action::PrevUncovered => "jump to the previous uncovered line",
            Action::Top => "scroll to the top",
            Action::Bottom => "scroll to the end",
            Action::OpenOutbox => "mail: the outbox of alert emails (runs on the embedded backend)",
            Action::OpenMail => "open the selected message",
            Action::OpenReport => "open the report of the market in view (browser on the local file, else its URL)",
        }
    }
}

/// The screens (and overlays) a binding can belong to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Screen {
    /// The market × stage matrix (home).
    Matrix,
    /// The run history list.
    Runs,
    /// One run's details.
    RunDetail,
    /// The quality KPIs over recent runs.
    Kpi,
    /// The diff of a cell's output (with its market picker).
    Diff,
    /// The market explorer.
    Explorer,
    /// The coverage table with the patch and hook panes.
    Coverage,
    /// One file's source with its coverage.
    CoverageFile,
    /// The outbox of alert emails (and one message opened).
    Outbox,
}

impl Screen {
    /// Every screen, so checks over all of them (no key bound twice) cannot miss a new one.
    pub const ALL: [Screen; 9] = [
        Screen::Matrix,
        Screen::Runs,
        Screen::RunDetail,
        Screen::Diff,
        Screen::Explorer,
        Screen::Coverage,
        Screen::CoverageFile,
        Screen::Kpi,
        Screen::Outbox,
    ];

    /// The screen's title.
    pub fn title(self) -> &'static str {
        match self {
            Screen::Matrix => "Matrix",
            Screen::Runs => "Run history",
            Screen::RunDetail => "Run",
            Screen::Kpi => "KPIs",
            Screen::Diff => "Diff",
            Screen::Explorer => "Explorer",
            Screen::Coverage => "Coverage",
            Screen::CoverageFile => "Coverage file",
            Screen::Outbox => "Outbox",
        }
    }
}

/// Where a binding applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// On every screen.
    Global,
    /// On these screens only.
    On(&'static [Screen]),
}

impl Scope {
    fn includes(self, screen: Screen) -> bool {
        match self {
            Scope::Global => true,
            Scope::On(screens) => screens.contains(&screen),
        }
    }
}

/// A key: a code and whether Ctrl is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    /// The key code.
    pub code: KeyCode,
    /// Ctrl held.
    pub ctrl: bool,
}

impl Key {
    const fn plain(code: KeyCode) -> Self {
        Self { code, ctrl: false }
    }

    const fn char(c: char) -> Self {
        Self::plain(KeyCode::Char(c))
    }

    const fn ctrl(c: char) -> Self {
        Self { code: KeyCode::Char(c), ctrl: true }
    }

    /// The key of a terminal event (Shift is part of the character, so it is ignored).
    pub fn from_event(event: &KeyEvent) -> Self {
        Self { code: event.code, ctrl: event.modifiers.contains(KeyModifiers::CONTROL) }
    }

    /// How the help shows it: `Enter`, `↑`, `Ctrl-c`, `x`.
    pub fn label(self) -> String {
        let base = match self.code {
            KeyCode::Char(' ') => "Space".to_string(),
            KeyCode::Char(c) => c.to_string(),
            KeyCode::Enter => "Enter".to_string(),
            KeyCode::Esc => "Esc".to_string(),
            KeyCode::Up => "↑".to_string(),
            KeyCode::Down => "↓".to_string(),
            KeyCode::Left => "←".to_string(),
            KeyCode::Right => "→".to_string(),
            KeyCode::PageUp => "PgUp".to_string(),
            KeyCode::PageDown => "PgDn".to_string(),
            KeyCode::Home => "Home".to_string(),
            KeyCode::End => "End".to_string(),
            KeyCode::Tab => "Tab".to_string(),
            KeyCode::Backspace => "Backspace".to_string(),
            other => format!("{other:?}"),
        };
        if self.ctrl { format!("Ctrl-{base}") } else { base }
    }
}

/// One row of the table: keys, where, what.
#[derive(Debug, Clone, Copy)]
pub struct Binding {
    /// The keys (the first is the one the help lists first).
    pub keys: &'static [Key],
    /// Where it applies.
    pub scope: Scope,
    /// What it does.
    pub action: Action,
}

const MATRIX: &[Screen] = &[Screen::Matrix];
const LISTS: &[Screen] = &[
    Screen::Matrix,
    Screen::Runs,
    Screen::RunDetail,
    Screen::Diff,
    Screen::Explorer,
    Screen::Coverage,
    Screen::CoverageFile,
    Screen::Outbox,
];
const RUNS: &[Screen] = &[Screen::Runs];
const RUN_DETAIL: &[Screen] = &[Screen::RunDetail];
const SUB: &[Screen] = &[
    Screen::Runs,
    Screen::RunDetail,
    Screen::Diff,
    Screen::Explorer,
    Screen::Coverage,
    Screen::CoverageFile,
    Screen::Kpi,
    Screen::Outbox,
];
const SIDEWAYS: &[Screen] = &[Screen::Matrix, Screen::Diff, Screen::Explorer];
const DIFF: &[Screen] = &[Screen::Diff];
const MATRIX_DIFF: &[Screen] = &[Screen::Matrix, Screen::Diff];
const PAGED: &[Screen] = &[Screen::Diff, Screen::Explorer, Screen::Coverage, Screen::CoverageFile, Screen::Outbox];
const EXPLORER: &[Screen] = &[Screen::Explorer];
const COVERAGE: &[Screen] = &[Screen::Coverage];
const COVERAGE_FILE: &[Screen] = &[Screen::CoverageFile];
const OUTBOX: &[Screen] = &[Screen::Outbox];
const WITH_LOG: &[Screen] = &[Screen::Matrix, Screen::Runs, Screen::RunDetail];

/// Every key binding. The help overlay and the palette are generated from it.
pub const BINDINGS: &[Binding] = &[
    Binding { keys: &[Key::plain(KeyCode::Up), Key::char('k')], scope: Scope::On(LISTS), action: Action::Up },
    Binding { keys: &[Key::plain(KeyCode::Down), Key::char('j')], scope: Scope::On(LISTS), action: Action::Down },
    Binding { keys: &[Key::plain(KeyCode::Left), Key::char('h')], scope: Scope::On(SIDEWAYS), action: Action::Left },
    Binding { keys: &[Key::plain(KeyCode::Right), Key::char('l')], scope: Scope::On(SIDEWAYS), action: Action::Right },
    Binding { keys: &[Key::plain(KeyCode::Enter)], scope: Scope::On(MATRIX), action: Action::RunCell },
    Binding { keys: &[Key::char('r')], scope: Scope::On(MATRIX), action: Action::RunMarket },
    Binding { keys: &[Key::char('c')], scope: Scope::On(MATRIX), action: Action::RunStage },
    Binding { keys: &[Key::char('a')], scope: Scope::On(MATRIX), action: Action::RunAll },
    Binding { keys: &[Key::char('x')], scope: Scope::Global, action: Action::Cancel },
    Binding { keys: &[Key::char('L')], scope: Scope::Global, action: Action::ToggleLog },
    Binding { keys: &[Key::char('w')], scope: Scope::Global, action: Action::ToggleWatch },
    Binding { keys: &[Key::plain(KeyCode::PageUp)], scope: Scope::On(WITH_LOG), action: Action::LogUp },
    Binding { keys: &[Key::plain(KeyCode::PageDown)], scope: Scope::On(WITH_LOG), action: Action::LogDown },
    Binding { keys: &[Key::plain(KeyCode::PageUp)], scope: Scope::On(PAGED), action: Action::PageUp },
    Binding { keys: &[Key::plain(KeyCode::PageDown)], scope: Scope::On(PAGED), action: Action::PageDown },
    Binding { keys: &[Key::plain(KeyCode::Home)], scope: Scope::On(EXPLORER), action: Action::Top },
    Binding { keys: &[Key::plain(KeyCode::End)], scope: Scope::On(EXPLORER), action: Action::Bottom },
    Binding { keys: &[Key::char('R')], scope: Scope::Global, action: Action::OpenRuns },
    Binding { keys: &[Key::char('K')], scope: Scope::Global, action: Action::OpenKpis },
    Binding { keys: &[Key::plain(KeyCode::Enter)], scope: Scope::On(RUNS), action: Action::OpenRun },
    Binding { keys: &[Key::char('o')], scope: Scope::On(RUN_DETAIL), action: Action::OpenReport },
    Binding { keys: &[Key::char('d')], scope: Scope::On(MATRIX_DIFF), action: Action::OpenDiff },
    Binding { keys: &[Key::char('m')], scope: Scope::On(MATRIX), action: Action::OpenExplorer },
    Binding { keys: &[Key::plain(KeyCode::Enter)], scope: Scope::On(DIFF), action: Action::Compare },
    Binding { keys: &[Key::char('-')], scope: Scope::On(DIFF), action: Action::HideColumn },
    Binding { keys: &[Key::char('+'), Key::char('=')], scope: Scope::On(DIFF), action: Action::ShowColumns },
    Binding { keys: &[Key::char('C')], scope: Scope::Global, action: Action::OpenCoverage },
    Binding { keys: &[Key::char('M')], scope: Scope::Global, action: Action::OpenOutbox },
    Binding { keys: &[Key::plain(KeyCode::Enter)], scope: Scope::On(OUTBOX), action: Action::OpenMail },
    Binding {
        keys: &[Key::plain(KeyCode::Enter), Key::char(' ')],
        scope: Scope::On(COVERAGE),
        action: Action::OpenItem,
    },
    Binding { keys: &[Key::char('s')], scope: Scope::On(COVERAGE), action: Action::CycleSort },
    Binding { keys: &[Key::plain(KeyCode::Tab)], scope: Scope::On(COVERAGE), action: Action::SwitchPane },
    Binding { keys: &[Key::char('n')], scope: Scope::On(COVERAGE_FILE), action: Action::NextUncovered },
    Binding { keys: &[Key::char('N')], scope: Scope::On(COVERAGE_FILE), action: Action::PrevUncovered },
    Binding { keys: &[Key::plain(KeyCode::Esc)], scope: Scope::On(SUB), action: Action::Back },
    Binding { keys: &[Key::char('?')], scope: Scope::Global, action: Action::Help },
    Binding { keys: &[Key::char(':')], scope: Scope::Global, action: Action::Palette },
    Binding { keys: &[Key::char('q'), Key::ctrl('c')], scope: Scope::Global, action: Action::Quit },
];

/// The action `key` triggers on `screen`, if any.
pub fn action_for(screen: Screen, key: Key) -> Option<Action> {
    BINDINGS.iter().find(|b| b.scope.includes(screen) && b.keys.contains(&key)).map(|b| b.action)
}

/// The bindings that apply on `screen`, in table order (what the help overlay lists).
pub fn bindings_for(screen: Screen) -> Vec<&'static Binding> {
    BINDINGS.iter().filter(|b| b.scope.includes(screen)).collect()
}

/// The keys of `action` on `screen` as the help shows them (`↑ k`), empty when it has none there.
pub fn keys_label(screen: Screen, action: Action) -> String {
    bindings_for(screen)
        .into_iter()
        .filter(|b| b.action == action)
        .flat_map(|b| b.keys.iter().map(|k| k.label()))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_key_means_two_things_on_one_screen() {
        for screen in Screen::ALL {
            let mut seen: Vec<(Key, Action)> = Vec::new();
            for b in bindings_for(screen) {
                for key in b.keys {
                    if let Some((_, other)) = seen.iter().find(|(k, _)| k == key) {
                        panic!("{} on {screen:?} is bound to both {other:?} and {:?}", key.label(), b.action);
                    }
                    seen.push((*key, b.action));
                }
            }
        }
    }

    #[test]
    fn every_action_has_a_key_somewhere_and_is_in_the_palette() {
        for action in Action::ALL {
            assert!(BINDINGS.iter().any(|b| b.action == action), "{action:?} has no key");
        }
        for b in BINDINGS {
            assert!(Action::ALL.contains(&b.action), "{:?} is missing from Action::ALL", b.action);
        }
    }

    #[test]
    fn keys_resolve_per_screen() {
        assert_eq!(action_for(Screen::Matrix, Key::plain(KeyCode::Enter)), Some(Action::RunCell));
        assert_eq!(action_for(Screen::Runs, Key::plain(KeyCode::Enter)), Some(Action::OpenRun));
        assert_eq!(action_for(Screen::Runs, Key::char('r')), None);
        assert_eq!(action_for(Screen::RunDetail, Key::ctrl('c')), Some(Action::Quit));
        assert_eq!(keys_label(Screen::Matrix, Action::Up), "↑ k");
        assert_eq!(keys_label(Screen::Matrix, Action::Quit), "q Ctrl-c");
        assert_eq!(action_for(Screen::Matrix, Key::char('M')), Some(Action::OpenOutbox));
        assert_eq!(action_for(Screen::Outbox, Key::plain(KeyCode::Enter)), Some(Action::OpenMail));
        assert_eq!(action_for(Screen::Outbox, Key::plain(KeyCode::Esc)), Some(Action::Back));
    }
}
