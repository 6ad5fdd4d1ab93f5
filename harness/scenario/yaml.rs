//! The one YAML parse of a scenario file: text in, a JSON value and the
//! position of every key and value out.
//!
//! serde-saphyr reads the text once into a small tree whose every node is
//! [`Spanned`]; the tree becomes the `serde_json::Value` the typed parse reads
//! (with `serde_path_to_error` naming the key path of a type error) and the
//! [`PositionIndex`] that turns that path back into `file:line:column`. Anchors,
//! aliases and merge keys resolve in the parser, so every later step sees plain
//! data.

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use serde_saphyr::{Location, Spanned};

use super::positions::{Pos, PositionIndex};

/// A parsed scenario document.
#[derive(Debug)]
pub(crate) struct Doc {
    /// The whole document as JSON (mapping keys as strings).
    pub(crate) value: Value,
    /// Where each key and value sits.
    pub(crate) index: PositionIndex,
}

/// Why a text is not a YAML document we can read, and where.
#[derive(Debug)]
pub(crate) struct SyntaxError {
    pub(crate) pos: Pos,
    pub(crate) message: String,
}

/// Parses `text` once. An empty document (only comments or blanks) is `Value::Null`.
pub(crate) fn parse(text: &str) -> Result<Doc, SyntaxError> {
    let tree: Option<Spanned<Tree>> =
        serde_saphyr::from_str_with_options(text, crate::text::yaml::options()).map_err(|e| {
            SyntaxError {
                pos: e.location().map(pos).unwrap_or(START),
                message: crate::text::yaml::message(&e),
            }
        })?;
    let Some(tree) = tree else {
        return Ok(Doc {
            value: Value::Null,
            index: PositionIndex::default(),
        });
    };
    let mut index = PositionIndex::default();
    let value = to_json(tree, String::new(), &mut index)?;
    Ok(Doc { value, index })
}

const START: Pos = Pos { line: 1, col: 1 };

fn pos(l: Location) -> Pos {
    Pos {
        line: usize::try_from(l.line()).unwrap_or(usize::MAX).max(1),
        col: usize::try_from(l.column()).unwrap_or(usize::MAX).max(1),
    }
}

fn join(base: &str, seg: &str) -> String {
    if base.is_empty() {
        seg.to_string()
    } else {
        format!("{base}.{seg}")
    }
}

/// Records every node's position under its dotted path while converting it to JSON.
fn to_json(
    node: Spanned<Tree>,
    path: String,
    index: &mut PositionIndex,
) -> Result<Value, SyntaxError> {
    let at = pos(node.referenced);
    index.insert_value(path.clone(), at);
    Ok(match node.value {
        Tree::Scalar(s) => s.into_json().ok_or_else(|| SyntaxError {
            pos: at,
            message: "a number with no JSON form (infinity or NaN)".into(),
        })?,
        Tree::Seq(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.into_iter().enumerate() {
                out.push(to_json(item, join(&path, &i.to_string()), index)?);
            }
            Value::Array(out)
        }
        Tree::Map(entries) => {
            let mut out = Map::new();
            for (key, value) in entries {
                let child = join(&path, &key.value);
                index.insert_key(child.clone(), pos(key.referenced));
                let v = to_json(value, child, index)?;
                out.insert(key.value, v);
            }
            Value::Object(out)
        }
    })
}

/// A YAML node whose children carry their positions.
enum Tree {
    Scalar(Scalar),
    Seq(Vec<Spanned<Tree>>),
    Map(Vec<(Spanned<String>, Spanned<Tree>)>),
}

enum Scalar {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    Str(String),
}

impl Scalar {
    /// The scalar as JSON; `None` for a non-finite float, which JSON cannot hold.
    fn into_json(self) -> Option<Value> {
        Some(match self {
            Scalar::Null => Value::Null,
            Scalar::Bool(b) => Value::Bool(b),
            Scalar::Int(i) => Value::from(i),
            Scalar::Uint(u) => Value::from(u),
            Scalar::Float(f) => Value::Number(serde_json::Number::from_f64(f)?),
            Scalar::Str(s) => Value::String(s),
        })
    }

    /// The scalar as a mapping key: JSON keys are strings (`6:` in an inline workflow is "6").
    fn into_key(self) -> String {
        match self {
            Scalar::Null => "null".into(),
            Scalar::Bool(b) => b.to_string(),
            Scalar::Int(i) => i.to_string(),
            Scalar::Uint(u) => u.to_string(),
            Scalar::Float(f) => f.to_string(),
            Scalar::Str(s) => s,
        }
    }
}

struct TreeVisitor;

