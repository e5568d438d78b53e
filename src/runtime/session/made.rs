//! What a run made, for rollback (accounts it created, access it changed), and what a dry run
//! would have made (the plan).

use std::sync::Arc;

use super::Session;
use crate::journal::{Altered, current_row};
use crate::vendors::Ops;
use crate::vendors::schema::Request;

/// An account this run created, for rollback.
pub struct CreatedAccount {
    /// The row of `--each` that created it.
    pub row: Option<u64>,
    pub vendor: &'static str,
    pub username: String,
    pub id: i64,
    /// How the run knows it made this account; rollback leaves one known only by name.
    pub proof: crate::journal::Proof,
    pub ops: Arc<dyn Ops>,
}

/// A change this run made to an existing user, for rollback: reversed by its undo.
pub struct ChangeMade {
    pub row: Option<u64>,
    pub vendor: &'static str,
    pub username: String,
    pub what: Altered,
    pub ops: Arc<dyn Ops>,
}

/// A change a dry run would have made.
#[derive(Clone, Debug)]
pub struct Planned {
    /// The row of `--each` that planned it.
    pub row: Option<u64>,
    pub vendor: &'static str,
    /// `create` or `delete`.
    pub action: &'static str,
    pub username: String,
    pub id: i64,
    /// The request (creates only).
    pub request: Option<Request>,
    /// What a grant or revoke is of: the group's (safe's…) name.
    pub target: Option<String>,
    /// The level a grant gives (wire form), for later reads of the same dry run.
    pub level: Option<serde_json::Value>,
    /// The level in a few words, for the plan (`use`).
    pub detail: Option<String>,
}

impl Planned {
    /// The request as the plan shows it, secrets masked; `null` for a delete.
    pub fn fields(&self) -> serde_json::Value {
        self.request
            .as_ref()
            .map_or(serde_json::Value::Null, Request::to_display_json)
    }
}

impl Session {
    pub fn remember_created(&self, account: CreatedAccount) {
        if let Ok(mut c) = self.created.lock() {
            c.push(account);
        }
    }

    pub fn forget_created(&self, vendor: &str, id: i64) {
        if let Ok(mut c) = self.created.lock() {
            c.retain(|a| !(a.vendor == vendor && a.id == id));
        }
    }

    /// What this thread's row (or, outside `--each`, the run) created and has not deleted,
    /// newest last; taken off the list.
    pub fn take_created(&self) -> Vec<CreatedAccount> {
        take_row(&self.created, |a| a.row)
    }

    pub fn remember_change(&self, change: ChangeMade) {
        if let Ok(mut c) = self.changes.lock() {
            c.push(change);
        }
    }

    /// What this thread's row (or the run) changed of existing users and has not reversed,
    /// newest last; taken off the list.
    pub fn take_changes(&self) -> Vec<ChangeMade> {
        take_row(&self.changes, |c| c.row)
    }

    pub fn plan(&self, entry: Planned) {
        if let Ok(mut p) = self.plan.lock() {
            p.push(entry);
        }
    }

    /// Forget what this thread's row planned (after `--each` checks a row).
    pub fn forget_row_plan(&self) {
        let row = current_row();
        if let Ok(mut p) = self.plan.lock() {
            p.retain(|e| e.row != row);
        }
    }

    pub fn planned(&self) -> Vec<Planned> {
        self.plan.lock().map(|p| p.clone()).unwrap_or_default()
    }

    /// A planned create of this user not planned away since, for dry-run lookups.
    pub fn planned_user(&self, vendor: &str, username: &str) -> Option<Planned> {
        let plan = self.plan.lock().ok()?;
        let row = current_row();
        let last = plan
            .iter()
            .rev()
            .filter(|p| matches!(p.action, "create" | "delete"))
            .find(|p| p.row == row && p.vendor == vendor && p.username == username)?;
        (last.action == "create").then(|| last.clone())
    }

    /// The targets of `grant_fn` and `revoke_fn` this row's plan has for a user, in order.
    pub fn planned_access(
        &self,
        vendor: &str,
        username: &str,
        grant_fn: &str,
        revoke_fn: &str,
    ) -> Vec<(bool, String, Option<serde_json::Value>)> {
        let Ok(plan) = self.plan.lock() else {
            return Vec::new();
        };
        let row = current_row();
        plan.iter()
            .filter(|p| p.row == row && p.vendor == vendor && p.username == username)
            .filter(|p| p.action == grant_fn || p.action == revoke_fn)
            .filter_map(|p| Some((p.action == grant_fn, p.target.clone()?, p.level.clone())))
            .collect()
    }
}

/// The entries of this thread's row (all of them outside `--each`), taken off `list`.
fn take_row<T>(list: &std::sync::Mutex<Vec<T>>, row_of: fn(&T) -> Option<u64>) -> Vec<T> {
    let row = current_row();
    let Ok(mut all) = list.lock() else {
        return Vec::new();
    };
    let (mine, rest) = std::mem::take(&mut *all)
        .into_iter()
        .partition(|e| row.is_none() || row_of(e) == row);
    *all = rest;
    mine
}
