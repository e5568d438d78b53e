//! Script values shown to people and machines: JSON and one-line text, secrets always masked.

use rhai::Dynamic;
use serde_json::Value as Json;

use crate::secret::{MASK, Secret};
use crate::vendors;

/// A script value as JSON. Secrets become `********`; vendor records become their maps.
pub fn to_json(value: &Dynamic) -> Json {
    if value.is_unit() {
        return Json::Null;
    }
    if let Ok(b) = value.as_bool() {
        return Json::Bool(b);
    }
    if let Ok(i) = value.as_int() {
        return Json::from(i);
    }
    if let Ok(f) = value.as_float() {
        return serde_json::Number::from_f64(f).map_or(Json::Null, Json::Number);
    }
    if value.is_string() || value.is_char() {
        return Json::String(value.to_string());
    }
    if value.is::<Secret>() {
        return Json::String(MASK.into());
    }
    if let Some(a) = value.read_lock::<rhai::Array>() {
        return Json::Array(a.iter().map(to_json).collect());
    }
    if let Some(m) = value.read_lock::<rhai::Map>() {
        return Json::Object(m.iter().map(|(k, v)| (k.to_string(), to_json(v))).collect());
    }
    if let Some(m) = vendors::record_map(value) {
        return Json::Object(m.iter().map(|(k, v)| (k.to_string(), to_json(v))).collect());
    }
    if let Some(b) = value.read_lock::<rhai::Blob>() {
        return Json::Array(b.iter().map(|x| Json::from(*x)).collect());
    }
    // Function pointers, timestamps and other engine types: their type name, never their inside.
    Json::String(format!("<{}>", value.type_name()))
}

pub fn to_json_string(value: &Dynamic, pretty: bool) -> String {
    let j = to_json(value);
    let out = if pretty {
        serde_json::to_string_pretty(&j)
    } else {
        serde_json::to_string(&j)
    };
    out.unwrap_or_else(|_| "null".into())
}

/// A value on one line for summaries: strings quoted, secrets masked, records as their summary.
pub fn display_inline(value: &Dynamic) -> String {
    if value.is_string() {
        return format!("{:?}", value.to_string());
    }
    if value.is::<Secret>() {
        return MASK.into();
    }
    if let Some(s) = vendors::record_summary(value) {
        return s;
    }
    if value.is_array() || value.is_map() {
        return to_json_string(value, false);
    }
    value.to_string()
}

/// JSON as script values, keys kept as they are.
pub fn from_json(v: &Json) -> Dynamic {
    from_json_keys(v, &|k| k.to_string())
}

/// JSON as script values, with object keys renamed by `key`.
pub fn from_json_keys(v: &Json, key: &dyn Fn(&str) -> String) -> Dynamic {
    match v {
        Json::Null => Dynamic::UNIT,
        Json::Bool(b) => (*b).into(),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Dynamic::from_int(i),
            None => Dynamic::from_float(n.as_f64().unwrap_or(0.0)),
        },
        Json::String(s) => s.clone().into(),
        Json::Array(a) => Dynamic::from_array(a.iter().map(|v| from_json_keys(v, key)).collect()),
        Json::Object(o) => Dynamic::from_map(
            o.iter()
                .map(|(k, v)| (key(k).into(), from_json_keys(v, key)))
                .collect(),
        ),
    }
}
