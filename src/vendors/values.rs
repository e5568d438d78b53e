//! Script values shown to people and machines: JSON and one-line text, secrets always masked.

use rhai::Dynamic;
use serde_json::Value as Json;

use crate::util::secret::{MASK, Secret};
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

/// A value for people to read (the REPL's results): one line when it fits in `width`, else maps
/// and arrays spread over lines with their items indented. Secrets masked, records summarised.
pub fn pretty(value: &Dynamic, width: usize) -> String {
    let mut out = String::new();
    write_pretty(&mut out, value, 0, width);
    out
}

fn write_pretty(out: &mut String, value: &Dynamic, indent: usize, width: usize) {
    let inline = rhai_inline(value);
    if indent + inline.len() <= width || !(value.is_array() || value.is_map()) {
        out.push_str(&inline);
        return;
    }
    let pad = " ".repeat(indent + 4);
    if let Some(a) = value.read_lock::<rhai::Array>() {
        out.push_str("[\n");
        for v in a.iter() {
            out.push_str(&pad);
            write_pretty(out, v, indent + 4, width);
            out.push_str(",\n");
        }
    } else if let Some(m) = value.read_lock::<rhai::Map>() {
        out.push_str("#{\n");
        for (k, v) in m.iter() {
            out.push_str(&pad);
            out.push_str(&map_key(k));
            out.push_str(": ");
            write_pretty(out, v, indent + 4, width);
            out.push_str(",\n");
        }
    }
    out.push_str(&" ".repeat(indent));
    out.push(if value.is_array() { ']' } else { '}' });
}

/// A value on one line in Rhai's own notation: `#{name: "jdoe", ids: [1, 2]}`.
fn rhai_inline(value: &Dynamic) -> String {
    if let Some(a) = value.read_lock::<rhai::Array>() {
        let items: Vec<String> = a.iter().map(rhai_inline).collect();
        return format!("[{}]", items.join(", "));
    }
    if let Some(m) = value.read_lock::<rhai::Map>() {
        let items: Vec<String> = m
            .iter()
            .map(|(k, v)| format!("{}: {}", map_key(k), rhai_inline(v)))
            .collect();
        return format!("#{{{}}}", items.join(", "));
    }
    if value.is_char() {
        return format!("{:?}", value.to_string());
    }
    if value.is_unit() {
        return "()".into();
    }
    display_inline(value)
}

/// A map key as a script would write it: bare when it is an identifier, else quoted.
fn map_key(key: &str) -> String {
    let bare = key.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if bare {
        key.to_string()
    } else {
        format!("{key:?}")
    }
}
