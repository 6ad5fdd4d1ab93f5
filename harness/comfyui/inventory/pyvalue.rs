//! Python's view of JSON values, as ComfyUI's validation applies it: which
//! socket types fit each other, `int()` / `float()` conversion of a widget
//! value, truthiness and equality.

use serde_json::{json, Value};

use super::defs::InputType;
use super::pyrepr::{py_repr, py_str};

/// `validate_node_input`: equal types, `*`, or overlapping comma lists.
pub(crate) fn types_fit(received: &str, expected: &str) -> bool {
    if received == expected || received == "*" || expected == "*" {
        return true;
    }
    let split = |s: &str| {
        s.split(',')
            .map(str::trim)
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    let (r, e) = (split(received), split(expected));
    r.iter().any(|t| e.contains(t))
}

/// Python's `int()` / `float()` / `str()` / `bool()` of a JSON value, as ComfyUI applies it.
pub(super) fn convert(ty: &InputType, v: &Value) -> Result<Value, PyError> {
    match ty {
        InputType::Int => to_int(v).map(|i| {
            i64::try_from(i)
                .map(Value::from)
                .or_else(|_| u64::try_from(i).map(Value::from))
                .unwrap_or_else(|_| json!(i as f64))
        }),
        InputType::Float => to_float(v).map(|f| json!(f)),
        InputType::String => Ok(Value::String(py_str(v))),
        InputType::Boolean => Ok(Value::Bool(truthy(v))),
        _ => Ok(v.clone()),
    }
}

fn to_int(v: &Value) -> Result<i128, PyError> {
    match v {
        Value::Number(n) => n
            .as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from))
            .or_else(|| {
                n.as_f64()
                    .filter(|f| f.is_finite())
                    .map(|f| f.trunc() as i128)
            })
            .ok_or_else(|| PyError::from("cannot convert float infinity to integer")),
        Value::Bool(b) => Ok(i128::from(*b)),
        Value::String(s) => s
            .trim()
            .replace('_', "")
            .parse::<i128>()
            .map_err(|_| PyError(format!("invalid literal for int() with base 10: {}", py_repr(v)))),
        Value::Null => Err(
            "int() argument must be a string, a bytes-like object or a real number, not 'NoneType'"
                .into(),
        ),
        Value::Array(_) => Err(
            "int() argument must be a string, a bytes-like object or a real number, not 'list'"
                .into(),
        ),
        Value::Object(_) => Err(
            "int() argument must be a string, a bytes-like object or a real number, not 'dict'"
                .into(),
        ),
    }
}

fn to_float(v: &Value) -> Result<f64, PyError> {
    match v {
        Value::Number(n) => Ok(n.as_f64().unwrap_or(0.0)),
        Value::Bool(b) => Ok(f64::from(u8::from(*b))),
        Value::String(s) => {
            let t = s.trim().to_ascii_lowercase();
            match t.as_str() {
                "inf" | "+inf" | "infinity" => Ok(f64::INFINITY),
                "-inf" | "-infinity" => Ok(f64::NEG_INFINITY),
                "nan" | "+nan" | "-nan" => Ok(f64::NAN),
                _ => t
                    .parse::<f64>()
                    .map_err(|_| PyError(format!("could not convert string to float: {}", py_repr(v)))),
            }
        }
        Value::Null => {
            Err("float() argument must be a string or a real number, not 'NoneType'".into())
        }
        Value::Array(_) => {
            Err("float() argument must be a string or a real number, not 'list'".into())
        }
        Value::Object(_) => {
            Err("float() argument must be a string or a real number, not 'dict'".into())
        }
    }
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// Python `==` between JSON values (1 == 1.0, True == 1).
pub(super) fn py_eq(a: &Value, b: &Value) -> bool {
    let num = |v: &Value| match v {
        Value::Number(n) => n.as_f64(),
        Value::Bool(x) => Some(f64::from(u8::from(*x))),
        _ => None,
    };
    match (num(a), num(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

/// A conversion Python would refuse, in Python's words (`invalid literal for
/// int() with base 10: 'x'`): ComfyUI's validation error carries it.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(super) struct PyError(pub String);

impl From<String> for PyError {
    fn from(s: String) -> Self {
        PyError(s)
    }
}

impl From<&str> for PyError {
    fn from(s: &str) -> Self {
        PyError(s.to_string())
    }
}
