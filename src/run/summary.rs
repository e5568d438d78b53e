//! What a run changed, for people: one line per account or change, and a dry run's plan.

use crate::journal::{Event, Outcome};
use crate::runtime::session::Planned;

pub fn summary(events: &[Event], run: &str) -> String {
    format!(
        "\nonboard: what run {run} changed\n{}",
        account_lines(events)
    )
}

/// One line per account a run touched: what became of it, where, and why when it failed.
pub fn account_lines(events: &[Event]) -> String {
    let mut out = String::new();
    for e in events {
        let what = match e.outcome {
            Outcome::Created => "created",
            Outcome::Existed => "existed",
            Outcome::Deleted => "deleted",
            Outcome::Failed => "FAILED ",
            Outcome::Unknown => "UNKNOWN",
            Outcome::Planned => "planned",
            Outcome::Granted => "granted",
            Outcome::Revoked => "revoked",
            Outcome::Unchanged => "same   ",
            Outcome::Updated => "updated",
        };
        let (what, id) = match &e.access {
            // A state switched (enabled): no target, on or off.
            Some(a)
                if a.target.is_empty()
                    && matches!(e.outcome, Outcome::Granted | Outcome::Revoked) =>
            {
                let to = if e.outcome == Outcome::Granted {
                    "on"
                } else {
                    "off"
                };
                ("set    ", format!("{} {to}", a.kind))
            }
            Some(a) => (what, access_text(e.vendor, a)),
            None if e.irreversible.is_some() => (
                what,
                format!(
                    "{} (not undoable)",
                    e.irreversible.as_deref().unwrap_or_default()
                ),
            ),
            None => match &e.update {
                Some(u) => {
                    let fields: Vec<&str> = u.fields.iter().map(|f| f.field.as_str()).collect();
                    (what, fields.join(", "))
                }
                None => (what, e.id.map(|i| format!("id {i}")).unwrap_or_default()),
            },
        };
        let why = match (e.error_kind, &e.note) {
            (Some(k), _) => format!(" ({k} in {})", e.operation),
            (None, Some(n)) => format!(" ({n})"),
            _ => String::new(),
        };
        out.push_str(&format!(
            "  {what} {:<10} {:<24} {id}{why}\n",
            e.vendor, e.username
        ));
    }
    out
}

/// `safe NOC-Shared (use)`: the kind, the target, and the level a grant gave.
fn access_text(vendor: &str, a: &crate::journal::AccessChange) -> String {
    let show = crate::vendors::find(vendor)
        .and_then(|v| crate::vendors::access::kind(v.access, &a.kind))
        .and_then(|k| k.level)
        .zip(a.level.as_ref())
        .map(|(l, level)| format!(" ({})", (l.show)(level)))
        .unwrap_or_default();
    format!("{} {}{show}", a.kind, a.target)
        .trim_end()
        .to_string()
}

pub fn plan_text(plan: &[Planned]) -> String {
    if plan.is_empty() {
        return "\nonboard: dry run: nothing was sent, and the script would change nothing\n"
            .into();
    }
    let mut out = String::from("\nonboard: dry run: nothing was sent. The plan:\n");
    for vendor in crate::vendors::ALL {
        for p in plan.iter().filter(|p| p.vendor == vendor.name) {
            let fields = match p.fields() {
                serde_json::Value::Null => String::new(),
                f => format!(" {f}"),
            };
            let id = match &p.target {
                Some(t) if t.is_empty() => String::new(),
                Some(t) => match &p.detail {
                    Some(d) => format!(": {t} ({d})"),
                    None => format!(": {t}"),
                },
                None if p.id > 0 => format!(" (id {})", p.id),
                None => String::new(),
            };
            out.push_str(&format!(
                "  {:<7} {:<10} {}{id}{fields}\n",
                p.action, p.vendor, p.username
            ));
        }
    }
    out
}
