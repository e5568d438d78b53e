//! What PAM360 does only over SCIM 2.0 (`/scim/v2`, the same token): a user's names and email
//! read and replaced (`PUT` replaces, so read, merge, write), and user groups joined and left
//! with RFC 7644 `PATCH` (ACCESS-FACTS §0.15, §3.3; the PatchOp form is assumed from the RFC).

use reqwest::Method;
use serde_json::{Value as Json, json};

use super::{NAME, Pam360};
use crate::util::lenient::field;
use crate::vendors::access::{Direction, Held};
use crate::vendors::error::{ErrorKind, VendorError};
use crate::vendors::http::{Reply, kind_of_status};

const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

impl Pam360 {
    async fn scim(&self, method: Method, path: &str, body: Option<&Json>, doing: &str) -> Result<Json, VendorError> {
        let url = self.http.url(path, &[]);
        let mut request = self.request(method, url, None);
        if let Some(body) = body {
            request = request.header("Content-Type", "application/scim+json").body(body.to_string());
        }
        let reply = self.http.send(request).await?;
        if !(200..300).contains(&reply.status) {
            return Err(self.scim_error(&reply, doing));
        }
        if reply.body.trim().is_empty() {
            return Ok(Json::Null);
        }
        reply.json(&self.http, "a SCIM answer")
    }

    fn scim_error(&self, reply: &Reply, doing: &str) -> VendorError {
        let detail = serde_json::from_str::<Json>(&reply.body)
            .ok()
            .and_then(|b| field(&b, "detail").and_then(Json::as_str).map(str::to_string))
            .unwrap_or_else(|| self.http.excerpt(&reply.body));
        self.http
            .error(kind_of_status(reply.status), format!("{doing}: HTTP {}: {detail}", reply.status))
            .reply(reply)
    }

    /// The SCIM user named exactly `username`, if there is one.
    pub(super) async fn scim_user(&self, username: &str) -> Result<Option<Json>, VendorError> {
        let filter = format!("userName eq \"{}\"", username.replace('"', "\\\""));
        let mut url = self.http.url("/scim/v2/Users", &[]);
        url.query_pairs_mut().append_pair("filter", &filter);
        let reply = self.http.send(self.request(Method::GET, url, None)).await?;
        if reply.status != 200 {
            return Err(self.scim_error(&reply, &format!("reading user {username} over SCIM")));
        }
        let list: Json = reply.json(&self.http, "a SCIM user list")?;
        Ok(field(&list, "Resources")
            .and_then(Json::as_array)
            .and_then(|r| r.iter().find(|u| field(u, "userName").and_then(Json::as_str) == Some(username)))
            .cloned())
    }

    async fn existing_scim(&self, username: &str) -> Result<Json, VendorError> {
        self.scim_user(username)
            .await?
            .ok_or_else(|| VendorError::new(NAME, ErrorKind::NotFound, format!("there is no user named \"{username}\"")))
    }

    /// The fields `update_user` compares, flat: what the update spec's wire names say.
    pub(super) async fn update_fields(&self, username: &str) -> Result<Option<Json>, VendorError> {
        Ok(self.scim_user(username).await?.map(|u| {
            let name = field(&u, "name").cloned().unwrap_or(Json::Null);
            json!({
                "userName": field(&u, "userName"),
                "givenName": field(&name, "givenName"),
                "familyName": field(&name, "familyName"),
                "email": primary_email(&u),
            })
        }))
    }

    /// Read, merge, `PUT` the whole SCIM user with the fields of `partial` written over it.
    pub(super) async fn put_user(&self, username: &str, partial: &Json) -> Result<(), VendorError> {
        let mut user = self.existing_scim(username).await?;
        let id = field(&user, "id").and_then(|v| v.as_str().map(str::to_string).or_else(|| v.as_i64().map(|i| i.to_string())));
        let Some(id) = id else {
            return Err(self.http.error(ErrorKind::Protocol, format!("the SCIM user {username} has no id")));
        };
        if let Json::Object(fields) = partial {
            for (key, value) in fields {
                match key.as_str() {
                    "givenName" | "familyName" => user["name"][key] = value.clone(),
                    "email" => user["emails"] = json!([{ "value": value, "primary": true, "type": "work" }]),
                    _ => {}
                }
            }
        }
        if user.get("schemas").is_none() {
            user["schemas"] = json!([USER_SCHEMA]);
        }
        self.scim(Method::PUT, &format!("/scim/v2/Users/{id}"), Some(&user), &format!("updating user {username}"))
            .await
            .map(|_| ())
    }

