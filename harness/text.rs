//! Text helpers that every other module may use (a leaf: it imports nothing of
//! the crate): "did you mean" suggestions, display widths for carets under
//! text in any script, and cutting text at character (never byte) boundaries.
//!
//! Scenario files, prompts, titles, endpoint messages and file names hold text
//! in every script: CJK, emoji, combining marks, right-to-left. Anything that
//! shortens or aligns such text goes through here, so nothing slices a string
//! in the middle of a character.

use unicode_width::UnicodeWidthChar;

/// The closest candidate to `word`, when it is close enough to be a typo.
pub(crate) fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let lower = word.to_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::levenshtein(&lower, &c.to_lowercase()), c))
        .filter(|(d, c)| *d <= (c.chars().count().max(word.chars().count()) / 3).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Columns a terminal gives `s`: wide (CJK, most emoji) characters take two,
/// combining marks and zero-width joiners none, a tab one (it is shown as a space).
pub(crate) fn display_width(s: &str) -> usize {
    s.chars().map(char_width).sum()
}

fn char_width(c: char) -> usize {
    if c == '\t' {
        1
    } else {
        c.width().unwrap_or(0)
    }
}

/// The byte offset of the `n`th character (0-based) of `s`, or `s.len()` past the end.
pub(crate) fn byte_of_char(s: &str, n: usize) -> usize {
    s.char_indices().nth(n).map_or(s.len(), |(i, _)| i)
}

/// The 0-based index of the character holding byte offset `byte` (the character
/// count when `byte` is past the end): JSON parsers report byte columns,
/// diagnostics count characters.
pub(crate) fn char_of_byte(s: &str, byte: usize) -> usize {
    if byte >= s.len() {
        return s.chars().count();
    }
    s.char_indices().take_while(|(i, _)| *i <= byte).count() - 1
}

/// At most `max` characters of `s`, with `…` when something was cut.
pub(crate) fn truncate(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        None => s.to_string(),
        Some((cut, _)) => format!("{}…", &s[..cut]),
    }
}

/// `s` on one line: control characters (newlines, tabs) become spaces.
pub(crate) fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// A source line as shown under a diagnostic, and the caret line under the
/// character `col` (1-based, counted in characters) spanning `chars` characters.
/// Indent and caret length are display widths, so the caret sits under the
/// right character whatever script precedes it.
pub(crate) fn caret(line: &str, col: usize, chars: usize) -> (String, String) {
    let shown: String = line
        .chars()
        .map(|c| if c == '\t' { ' ' } else { c })
        .collect();
    let start = col.saturating_sub(1).min(shown.chars().count());
    let prefix: String = shown.chars().take(start).collect();
    let token: String = shown.chars().skip(start).take(chars.max(1)).collect();
    let width = display_width(&token).max(1);
    (
        shown,
        format!(
            "{}{}",
            " ".repeat(display_width(&prefix)),
            "^".repeat(width)
        ),
    )
}

/// A duration in milliseconds, short and readable: `850ms`, `1.2s`, `2m 5s`.
pub(crate) fn fmt_ms(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms}ms")
    } else if ms < 60_000 {
        format!("{:.1}s", ms as f64 / 1000.0)
    } else {
        humantime::format_duration(std::time::Duration::from_secs(ms / 1000)).to_string()
    }
}

/// Escapes text for HTML element content and attribute values.
pub fn esc_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_words_only() {
        let keys = ["description", "timeout", "workflow"];
        assert_eq!(did_you_mean("discription", keys), Some("description"));
        assert_eq!(did_you_mean("timout", keys), Some("timeout"));
        assert_eq!(did_you_mean("banana", keys), None);
        assert_eq!(did_you_mean("提示词", ["提示語", "seed"]), Some("提示語"));
    }

    #[test]
    fn widths_of_scripts() {
        assert_eq!(display_width("abc"), 3);
        assert_eq!(display_width("狐狸"), 4);
        assert_eq!(display_width("e\u{301}"), 1, "combining acute adds nothing");
        assert_eq!(display_width("🦊"), 2);
        assert_eq!(display_width("שלום"), 4);
    }

    #[test]
    fn carets_land_under_the_character() {
        let (shown, under) = caret("text: \"雪の中の赤い狐\" widht: 3", 19, 5);
        let lead = under.find('^').unwrap();
        let before: String = shown.chars().take(18).collect();
        assert_eq!(lead, display_width(&before));
        assert_eq!(under.trim_start().len(), 5);
        let (_, under) = caret("🦊🦊x", 3, 1);
        assert_eq!(under, "    ^");
        // A column past the end of the line still renders.
        let (_, under) = caret("ab", 9, 1);
        assert_eq!(under, "  ^");
    }

    #[test]
    fn cutting_respects_characters() {
        assert_eq!(truncate("狐狸狐狸", 2), "狐狸…");
        assert_eq!(truncate("ab", 5), "ab");
        let s = "añ狐🦊";
        assert_eq!(byte_of_char(s, 2), 3);
        assert_eq!(char_of_byte(s, 3), 2);
        assert_eq!(
            char_of_byte(s, 4),
            2,
            "a byte inside a character is that character"
        );
        assert_eq!(char_of_byte(s, 99), 4);
        assert_eq!(byte_of_char(s, 10), s.len());
    }
}
