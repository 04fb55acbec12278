//! Coverage as people read it, shared by `wb coverage`, the check report and the TUI's coverage screen.

/// `3, 8, 10-12`: sorted line numbers with runs collapsed.
pub fn line_ranges(lines: &[u32]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let start = lines[i];
        let mut end = start;
        while i + 1 < lines.len() && lines[i + 1] == end + 1 {
            i += 1;
            end = lines[i];
        }
        parts.push(if start == end { start.to_string() } else { format!("{start}-{end}") });
        i += 1;
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_of_lines_collapse_into_ranges() {
        assert_eq!(line_ranges(&[3, 8, 10, 11, 12]), "3, 8, 10-12");
        assert_eq!(line_ranges(&[]), "");
    }
}
