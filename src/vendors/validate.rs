//! The validation that turns a script's map into a request, with every problem found.
//!
//! The same validation runs at call time (on real values) and in `onboard check` (on map literals,
//! where a value computed at run time is [`Unknown`] and passes every type check).

use rhai::{Dynamic, Map};

use super::schema::{CallName, Entry, Field, Kind, Problem, Request, RequestSpec, Unknown, Value};
pub use super::shown::{describe_type, describe_value, excerpt, invisible, show_invisible};
use crate::util::dates;
use crate::util::secret::Secret;
use crate::util::suggest;

/// Check a script's map against `spec`: every problem found, or the request to send.
pub fn validate(spec: &'static RequestSpec, map: &Map) -> Result<Request, Vec<Problem>> {
    let call = spec.call_name();
    let mut problems = Vec::new();
    let mut aliases = Vec::new();
    let mut entries = validate_fields(
        call,
        spec.fields,
        map,
        &[],
        &mut problems,
        &mut aliases,
        spec.fields,
    );

    for (alias, path, value) in aliases {
        merge_alias(
            call,
            spec.fields,
            &mut entries,
            alias,
            path,
            value,
            &mut problems,
        );
    }
    for (a, b, why) in spec.exclusive {
        if entries.iter().any(|e| e.field.key == *a) && entries.iter().any(|e| e.field.key == *b) {
            problems.push(Problem {
                path: vec![b.to_string()],
                message: format!("give either `{a}` or `{b}` to {call}, not both ({why})"),
            });
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let request = Request { spec, entries };
    if let Some(check) = spec.check {
        check(&request).map_err(|message| {
            vec![Problem {
                path: vec![],
                message: format!("{call}: {message}"),
            }]
        })?;
    }
    Ok(request)
}

type PendingAlias = (&'static Field, &'static [&'static str], Value);

fn validate_fields(
    call: CallName<'_>,
    fields: &'static [Field],
    map: &Map,
    path: &[String],
    problems: &mut Vec<Problem>,
    aliases: &mut Vec<PendingAlias>,
    top: &'static [Field],
) -> Vec<Entry> {
    let mut entries = Vec::with_capacity(map.len());
    for (key, value) in map {
        let key = key.as_str();
        // The path to this key, made only when it is needed (a problem, a nested map).
        let here = || {
            let mut h = path.to_vec();
            h.push(key.to_string());
            h
        };
        let Some(field) = fields.iter().find(|f| f.key == key) else {
            let here = here();
            problems.push(Problem {
                message: unknown_message(call, fields, &here, top),
                path: here,
            });
            continue;
        };
        if is_absent(value, field.required) {
            continue;
        }
        let kind = match &field.kind {
            Kind::Alias(target) => match resolve(top, target) {
                Some(t) => &t.kind,
                None => continue,
            },
            k => k,
        };
        let checked = match kind {
            Kind::Object(inner) => match value.read_lock::<Map>() {
                Some(m) => Ok(Value::Object(validate_fields(
                    call,
                    inner,
                    &m,
                    &here(),
                    problems,
                    aliases,
                    top,
                ))),
                None if value.is::<Unknown>() => Ok(Value::Unknown),
                None => Err(format!(
                    "must be a map (#{{ ... }}), not {}",
                    describe_value(value)
                )),
            },
            kind => check_value(kind, value),
        };
        match checked {
            Ok(v) => match &field.kind {
                Kind::Alias(target) => aliases.push((field, target, v)),
                _ => entries.push(Entry { field, value: v }),
            },
            Err(why) => {
                let here = here();
                problems.push(Problem {
                    message: format!("field `{}` of {call} {why}", here.join(".")),
                    path: here,
                });
            }
        }
    }
    let missing = fields
        .iter()
        .filter(|f| f.required && map.get(f.key).is_none_or(|v| is_absent(v, true)));
    // A typo of a required key is reported once, as the typo. Worked out only when a required
    // key is missing: this runs for every call of every row.
    let mut typos: Option<Vec<&str>> = None;
    for f in missing {
        let typos = typos.get_or_insert_with(|| {
            map.keys()
                .filter(|k| !fields.iter().any(|f| f.key == k.as_str()))
                .filter_map(|k| suggest::closest(k, fields.iter().map(|f| f.key)))
                .collect()
        });
        if !typos.contains(&f.key) {
            let mut full = path.to_vec();
            full.push(f.key.to_string());
            problems.push(Problem {
                path: path.to_vec(),
                message: format!(
                    "missing required field `{}` for {call} ({})",
                    full.join("."),
                    f.kind.describe()
                ),
            });
        }
    }
    entries
}

/// `()` means "not given"; so does an empty string for an optional field (an empty CSV cell).
fn is_absent(value: &Dynamic, required: bool) -> bool {
    value.is_unit() || (!required && value.as_immutable_string_ref().is_ok_and(|s| s.is_empty()))
}

fn resolve(fields: &'static [Field], path: &[&str]) -> Option<&'static Field> {
    let (first, rest) = path.split_first()?;
    let f = fields.iter().find(|f| f.key == *first)?;
    match (&f.kind, rest.is_empty()) {
        (_, true) => Some(f),
        (Kind::Object(inner), false) => resolve(inner, rest),
        _ => None,
    }
}

fn unknown_message(call: CallName<'_>, fields: &[Field], here: &[String], top: &[Field]) -> String {
    let key = here.last().map(String::as_str).unwrap_or_default();
    let mut msg = format!("unknown field `{}` for {call}", here.join("."));
    if let Some(near) = suggest::closest(key, fields.iter().map(|f| f.key)) {
        msg.push_str(&format!("; did you mean `{near}`?"));
        return msg;
    }
    // The key may belong one level down: `business_email` is `internet.business_email`.
    for parent in top {
        if let Kind::Object(inner) = &parent.kind {
            if let Some(near) = suggest::closest(key, inner.iter().map(|f| f.key)) {
                msg.push_str(&format!("; did you mean `{}.{near}`?", parent.key));
                return msg;
            }
        }
    }
    let keys: Vec<&str> = fields.iter().map(|f| f.key).collect();
    msg.push_str(&format!(" (valid fields: {})", keys.join(", ")));
    msg
}

fn merge_alias(
    call: CallName<'_>,
    top: &'static [Field],
    entries: &mut Vec<Entry>,
    alias: &'static Field,
    path: &'static [&'static str],
    value: Value,
    problems: &mut Vec<Problem>,
) {
    let (Some(parent_key), Some(child_key)) = (path.first(), path.get(1)) else {
        return;
    };
    let Some(parent_field) = resolve(top, &[parent_key]) else {
        return;
    };
    let Kind::Object(inner) = &parent_field.kind else {
        return;
    };
    let Some(child_field) = inner.iter().find(|f| f.key == *child_key) else {
        return;
    };
    let pos = match entries.iter().position(|e| e.field.key == *parent_key) {
        Some(p) => p,
        None => {
            entries.push(Entry {
                field: parent_field,
                value: Value::Object(Vec::new()),
            });
            entries.len() - 1
        }
    };
    let Value::Object(children) = &mut entries[pos].value else {
        // The nested map is computed at run time (check only): nothing to compare.
        return;
    };
    match children.iter().find(|e| e.field.key == *child_key) {
        Some(existing) if existing.value != value && existing.value != Value::Unknown => {
            problems.push(Problem {
                path: vec![alias.key.to_string()],
                message: format!(
                    "`{}` and `{}` of {call} are both given, with different values; give one",
                    alias.key,
                    path.join(".")
                ),
            });
        }
        Some(_) => {}
        None => children.push(Entry {
            field: child_field,
            value,
        }),
    }
}

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
        Kind::Secret { max } => {
            // The value of a secret field is never shown, even when it is of the wrong type.
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
            check_len(t, *max)?;
            Ok(v)
        }
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
        Kind::Int { min, max } => {
            let i = value.as_int().map_err(|_| {
                format!(
                    "must be an integer, not {}{}",
                    describe_value(value),
                    csv_hint(value, "parse_int(...)")
                )
            })?;
            if i < *min || i > *max {
                return Err(if *max == i64::MAX {
                    format!("must be at least {min}, not {i}")
                } else {
                    format!("must be from {min} to {max}, not {i}")
                });
            }
            Ok(Value::Int(i))
        }
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
        Kind::Ints => {
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
        Kind::UnixTime => {
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
