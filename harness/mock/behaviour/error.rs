//! Why a behaviour file cannot be used, or a name is not one: each names
//! the file, the field and the value.

/// A behaviour file that cannot be used, or a name that is not one.
#[derive(Clone, Debug, thiserror::Error)]
pub enum BehaviourError {
    /// The YAML does not parse into a behaviour (unknown key, wrong type).
    #[error("{0}")]
    Yaml(String),
    /// A duration field is not a duration.
    #[error("{field}: `{value}` is not a duration")]
    Duration {
        /// `queue`, `execution`, `faults: slow delay`.
        field: &'static str,
        /// What was written.
        value: String,
    },
    /// A fault rule is not valid.
    #[error("faults: {0}")]
    Fault(String),
    /// A recording's image cannot be used.
    #[error("replay image `{file}`: {reason}")]
    Replay {
        /// The file, relative to the mocks folder.
        file: String,
        /// Why.
        reason: String,
    },
    /// A behaviour's inventory cannot be used.
    #[error("inventory `{file}`: {reason}")]
    Inventory {
        /// The file, relative to the mocks folder.
        file: String,
        /// Why.
        reason: String,
    },
    /// The file is there but invalid (it names the file).
    #[error("mock behaviour `{name}` is invalid: {file}: {reason}")]
    Invalid {
        /// The behaviour name.
        name: String,
        /// The file.
        file: String,
        /// Why (another [`BehaviourError`], as text).
        reason: String,
    },
    /// No behaviour has this name.
    #[error("no mock behaviour `{name}`{}; available: {}", .suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default(), .available.join(", "))]
    Unknown {
        /// The name asked for.
        name: String,
        /// A close name, when there is one.
        suggestion: Option<String>,
        /// Every name there is.
        available: Vec<String>,
    },
}
