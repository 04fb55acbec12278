//! The command palette's fuzzy matching: every [`Action`] is searchable by its description; a query matches
//! when its characters appear in order (case-insensitive), and matches that are contiguous, start words or start
//! early rank first.

use crate::tui::keys::Action;

/// One palette entry that matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    /// The action.
    pub action: Action,
    /// Its description.
    pub text: &'static str,
    /// Positions (char indices) of the matched characters, for highlighting.
    pub positions: Vec<usize>,
    /// Higher is better.
    pub score: i64,
}

/// The actions matching `query`, best first (every action, in palette order, for an empty query).
pub fn matches(query: &str) -> Vec<Match> {
    let mut found: Vec<Match> = Action::ALL
        .iter()
        .filter_map(|&action| {
            let text = action.describe();
            score(query, text).map(|(score, positions)| Match { action, text, positions, score })
        })
        .collect();
    // A stable sort keeps palette order among equal scores.
    found.sort_by_key(|m| std::cmp::Reverse(m.score));
    found
}

/// The score of `query` against `text` and the matched positions, or `None` when it does not match.
pub fn score(query: &str, text: &str) -> Option<(i64, Vec<usize>)> {
    let text: Vec<char> = text.chars().flat_map(char::to_lowercase).collect();
    let mut positions = Vec::new();
    let mut score = 0i64;
    let mut from = 0;
    for q in query.chars().flat_map(char::to_lowercase).filter(|c| !c.is_whitespace()) {
        let at = (from..text.len()).find(|&i| text[i] == q)?;
        score += 10;
        if positions.last().is_some_and(|&last: &usize| last + 1 == at) {
            score += 15;
        }
        if at == 0 || !text[at - 1].is_alphanumeric() {
            score += 10;
        }
        score -= (at - from) as i64;
        positions.push(at);
        from = at + 1;
    }
    Some((score, positions))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_query_lists_every_action_in_order() {
        let all: Vec<Action> = matches("").into_iter().map(|m| m.action).collect();
        assert_eq!(all, Action::ALL.to_vec());
    }

    #[test]
    fn characters_must_appear_in_order() {
        assert_eq!(score("rn", "run"), Some((10 + 10 - 1 + 10, vec![0, 2])));
        assert_eq!(score("nr", "run"), None);
        assert_eq!(score("CANCEL", "cancel the running"), Some((6 * 10 + 5 * 15 + 10, vec![0, 1, 2, 3, 4, 5])));
    }

    #[test]
    fn the_best_match_ranks_first() {
        assert_eq!(matches("history")[0].action, Action::OpenRuns);
        assert_eq!(matches("cancel")[0].action, Action::Cancel);
        assert_eq!(matches("log")[0].action, Action::ToggleLog);
        assert_eq!(matches("every market")[0].action, Action::RunAll);
        assert!(matches("zzz").is_empty());
    }
}
