//! Removing what a run created: `rollback()` and `--rollback-on-error` during a run, `onboard undo`
//! after it. An account is removed only when the journal proves the run made it.

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde::Serialize;

use crate::journal::{Altered, Event, FieldsChange, Outcome, Proof, Sent};
use crate::runtime::access::{journalled_change, journalled_update};
use crate::runtime::session::{CallError, Session};
use crate::vendors::access::Direction;
use crate::vendors::update::FieldChange;
use crate::vendors::{Found, Ops};

/// Lookups at once during undo and rollback (each vendor's `max_concurrent` still applies).
const LOOKUPS_AT_ONCE: usize = 8;

/// An account to remove, and what makes a user of its name the one the run made.
pub struct Target {
    pub vendor: &'static str,
    pub username: String,
    pub ops: Result<Arc<dyn Ops>, String>,
    pub check: Check,
}

/// What the journal knows about an account, to tell it from someone else's of the same name.
#[derive(Clone, Debug, Default)]
pub struct Check {
    /// The id the vendor gave it: a user of that name with another id is not ours.
    pub id: Option<i64>,
    /// The run found it by name alone after losing the answer: never provably its own.
    pub name_only: bool,
    /// What the create sent: a user found for a create nobody saw answered must have it.
    pub sent: Option<Sent>,
    /// The highest id of the vendor known to exist before the create was sent: a user at or
    /// below it was there before (vendors hand out ids in increasing order).
    pub older_than: Option<i64>,
    /// The vendor answered the create with `id`: no other run's word can make it not this one's.
    pub answered: bool,
    /// Where the create was announced in the journal.
    pub at: u64,
}

/// Which run, if any, the journal says made the account with an id (or found it there before
/// the create at a place in the journal).
pub type Claimant<'a> = &'a (dyn Fn(&str, i64, u64) -> Option<String> + Sync);

/// What removing one account came to.
#[derive(Clone, Debug, Serialize)]
pub struct Step {
    pub vendor: &'static str,
    pub username: String,
    pub id: Option<i64>,
    /// `deleted`, `already_gone`, `not_ours`, `not_provably_ours`, `would_delete`, and for
    /// changes to users `reversed`, `already_reversed`, `would_reverse`, `not_undoable`; or
    /// `failed`, `interrupted`.
    pub result: &'static str,
    /// The access a reversed change was of (`vault group "NOC Operators"`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl Step {
    pub fn failed(&self) -> bool {
        matches!(self.result, "failed" | "interrupted")
    }

    pub fn line(&self) -> String {
        let id = match &self.target {
            Some(t) => t.clone(),
            None => self.id.map(|i| format!("id {i}")).unwrap_or_default(),
        };
        let what = self.result.replace('_', " ");
        let msg = self
            .message
            .as_ref()
            .map(|m| format!(": {m}"))
            .unwrap_or_default();
        format!(
            "  {what:<17} {:<10} {:<24} {id}{msg}",
            self.vendor, self.username
        )
    }

    /// `cyberark alice (id 100): why`, for an error line.
    pub fn describe(&self) -> String {
        let id = match &self.target {
            Some(t) => format!(" ({t})"),
            None => self.id.map(|i| format!(" (id {i})")).unwrap_or_default(),
        };
        let why = self.message.as_deref().unwrap_or(self.result);
        format!("{} {}{id}: {why}", self.vendor, self.username)
    }
}

/// What to do with a user found under an account's name.
enum Verdict {
    Delete(i64),
    Gone,
    NotOurs(String),
    Unproven(i64, String),
}

fn judge(t: &Target, found: Option<Found>, claimant: Option<Claimant<'_>>) -> Verdict {
    let Some(found) = found else {
        return Verdict::Gone;
    };
    let c = &t.check;
    if let Some(id) = c.id
        && id != found.id
    {
        return Verdict::NotOurs(format!(
            "a user of that name now has id {}; it was left alone",
            found.id
        ));
    }
    if let Some(run) = claimant
        .filter(|_| !c.answered)
        .and_then(|who| who(t.vendor, found.id, c.at))
    {
        return Verdict::NotOurs(format!(
            "id {} is the account {run} made or found; it was left alone",
            found.id
        ));
    }
    if c.name_only {
        return Verdict::Unproven(
            found.id,
            "the run found it by name after losing the answer; it may be someone else's".into(),
        );
    }
    if c.id.is_some() {
        return Verdict::Delete(found.id);
    }
    // The run never learned what became of the create: the user must be the one it sent.
    if let Some(high) = c.older_than.filter(|h| found.id <= *h) {
        return Verdict::Unproven(
            found.id,
            format!("its id is not above {high}, an id that existed before the create was sent"),
        );
    }
    match found.same {
        Some(true) => Verdict::Delete(found.id),
        Some(false) => Verdict::NotOurs(format!(
            "user id {} differs from what the run sent; it was left alone",
            found.id
        )),
        None => Verdict::Unproven(
            found.id,
            "the run never saw an answer, and the vendor reports nothing to compare with what was sent".into(),
        ),
    }
}

