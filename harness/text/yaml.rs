//! YAML in and out for every file that is not a scenario (mock behaviours,
//! price tables, provisioning specs, recorded cassettes), through the same
//! crate the scenario parse uses (serde-saphyr), so the project reads one YAML
//! dialect: anchors, aliases and merge keys resolve, a repeated key is an error.

use serde::de::DeserializeOwned;
use serde::Serialize;

/// A YAML file that could not be read into the wanted shape: the parser's
/// message and, when it knows it, the 1-based line and column.
#[derive(Debug, thiserror::Error)]
#[error("{message}{}", at.map(|(l, c)| format!(" at line {l} column {c}")).unwrap_or_default())]
pub(crate) struct YamlError {
    pub(crate) message: String,
    pub(crate) at: Option<(u64, u64)>,
}

/// The dialect: YAML 1.2 scalars as serde_yaml read them (the files written for
/// it read the same): only `true`/`false` are booleans (`off`, `no` are text),
/// `0755` and `1_000` are text; a repeated key is an error; the diagnostic draws
/// its own snippet, so the parser's is off.
pub(crate) fn options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        duplicate_keys: serde_saphyr::DuplicateKeyPolicy::Error,
        strict_booleans: true,
        leading_zero_numbers_as_strings: true,
        underscored_numbers_as_strings: true,
        with_snippet: false,
    }
}

/// Reads `text` as one YAML document of type `T`.
pub(crate) fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, YamlError> {
    serde_saphyr::from_str_with_options(text, options()).map_err(|e| YamlError {
        message: message(&e),
        at: e.location().map(|l| (l.line(), l.column())),
    })
}

/// The parser's message in a user's words: without the location it may append
/// (the caller shows the place) and without its hints to the programmer
/// ("set DuplicateKeyPolicy", "use from_str_multiple").
pub(crate) fn message(e: &serde_saphyr::Error) -> String {
    let full = e.to_string();
    let text = full.split(" at line ").next().unwrap_or(&full).trim();
    if let Some(rest) = text.strip_prefix("duplicate mapping key: ") {
        let key = rest.split(", set DuplicateKeyPolicy").next().unwrap_or(rest);
        return format!("the key `{key}` appears twice in one mapping");
    }
    if text.contains("multiple YAML documents") {
        return "more than one YAML document (a `---` separator?) where one is expected".into();
    }
    text.trim_end_matches('.').to_string()
}

/// Writes `value` as YAML (block style, keys in the struct's order).
pub(crate) fn to_string<T: Serialize>(value: &T) -> Result<String, YamlError> {
    serde_saphyr::to_string(value).map_err(|e| YamlError {
        message: e.to_string(),
        at: None,
    })
}
