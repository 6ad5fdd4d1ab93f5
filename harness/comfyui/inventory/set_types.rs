//! Whether a `set:` value can be what a node's input takes, before anything
//! is submitted: ComfyUI converts an `INT` input with `int(value)` and a
//! `FLOAT` with `float(value)`, and refuses the job when that fails or the
//! number is out of the input's range. Checked against the target's inventory
//! when one is given, else against core ComfyUI's (0.3.64, shipped with the
//! mock) for the core node types it knows: a custom node's inputs are only
//! checked with an inventory of the endpoint.

use std::sync::OnceLock;

use serde_json::Value;

use super::{InputType, Inventory};

/// Core ComfyUI's node types, as the built-in mock's ComfyUI face serves them.
pub fn core() -> Option<&'static Inventory> {
    static CORE: OnceLock<Option<Inventory>> = OnceLock::new();
    CORE.get_or_init(|| {
        let text = include_str!("../../../mocks/inventories/comfyui-0.3.64.json");
        serde_json::from_str::<Value>(text).ok().and_then(|v| Inventory::from_value(&v).ok())
    })
    .as_ref()
}

/// Why `value` cannot be input `input` of a `class` node, if it cannot.
pub fn mismatch(inv: &Inventory, class: &str, input: &str, value: &Value) -> Option<(String, &'static str)> {
    let def = inv.node(class)?.input(input)?;
    let (kind, number) = match def.ty {
        InputType::Int => ("INT", as_number(value, true)),
        InputType::Float => ("FLOAT", as_number(value, false)),
        _ => return None,
    };
    // A link ([node, slot]) is not a value: the graph checks say if it is wrong.
    if value.is_array() {
        return None;
    }
    let Some(n) = number else {
        let shown = crate::text::truncate(&value.to_string(), 40);
        return Some((format!("`{input}` of {class} is {kind}, and {shown} is not a number (ComfyUI refuses it with invalid_input_type)"), "give it a number, without quotes"));
    };
    if let Some(min) = def.min.filter(|m| n < *m) {
        return Some((format!("`{input}` of {class} is at least {min}, not {n} (ComfyUI refuses it with value_smaller_than_min)"), "the node's range, from the inventory"));
    }
    if let Some(max) = def.max.filter(|m| n > *m) {
        return Some((format!("`{input}` of {class} is at most {max}, not {n} (ComfyUI refuses it with value_bigger_than_max)"), "the node's range, from the inventory"));
    }
    None
}

/// The number Python's `int()` or `float()` makes of a JSON value, if any.
fn as_number(v: &Value, int: bool) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64().map(|f| if int { f.trunc() } else { f }),
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        Value::String(s) => {
            let t = s.trim();
            if int {
                t.parse::<i64>().ok().map(|i| i as f64)
            } else {
                t.parse::<f64>().ok().filter(|f| !f.is_nan() || t.eq_ignore_ascii_case("nan"))
            }
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_seed_that_is_not_a_number_is_refused_as_comfyui_would() {
        let inv = core().expect("the core inventory");
        let (e, _) = mismatch(inv, "KSampler", "seed", &json!("abc")).unwrap();
        assert!(e.contains("`seed` of KSampler is INT, and \"abc\" is not a number"), "{e}");
        assert!(mismatch(inv, "KSampler", "seed", &json!(42)).is_none());
        assert!(mismatch(inv, "KSampler", "seed", &json!("42")).is_none(), "int('42') is 42");
        assert!(mismatch(inv, "KSampler", "cfg", &json!("7.5")).is_none());
        assert!(mismatch(inv, "KSampler", "steps", &json!(0)).unwrap().0.contains("at least 1"));
        assert!(mismatch(inv, "KSampler", "model", &json!(["4", 0])).is_none());
        assert!(mismatch(inv, "MyCustomNode", "seed", &json!("abc")).is_none(), "unknown types are not judged");
        assert!(mismatch(inv, "CLIPTextEncode", "text", &json!(3)).is_none(), "STRING takes anything");
    }
}