/// Remove accounts in the order given (newest first). Every account is looked up first, in
/// parallel: one already gone counts as removed, and only a user the journal proves is the
/// run's is deleted (`force` also deletes those it cannot prove either way).
pub fn remove(
    session: &Session,
    operation: &'static str,
    targets: Vec<Target>,
    claimant: Option<Claimant<'_>>,
    force: bool,
) -> Vec<Step> {
    let found = look_up_all(session, operation, &targets);
    let mut steps = Vec::with_capacity(targets.len());
    for (t, found) in targets.into_iter().zip(found) {
        let mut step = Step {
            vendor: t.vendor,
            username: t.username.clone(),
            id: t.check.id,
            result: "failed",
            target: None,
            message: None,
        };
        if session.cancel.is_cancelled() {
            step.result = "interrupted";
            steps.push(step);
            continue;
        }
        let found = match found {
            Ok(f) => f,
            Err(e) => {
                step.message = Some(e);
                steps.push(step);
                continue;
            }
        };
        let target = match judge(&t, found, claimant) {
            Verdict::Gone => {
                step.result = "already_gone";
                if !session.mode.dry_run {
                    let mut event = Event::new(t.vendor, operation, &t.username, Outcome::Deleted)
                        .note("already gone");
                    event.id = t.check.id;
                    session.journal.outcome(None, event);
                }
                None
            }
            Verdict::NotOurs(why) => {
                step.result = "not_ours";
                step.message = Some(why);
                None
            }
            Verdict::Unproven(id, why) if !force => {
                step.id = Some(id);
                step.result = "not_provably_ours";
                step.message = Some(why);
                None
            }
            Verdict::Unproven(id, _) | Verdict::Delete(id) => Some(id),
        };
        if let Some(id) = target {
            step.id = Some(id);
            delete(session, operation, &t, id, &mut step);
        }
        steps.push(step);
    }
    steps
}

fn delete(session: &Session, operation: &'static str, t: &Target, id: i64, step: &mut Step) {
    if session.mode.dry_run {
        step.result = "would_delete";
        return;
    }
    let Ok(ops) = &t.ops else {
        return;
    };
    match session.journalled_delete(t.vendor, operation, id, &t.username, || {
        let (ops, name) = (ops.clone(), t.username.clone());
        async move { ops.delete(id, &name).await }
    }) {
        Ok(()) => step.result = "deleted",
        Err(CallError::Interrupted) => step.result = "interrupted",
        Err(e) => step.message = Some(call_message(e)),
    }
}

/// What a lookup came to: the user, none, or why it could not be looked up.
type Lookup = Result<Option<Found>, String>;

/// Every target looked up, a few at a time, each with the retries of any idempotent call.
fn look_up_all(session: &Session, operation: &'static str, targets: &[Target]) -> Vec<Lookup> {
    let results: Vec<Mutex<Option<Lookup>>> = targets.iter().map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    let look = || {
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(t) = targets.get(i) else {
                return;
            };
            let got = look_up(session, operation, t);
            if let Ok(mut slot) = results[i].lock() {
                *slot = Some(got);
            }
        }
    };
    let workers = LOOKUPS_AT_ONCE.min(targets.len());
    if workers <= 1 {
        look();
    } else {
        std::thread::scope(|s| {
            for _ in 0..workers {
                s.spawn(look);
            }
        });
    }
    results
        .into_iter()
        .map(|slot| {
            slot.into_inner()
                .ok()
                .flatten()
                .unwrap_or_else(|| Err("the lookup did not run".into()))
        })
        .collect()
}

fn look_up(
    session: &Session,
    operation: &'static str,
    t: &Target,
) -> Result<Option<Found>, String> {
    if session.cancel.is_cancelled() {
        return Err("interrupted".into());
    }
    let ops = t.ops.as_ref().map_err(Clone::clone)?;
    if session.mode.dry_run && session.mode.offline {
        return Ok(t.check.id.map(|id| Found { id, same: None }));
    }
    let sent = t.check.sent.clone();
    session
        .retrying(t.vendor, operation, &t.username, None, || {
            let (ops, name, sent) = (ops.clone(), t.username.clone(), sent.clone());
            async move { ops.find(&name, sent.as_ref()).await }
        })
        .map_err(call_message)
}

pub fn call_message(e: CallError) -> String {
    match e {
        CallError::Vendor(v) => v.to_string(),
        CallError::Interrupted => "interrupted".into(),
        CallError::Setup(m) => m,
    }
}

/// A change to an existing user to reverse: put back as it was before the run.
pub struct Reverse {
    pub vendor: &'static str,
    pub username: String,
    pub what: Altered,
    pub ops: Result<Arc<dyn Ops>, String>,
}

