//! Source positions for YAML keys and values.
//!
//! serde loses positions once a document is deserialized, yet every scenario
//! diagnostic must point at `file:line:column`. This module walks the parser's
//! events (yaml-rust2 keeps marks) once and records the position of every node
//! under its key path, e.g. `expect.images.width` or `images.0.path`. The typed
//! parse stays with serde; this index only answers "where is it?".

use std::collections::HashMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

/// A 1-based line and column in a source file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) struct Pos {
    pub(crate) line: usize,
    pub(crate) col: usize,
}

impl Pos {
    fn from_marker(m: Marker) -> Self {
        // yaml-rust2 reports 1-based lines and 0-based columns (checked in tests).
        Pos {
            line: m.line().max(1),
            col: m.col() + 1,
        }
    }
}

/// Where each key and value of a document sits.
#[derive(Debug, Default)]
pub(crate) struct PositionIndex {
    /// Position of the key (for mapping entries) under its dotted path.
    keys: HashMap<String, Pos>,
    /// Position of the value node under its dotted path.
    values: HashMap<String, Pos>,
    /// Where a key first repeats within its mapping: serde reports the
    /// duplicate at the mapping's start.
    repeated: Option<Pos>,
}

impl PositionIndex {
    /// Builds the index; a syntax error leaves a partial index (serde reports the error).
    pub(crate) fn build(text: &str) -> Self {
        let mut builder = Builder::default();
        let mut parser = Parser::new_from_str(text);
        let _ = parser.load(&mut builder, false);
        builder.index
    }

    /// The position of the first key that repeats within its mapping.
    pub(crate) fn repeated_key(&self) -> Option<Pos> {
        self.repeated
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

enum Frame {
    /// A mapping: the path of the mapping, and the pending key (None = next scalar is a key).
    Map {
        path: String,
        key: Option<String>,
    },
    Seq {
        path: String,
        next: usize,
    },
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    index: PositionIndex,
}

impl Builder {
    fn join(base: &str, seg: &str) -> String {
        if base.is_empty() {
            seg.to_string()
        } else {
            format!("{base}.{seg}")
        }
    }

    /// The path a new value node takes, or None when the node is a mapping key.
    fn value_path(&mut self) -> Option<String> {
        match self.stack.last_mut() {
            None => Some(String::new()),
            Some(Frame::Map { path, key }) => key.take().map(|k| Self::join(path, &k)),
            Some(Frame::Seq { path, next }) => {
                let p = Self::join(path, &next.to_string());
                *next += 1;
                Some(p)
            }
        }
    }

    fn scalar(&mut self, value: String, pos: Pos) {
        match self.value_path() {
            Some(path) => {
                self.index.values.insert(path, pos);
            }
            None => {
                if let Some(Frame::Map { path, key }) = self.stack.last_mut() {
                    let full = Self::join(path, &value);
                    if self.index.keys.insert(full, pos).is_some() {
                        self.index.repeated.get_or_insert(pos);
                    }
                    *key = Some(value);
                }
            }
        }
    }

    fn open(&mut self, map: bool, pos: Pos) {
        // A collection used as a mapping key is not valid in scenarios; index it as "?".
        let path = self.value_path().unwrap_or_else(|| "?".to_string());
        self.index.values.insert(path.clone(), pos);
        self.stack.push(if map {
            Frame::Map { path, key: None }
        } else {
            Frame::Seq { path, next: 0 }
        });
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        let pos = Pos::from_marker(mark);
        match ev {
            Event::Scalar(value, ..) => self.scalar(value, pos),
            Event::Alias(_) => self.scalar(String::new(), pos),
            Event::MappingStart(..) => self.open(true, pos),
            Event::SequenceStart(..) => self.open(false, pos),
            Event::MappingEnd | Event::SequenceEnd => {
                self.stack.pop();
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_values_have_positions() {
        let text = "description: x\nexpect:\n  images:\n    width: 1024\nimages:\n  - name: a.png\n    path: b.png\n";
        let idx = PositionIndex::build(text);
        assert_eq!(idx.key("description"), Pos { line: 1, col: 1 });
        assert_eq!(idx.key("expect.images.width"), Pos { line: 4, col: 5 });
        assert_eq!(idx.value("expect.images.width"), Pos { line: 4, col: 12 });
        assert_eq!(idx.key("images.0.path"), Pos { line: 7, col: 5 });
        // Unknown paths fall back to the closest ancestor.
        assert_eq!(idx.key("expect.images.nope"), Pos { line: 3, col: 3 });
    }
}
