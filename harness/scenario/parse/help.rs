//! What a scenario diagnostic says beyond the parser's own message: serde's
//! Rust type names in YAML's words, the unit a bare duration lacks, what a tab
//! or a misaligned key did, and the file a mistyped workflow path meant.

use std::path::Path;

use crate::scenario::positions::Pos;

/// Parses serde's "unknown field `x`, expected one of `a`, `b`" message.
pub(super) fn unknown_field(msg: &str) -> Option<(String, Vec<String>)> {
    let rest = msg.strip_prefix("unknown field `")?;
    let (key, tail) = rest.split_once('`')?;
    let expected = tail
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect();
    Some((key.to_string(), expected))
}

/// The JSON file in `path`'s folder whose name is closest to `path`'s.
pub(super) fn nearby_file(path: &Path) -> Option<String> {
    let dir = path.parent()?;
    let wanted = path.file_name()?.to_str()?;
    let names: Vec<String> = std::fs::read_dir(if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    })
    .ok()?
    .flatten()
    .filter_map(|e| e.file_name().into_string().ok())
    .filter(|n| n.ends_with(".json"))
    .collect();
    // Compared without the extension, which every candidate shares.
    let stem = |n: &str| n.strip_suffix(".json").unwrap_or(n).to_string();
    let stems: Vec<String> = names.iter().map(|n| stem(n)).collect();
    crate::text::did_you_mean(&stem(wanted), stems.iter().map(String::as_str))
        .map(|s| format!("{s}.json"))
}

/// Fields whose value is a duration (`30s`, `10m`): a bare number there lacks its unit.
pub(super) const DURATION_FIELDS: &[&str] = &[
    "timeout",
    "queue",
    "execution",
    "total",
    "duration",
    "ramp",
    "think",
    "interval",
];

pub(super) fn type_help(msg: &str, path: &str) -> Option<String> {
    let field = path.rsplit('.').next().unwrap_or(path);
    // serde's "invalid type: integer `60`, expected a string".
    let number = ["integer `", "floating point `"]
        .iter()
        .find_map(|p| msg.split_once(p))
        .and_then(|(_, rest)| rest.split_once('`'))
        .map(|(n, _)| n.to_string());
    if msg.contains("expected a sequence") {
        Some("write a list, e.g. `[a, b]`".into())
    } else if msg.contains("expected a string") && DURATION_FIELDS.contains(&field) {
        let n = number.unwrap_or_else(|| "60".into());
        Some(format!(
            "a duration needs a unit: `{n}s` (or `{n}ms`, `{n}m`)"
        ))
    } else if msg.contains("expected a string") {
        Some("quote the value, e.g. \"text\"".into())
    } else {
        None
    }
}

/// serde's message with its Rust type names said in YAML's words
/// (`expected struct RawCount` is a mapping to whoever wrote the file).
pub(crate) fn plain_types(msg: &str) -> String {
    let mut out = msg.to_string();
    for (rust, yaml) in [
        ("expected struct ", "expected a mapping"),
        ("expected enum ", "expected one of the allowed values"),
        ("expected tuple struct ", "expected a value"),
    ] {
        while let Some(i) = out.find(rust) {
            let end = out[i + rust.len()..]
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .map_or(out.len(), |e| i + rust.len() + e);
            out.replace_range(i..end, yaml);
        }
    }
    for (rust, yaml) in [
        ("expected usize", "expected a whole number"),
        ("expected u64", "expected a whole number"),
        ("expected u32", "expected a whole number"),
        ("expected u16", "expected a whole number"),
        ("expected u8", "expected a whole number"),
        ("expected i64", "expected a whole number"),
        ("expected f64", "expected a number"),
        ("expected f32", "expected a number"),
    ] {
        out = out.replace(rust, yaml);
    }
    out
}

/// What usually causes a YAML syntax error at `pos`: a tab, or keys of one
/// mapping that do not line up.
pub(super) fn yaml_help(msg: &str, text: &str, pos: Pos) -> Option<String> {
    let line = text
        .lines()
        .nth(pos.line.saturating_sub(1))
        .unwrap_or_default();
    let indent: String = line.chars().take_while(|c| c.is_whitespace()).collect();
    if indent.contains('\t') || (msg.contains("cannot start any token") && line.contains('\t')) {
        return Some("YAML cannot be indented with tabs: indent with spaces".into());
    }
    if msg.contains("did not find expected key") || msg.contains("mapping values are not allowed") {
        return Some(
            "check the indentation: the keys of one mapping start in the same column, and a value holding `: ` needs quotes"
                .into(),
        );
    }
    None
}

/// serde_path_to_error's path (`expect.images[0].width`) as a dotted key path.
pub(super) fn dotted(p: &str) -> String {
    let p = p.replace('[', ".").replace(']', "");
    let p = p.trim_start_matches('.');
    if p == "." {
        String::new()
    } else {
        p.to_string()
    }
}

/// `parent.key`, or `key` at the top.
pub(super) fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_string()
    } else {
        format!("{parent}.{key}")
    }
}
