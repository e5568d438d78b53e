//! CyberArk's access and lifecycle calls: vault group membership, enable and disable, and the
//! read-merge-write update (ACCESS-FACTS §1.1, §1.3).

use reqwest::Method;
use serde_json::{Value as Json, json};

use super::{ALREADY_MEMBER, CyberArk, NAME, READ_ONLY};
use crate::util::lenient::{bool as lenient_bool_value, field, int as lenient_int};
use crate::vendors::access::{Direction, Held};
use crate::util::secret::Secret;
use crate::vendors::error::{ErrorKind, VendorError};

impl CyberArk {
    /// The id of the vault group named exactly `name` (PVWA's `search` matches words).
    pub(super) async fn group_id(&self, name: &str) -> Result<i64, VendorError> {
        let mut url = self.http.url("/PasswordVault/API/UserGroups", &[]);
        url.query_pairs_mut().append_pair("search", name);
        let reply = self.call(Method::GET, url, None).await?;
        if reply.status != 200 {
            return Err(self.error(&reply, &format!("looking up vault group {name}")));
        }
        let list: Json = reply.json(&self.http, "a group list")?;
        let groups = field(&list, "value").and_then(Json::as_array).ok_or_else(|| {
            self.http.error(
                ErrorKind::Protocol,
                format!("expected {{\"value\": [...]}}, got {}", self.http.excerpt(&reply.body)),
            )
        })?;
        fn named(g: &Json) -> Option<&str> {
            field(g, "groupName").and_then(Json::as_str)
        }
        if let Some(id) = groups
            .iter()
            .find(|g| named(g) == Some(name))
            .and_then(|g| field(g, "id").and_then(lenient_int))
        {
            return Ok(id);
        }
        let close = groups
            .iter()
            .filter_map(named)
            .find(|n| n.eq_ignore_ascii_case(name))
            .map(|n| format!("; did you mean \"{n}\"? (names are matched exactly)"))
            .unwrap_or_default();
        Err(VendorError::new(
            NAME,
            ErrorKind::NotFound,
            format!("there is no vault group named \"{name}\"{close}"),
        ))
    }

    /// Add or remove a vault group member; whether anything changed.
    pub(super) async fn membership(&self, direction: Direction, username: &str, group: &str) -> Result<bool, VendorError> {
        let id = self.group_id(group).await?.to_string();
        let doing = match direction {
            Direction::Grant => format!("adding {username} to vault group {group}"),
            Direction::Revoke => format!("removing {username} from vault group {group}"),
        };
        let reply = match direction {
            Direction::Grant => {
                let url = self.http.url("/PasswordVault/API/UserGroups", &[&id, "Members", ""]);
                let body = json!({ "memberId": username, "memberType": "Vault" });
                self.call(Method::POST, url, Some(&body)).await?
            }
            Direction::Revoke => {
                // A name with a dot needs the trailing slash (IIS answers HTML 404 without it).
                let url = self.http.url("/PasswordVault/API/UserGroups", &[&id, "Members", username, ""]);
                self.call(Method::DELETE, url, None).await?
            }
        };
        let code = Self::code_of(&reply);
        match (direction, reply.status) {
            (Direction::Grant, 200 | 201) | (Direction::Revoke, 200 | 204) => Ok(true),
            (Direction::Grant, 409) if code.as_deref().is_some_and(|c| ALREADY_MEMBER.contains(&c)) => Ok(false),
            // Not a member (PVWA's code for it is not published; the simulator answers ITATS003E).
            (Direction::Revoke, 404) => Ok(false),
            _ => Err(self.error(&reply, &doing)),
        }
    }

    /// The id and the Gen2 object of the user named exactly `username`.
    pub(super) async fn user_json(&self, username: &str) -> Result<(i64, Json), VendorError> {
        let Some(id) = self.search(username).await? else {
            return Err(VendorError::new(
                NAME,
                ErrorKind::NotFound,
                format!("there is no user named \"{username}\""),
            ));
        };
        let url = self.http.url("/PasswordVault/API/Users", &[&id.to_string(), ""]);
        let reply = self.call(Method::GET, url, None).await?;
        if reply.status != 200 {
            return Err(self.error(&reply, &format!("reading user {username}")));
        }
        Ok((id, reply.json(&self.http, "a user")?))
    }

