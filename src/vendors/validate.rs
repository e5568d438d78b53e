//! The validation that turns a script's map into a request, with every problem found.
//!
//! The same validation runs at call time (on real values) and in `onboard check` (on map literals,
//! where a value computed at run time is [`Unknown`] and passes every type check).

use rhai::{Dynamic, Map};

pub use super::check::check_value;
use super::schema::{CallName, Entry, Field, Kind, Problem, Request, RequestSpec, Unknown, Value};
pub use super::shown::{describe_value, excerpt, show_invisible};
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
        let Some(field) = find_field(fields, key) else {
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
    missing_required(call, fields, map, path, problems);
    entries
}

/// The field named `key`. Run for every key of every call: most names are told apart by their
/// length and first byte, before any comparison of the whole text.
fn find_field(fields: &'static [Field], key: &str) -> Option<&'static Field> {
    let (len, first) = (key.len(), key.as_bytes().first());
    fields
        .iter()
        .find(|f| f.key.len() == len && f.key.as_bytes().first() == first && f.key == key)
}

/// The required fields `map` lacks. A typo of a required key is reported once, as the typo.
fn missing_required(
    call: CallName<'_>,
    fields: &'static [Field],
    map: &Map,
    path: &[String],
    problems: &mut Vec<Problem>,
) {
    let missing = fields
        .iter()
        .filter(|f| f.required && map.get(f.key).is_none_or(|v| is_absent(v, true)));
    // The typos are worked out only when a required key is missing: this runs for every call
    // of every row.
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

/// A map of `pairs`, for tests of what takes a script's map.
#[cfg(test)]
pub(crate) fn test_map(pairs: &[(&str, Dynamic)]) -> Map {
    pairs
        .iter()
        .map(|(k, v)| ((*k).into(), v.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use rhai::Dynamic;

    use super::validate;
    use crate::vendors::schema::{Problem, Value};
    use crate::vendors::{appmanager, cyberark};

    use super::test_map as map;

    fn messages(problems: &[Problem]) -> Vec<&str> {
        problems.iter().map(|p| p.message.as_str()).collect()
    }

    #[test]
    fn a_typo_is_named_with_what_was_meant_and_a_missing_field_is_not_reported_twice() {
        let m = map(&[
            ("username", "jdoe".into()),
            ("initial_pasword", "Secret-1234".into()),
        ]);
        let Err(problems) = validate(cyberark::SPEC.create, &m) else {
            panic!("a typo must not pass");
        };
        assert_eq!(problems.len(), 1, "{:?}", messages(&problems));
        assert!(
            problems[0].message.contains("`initial_pasword`")
                && problems[0]
                    .message
                    .contains("did you mean `initial_password`"),
            "{}",
            problems[0].message
        );
    }

    #[test]
    fn every_problem_is_found_in_one_pass() {
        let m = map(&[
            ("username", "bad/name".into()),
            ("role", "WIZARD".into()),
            ("email", "not-an-address".into()),
        ]);
        let Err(problems) = validate(appmanager::SPEC.create, &m) else {
            panic!("three problems must not pass");
        };
        let all = messages(&problems).join("\n");
        assert!(all.contains("`role`") && all.contains("WIZARD"), "{all}");
        assert!(all.contains("`email`"), "{all}");
        assert!(all.contains("missing required field `password`"), "{all}");
    }

    #[test]
    fn a_shortcut_lands_on_its_nested_field_and_a_password_becomes_a_secret() {
        let m = map(&[
            ("username", "jdoe".into()),
            ("initial_password", "Secret-1234".into()),
            ("email", "jane@example.com".into()),
            ("first_name", "Jane".into()),
        ]);
        let request = validate(cyberark::SPEC.create, &m).expect("a valid request");
        assert_eq!(request.username(), "jdoe");
        assert_eq!(
            request.text_at(&["internet", "business_email"]),
            Some("jane@example.com")
        );
        assert_eq!(
            request.text_at(&["personal_details", "first_name"]),
            Some("Jane")
        );
        assert!(matches!(
            request.get("initial_password"),
            Some(Value::Secret(_))
        ));
    }

    #[test]
    fn a_wrongly_typed_value_says_its_type_and_an_empty_optional_cell_is_absent() {
        let m = map(&[
            ("username", "jdoe".into()),
            ("initial_password", "Secret-1234".into()),
            ("change_pass_on_next_logon", Dynamic::from("yes")),
            ("description", "".into()),
        ]);
        let Err(problems) = validate(cyberark::SPEC.create, &m) else {
            panic!("a string for a bool must not pass");
        };
        assert_eq!(problems.len(), 1, "{:?}", messages(&problems));
        assert!(
            problems[0].message.contains("must be true or false"),
            "{}",
            problems[0].message
        );
    }
}
