//! JSON read the way lenient .NET and Java servers read it: names ignoring case, booleans and numbers as strings.

use serde_json::Value as Json;

/// An object's field by name, exact first, then ignoring case; `null` counts as absent.
pub fn field<'a>(v: &'a Json, key: &str) -> Option<&'a Json> {
    let obj = v.as_object()?;
    obj.get(key)
        .or_else(|| {
            obj.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v)
        })
        .filter(|v| !v.is_null())
}

/// `true`, `"true"`, `"True"`.
pub fn bool(v: &Json) -> Option<bool> {
    match v {
        Json::Bool(b) => Some(*b),
        Json::String(s) => s.to_ascii_lowercase().parse().ok(),
        _ => None,
    }
}

/// `42`, `42.0`, `"42"`.
pub fn int(v: &Json) -> Option<i64> {
    match v {
        Json::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Json::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A string, or a number written as one.
pub fn text(v: &Json) -> Option<String> {
    match v {
        Json::String(s) => Some(s.clone()),
        Json::Number(n) => Some(n.to_string()),
        _ => None,
    }
}
