//! Scenario diagnostics: an error that points at `file:line:column`, rendered
//! hurl-style with the source line and a caret, plus "did you mean" hints.

use std::fmt;
use std::path::{Path, PathBuf};

use super::positions::Pos;

/// One problem found in a scenario (or in a file it refers to).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file as the user should see it (relative to the working directory when possible).
    pub file: PathBuf,
    pub line: usize,
    pub col: usize,
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
            let caret_at = self.col.saturating_sub(1).min(src.len());
            let width = token_width(&src[caret_at..]);
            write!(
                f,
                "\n {pad} |\n {num} | {src}\n {pad} | {}{}",
                " ".repeat(caret_at),
                "^".repeat(width)
            )?;
            if let Some(help) = &self.help {
                write!(f, " {help}")?;
            }
        } else if let Some(help) = &self.help {
            write!(f, "\n  = help: {help}")?;
        }
        Ok(())
    }
}

/// Width of the token under the caret: up to a `:`, or the rest of the line.
fn token_width(rest: &str) -> usize {
    let trimmed = rest.trim_end();
    let end = if trimmed.starts_with('"') || trimmed.starts_with('\'') {
        trimmed.len()
    } else {
        trimmed
            .find(": ")
            .or_else(|| trimmed.strip_suffix(':').map(str::len))
            .unwrap_or(trimmed.len())
    };
    end.clamp(1, 60)
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

/// The closest candidate to `word`, when it is close enough to be a typo.
pub(crate) fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let lower = word.to_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::levenshtein(&lower, &c.to_lowercase()), c))
        .filter(|(d, c)| *d <= (c.len().max(word.len()) / 3).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Shows a path relative to the current directory when it lies under it.
pub(crate) fn display_path(path: &Path) -> PathBuf {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(&cwd).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_keys_only() {
        let keys = ["description", "timeout", "workflow"];
        assert_eq!(did_you_mean("discription", keys), Some("description"));
        assert_eq!(did_you_mean("timout", keys), Some("timeout"));
        assert_eq!(did_you_mean("banana", keys), None);
    }

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
