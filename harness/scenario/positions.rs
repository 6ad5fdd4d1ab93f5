//! Source positions for YAML keys and values.
//!
//! serde loses positions once a document is deserialized, yet every scenario
//! diagnostic must point at `file:line:column`. The one parse (see
//! [`super::yaml`]) records the position of every node under its key path, e.g.
//! `expect.images.width` or `images.0.path`; this index answers "where is it?"
//! for a path, falling back to the closest ancestor it knows.

use std::collections::HashMap;

/// A 1-based line and column in a source file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) struct Pos {
    pub(crate) line: usize,
    pub(crate) col: usize,
}

/// Where each key and value of a document sits.
#[derive(Debug, Default)]
pub(crate) struct PositionIndex {
    /// Position of the key (for mapping entries) under its dotted path.
    keys: HashMap<String, Pos>,
    /// Position of the value node under its dotted path.
    values: HashMap<String, Pos>,
}

impl PositionIndex {
    pub(super) fn insert_key(&mut self, path: String, pos: Pos) {
        self.keys.insert(path, pos);
    }

    pub(super) fn insert_value(&mut self, path: String, pos: Pos) {
        self.values.insert(path, pos);
    }

    /// The position of the key at `path`, or of its closest known ancestor.
    pub(crate) fn key(&self, path: &str) -> Pos {
        self.lookup(path, true)
    }

    /// The position of the value at `path`, or of its closest known ancestor.
    pub(crate) fn value(&self, path: &str) -> Pos {
        self.lookup(path, false)
    }

    fn lookup(&self, path: &str, key: bool) -> Pos {
        let mut p = path;
        loop {
            let table = if key { &self.keys } else { &self.values };
            if let Some(pos) = table.get(p).or_else(|| self.values.get(p)) {
                return *pos;
            }
            match p.rfind('.') {
                Some(i) => p = &p[..i],
                None => {
                    return self
                        .values
                        .get("")
                        .copied()
                        .unwrap_or(Pos { line: 1, col: 1 })
                }
            }
        }
    }
}
