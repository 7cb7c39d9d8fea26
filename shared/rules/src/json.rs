//! Lenient readers for the JSON shapes CloudTrail writes (see SHAPES.md): `{"items": [...]}` lists
//! whose empty form is `{}`, PascalCase lists where one element arrives as an object, and numbers
//! that sometimes arrive as strings.

use serde_json::Value;

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
