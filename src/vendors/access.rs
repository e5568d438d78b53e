//! Access a vendor grants a user (a vault group, a safe, a share): the kinds each vendor declares,
//! what a user holds, and what a grant or revoke came to.

use serde::{Deserialize, Serialize};

/// A kind of access, declared in a vendor's spec: its script functions and docs come from it.
pub struct AccessKind {
    /// The key of `V::grant(user, #{ KEY: … })` and of the journal's records (`group`).
    pub key: &'static str,
    /// What the target is, for messages and docs (`vault group`).
    pub noun: &'static str,
    /// The script functions: grant, revoke, and list what a user holds.
    pub grant_fn: &'static str,
    pub revoke_fn: &'static str,
    pub list_fn: &'static str,
    pub doc: &'static str,
    /// Whether a new user holds it (a state like `enabled`); an access a new user never does.
    pub starts_on: bool,
}

impl AccessKind {
    /// The function that does `direction`.
    pub fn function(&self, direction: Direction) -> &'static str {
        match direction {
            Direction::Grant => self.grant_fn,
            Direction::Revoke => self.revoke_fn,
        }
    }
}

/// Whether a call gives access or takes it away.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Grant,
    Revoke,
}

impl Direction {
    /// What undoes it.
    pub fn inverse(self) -> Direction {
        match self {
            Direction::Grant => Direction::Revoke,
            Direction::Revoke => Direction::Grant,
        }
    }
}

/// One access a user holds, as `V::groups(user)` lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Held {
    pub id: Option<i64>,
    pub name: String,
    /// The vendor's word for its type (`Vault`, `Directory`).
    pub kind: String,
}

/// What a grant or revoke came to, as scripts see it.
#[derive(Clone, Debug)]
pub struct Grant {
    pub vendor: &'static str,
    pub operation: &'static str,
    pub user: String,
    /// The group (safe, account…), with its noun: `vault group NOC Operators`.
    pub target: String,
    /// False when the access was already so: nothing was sent that changed anything.
    pub changed: bool,
    pub dry_run: bool,
}

impl Grant {
    /// `Grant { cyberark add_to_group jdoe: vault group "NOC", changed: true }`.
    pub fn summary(&self) -> String {
        let dry = if self.dry_run { ", dry_run: true" } else { "" };
        format!(
            "Grant {{ {} {} {}: {}, changed: {}{dry} }}",
            self.vendor, self.operation, self.user, self.target, self.changed
        )
    }
}

/// The kind of access `key` of a vendor's `kinds`.
pub fn kind<'a>(kinds: &'a [AccessKind], key: &str) -> Option<&'a AccessKind> {
    kinds.iter().find(|k| k.key == key)
}

/// Lifecycle calls nothing can undo, declared by the vendors that have them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lifecycle {
    /// Clear a user's suspension (too many failed logons); not a re-enable.
    Activate,
    /// Set a user's password to a Secret.
    ResetPassword,
}

impl Lifecycle {
    pub fn function(self) -> &'static str {
        match self {
            Lifecycle::Activate => "activate_user",
            Lifecycle::ResetPassword => "reset_password",
        }
    }

    /// What the journal and undo call it.
    pub fn what(self) -> &'static str {
        match self {
            Lifecycle::Activate => "suspension cleared",
            Lifecycle::ResetPassword => "password reset",
        }
    }
}
