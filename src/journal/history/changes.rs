//! The access changes a run made (a user put in a group or taken out), and whether they still
//! hold: what `onboard undo` reverses besides the accounts.

use serde::{Deserialize, Serialize};

use super::{History, RunSummary};
use crate::journal::{AccessChange, IntentRecord, Outcome, OutcomeRecord};

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

/// One access change of a run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Change {
    pub vendor: String,
    pub username: String,
    pub access: AccessChange,
    pub seq: u64,
    /// Where in the journal it was announced: the order of events across runs.
    pub at: u64,
    #[serde(flatten)]
    pub state: ChangeState,
}

impl RunSummary {
    /// The access changes that may still hold, newest first.
    pub fn changes_left(&self) -> impl Iterator<Item = &Change> {
        self.changes
            .iter()
            .rev()
            .filter(|c| !matches!(c.state, ChangeState::Undone { .. }))
    }
}

/// Operations that reverse a change rather than make one.
fn reverses(operation: &str) -> bool {
    matches!(operation, "rollback" | "undo")
}

impl History {
    /// An access change announced by run `ri`.
    pub(super) fn change_announced(
        &mut self,
        ri: usize,
        at: u64,
        i: &IntentRecord<'_>,
        access: &AccessChange,
    ) {
        if reverses(&i.operation) || self.runs[ri].command == "undo" {
            return;
        }
        self.runs[ri].changes.push(Change {
            vendor: i.vendor.to_string(),
            username: i.username.to_string(),
            access: access.clone(),
            seq: i.seq,
            at,
            state: ChangeState::Unknown,
        });
    }

    /// How an access change of run `ri` ended.
    pub(super) fn change_ended(
        &mut self,
        ri: usize,
        at: u64,
        o: &OutcomeRecord<'_>,
        access: &AccessChange,
    ) {
        let reversal = reverses(&o.operation) || self.runs[ri].command == "undo";
        match o.outcome {
            // A reversal that found it already so leaves it reversed all the same.
            Outcome::Granted | Outcome::Revoked | Outcome::Unchanged if reversal => {
                let by = if self.runs[ri].command == "undo" {
                    format!("undo {}", self.runs[ri].run)
                } else {
                    "rollback".to_string()
                };
                self.undone(o, access, by);
            }
            Outcome::Granted | Outcome::Revoked => match self.own_change(ri, o.seq) {
                Some(ci) => self.runs[ri].changes[ci].state = ChangeState::Applied,
                None => self.runs[ri].changes.push(Change {
                    vendor: o.vendor.to_string(),
                    username: o.username.to_string(),
                    access: access.clone(),
                    seq: o.seq,
                    at,
                    state: ChangeState::Applied,
                }),
            },
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
    fn undone(&mut self, o: &OutcomeRecord<'_>, access: &AccessChange, by: String) {
        let reversed = access.direction.inverse();
        let hit = self.runs.iter_mut().rev().find_map(|run| {
            run.changes.iter_mut().rev().find(|c| {
                c.vendor == o.vendor
                    && c.username == o.username
                    && c.access.kind == access.kind
                    && c.access.target == access.target
                    && c.access.direction == reversed
                    && !matches!(c.state, ChangeState::Undone { .. })
            })
        });
        match hit {
            Some(c) => c.state = ChangeState::Undone { by },
            None => self.foreign += 1,
        }
    }
}
