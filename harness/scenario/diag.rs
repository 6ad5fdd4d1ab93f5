//! Scenario diagnostics: an error that points at `file:line:column`, rendered
//! hurl-style with the source line and a caret, plus "did you mean" hints.

use std::fmt;
use std::path::{Path, PathBuf};

use super::positions::Pos;
use crate::paths::display_path;

/// One problem found in a scenario (or in a file it refers to).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file as the user should see it (relative to the working directory when possible).
    pub file: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, counted in characters (not bytes).
    pub col: usize,
    /// What is wrong.
    pub message: String,
    /// A hint shown under the caret ("did you mean `x`?", "use Workflow > Export (API)").
    pub help: Option<String>,
    /// The offending source line, when known.
    pub(crate) source_line: Option<String>,
}

impl Diagnostic {
    pub(crate) fn new(file: &Path, pos: Pos, message: impl Into<String>) -> Self {
        Diagnostic {
            file: display_path(file),
            line: pos.line,
            col: pos.col,
            message: message.into(),
            help: None,
            source_line: None,
        }
    }

    pub(crate) fn with_help(mut self, help: Option<String>) -> Self {
        self.help = help;
        self
    }

    /// Attaches the source line so the rendering can show it.
    pub(crate) fn with_source(mut self, text: &str) -> Self {
        self.source_line = text
            .lines()
            .nth(self.line.saturating_sub(1))
            .map(str::to_string);
        self
    }

    /// `file:line:col`, the form editors and CI annotations understand.
    pub fn location(&self) -> String {
        format!("{}:{}:{}", self.file.display(), self.line, self.col)
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "error: {}", self.message)?;
        write!(f, "  --> {}", self.location())?;
        if let Some(src) = &self.source_line {
            let num = self.line.to_string();
            let pad = " ".repeat(num.len());
            let start = crate::text::byte_of_char(src, self.col.saturating_sub(1));
            let (shown, under) = crate::text::caret(src, self.col, token_chars(&src[start..]));
            write!(f, "\n {pad} |\n {num} | {shown}\n {pad} | {under}")?;
            if let Some(help) = &self.help {
                write!(f, " {help}")?;
            }
        } else if let Some(help) = &self.help {
            write!(f, "\n  = help: {help}")?;
        }
        Ok(())
    }
}

/// Characters of the token under the caret: a quoted scalar to its closing
/// quote; otherwise up to a `: `, a `,`, `]` or `}` of a flow collection, a
/// comment, or the end of the line.
fn token_chars(rest: &str) -> usize {
    let trimmed = rest.trim_end();
    let mut chars = trimmed.char_indices();
    let end = match chars.next() {
        Some((_, q @ ('"' | '\''))) => {
            let mut escaped = false;
            chars
                .find(|&(_, c)| {
                    let close = c == q && !escaped;
                    escaped = q == '"' && c == '\\' && !escaped;
                    close
                })
                .map_or(trimmed.len(), |(i, c)| i + c.len_utf8())
        }
        _ => [": ", ",", "]", "}", " #"]
            .iter()
            .filter_map(|stop| trimmed.find(stop))
            .chain(trimmed.strip_suffix(':').map(str::len))
            .min()
            .unwrap_or(trimmed.len()),
    };
    trimmed[..end].chars().count().clamp(1, 60)
}

/// All diagnostics of one file, shown together.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_source_and_caret() {
        let d = Diagnostic::new(
            Path::new("s.yaml"),
            Pos { line: 2, col: 1 },
            "unknown key `timout`",
        )
        .with_help(Some("did you mean `timeout`?".into()))
        .with_source("a: 1\ntimout: 5m\n");
        assert_eq!(
            d.to_string(),
            "error: unknown key `timout`\n  --> s.yaml:2:1\n   |\n 2 | timout: 5m\n   | ^^^^^^ did you mean `timeout`?"
        );
    }
}