    /// Every SCIM group, with its members.
    async fn groups(&self) -> Result<Vec<Json>, VendorError> {
        let list = self.scim(Method::GET, "/scim/v2/Groups", None, "listing user groups over SCIM").await?;
        Ok(field(&list, "Resources").and_then(Json::as_array).cloned().unwrap_or_default())
    }

    /// The user groups a user is in.
    pub(super) async fn user_groups(&self, username: &str) -> Result<Vec<Held>, VendorError> {
        let user = self.existing_scim(username).await?;
        let id = field(&user, "id").cloned().unwrap_or(Json::Null);
        Ok(self
            .groups()
            .await?
            .iter()
            .filter(|g| has_member(g, &id))
            .map(|g| Held {
                id: field(g, "id").and_then(|v| v.as_str().and_then(|s| s.parse().ok()).or_else(|| v.as_i64())),
                name: field(g, "displayName").and_then(Json::as_str).unwrap_or_default().to_string(),
                kind: "user group".into(),
                level: None,
            })
            .collect())
    }

    /// Whether a user group is named exactly `name`.
    pub(super) async fn group_exists(&self, name: &str) -> Result<(), VendorError> {
        self.group_named(name).await.map(|_| ())
    }

    async fn group_named(&self, name: &str) -> Result<Json, VendorError> {
        let groups = self.groups().await?;
        let names: Vec<&str> = groups.iter().filter_map(|g| field(g, "displayName").and_then(Json::as_str)).collect();
        if let Some(g) = groups.iter().find(|g| field(g, "displayName").and_then(Json::as_str) == Some(name)) {
            return Ok(g.clone());
        }
        Err(VendorError::new(
            NAME,
            ErrorKind::NotFound,
            format!("there is no user group named \"{name}\"{}", crate::util::suggest::did_you_mean(name, names.iter().copied())),
        ))
    }

    /// Join or leave a user group, unless it already is so (`PATCH` with an RFC 7644 PatchOp).
    pub(super) async fn user_group(&self, direction: Direction, username: &str, group: &str) -> Result<bool, VendorError> {
        let user = self.existing_scim(username).await?;
        let id = field(&user, "id").cloned().unwrap_or(Json::Null);
        let found = self.group_named(group).await?;
        if has_member(&found, &id) == (direction == Direction::Grant) {
            return Ok(false);
        }
        let member = id.as_str().map(str::to_string).unwrap_or_else(|| id.to_string());
        let operation = match direction {
            Direction::Grant => json!({ "op": "add", "path": "members", "value": [{ "value": member }] }),
            Direction::Revoke => json!({ "op": "remove", "path": format!("members[value eq \"{member}\"]") }),
        };
        let body = json!({ "schemas": [PATCH_SCHEMA], "Operations": [operation] });
        let group_id = field(&found, "id").map(|v| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())).unwrap_or_default();
        self.scim(Method::PATCH, &format!("/scim/v2/Groups/{group_id}"), Some(&body), &format!("changing the user groups of {username}"))
            .await
            .map(|_| true)
    }
}

fn primary_email(user: &Json) -> Json {
    let emails = field(user, "emails").and_then(Json::as_array).cloned().unwrap_or_default();
    emails
        .iter()
        .find(|e| field(e, "primary").and_then(Json::as_bool) == Some(true))
        .or(emails.first())
        .and_then(|e| field(e, "value").cloned())
        .unwrap_or(Json::Null)
}

/// Whether a SCIM group lists `id` among its members (ids compared as text).
fn has_member(group: &Json, id: &Json) -> bool {
    let text = |v: &Json| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string());
    field(group, "members")
        .and_then(Json::as_array)
        .is_some_and(|m| m.iter().any(|x| field(x, "value").is_some_and(|v| text(v) == text(id))))
}
