//! One value checked against its field's kind: type, length, format, range, allowed values.

use rhai::Dynamic;

use super::schema::{Kind, Unknown, Value};
use super::shown::{describe_type, describe_value, excerpt, invisible};
use crate::util::dates;
use crate::util::secret::Secret;
use crate::util::suggest;

/// Check one value against its kind.
pub fn check_value(kind: &Kind, value: &Dynamic) -> Result<Value, String> {
    if value.is::<Unknown>() {
        return Ok(Value::Unknown);
    }
    match kind {
        Kind::Text { max } => {
            let v = text_or_secret(value)?;
            let t = reveal(&v);
            if t.contains('\0') {
                return Err("contains a NUL character".into());
            }
            check_len(t, *max)?;
            Ok(v)
        }
        Kind::Name { max, forbidden } => {
            let v = text_or_secret(value)?;
            check_name(reveal(&v), *max, forbidden)?;
            Ok(v)
        }
        Kind::Secret { max } => check_secret(value, *max),
        Kind::Email { max } => {
            let t = text(value)?;
            check_len(&t, *max)?;
            check_email(&t)?;
            Ok(Value::Text(t))
        }
        Kind::Bool => value.as_bool().map(Value::Bool).map_err(|_| {
            format!(
                "must be true or false, not {}{}",
                describe_value(value),
                csv_hint(value, "== \"true\"")
            )
        }),
        Kind::Int { min, max } => check_int(value, *min, *max),
        Kind::OneOf(allowed) => {
            let t = text(value)?;
            one_of(&t, allowed).map(|v| Value::Text(v.to_string()))
        }
        Kind::ListOf(allowed) => {
            let items = array(value, allowed.first().copied().unwrap_or("value"))?;
            let mut out = Vec::new();
            for item in items {
                let t = text(&item).map_err(|e| format!("has an item that {e}"))?;
                out.push(Value::Text(one_of(&t, allowed)?.to_string()));
            }
            Ok(Value::List(out))
        }
        Kind::Ints => check_ints(value),
        Kind::UnixTime => check_unix_time(value),
        Kind::Date => {
            let t = text(value)?;
            let day = dates::parse_ymd(&t)
                .ok_or_else(|| format!("must be a date \"YYYY-MM-DD\", not \"{}\"", excerpt(&t)))?;
            if day < dates::today() {
                return Err(format!("is in the past ({t})"));
            }
            Ok(Value::Text(t))
        }
        Kind::Object(_) | Kind::Alias(_) => Err("is not a plain value".into()),
    }
}

/// A password: never shown, even when it is of the wrong type.
fn check_secret(value: &Dynamic, max: usize) -> Result<Value, String> {
    let v = text_or_secret(value)
        .map_err(|_| format!("must be a string or Secret, not {}", describe_type(value)))?;
    let v = match v {
        Value::Text(t) => Value::Secret(Secret::new(t)),
        s => s,
    };
    let t = reveal(&v);
    if t.is_empty() {
        return Err("is empty".into());
    }
    if t.contains('\0') {
        return Err("contains a NUL character".into());
    }
    check_len(t, max)?;
    Ok(v)
}

fn check_int(value: &Dynamic, min: i64, max: i64) -> Result<Value, String> {
    let i = value.as_int().map_err(|_| {
        format!(
            "must be an integer, not {}{}",
            describe_value(value),
            csv_hint(value, "parse_int(...)")
        )
    })?;
    if i < min || i > max {
        return Err(if max == i64::MAX {
            format!("must be at least {min}, not {i}")
        } else {
            format!("must be from {min} to {max}, not {i}")
        });
    }
    Ok(Value::Int(i))
}

fn check_ints(value: &Dynamic) -> Result<Value, String> {
    let items = array(value, "1")?;
    let mut out = Vec::new();
    for item in items {
        match item.as_int() {
            Ok(i) if i >= 0 => out.push(Value::Int(i)),
            _ => {
                return Err(format!(
                    "must hold non-negative integers, not {}",
                    describe_value(&item)
                ));
            }
        }
    }
    Ok(Value::List(out))
}

