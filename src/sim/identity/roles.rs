//! Identity roles as the simulator keeps them: members listed, added and removed by login,
//! a role named by its id in every call but the lookup (ACCESS-FACTS §2.5).

use serde_json::{Value as Json, json};

use super::{IdentitySim, failed, ok, text};

/// The roles every simulator starts with (the banner lists them).
pub(super) const SEEDED: &[&str] = &["System Administrator", "Privilege Cloud Users", "NOC Engineers", "Auditors"];

pub(super) struct Role {
    pub id: String,
    pub name: String,
    /// Logins, in the order they were added.
    pub members: Vec<String>,
}

pub(super) fn seeded() -> Vec<Role> {
    SEEDED
        .iter()
        .enumerate()
        .map(|(i, name)| Role {
            id: format!("role_{:04}_{}", i + 1, name.to_ascii_lowercase().replace(' ', "_")),
            name: name.to_string(),
            members: Vec::new(),
        })
        .collect()
}

impl IdentitySim {
    fn role_at(&self, body: &Json) -> Option<usize> {
        let id = text(body, "Name");
        self.roles.iter().position(|r| r.id == id)
    }

    /// The logins of a body's `Users`, each an existing user's, as the vault spells them.
    fn logins(&self, body: &Json) -> Result<Vec<String>, String> {
        let given = crate::util::lenient::field(body, "Users").and_then(Json::as_array).cloned().unwrap_or_default();
        given
            .iter()
            .map(|u| {
                let name = u.as_str().unwrap_or_default();
                self.by_id(name)
                    .and_then(|id| self.users.get(&id))
                    .map(|u| u.login.clone())
                    .ok_or_else(|| format!("User {name} not found."))
            })
            .collect()
    }

    pub(super) fn role_members(&self, body: &Json) -> super::SimResponse {
        let Some(at) = self.role_at(body) else {
            return failed("Role not found.");
        };
        let rows: Vec<Json> = self.roles[at]
            .members
            .iter()
            .map(|m| json!({ "Row": { "Name": m, "Type": "User" } }))
            .collect();
        ok(json!({ "Count": rows.len(), "Results": rows }))
    }

    pub(super) fn add_to_role(&mut self, body: &Json) -> super::SimResponse {
        let Some(at) = self.role_at(body) else {
            return failed("Role not found.");
        };
        let logins = match self.logins(body) {
            Ok(l) => l,
            Err(e) => return failed(&e),
        };
        for login in logins {
            if !self.roles[at].members.iter().any(|m| m.eq_ignore_ascii_case(&login)) {
                self.roles[at].members.push(login);
                self.role_changes += 1;
            }
        }
        ok(Json::Null)
    }

    pub(super) fn remove_from_role(&mut self, body: &Json) -> super::SimResponse {
        let Some(at) = self.role_at(body) else {
            return failed("Role not found.");
        };
        let logins = match self.logins(body) {
            Ok(l) => l,
            Err(e) => return failed(&e),
        };
        self.roles[at].members.retain(|m| !logins.iter().any(|l| l.eq_ignore_ascii_case(m)));
        self.role_changes += 1;
        ok(Json::Null)
    }

    /// A user's roles (`GetUsersRolesAndAdministrativeRights?ID=`).
    pub(super) fn roles_of(&self, id: &str) -> super::SimResponse {
        let Some(user) = self.by_id(id).and_then(|i| self.users.get(&i)) else {
            return failed("User not found.");
        };
        let rows: Vec<Json> = self
            .roles
            .iter()
            .filter(|r| r.members.iter().any(|m| m.eq_ignore_ascii_case(&user.login)))
            .map(|r| json!({ "Row": { "ID": r.id, "Name": r.name } }))
            .collect();
        ok(json!({ "Count": rows.len(), "Results": rows }))
    }

    pub(super) fn leave_roles(&mut self, login: &str) {
        for r in &mut self.roles {
            r.members.retain(|m| !m.eq_ignore_ascii_case(login));
        }
    }
}
