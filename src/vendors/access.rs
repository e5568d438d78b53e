//! Access a vendor grants a user (a vault group, a safe, a share): the kinds each vendor declares,
//! what a user holds, and what a grant or revoke came to.

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

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
    /// The names of the target's parts as the functions take them (`["safe"]`, `["resource",
    /// "account"]`), joined by `/` into the target the journal keeps; the first is the key of
    /// the data form (`#{ safe: … }`).
    pub target: &'static [&'static str],
    /// What the functions call the user they change (`member` for a safe, which a group can be).
    pub who: &'static str,
    /// Whether the functions take the target before the user (`add_safe_member(safe, member,
    /// access)`), as the vendor's own words put it.
    pub target_first: bool,
    /// The level a grant gives (a safe's permissions, a share's level); `None` for membership.
    pub level: Option<&'static Level>,
    /// A function that changes the level of an access the user already has, and fails when
    /// the user has none (`update_safe_member`).
    pub update_fn: Option<&'static str>,
    /// Whether `list_fn` lists the target's members (`safe_members(safe)`) rather than what a
    /// user holds; empty `list_fn`: the vendor has no way to read it.
    pub lists_members: bool,
}

/// A membership by name, taken as `fn(user, group)`: what most kinds are, spelled once.
pub const MEMBERSHIP: AccessKind = AccessKind {
    key: "",
    noun: "",
    grant_fn: "",
    revoke_fn: "",
    list_fn: "",
    doc: "",
    starts_on: false,
    target: &[],
    who: "user",
    target_first: false,
    level: None,
    update_fn: None,
    lists_members: false,
};

/// The level of access a grant gives, declared by the vendor: how scripts give it, how the
/// journal keeps it (the vendor's wire form) and how messages show it.
pub struct Level {
    /// The name of the argument (`access`, `level`) and what it takes, for the docs.
    pub param: &'static str,
    pub doc: &'static str,
    /// The keys of the data form that belong to the level (`preset`, `permissions`…).
    pub keys: &'static [&'static str],
    /// The names a level is given by (preset names, share levels), for completion.
    pub names: &'static [&'static str],
    /// The wire form of a level a script gave: a name, or a map of the `keys`.
    pub parse: fn(&rhai::Dynamic) -> Result<Json, String>,
    /// The level in a few words (`use`, `view`).
    pub show: fn(&Json) -> String,
    /// Whether two levels are the same access (what a grant compares before writing).
    pub same: fn(&Json, &Json) -> bool,
}

/// What a user holds of an access with a level, read before it is changed.
#[derive(Clone, Debug, PartialEq)]
pub enum Holding {
    No,
    Yes(Json),
    /// The vendor has no way to read it (PAM360's shares): the change is sent regardless.
    Unknown,
}

impl AccessKind {
    /// How many arguments the grant function takes (the user, the target's parts, the level).
    pub fn grant_arity(&self) -> usize {
        1 + self.target_parts() + usize::from(self.level.is_some())
    }

    pub fn revoke_arity(&self) -> usize {
        1 + self.target_parts()
    }

    /// A membership's target is one name unless the kind says otherwise.
    pub fn target_parts(&self) -> usize {
        self.target.len().max(1)
    }

    /// The key of the data form (`#{ group: … }`).
    pub fn data_key(&self) -> &'static str {
        self.target.first().copied().unwrap_or(self.key)
    }

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
    /// The level of an access with one (a safe member's permissions, wire form).
    pub level: Option<Json>,
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
    /// Hand what a user owns to another user (PAM360, before a leaver is deleted).
    TransferAccountabilities,
}

impl Lifecycle {
    pub fn function(self) -> &'static str {
        match self {
            Lifecycle::Activate => "activate_user",
            Lifecycle::ResetPassword => "reset_password",
            Lifecycle::TransferAccountabilities => "transfer_accountabilities",
        }
    }

    /// What the journal and undo call it.
    pub fn what(self) -> &'static str {
        match self {
            Lifecycle::Activate => "suspension cleared",
            Lifecycle::ResetPassword => "password reset",
            Lifecycle::TransferAccountabilities => "accountabilities transferred",
        }
    }
}

/// The second argument of a lifecycle call, where it takes one.
#[derive(Clone)]
pub enum LifecycleArg {
    Password(crate::util::secret::Secret),
    /// The user that receives (`transfer_accountabilities`).
    User(String),
}
