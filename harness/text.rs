//! Text helpers that every other module may use (a leaf: it imports nothing of
//! the crate): "did you mean" suggestions, and cutting text at character
//! (never byte) boundaries; and YAML in and out (`text::yaml`).
//!
//! Scenario files, prompts, titles, endpoint messages and file names hold text
//! in every script: CJK, emoji, combining marks, right-to-left. Anything that
//! shortens or aligns such text goes through here, so nothing slices a string
//! in the middle of a character.

pub(crate) mod yaml;

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

/// Why `text` is not a duration, in words rather than the parser's own
/// ("expected number at 0"): what is missing or wrong, where.
pub(crate) fn duration_error(text: &str, e: &humantime::DurationError) -> String {
    use humantime::DurationError as E;
    let at = |i: usize| text.get(..i).filter(|p| !p.trim().is_empty());
    match e {
        E::Empty => "it is empty".into(),
        E::NumberExpected(i) => match at(*i) {
            None => "it does not start with a number".into(),
            Some(before) => format!("a number is missing after `{}`", before.trim()),
        },
        E::InvalidCharacter(i) => {
            let c = text.get(*i..).and_then(|r| r.chars().next()).unwrap_or('?');
            format!("`{c}` (character {}) is not part of a duration", i + 1)
        }
        E::UnknownUnit { unit, .. } => format!("`{unit}` is not a unit (use ms, s, m, h or d)"),
        E::NumberOverflow => "the number is too large".into(),
    }
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

