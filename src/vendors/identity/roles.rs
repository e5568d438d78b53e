//! Identity roles (ACCESS-FACTS §2.5): found by exact name, members listed, added and removed
//! by login with `SaasManage`'s calls, whose `Name` is the role's id.
//!
//! Looking a role up by name with a `Redrock/query` of the Role table is this client's choice
//! (the SDKs use `UserMgmt/DirectoryServiceQuery`, whose body no source spells out).

use serde_json::{Value as Json, json};

use super::{Identity, NAME};
use crate::util::lenient::field;
use crate::vendors::access::{Direction, Held};
use crate::vendors::error::{ErrorKind, VendorError};

fn rows(result: &Json) -> Vec<Json> {
    field(result, "Results")
        .and_then(Json::as_array)
        .map(|r| r.iter().filter_map(|x| field(x, "Row").cloned()).collect())
        .unwrap_or_default()
}

impl Identity {
    /// The id of the role named exactly `name`.
    pub(super) async fn role_id(&self, name: &str) -> Result<String, VendorError> {
        let script = format!("Select ID, Name from Role WHERE Name='{}'", name.replace('\'', "''"));
        let result = self.call("/Redrock/query", &json!({ "Script": script }), &format!("looking up role {name}")).await?;
        let found = rows(&result);
        if let Some(id) = found
            .iter()
            .find(|r| field(r, "Name").and_then(Json::as_str) == Some(name))
            .and_then(|r| field(r, "ID").and_then(Json::as_str))
        {
            return Ok(id.to_string());
        }
        let close = found
            .iter()
            .filter_map(|r| field(r, "Name").and_then(Json::as_str))
            .find(|n| n.eq_ignore_ascii_case(name))
            .map(|n| format!("; did you mean \"{n}\"? (names are matched exactly)"))
            .unwrap_or_default();
        Err(VendorError::new(NAME, ErrorKind::NotFound, format!("there is no role named \"{name}\"{close}")))
    }

    /// The logins of a role's members.
    async fn members(&self, role: &str, id: &str) -> Result<Vec<String>, VendorError> {
        let result = self.call("/Roles/GetRoleMembers", &json!({ "Name": id }), &format!("listing the members of role {role}")).await?;
        Ok(rows(&result)
            .iter()
            .filter(|r| field(r, "Type").and_then(Json::as_str).is_none_or(|t| t.eq_ignore_ascii_case("user")))
            .filter_map(|r| field(r, "Name").and_then(Json::as_str).map(str::to_string))
            .collect())
    }

    /// Add or remove a role member, unless it already is so: whether anything changed.
    pub(super) async fn membership(&self, direction: Direction, username: &str, role: &str) -> Result<bool, VendorError> {
        let login = self.login(username).await?;
        let id = self.role_id(role).await?;
        let holds = self.members(role, &id).await?.iter().any(|m| m.eq_ignore_ascii_case(&login));
        if holds == (direction == Direction::Grant) {
            return Ok(false);
        }
        let (path, doing) = match direction {
            Direction::Grant => ("/SaasManage/AddUsersAndGroupsToRole", format!("adding {login} to role {role}")),
            Direction::Revoke => ("/SaasManage/RemoveUsersAndGroupsFromRole", format!("removing {login} from role {role}")),
        };
        self.call(path, &json!({ "Name": id, "Users": [login] }), &doing).await.map(|_| true)
    }

    /// The roles a user is in (`UserMgmt/GetUsersRolesAndAdministrativeRights`).
    pub(super) async fn roles_of(&self, username: &str) -> Result<Vec<Held>, VendorError> {
        let row = self.existing(username).await?;
        let uuid = field(&row, "ID").and_then(Json::as_str).unwrap_or_default().to_string();
        let body = json!({ "Args": { "PageNumber": 1, "PageSize": 1000, "Limit": 1000, "Caching": -1 } });
        let result = self.call_query("/UserMgmt/GetUsersRolesAndAdministrativeRights", &[("ID", &uuid)], &body, &format!("listing the roles of {username}")).await?;
        Ok(rows(&result)
            .iter()
            .map(|r| Held {
                id: None,
                name: field(r, "Name").or_else(|| field(r, "RoleName")).and_then(Json::as_str).unwrap_or_default().to_string(),
                kind: "role".into(),
                level: None,
            })
            .collect())
    }
}