impl<'de> Visitor<'de> for TreeVisitor {
    type Value = Tree;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_unit<E>(self) -> Result<Tree, E> {
        Ok(Tree::Scalar(Scalar::Null))
    }
    fn visit_none<E>(self) -> Result<Tree, E> {
        Ok(Tree::Scalar(Scalar::Null))
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Tree, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_bool<E>(self, b: bool) -> Result<Tree, E> {
        Ok(Tree::Scalar(Scalar::Bool(b)))
    }
    fn visit_i64<E>(self, i: i64) -> Result<Tree, E> {
        Ok(Tree::Scalar(Scalar::Int(i)))
    }
    fn visit_u64<E>(self, u: u64) -> Result<Tree, E> {
        Ok(Tree::Scalar(Scalar::Uint(u)))
    }
    fn visit_i128<E: de::Error>(self, i: i128) -> Result<Tree, E> {
        // Beyond 64 bits only as text: JSON numbers here are 64-bit.
        Ok(Tree::Scalar(Scalar::Str(i.to_string())))
    }
    fn visit_u128<E: de::Error>(self, u: u128) -> Result<Tree, E> {
        Ok(Tree::Scalar(Scalar::Str(u.to_string())))
    }
    fn visit_f64<E>(self, f: f64) -> Result<Tree, E> {
        Ok(Tree::Scalar(Scalar::Float(f)))
    }
    fn visit_str<E>(self, s: &str) -> Result<Tree, E> {
        Ok(Tree::Scalar(Scalar::Str(s.to_string())))
    }
    fn visit_string<E>(self, s: String) -> Result<Tree, E> {
        Ok(Tree::Scalar(Scalar::Str(s)))
    }
    fn visit_bytes<E: de::Error>(self, b: &[u8]) -> Result<Tree, E> {
        // `!!binary`: kept as the text it decodes to when that is text.
        String::from_utf8(b.to_vec())
            .map(|s| Tree::Scalar(Scalar::Str(s)))
            .map_err(|_| E::custom("binary data is not supported here"))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Tree, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Spanned<Tree>>()? {
            items.push(item);
        }
        Ok(Tree::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Tree, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<Key>>()? {
            let value = map.next_value::<Spanned<Tree>>()?;
            let key = Spanned::new(key.value.0, key.referenced, key.defined);
            entries.push((key, value));
        }
        Ok(Tree::Map(entries))
    }
}

impl<'de> Deserialize<'de> for Tree {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TreeVisitor)
    }
}

/// A mapping key: any scalar, as a string. A collection as a key is refused.
struct Key(String);

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match d.deserialize_any(TreeVisitor)? {
            Tree::Scalar(s) => Ok(Key(s.into_key())),
            _ => Err(de::Error::custom(
                "a mapping key must be a plain value, not a list or a mapping",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_values_have_positions() {
        let text = "description: x\nexpect:\n  images:\n    width: 1024\nimages:\n  - name: a.png\n    path: b.png\n";
        let doc = parse(text).unwrap();
        let idx = &doc.index;
        assert_eq!(idx.key("description"), Pos { line: 1, col: 1 });
        assert_eq!(idx.key("expect.images.width"), Pos { line: 4, col: 5 });
        assert_eq!(idx.value("expect.images.width"), Pos { line: 4, col: 12 });
        assert_eq!(idx.key("images.0.path"), Pos { line: 7, col: 5 });
        // Unknown paths fall back to the closest ancestor.
        assert_eq!(idx.key("expect.images.nope"), Pos { line: 3, col: 3 });
        assert_eq!(doc.value["expect"]["images"]["width"], 1024);
    }

    #[test]
    fn scalars_take_yaml_types_and_keys_become_strings() {
        let doc =
            parse("a: ~\nb: true\nc: -3\nd: 2.5\ne: '7'\n6: x\nf:\ng: off\nh: 0755\n").unwrap();
        let v = &doc.value;
        assert!(v["a"].is_null() && v["f"].is_null());
        assert_eq!(v["b"], true);
        assert_eq!(v["c"], -3);
        assert_eq!(v["d"], 2.5);
        assert_eq!(v["e"], "7");
        assert_eq!(v["6"], "x");
        // YAML 1.2, as serde_yaml read it: `off` and `0755` are text.
        assert_eq!(v["g"], "off");
        assert_eq!(v["h"], "0755");
    }

    #[test]
    fn anchors_and_merge_keys_resolve() {
        let doc = parse("base: &b\n  seed: 5\nuse: *b\nmerged:\n  <<: *b\n  steps: 2\n").unwrap();
        assert_eq!(doc.value["use"]["seed"], 5);
        assert_eq!(doc.value["merged"]["seed"], 5);
        assert_eq!(doc.value["merged"]["steps"], 2);
    }

    #[test]
    fn a_repeated_key_is_an_error_where_it_repeats() {
        let err = parse("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(err.pos.line, 3, "{err:?}");
        assert!(err.message.contains("`a` appears twice"), "{err:?}");
    }

    #[test]
    fn empty_text_is_null_and_bad_syntax_has_a_place() {
        assert!(parse("# only a comment\n").unwrap().value.is_null());
        assert!(parse("").unwrap().value.is_null());
        let err = parse("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(err.pos.line >= 1, "{err:?}");
        let err = parse("a: .inf\n").unwrap_err();
        assert_eq!(err.pos, Pos { line: 1, col: 4 }, "{err:?}");
    }
}
