//! Scenario diagnostics: an error that points at `file:line:column`, rendered
//! as rustc and cargo render theirs (annotate-snippets: the source line, a
//! caret under the token, "did you mean" as its label).

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
        use annotate_snippets::{AnnotationKind, Level, Origin, Renderer, Snippet};
        let path = self.file.display().to_string();
        let title = Level::ERROR.primary_title(self.message.as_str());
        let group = match &self.source_line {
            // The caret under the token at the column, with the help as its label.
            Some(src) => {
                let start = crate::text::byte_of_char(src, self.col.saturating_sub(1));
                let rest = &src[start..];
                let end = start + crate::text::byte_of_char(rest, token_chars(rest));
                let caret = AnnotationKind::Primary
                    .span(start..end)
                    .label(self.help.as_deref());
                title.element(
                    Snippet::source(src.as_str())
                        .line_start(self.line)
                        .path(path.as_str())
                        .annotation(caret),
                )
            }
            None => {
                let origin = Origin::path(path.as_str())
                    .line(self.line)
                    .char_column(self.col);
                let group = title.element(origin);
                match &self.help {
                    Some(help) => group.element(Level::HELP.message(help.as_str())),
                    None => group,
                }
            }
        };
        f.write_str(&Renderer::plain().render(&[group]))
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
            "error: unknown key `timout`\n --> s.yaml:2:1\n  |\n2 | timout: 5m\n  | ^^^^^^ did you mean `timeout`?"
        );
    }

    #[test]
    fn carets_land_under_the_character_in_any_script() {
        let src = "text: \"雪の中の赤い狐\" widht: 3";
        let d = Diagnostic::new(
            Path::new("s.yaml"),
            Pos { line: 4, col: 17 },
            "unknown key `widht`",
        )
        .with_help(Some("did you mean `width`?".into()))
        .with_source(&format!("\n\n\n{src}\n"));
        let out = d.to_string();
        let lines: Vec<&str> = out.lines().collect();
        let shown = lines.iter().find(|l| l.contains("widht: 3")).unwrap();
        let under = lines.iter().find(|l| l.contains('^')).unwrap();
        // Each CJK character takes two columns: the caret starts where `widht` is shown.
        let col = |l: &str, upto: usize| -> usize {
            l[..upto]
                .chars()
                .map(|c| if u32::from(c) >= 0x3000 { 2 } else { 1 })
                .sum()
        };
        assert_eq!(
            col(under, under.find('^').unwrap()),
            col(shown, shown.find("widht").unwrap()),
            "{out}"
        );
        assert!(under.contains("^^^^^ did you mean `width`?"), "{out}");
        assert!(out.contains("s.yaml:4:17"), "{out}");
        // Emoji are wide too, and a column past the end of the line still renders.
        let d = Diagnostic::new(Path::new("s.yaml"), Pos { line: 1, col: 3 }, "x")
            .with_source("🦊🦊x\n");
        assert!(d.to_string().contains("| 🦊🦊x\n  |     ^"), "{d}");
        let d =
            Diagnostic::new(Path::new("s.yaml"), Pos { line: 1, col: 9 }, "x").with_source("ab\n");
        assert!(d.to_string().contains('^'), "{d}");
    }

    #[test]
    fn without_a_source_line_the_location_and_help_remain() {
        let d = Diagnostic::new(
            Path::new("w.json"),
            Pos { line: 3, col: 7 },
            "not a workflow",
        )
        .with_help(Some("use Workflow > Export (API)".into()));
        let out = d.to_string();
        assert!(out.starts_with("error: not a workflow\n"), "{out}");
        assert!(out.contains("w.json:3:7"), "{out}");
        assert!(out.contains("help: use Workflow > Export (API)"), "{out}");
    }
}
