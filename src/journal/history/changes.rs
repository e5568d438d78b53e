//! The access changes a run made (a user put in a group or taken out), and whether they still
//! hold: what `onboard undo` reverses besides the accounts.

use serde::{Deserialize, Serialize};

use super::{History, RunSummary};
use crate::journal::{AccessChange, FieldsChange, IntentRecord, Outcome, OutcomeRecord};

/// Whether an access change is still in force.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ChangeState {
    Applied,
    /// Announced, and nobody saw the answer: it may hold. Reversing it is safe either way.
    Unknown,
    /// Reversed later: by the run's rollback or an undo.
    Undone {
        by: String,
    },
}

/// What a change to an existing user altered.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Altered {
    Access(AccessChange),
    Update(FieldsChange),
    /// A change nothing can undo (a password reset), kept so that undo can say so.
    Irreversible(String),
}

impl Altered {
    /// What a record is about, if it alters an existing user.
    pub fn of(
        access: &Option<AccessChange>,
        update: &Option<FieldsChange>,
        irreversible: &Option<String>,
    ) -> Option<Altered> {
        match (access, update, irreversible) {
            (Some(a), _, _) => Some(Altered::Access(a.clone())),
            (None, Some(u), _) => Some(Altered::Update(u.clone())),
            (None, None, Some(what)) => Some(Altered::Irreversible(what.clone())),
            (None, None, None) => None,
        }
    }

    /// Whether `reversal` (done by an undo or rollback) reverses this.
    fn reversed_by(&self, reversal: &Altered) -> bool {
        match (self, reversal) {
            (Altered::Access(a), Altered::Access(r)) => {
                a.kind == r.kind && a.target == r.target && r.direction == a.inverse_direction()
            }
            (Altered::Update(_), Altered::Update(_)) => true,
            _ => false,
        }
    }
}

/// One change a run made to an existing user: access given or taken, fields written.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Change {
    pub vendor: String,
    pub username: String,
    #[serde(flatten)]
    pub what: Altered,
    pub seq: u64,
    /// Where in the journal it was announced: the order of events across runs.
    pub at: u64,
    #[serde(flatten)]
    pub state: ChangeState,
}

impl RunSummary {
    /// The changes to users that may still hold and can be reversed, newest first.
    pub fn changes_left(&self) -> impl Iterator<Item = &Change> {
        self.changes
            .iter()
            .rev()
            .filter(|c| !matches!(c.state, ChangeState::Undone { .. }))
            .filter(|c| !matches!(c.what, Altered::Irreversible(_)))
    }

    /// The changes nothing can undo (password resets), newest first.
    pub fn irreversible(&self) -> impl Iterator<Item = &Change> {
        self.changes
            .iter()
            .rev()
            .filter(|c| matches!(c.what, Altered::Irreversible(_)))
    }
}

/// Operations that reverse a change rather than make one.
fn reverses(operation: &str) -> bool {
    matches!(operation, "rollback" | "undo")
}

impl History {
    /// A change to an existing user announced by run `ri`.
    pub(super) fn change_announced(
        &mut self,
        ri: usize,
        at: u64,
        i: &IntentRecord<'_>,
        what: Altered,
    ) {
        if reverses(&i.operation) || self.runs[ri].command == "undo" {
            return;
        }
        self.runs[ri].changes.push(Change {
            vendor: i.vendor.to_string(),
            username: i.username.to_string(),
            what,
            seq: i.seq,
            at,
            state: ChangeState::Unknown,
        });
    }

    /// How a change of run `ri` ended.
    pub(super) fn change_ended(
        &mut self,
        ri: usize,
        at: u64,
        o: &OutcomeRecord<'_>,
        what: Altered,
    ) {
        let reversal = reverses(&o.operation) || self.runs[ri].command == "undo";
        match o.outcome {
            // A reversal that found it already so leaves it reversed all the same.
            Outcome::Granted | Outcome::Revoked | Outcome::Updated | Outcome::Unchanged
                if reversal =>
            {
                let by = if self.runs[ri].command == "undo" {
                    format!("undo {}", self.runs[ri].run)
                } else {
                    "rollback".to_string()
                };
                self.undone(o, &what, by);
            }
            Outcome::Granted | Outcome::Revoked | Outcome::Updated => {
                match self.own_change(ri, o.seq) {
                    Some(ci) => self.runs[ri].changes[ci].state = ChangeState::Applied,
                    None => self.runs[ri].changes.push(Change {
                        vendor: o.vendor.to_string(),
                        username: o.username.to_string(),
                        what,
                        seq: o.seq,
                        at,
                        state: ChangeState::Applied,
                    }),
                }
            }
            Outcome::Unchanged | Outcome::Failed => {
                if let Some(ci) = self.own_change(ri, o.seq) {
                    self.runs[ri].changes.remove(ci);
                }
                if o.outcome == Outcome::Failed {
                    self.runs[ri].failed += 1;
                }
            }
            _ => {}
        }
    }

    fn own_change(&self, ri: usize, seq: u64) -> Option<usize> {
        self.runs[ri].changes.iter().rposition(|c| c.seq == seq)
    }

    /// A reversal marks the newest change it reverses, in any run, as undone.
    fn undone(&mut self, o: &OutcomeRecord<'_>, reversal: &Altered, by: String) {
        let hit = self.runs.iter_mut().rev().find_map(|run| {
            run.changes.iter_mut().rev().find(|c| {
                c.vendor == o.vendor
                    && c.username == o.username
                    && c.what.reversed_by(reversal)
                    && !matches!(c.state, ChangeState::Undone { .. })
            })
        });
        match hit {
            Some(c) => c.state = ChangeState::Undone { by },
            None => self.foreign += 1,
        }
    }
}
