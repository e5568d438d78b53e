//! What the journal holds: one record per line, and the outcomes a run reports.

use std::borrow::Cow;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{Sent, current_row};
use crate::vendors::access::Direction;
use crate::vendors::error::VendorError;
use crate::vendors::update::FieldChange;

/// How a state-changing call ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Created,
    /// `ensure_user` found the user already there; nothing was created.
    Existed,
    Deleted,
    Failed,
    /// Nobody saw the answer (interrupted, or a lost answer that could not be checked).
    Unknown,
    /// Dry run: what would have been done.
    Planned,
    /// Access given (a user put in a group) or taken away.
    Granted,
    Revoked,
    /// The access was already so: nothing changed.
    Unchanged,
    /// Fields of an existing user written.
    Updated,
}

/// The fields an update writes, each with its value before (what undoes it) and after.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FieldsChange {
    pub fields: Vec<FieldChange>,
    /// The operation that undoes it, with the values before.
    pub undo: String,
}

/// An access change a record is about, with what undoes it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccessChange {
    /// The vendor's kind of access (`group`).
    pub kind: String,
    /// The group (safe, account…) by name.
    pub target: String,
    pub direction: Direction,
    /// The operation that undoes it (`remove_from_group`).
    pub undo: String,
    /// The level a grant gives (a safe member's permissions), in the vendor's wire form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<serde_json::Value>,
    /// The level held before (read first): what an undo gives back. `None`: not held, or (for
    /// accesses the vendor cannot read) not known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<serde_json::Value>,
}

impl AccessChange {
    /// A change of `kind` to `target`, without levels.
    pub fn of(kind: &str, target: &str, direction: Direction, undo: &str) -> AccessChange {
        AccessChange {
            kind: kind.to_string(),
            target: target.to_string(),
            direction,
            undo: undo.to_string(),
            level: None,
            before: None,
        }
    }

    /// The direction of what undoes it: a grant that changed a level is undone by granting
    /// the level it replaced, any other grant by a revoke, a revoke by a grant.
    pub fn inverse_direction(&self) -> Direction {
        match (self.direction, &self.before) {
            (Direction::Grant, Some(_)) => Direction::Grant,
            (direction, _) => direction.inverse(),
        }
    }

    /// The change that undoes this one (`redo` names the function that undoes that in turn).
    pub fn inverse(&self, redo: &str) -> AccessChange {
        let (level, before) = match (self.direction, &self.before) {
            // Back to the level it replaced, which the reversal in turn replaces.
            (Direction::Grant, Some(old)) => (Some(old.clone()), self.level.clone()),
            // A revoke of what the grant gave.
            (Direction::Grant, None) => (None, self.level.clone()),
            // A grant of what the revoke took.
            (Direction::Revoke, old) => (old.clone(), None),
        };
        AccessChange {
            kind: self.kind.clone(),
            target: self.target.clone(),
            direction: self.inverse_direction(),
            undo: redo.to_string(),
            level,
            before,
        }
    }
}

/// How a run knows that an account it records as created is the one it sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Proof {
    /// The vendor answered the create with this account's id.
    Answer,
    /// The answer was lost or unreadable; a lookup found a user whose fields match what was sent.
    Lookup,
    /// The answer was lost; a lookup found a user of that name, but the vendor reports nothing
    /// to compare with what was sent, so it may be someone else's.
    Name,
}

