//! Applications Manager's user groups (joined and left with `Users/update`) and a user's status
//! (the V3 API), both read from the V3 user list first (ACCESS-FACTS §4.1, §4.3, §4.5).

use reqwest::Method;
use serde_json::Value as Json;

use super::{AppManager, NAME};
use crate::util::lenient::{field, int as lenient_int};
use crate::vendors::access::{Direction, Held};
use crate::vendors::error::{ErrorKind, VendorError};
use crate::vendors::http::kind_of_status;

impl AppManager {
    /// The user as `GET /api/v3/users` lists it (the plain key in `authorization`).
    async fn v3_user(&self, username: &str) -> Result<Json, VendorError> {
        let url = self.http.url("/api/v3/users", &[]);
        let reply = self
            .http
            .send(self.http.request(Method::GET, url).header("authorization", self.apikey.reveal()))
            .await?;
        if reply.status != 200 {
            let message = serde_json::from_str::<Json>(&reply.body)
                .ok()
                .and_then(|b| field(&b, "message").and_then(Json::as_str).map(str::to_string))
                .unwrap_or_else(|| self.http.excerpt(&reply.body));
            return Err(self
                .http
                .error(kind_of_status(reply.status), format!("reading user {username} (V3 API): {message}"))
                .reply(&reply));
        }
        let list: Json = reply.json(&self.http, "a V3 user list")?;
        let users = field(&list, "data").and_then(Json::as_array).ok_or_else(|| {
            self.http.error(ErrorKind::Protocol, format!("expected {{\"data\": [...]}}, got {}", self.http.excerpt(&reply.body)))
        })?;
        users
            .iter()
            .find(|u| field(u, "name").and_then(Json::as_str) == Some(username))
            .cloned()
            .ok_or_else(|| VendorError::new(NAME, ErrorKind::NotFound, format!("there is no user named \"{username}\"")))
    }

    /// The user groups a user is in (`userGroup` entries: names or `{ id, name }`).
    pub(super) async fn user_groups(&self, username: &str) -> Result<Vec<Held>, VendorError> {
        let user = self.v3_user(username).await?;
        let groups = field(&user, "userGroup").and_then(Json::as_array).cloned().unwrap_or_default();
        Ok(groups
            .iter()
            .map(|g| Held {
                id: field(g, "id").and_then(lenient_int),
                name: g.as_str().or_else(|| field(g, "name").and_then(Json::as_str)).unwrap_or_default().to_string(),
                kind: "user group".into(),
                level: None,
            })
            .collect())
    }

    /// Join or leave a user group, unless it already is so: `Users/update` with the user's id.
    pub(super) async fn user_group(&self, direction: Direction, username: &str, group: &str) -> Result<bool, VendorError> {
        let user = self.v3_user(username).await?;
        let holds = self.user_groups(username).await?.iter().any(|g| g.name == group);
        if holds == (direction == Direction::Grant) {
            return Ok(false);
        }
        let param = match direction {
            Direction::Grant => "associateUsergroupName",
            Direction::Revoke => "removeUsergroupName",
        };
        let id = field(&user, "id").and_then(lenient_int).unwrap_or_default();
        let url = self.http.url(&self.path("Users/update"), &[]);
        // Always the user's id: without it the update applies to the API key's owner.
        let form = self.form(vec![("userId", id.to_string()), (param, group.to_string())]);
        let reply = self.http.send(self.http.request(Method::POST, url).form(&form)).await?;
        self.expect_success(&reply, &format!("changing the user groups of {username}"))?;
        Ok(true)
    }

    /// Whether a user group is named exactly `name` (`GET /api/v3/usergroups`).
    pub(super) async fn user_group_exists(&self, name: &str) -> Result<(), VendorError> {
        let url = self.http.url("/api/v3/usergroups", &[]);
        let reply = self
            .http
            .send(self.http.request(Method::GET, url).header("authorization", self.apikey.reveal()))
            .await?;
        if reply.status != 200 {
            return Err(self
                .http
                .error(kind_of_status(reply.status), format!("listing user groups (V3 API): {}", self.http.excerpt(&reply.body)))
                .reply(&reply));
        }
        let list: Json = reply.json(&self.http, "a V3 user group list")?;
        let names: Vec<&str> = field(&list, "data")
            .and_then(Json::as_array)
            .map(|a| a.iter().filter_map(|g| field(g, "name").and_then(Json::as_str)).collect())
            .unwrap_or_default();
        if names.contains(&name) {
            return Ok(());
        }
        Err(VendorError::new(
            NAME,
            ErrorKind::NotFound,
            format!("there is no user group named \"{name}\"{}", crate::util::suggest::did_you_mean(name, names.iter().copied())),
        ))
    }

    /// Whether the user's V3 status is `Active`.
    pub(super) async fn is_active(&self, username: &str) -> Result<bool, VendorError> {
        let user = self.v3_user(username).await?;
        Ok(field(&user, "userStatus").and_then(Json::as_str).is_none_or(|s| s.eq_ignore_ascii_case("active")))
    }

    /// Set the V3 status, unless it already is so: whether anything changed.
    pub(super) async fn set_active(&self, on: bool, username: &str) -> Result<bool, VendorError> {
        let user = self.v3_user(username).await?;
        let active = field(&user, "userStatus").and_then(Json::as_str).is_none_or(|s| s.eq_ignore_ascii_case("active"));
        if active == on {
            return Ok(false);
        }
        let id = field(&user, "id").and_then(lenient_int).unwrap_or_default();
        let url = self.http.url("/api/v3/users", &[&id.to_string(), "status"]);
        // The body's field name is not published: `status` is the simulator's choice too.
        let status = if on { "Active" } else { "InActive" };
        let reply = self
            .http
            .send(self.http.request(Method::PUT, url).header("authorization", self.apikey.reveal()).form(&[("status", status)]))
            .await?;
        match reply.status {
            200 | 204 => Ok(true),
            s => Err(self
                .http
                .error(kind_of_status(s), format!("setting {username} {status}: {}", self.http.excerpt(&reply.body)))
                .reply(&reply)),
        }
    }
}
