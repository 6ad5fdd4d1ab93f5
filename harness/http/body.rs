//! Parsing a JSON answer without copying its largest string. A finished job's
//! answer is mostly one base64 image (hundreds of kilobytes to megabytes);
//! `serde_json::from_slice` copies it into a fresh `String` while the body it
//! came from is still held, so every answer paid for a second buffer of its
//! size, and a one-trial process (nextest) paid for it in page faults as well.
//! Here the body's own allocation becomes that string: the parse records where
//! the first big unescaped string lies, leaves a placeholder, and afterwards the
//! string is moved to the front of the body buffer (same pages) and put in.
//! The result is exactly the `Value` `from_slice` gives.

use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// Strings shorter than this are copied as usual.
const BIG: usize = 16 * 1024;

/// Parses `body` as one JSON value, reusing its buffer for the longest string.
pub(crate) fn parse(body: Vec<u8>) -> Result<Value, serde_json::Error> {
    let mut big = Big::default();
    let mut de = serde_json::Deserializer::from_slice(&body);
    let mut value = Node {
        base: body.as_ptr() as usize,
        path: Vec::new(),
        big: &mut big,
    }
    .deserialize(&mut de)?;
    de.end()?;
    let Some((start, len, path)) = big.best else {
        return Ok(value);
    };
    // A repeated key may have replaced the placeholder's parent: then the plain
    // parse decides (the later key wins, as there).
    if big.repeated_key || !matches!(at(&mut value, &path), Some(Value::String(p)) if p.is_empty())
    {
        return serde_json::from_slice(&body);
    }
    let mut buf = body;
    buf.copy_within(start..start + len, 0);
    buf.truncate(len);
    // The bytes were a `&str` the parser borrowed from the body: valid UTF-8.
    let s = String::from_utf8(buf).map_err(de::Error::custom)?;
    if let Some(slot) = at(&mut value, &path) {
        *slot = Value::String(s);
    }
    Ok(value)
}

/// A step from a value to one inside it.
#[derive(Clone, Debug)]
enum Step {
    Key(String),
    Index(usize),
}

/// The first big borrowed string: its offset and length in the body, and
/// where it sits in the value.
#[derive(Default)]
struct Big {
    best: Option<(usize, usize, Vec<Step>)>,
    /// Some object had a key twice.
    repeated_key: bool,
}

fn at<'v>(v: &'v mut Value, path: &[Step]) -> Option<&'v mut Value> {
    path.iter().try_fold(v, |v, step| match (step, v) {
        (Step::Key(k), Value::Object(m)) => m.get_mut(k),
        (Step::Index(i), Value::Array(a)) => a.get_mut(*i),
        _ => None,
    })
}

/// The seed for one value at `path`.
struct Node<'a> {
    base: usize,
    path: Vec<Step>,
    big: &'a mut Big,
}

impl<'de> DeserializeSeed<'de> for Node<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl Node<'_> {
    fn child(&mut self, step: Step) -> Node<'_> {
        let mut path = self.path.clone();
        path.push(step);
        Node {
            base: self.base,
            path,
            big: self.big,
        }
    }
}

impl<'de> Visitor<'de> for Node<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Value, E> {
        // The first big string only: an earlier placeholder cannot be filled in
        // later, so the choice is never revised. (An answer usually holds one.)
        if v.len() < BIG || self.big.best.is_some() {
            return Ok(Value::String(v.to_owned()));
        }
        // A placeholder now; `parse` puts the string itself in afterwards.
        let start = v.as_ptr() as usize - self.base;
        self.big.best = Some((start, v.len(), self.path));
        Ok(Value::String(String::new()))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(v) = seq.next_element_seed(self.child(Step::Index(items.len())))? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let v = map.next_value_seed(self.child(Step::Key(key.clone())))?;
            if out.insert(key, v).is_some() {
                self.big.repeated_key = true;
            }
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same(text: &str) {
        let want: Value = serde_json::from_str(text).unwrap();
        let got = parse(text.as_bytes().to_vec()).unwrap();
        // Not assert_eq: a failure should print a line, not megabytes.
        assert!(got == want, "differs for {:.120}", text);
    }

    #[test]
    fn gives_what_from_slice_gives() {
        let big = "QUJD".repeat(20_000);
        let bigger = "RUZH".repeat(30_000);
        same("{}");
        same("[1, -2, 3.5, 1e300, true, false, null, \"x\"]");
        same(r#"{"a": {"b": [1, {"c": "d\n\u00e9\ud83d\ude00"}]}, "a": 2}"#);
        same(&format!(
            r#"{{"id": "j", "status": "COMPLETED", "output": {{"images": [{{"filename": "a.png", "type": "base64", "data": "{big}"}}, {{"filename": "b.png", "type": "base64", "data": "{bigger}"}}], "errors": ["w"]}}}}"#
        ));
        // A big string with escapes is copied; the next big one is reused.
        same(&format!(r#"{{"x": "{big}", "y": "{}\\n"}}"#, bigger));
        same(&format!(r#"["{big}", "{big}", {{"k\u0041": "{bigger}"}}]"#));
        same(&format!(r#""{big}""#));
        // A repeated key replaces the value holding the big string, or the other way round.
        same(&format!(r#"{{"a": "{big}", "a": 2}}"#));
        same(&format!(r#"{{"a": 2, "a": "{big}"}}"#));
        same(&format!(r#"{{"o": {{"d": "{big}"}}, "o": {{"d": 1}}}}"#));
        for bad in ["{", "[1,]", "{\"a\" 1}", "\"\\x\"", "1 2", "\u{fffd}"] {
            assert!(parse(bad.as_bytes().to_vec()).is_err(), "{bad}");
        }
        assert!(parse(b"\"\xff\"".to_vec()).is_err());
    }
}
