//! Lenient readers for the JSON shapes CloudTrail writes (see SHAPES.md): `{"items": [...]}` lists
//! whose empty form is `{}`, PascalCase lists where one element arrives as an object, and numbers
//! that sometimes arrive as strings.

use serde_json::Value;

use crate::services::Unreadable;

/// The elements of an EC2-style list: `{"items": [...]}`, `{}` (empty), a bare array, or null.
pub fn items(value: Option<&Value>) -> &[Value] {
    match value {
        Some(Value::Array(list)) => list,
        Some(Value::Object(map)) => match map.get("items") {
            Some(Value::Array(list)) => list,
            _ => &[],
        },
        _ => &[],
    }
}

/// A PascalCase list member: an array of elements, or one element rendered as an object.
pub fn one_or_many(value: Option<&Value>) -> Vec<&Value> {
    match value {
        Some(Value::Array(list)) => list.iter().collect(),
        Some(obj @ Value::Object(_)) => vec![obj],
        _ => Vec::new(),
    }
}

pub fn str_at<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value.get(key).and_then(Value::as_str)
}

/// An integer that may arrive as a JSON number or a numeric string.
pub fn int_at(value: &Value, key: &str) -> Option<i64> {
    match value.get(key)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The first of `keys` that `value` holds (null counts as absent), with the key that held it:
/// records write one member in lowerCamelCase (legacy EC2) or PascalCase (`<Action>Request`
/// wrappers), and a parser accepts both.
pub fn field<'a, 'k>(value: &'a Value, keys: &[&'k str]) -> Option<(&'k str, &'a Value)> {
    keys.iter().find_map(|key| value.get(*key).filter(|found| !found.is_null()).map(|found| (*key, found)))
}

/// A text member: absent, or a string; anything else makes the record unreadable.
pub fn text_field<'a>(value: &'a Value, keys: &[&str]) -> Result<Option<&'a str>, Unreadable> {
    match field(value, keys) {
        None => Ok(None),
        Some((_, Value::String(text))) => Ok(Some(text)),
        Some((key, other)) => Err(Unreadable(format!("{key} is {other}, not a string"))),
    }
}

/// An integer member: absent, a JSON integer or a numeric string.
pub fn int_field(value: &Value, keys: &[&str]) -> Result<Option<i64>, Unreadable> {
    let Some((key, raw)) = field(value, keys) else { return Ok(None) };
    let number = match raw {
        Value::Number(number) => number.as_i64(),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    };
    number.map(Some).ok_or_else(|| Unreadable(format!("{key} is {raw}, not an integer")))
}

/// A boolean member: absent, `true`/`false`, `"true"`/`"false"`, or EC2's `{"value": …}` wrapper.
pub fn bool_field(value: &Value, keys: &[&str]) -> Result<Option<bool>, Unreadable> {
    let Some((key, raw)) = field(value, keys) else { return Ok(None) };
    boolean(raw).map(Some).ok_or_else(|| Unreadable(format!("{key} is {raw}, not a boolean")))
}

fn boolean(raw: &Value) -> Option<bool> {
    match raw {
        Value::Bool(flag) => Some(*flag),
        Value::String(text) => match text.trim().to_ascii_lowercase().as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        },
        Value::Object(_) => field(raw, &["value", "Value"]).and_then(|(_, inner)| boolean(inner)),
        _ => None,
    }
}

/// A list in either wire form: EC2's `{"items": [...]}` (or `{}`), or a PascalCase member that
/// is an array or, for one element, an object.
pub fn elements(value: Option<&Value>) -> Vec<&Value> {
    match value {
        Some(Value::Object(map)) if map.is_empty() || map.contains_key("items") => items(value).iter().collect(),
        _ => one_or_many(value),
    }
}