/// Reverse changes in the order given (newest first): a grant by its revoke, a revoke by its
/// grant, an update by writing back the values before it. Safe to repeat.
pub fn reverse(session: &Session, operation: &'static str, changes: Vec<Reverse>) -> Vec<Step> {
    let mut steps = Vec::with_capacity(changes.len());
    for c in changes {
        let mut step = Step {
            vendor: c.vendor,
            username: c.username.clone(),
            id: None,
            result: "failed",
            target: Some(describe(&c.what)),
            message: None,
        };
        if let Some(why) = not_undoable(c.vendor, &c.what) {
            step.result = "not_undoable";
            step.message = why;
        } else if session.cancel.is_cancelled() {
            step.result = "interrupted";
        } else if session.mode.dry_run {
            step.result = "would_reverse";
        } else {
            match &c.ops {
                Err(e) => step.message = Some(e.clone()),
                Ok(ops) => match reverse_one(session, operation, &c, ops.clone()) {
                    Ok(true) => step.result = "reversed",
                    Ok(false) => step.result = "already_reversed",
                    Err(CallError::Interrupted) => step.result = "interrupted",
                    Err(e) => step.message = Some(call_message(e)),
                },
            }
        }
        steps.push(step);
    }
    steps
}

/// Why a change cannot be reversed, if it cannot: a call nothing undoes, or a revoke of an
/// access with levels whose level before was not readable (PAM360's shares).
fn not_undoable(vendor: &str, what: &Altered) -> Option<Option<String>> {
    match what {
        Altered::Irreversible(_) => Some(None),
        Altered::Access(a) if a.direction == Direction::Revoke && a.before.is_none() => {
            let kind = crate::vendors::find(vendor)
                .and_then(|v| crate::vendors::access::kind(v.access, &a.kind))?;
            kind.level?;
            Some(Some(format!(
                "the {} it had before is not known ({vendor} has no call that reads it)",
                kind.level.map_or("level", |l| l.param)
            )))
        }
        _ => None,
    }
}

/// A change to a user in a few words: `group "NOC"`, `fields department`.
pub fn describe(what: &Altered) -> String {
    match what {
        Altered::Access(a) if a.target.is_empty() => a.kind.clone(),
        Altered::Access(a) => format!("{} \"{}\"", a.kind, a.target),
        Altered::Update(u) => {
            let fields: Vec<&str> = u.fields.iter().map(|f| f.field.as_str()).collect();
            format!("fields {}", fields.join(", "))
        }
        Altered::Irreversible(what) => what.clone(),
    }
}

/// The inverse of one change, journaled: whether anything changed.
fn reverse_one(
    session: &Session,
    operation: &'static str,
    c: &Reverse,
    ops: Arc<dyn Ops>,
) -> Result<bool, CallError> {
    match &c.what {
        Altered::Access(access) => {
            // Undone in turn by the change it reverses.
            let redo = crate::vendors::find(c.vendor)
                .and_then(|v| {
                    crate::vendors::access::kind(v.access, &access.kind)
                        .or_else(|| crate::vendors::access::kind(v.states, &access.kind))
                })
                .map_or("", |k| k.function(access.direction));
            // A level change is undone by a grant, which a grant undoes in turn.
            let inverse = access.inverse(redo);
            journalled_change(session, c.vendor, operation, &c.username, &inverse, ops)
        }
        Altered::Update(update) => {
            let back = FieldsChange {
                fields: update
                    .fields
                    .iter()
                    .map(|f| FieldChange {
                        before: f.after.clone(),
                        after: f.before.clone(),
                        ..f.clone()
                    })
                    .collect(),
                undo: update.undo.clone(),
            };
            journalled_update(session, c.vendor, operation, &c.username, &back, ops).map(|()| true)
        }
        // Never asked to: `reverse` says these are not undoable.
        Altered::Irreversible(_) => Ok(false),
    }
}

/// Reverse everything this run (or, in `--each`, this row) changed of access, then delete what
/// it created and has not deleted, each newest first. An account found only by name after a
/// lost answer is left, and said so.
pub fn rollback(session: &Session) -> Vec<Step> {
    let changes = session
        .take_changes()
        .into_iter()
        .rev()
        .map(|c| Reverse {
            vendor: c.vendor,
            username: c.username,
            what: c.what,
            ops: Ok(c.ops),
        })
        .collect();
    let mut steps = reverse(session, "rollback", changes);
    let targets = session
        .take_created()
        .into_iter()
        .rev()
        .map(|a| Target {
            vendor: a.vendor,
            username: a.username,
            ops: Ok(a.ops),
            check: Check {
                id: Some(a.id),
                name_only: a.proof == Proof::Name,
                answered: a.proof == Proof::Answer,
                ..Check::default()
            },
        })
        .collect();
    steps.extend(remove(session, "rollback", targets, None, false));
    steps
}

/// Print rollback steps on stderr.
pub fn report(title: &str, steps: &[Step]) {
    let mut out = format!("{title}\n");
    for s in steps {
        out.push_str(&s.line());
        out.push('\n');
    }
    let _ = write!(std::io::stderr().lock(), "{out}");
}