    /// Read, merge, write: PVWA's `PUT` replaces the whole user, so the body is the user as it
    /// is with the changes written over it, less the fields PVWA sets itself (as psPAS does).
    pub(super) async fn put_fields(&self, username: &str, partial: &Json) -> Result<(), VendorError> {
        let (id, current) = self.user_json(username).await?;
        let mut body = crate::vendors::update::merged(&current, partial);
        if let Json::Object(fields) = &mut body {
            fields.retain(|k, _| !READ_ONLY.iter().any(|r| r.eq_ignore_ascii_case(k)));
        }
        let url = self.http.url("/PasswordVault/API/Users", &[&id.to_string(), ""]);
        let reply = self.call(Method::PUT, url, Some(&body)).await?;
        match reply.status {
            200 | 204 => Ok(()),
            _ => Err(self.error(&reply, &format!("updating user {username}"))),
        }
    }

    /// Enable or disable a user, unless it already is: whether anything changed.
    pub(super) async fn switch_enabled(&self, on: bool, username: &str) -> Result<bool, VendorError> {
        let (id, user) = self.user_json(username).await?;
        let enabled = field(&user, "enableUser").and_then(lenient_bool_value).unwrap_or(true);
        if enabled == on {
            return Ok(false);
        }
        let action = if on { "enable" } else { "disable" };
        let url = self.http.url("/PasswordVault/API/Users", &[&id.to_string(), action, ""]);
        let reply = self.call(Method::POST, url, None).await?;
        match reply.status {
            200 | 204 => Ok(true),
            _ => Err(self.error(&reply, &format!("{action} user {username}"))),
        }
    }

    /// The vault groups a user is in, from its `groupsMembership`.
    pub(super) async fn memberships(&self, username: &str) -> Result<Vec<Held>, VendorError> {
        let (_, user) = self.user_json(username).await?;
        let groups = field(&user, "groupsMembership").and_then(Json::as_array).cloned().unwrap_or_default();
        Ok(groups
            .iter()
            .map(|g| Held {
                id: field(g, "groupID").and_then(lenient_int),
                name: field(g, "groupName").and_then(Json::as_str).unwrap_or_default().to_string(),
                kind: field(g, "groupType").and_then(Json::as_str).unwrap_or("Vault").to_string(),
                level: None,
            })
            .collect())
    }

    /// `POST Users/{id}/Activate`, unless the user is not suspended: whether it was.
    pub(super) async fn activate(&self, username: &str) -> Result<bool, VendorError> {
        let (id, user) = self.user_json(username).await?;
        let suspended = field(&user, "suspended").and_then(lenient_bool_value).unwrap_or(false);
        if !suspended {
            return Ok(false);
        }
        let url = self.http.url("/PasswordVault/API/Users", &[&id.to_string(), "Activate"]);
        let reply = self.call(Method::POST, url, None).await?;
        match reply.status {
            200 | 204 => Ok(true),
            _ => Err(self.error(&reply, &format!("activating user {username}"))),
        }
    }

    /// `POST Users/{id}/ResetPassword/` with the new password (psPAS's body; 200 or 204).
    pub(super) async fn set_password(&self, username: &str, password: &Secret) -> Result<(), VendorError> {
        let (id, _) = self.user_json(username).await?;
        let url = self.http.url("/PasswordVault/API/Users", &[&id.to_string(), "ResetPassword", ""]);
        let body = json!({ "id": id, "newPassword": password.reveal() });
        let reply = self.call(Method::POST, url, Some(&body)).await?;
        match reply.status {
            200 | 204 => Ok(()),
            _ => Err(self.error(&reply, &format!("resetting the password of {username}"))),
        }
    }
}
