//! Updates that converge: the fields of a request compared with the user as the vendor has it,
//! and the partial wire body that writes some values (the new ones, or the old ones back).

use serde::{Deserialize, Serialize};
use serde_json::{Map as JsonMap, Value as Json};

use super::schema::{Entry, Kind, Request, Value};
use crate::util::lenient::field;

/// One field an update changes, by its script path and its place on the wire.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FieldChange {
    /// `personal_details.first_name`.
    pub field: String,
    /// `["personalDetails", "firstName"]`.
    pub wire: Vec<String>,
    pub before: Json,
    pub after: Json,
}

/// The fields of `request` (secrets left out: they cannot be read back) whose values differ
/// from `current`, the user's wire object. `skip` names top-level keys never compared.
pub fn differences(request: &Request, current: &Json, skip: &[&str]) -> Vec<FieldChange> {
    let mut out = Vec::new();
    leaves(
        &request.entries,
        &mut Vec::new(),
        &mut Vec::new(),
        skip,
        &mut |path, wire, after| {
            let before = at(current, wire);
            if !same(&before, &after) {
                out.push(FieldChange {
                    field: path.join("."),
                    wire: wire.to_vec(),
                    before,
                    after,
                });
            }
        },
    );
    out
}

/// Called with each leaf: its script path, its wire path, its value.
type Leaf<'a> = dyn FnMut(&[String], &[String], Json) + 'a;

fn leaves(
    entries: &[Entry],
    path: &mut Vec<String>,
    wire: &mut Vec<String>,
    skip: &[&str],
    found: &mut Leaf<'_>,
) {
    for e in entries {
        if path.is_empty() && skip.contains(&e.field.key) {
            continue;
        }
        if matches!(e.field.kind, Kind::Secret { .. }) || matches!(e.value, Value::Secret(_)) {
            continue;
        }
        path.push(e.field.key.to_string());
        wire.push(e.field.wire.to_string());
        match &e.value {
            Value::Object(inner) => leaves(inner, path, wire, skip, found),
            Value::Unknown => {}
            v => found(path, wire, plain(v)),
        }
        path.pop();
        wire.pop();
    }
}

fn plain(v: &Value) -> Json {
    match v {
        Value::Text(t) => Json::String(t.clone()),
        Value::Bool(b) => Json::Bool(*b),
        Value::Int(i) => Json::from(*i),
        Value::List(items) => Json::Array(items.iter().map(plain).collect()),
        Value::Object(_) | Value::Secret(_) | Value::Unknown => Json::Null,
    }
}

/// The value at a wire path, names matched ignoring case (PVWA's answers vary in case).
fn at(current: &Json, wire: &[String]) -> Json {
    let mut node = current;
    for key in wire {
        match field(node, key) {
            Some(next) => node = next,
            None => return Json::Null,
        }
    }
    node.clone()
}

/// Whether a value read back is the one a request sends: `""` is no value, booleans and
/// numbers may come back as strings, lists in any order and case.
fn same(before: &Json, after: &Json) -> bool {
    let text = |v: &Json| match v {
        Json::Null => Some(String::new()),
        Json::String(s) => Some(s.clone()),
        Json::Bool(b) => Some(b.to_string()),
        Json::Number(n) => Some(n.to_string()),
        _ => None,
    };
    match (before, after) {
        (Json::Array(a), Json::Array(b)) => {
            let norm = |l: &Vec<Json>| {
                let mut v: Vec<String> = l
                    .iter()
                    .filter_map(text)
                    .map(|s| s.to_lowercase())
                    .collect();
                v.sort();
                v
            };
            norm(a) == norm(b)
        }
        (Json::Null, Json::Array(b)) => b.is_empty(),
        (Json::Bool(_) | Json::String(_), Json::Bool(_)) => {
            text(before).map(|s| s.to_lowercase()) == text(after)
        }
        _ => text(before).is_some() && text(before) == text(after),
    }
}

/// The partial wire body that writes each change's `after` (or, with `back`, its `before`).
pub fn partial(changes: &[FieldChange], back: bool) -> Json {
    let mut body = Json::Object(JsonMap::new());
    for c in changes {
        let value = if back { &c.before } else { &c.after };
        let mut node = &mut body;
        for (i, key) in c.wire.iter().enumerate() {
            let Json::Object(map) = node else { break };
            if i + 1 == c.wire.len() {
                map.insert(key.clone(), value.clone());
                break;
            }
            node = map
                .entry(key.clone())
                .or_insert_with(|| Json::Object(JsonMap::new()));
        }
    }
    body
}

/// `current` with `partial` written over it, nested objects merged key by key (names matched
/// ignoring case, kept as the vendor spells them).
pub fn merged(current: &Json, partial: &Json) -> Json {
    let mut out = current.clone();
    if let (Json::Object(target), Json::Object(changes)) = (&mut out, partial) {
        for (k, v) in changes {
            let key = target
                .keys()
                .find(|t| t.eq_ignore_ascii_case(k))
                .cloned()
                .unwrap_or_else(|| k.clone());
            let value = match (target.get(&key), v) {
                (Some(old @ Json::Object(_)), Json::Object(_)) => merged(old, v),
                _ => v.clone(),
            };
            target.insert(key, value);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_read_back_in_another_form_are_the_same() {
        assert!(same(&json!("true"), &json!(true)));
        assert!(same(&Json::Null, &json!("")));
        assert!(same(&json!(["B", "a"]), &json!(["a", "b"])));
        assert!(!same(&json!("Jane"), &json!("jane")));
        assert!(!same(&json!(1), &json!(2)));
    }

    #[test]
    fn a_partial_body_merges_into_the_whole_user() {
        let changes = vec![FieldChange {
            field: "personal_details.first_name".into(),
            wire: vec!["personalDetails".into(), "firstName".into()],
            before: json!("Jane"),
            after: json!("Janet"),
        }];
        let current = json!({ "username": "jdoe", "PersonalDetails": { "firstName": "Jane", "lastName": "Doe" } });
        let after = merged(&current, &partial(&changes, false));
        assert_eq!(
            after,
            json!({ "username": "jdoe", "PersonalDetails": { "firstName": "Janet", "lastName": "Doe" } })
        );
        assert_eq!(merged(&after, &partial(&changes, true)), current);
    }
}