/// One line of the journal.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Record<'a> {
    Run {
        run: Cow<'a, str>,
        time: Cow<'a, str>,
        /// `run`, `undo`.
        command: Cow<'a, str>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        script: Option<Cow<'a, str>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        profile: Option<Cow<'a, str>>,
        /// Against the built-in simulator, which keeps nothing after the run.
        #[serde(default)]
        simulated: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        undo_of: Option<Cow<'a, str>>,
        pid: u32,
    },
    Intent(#[serde(borrow)] IntentRecord<'a>),
    Outcome(#[serde(borrow)] OutcomeRecord<'a>),
    Retry {
        run: Cow<'a, str>,
        #[serde(default)]
        seq: Option<u64>,
        time: Cow<'a, str>,
        vendor: Cow<'a, str>,
        operation: Cow<'a, str>,
        username: Cow<'a, str>,
        attempt: u32,
        error_kind: Cow<'a, str>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        status: Option<u16>,
        wait_ms: u64,
    },
    End {
        run: Cow<'a, str>,
        time: Cow<'a, str>,
        exit_code: u8,
    },
}

/// A change about to be sent: written before it goes out.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct IntentRecord<'a> {
    #[serde(borrow)]
    pub run: Cow<'a, str>,
    pub seq: u64,
    #[serde(borrow)]
    pub time: Cow<'a, str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row: Option<u64>,
    #[serde(borrow)]
    pub vendor: Cow<'a, str>,
    #[serde(borrow)]
    pub operation: Cow<'a, str>,
    #[serde(borrow)]
    pub username: Cow<'a, str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent: Option<Sent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access: Option<AccessChange>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update: Option<FieldsChange>,
    /// A change nothing can undo (a password reset), said so: `password reset`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub irreversible: Option<String>,
}

/// How a change (or a call that found something already there) ended.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OutcomeRecord<'a> {
    #[serde(borrow)]
    pub run: Cow<'a, str>,
    pub seq: u64,
    #[serde(borrow)]
    pub time: Cow<'a, str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row: Option<u64>,
    #[serde(borrow)]
    pub vendor: Cow<'a, str>,
    #[serde(borrow)]
    pub operation: Cow<'a, str>,
    #[serde(borrow)]
    pub username: Cow<'a, str>,
    #[serde(default)]
    pub id: Option<i64>,
    pub outcome: Outcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proof: Option<Proof>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(default)]
    pub duration_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none", borrow)]
    pub error_kind: Option<Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "Option::is_none", borrow)]
    pub note: Option<Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "Option::is_none", borrow)]
    pub message: Option<Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access: Option<AccessChange>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update: Option<FieldsChange>,
    /// A change nothing can undo (a password reset), said so: `password reset`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub irreversible: Option<String>,
}

impl Record<'_> {
    pub fn run_id(&self) -> &str {
        match self {
            Record::Intent(r) => &r.run,
            Record::Outcome(r) => &r.run,
            Record::Run { run, .. } | Record::Retry { run, .. } | Record::End { run, .. } => run,
        }
    }
}

/// An outcome, as the end-of-run summary and `--json` show it.
#[derive(Clone, Debug, Serialize)]
pub struct Event {
    /// The row of `--each` it belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row: Option<u64>,
    pub vendor: &'static str,
    pub operation: &'static str,
    pub username: String,
    pub id: Option<i64>,
    pub outcome: Outcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proof: Option<Proof>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_kind: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    pub duration_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The vendor's message, scrubbed (failures only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access: Option<AccessChange>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update: Option<FieldsChange>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub irreversible: Option<String>,
}

impl Event {
    pub fn new(
        vendor: &'static str,
        operation: &'static str,
        username: &str,
        outcome: Outcome,
    ) -> Self {
        Event {
            row: current_row(),
            vendor,
            operation,
            username: username.to_string(),
            id: None,
            outcome,
            proof: None,
            error_kind: None,
            status: None,
            duration_ms: 0,
            note: None,
            message: None,
            access: None,
            update: None,
            irreversible: None,
        }
    }

    pub fn irreversible(mut self, what: &str) -> Self {
        self.irreversible = Some(what.to_string());
        self
    }

    pub fn update(mut self, update: FieldsChange) -> Self {
        self.update = Some(update);
        self
    }

    pub fn access(mut self, access: AccessChange) -> Self {
        self.access = Some(access);
        self
    }

    pub fn id(mut self, id: i64) -> Self {
        self.id = Some(id);
        self
    }

    pub fn took(mut self, took: Duration) -> Self {
        self.duration_ms = took.as_millis() as u64;
        self
    }

    pub fn error(mut self, err: &VendorError) -> Self {
        self.error_kind = Some(err.kind.as_str());
        self.status = err.status;
        self.message = Some(err.message.clone());
        self
    }

    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.note = Some(note.into());
        self
    }

    pub fn proof(mut self, proof: Proof) -> Self {
        self.proof = Some(proof);
        self
    }
}