/// A future date as Unix seconds, given as seconds or `YYYY-MM-DD`.
fn check_unix_time(value: &Dynamic) -> Result<Value, String> {
    let secs = if let Ok(i) = value.as_int() {
        i
    } else {
        let t = text(value)?;
        dates::parse_ymd(&t).ok_or_else(|| {
            format!(
                "must be Unix seconds or a date \"YYYY-MM-DD\", not \"{}\"",
                excerpt(&t)
            )
        })? * 86_400
    };
    if secs < dates::today() * 86_400 {
        return Err(format!(
            "is in the past ({})",
            dates::format_ymd(secs.div_euclid(86_400))
        ));
    }
    Ok(Value::Int(secs))
}

fn reveal(v: &Value) -> &str {
    match v {
        Value::Text(t) => t,
        Value::Secret(s) => s.reveal(),
        _ => "",
    }
}

fn text(value: &Dynamic) -> Result<String, String> {
    if value.is::<Secret>() {
        return Err("must be plain text, not a Secret".into());
    }
    if value.is_char() {
        return Ok(value.to_string());
    }
    value
        .as_immutable_string_ref()
        .map(|s| s.as_str().to_owned())
        .map_err(|_| format!("must be a string, not {}", describe_value(value)))
}

fn text_or_secret(value: &Dynamic) -> Result<Value, String> {
    if let Some(s) = value.read_lock::<Secret>() {
        return Ok(Value::Secret(s.clone()));
    }
    text(value).map(Value::Text)
}

fn array(value: &Dynamic, example: &str) -> Result<Vec<Dynamic>, String> {
    value
        .read_lock::<rhai::Array>()
        .map(|a| a.clone())
        .ok_or_else(|| {
            let example = if example.parse::<i64>().is_ok() {
                example.to_string()
            } else {
                format!("\"{example}\"")
            };
            format!(
                "must be an array such as [{example}], not {}",
                describe_value(value)
            )
        })
}

fn check_len(t: &str, max: usize) -> Result<(), String> {
    // A string is never more characters long than it is bytes.
    if max == 0 || t.len() <= max {
        return Ok(());
    }
    let n = t.chars().count();
    if n > max {
        return Err(format!("is {n} characters long; the limit is {max}"));
    }
    Ok(())
}

fn check_name(t: &str, max: usize, forbidden: &str) -> Result<(), String> {
    if t.is_empty() {
        return Err("is empty".into());
    }
    if t.contains(['\r', '\n']) {
        return Err("contains a line break (CR or LF)".into());
    }
    if let Some(c) = t.chars().find(|c| c.is_control()) {
        return Err(format!("contains the control character {:?}", c));
    }
    if let Some(c) = t.chars().find(|c| invisible(*c)) {
        return Err(format!(
            "contains the invisible character U+{:04X}, which makes a name look like another \
             (or reverse how it reads)",
            c as u32
        ));
    }
    if t.trim() != t {
        return Err(format!("starts or ends with a space: \"{}\"", excerpt(t)));
    }
    if let Some(c) = t.chars().find(|c| forbidden.contains(*c)) {
        return Err(format!(
            "contains `{c}`, which the vendor does not allow in names"
        ));
    }
    check_len(t, max)
}

fn check_email(t: &str) -> Result<(), String> {
    let bad = || format!("is not an email address: \"{}\"", excerpt(t));
    let (local, domain) = t.rsplit_once('@').ok_or_else(bad)?;
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local.chars().all(|c| {
            c.is_alphanumeric()
                || matches!(
                    c,
                    '!' | '#'
                        | '$'
                        | '%'
                        | '&'
                        | '\''
                        | '*'
                        | '+'
                        | '-'
                        | '/'
                        | '='
                        | '?'
                        | '^'
                        | '_'
                        | '`'
                        | '{'
                        | '|'
                        | '}'
                        | '~'
                        | '.'
                )
        });
    let domain_ok = domain.contains('.')
        && domain.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        });
    if local_ok && domain_ok {
        Ok(())
    } else {
        Err(bad())
    }
}

fn one_of(t: &str, allowed: &'static [&'static str]) -> Result<&'static str, String> {
    if let Some(v) = allowed.iter().find(|a| a.eq_ignore_ascii_case(t)) {
        return Ok(v);
    }
    Err(format!(
        "must be one of {}, not \"{}\"{}",
        allowed.join(", "),
        excerpt(t),
        suggest::did_you_mean(t, allowed.iter().copied())
    ))
}

/// CSV cells are strings; say how to turn one into the type wanted.
fn csv_hint(value: &Dynamic, how: &str) -> String {
    if value.is_string() {
        format!(" (a value read from CSV is a string: convert it, e.g. with {how})")
    } else {
        String::new()
    }
}
