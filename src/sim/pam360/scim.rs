//! PAM360's SCIM 2.0 (`/scim/v2`): users read by filter or id and replaced with `PUT` (what it
//! leaves out of the names and emails is refused, as the document makes them required), user
//! groups listed and their members changed with an RFC 7644 `PATCH` (ACCESS-FACTS §3.3).
//!
//! Choices where the documents are silent (ACCESS-FACTS §6): a lock shows as `active: false`;
//! errors are RFC 7644 error bodies; `PATCH` takes `add` of `members` and `remove` of
//! `members[value eq "ID"]`; the seeded groups are the simulator's.

use serde_json::{Value as Json, json};

use super::Pam360Sim;
use crate::sim::{SimRequest, SimResponse};

/// The user groups every simulator starts with (the banner lists them).
pub(super) const SEEDED: &[&str] = &["Network Admins", "DB Admins", "Auditors"];

pub(super) struct Group {
    pub id: i64,
    pub name: String,
    pub members: Vec<i64>,
}

pub(super) fn seeded() -> Vec<Group> {
    SEEDED
        .iter()
        .enumerate()
        .map(|(i, n)| Group { id: 901 + i as i64, name: n.to_string(), members: Vec::new() })
        .collect()
}

pub(super) fn scim_error(status: u16, detail: &str) -> SimResponse {
    SimResponse::json(status, &json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": status.to_string(), "detail": detail }))
}

fn list(resources: Vec<Json>) -> SimResponse {
    SimResponse::json(200, &json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "totalResults": resources.len(), "startIndex": 1, "itemsPerPage": resources.len(), "Resources": resources }))
}

impl Pam360Sim {
    /// The answer to a SCIM request; `None` for other paths.
    pub(super) fn serve_scim(&mut self, req: &SimRequest) -> Option<SimResponse> {
        let method = req.method.as_str();
        if req.route("/scim/v2/Users", false).is_some() {
            return Some(match method {
                "GET" => self.users_filtered(req),
                _ => scim_error(405, "Only GET of /scim/v2/Users is simulated"),
            });
        }
        if let Some(c) = req.route("/scim/v2/Users/{}", false) {
            let Some(id) = c[0].parse::<i64>().ok().filter(|id| self.users.get(id).is_some()) else {
                return Some(scim_error(404, &format!("User {} not found", c[0])));
            };
            return Some(match method {
                "GET" => SimResponse::json(200, &self.scim_user(id)),
                "PUT" => self.replace_user(id, req),
                _ => scim_error(405, "Method not allowed"),
            });
        }
        if req.route("/scim/v2/Groups", false).is_some() {
            let groups = self.groups.iter().map(|g| self.group_json(g)).collect();
            return Some(list(groups));
        }
        if let Some(c) = req.route("/scim/v2/Groups/{}", false) {
            let Some(at) = self.groups.iter().position(|g| g.id.to_string() == c[0]) else {
                return Some(scim_error(404, &format!("Group {} not found", c[0])));
            };
            return Some(match method {
                "GET" => SimResponse::json(200, &self.group_json(&self.groups[at])),
                "PATCH" => self.patch_group(at, req),
                _ => scim_error(405, "Method not allowed"),
            });
        }
        None
    }

    fn scim_user(&self, id: i64) -> Json {
        let Some(u) = self.users.get(&id) else {
            return Json::Null;
        };
        let text = |k: &str| u.details.get(k).and_then(Json::as_str).unwrap_or_default().to_string();
        let email = text("EMAIL");
        let emails = if email.is_empty() { json!([]) } else { json!([{ "value": email, "primary": true, "type": "work" }]) };
        json!({ "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": u.id.to_string(),
                "userName": u.username, "name": { "givenName": text("FIRSTNAME"), "familyName": text("LASTNAME") },
                "emails": emails, "active": !u.locked })
    }

    /// `filter=userName eq "NAME"` (other filters are not simulated).
    fn users_filtered(&self, req: &SimRequest) -> SimResponse {
        let filter = req.param("filter").unwrap_or_default();
        let wanted = filter
            .split_once(" eq ")
            .filter(|(attr, _)| attr.trim().eq_ignore_ascii_case("userName"))
            .map(|(_, v)| v.trim().trim_matches('"').to_string());
        if !filter.is_empty() && wanted.is_none() {
            return scim_error(400, &format!("Unsupported filter: {filter}"));
        }
        let found = self
            .users
            .values()
            .filter(|u| wanted.as_ref().is_none_or(|w| u.username.eq_ignore_ascii_case(w)))
            .map(|u| self.scim_user(u.id))
            .collect();
        list(found)
    }

    /// `PUT` replaces: given and family name and emails are required (the document's table).
    fn replace_user(&mut self, id: i64, req: &SimRequest) -> SimResponse {
        let Ok(body) = serde_json::from_slice::<Json>(&req.body) else {
            return scim_error(400, "The body is not valid JSON");
        };
        let name = |k: &str| body["name"][k].as_str().filter(|v| !v.trim().is_empty()).map(str::to_string);
        let email = body["emails"]
            .as_array()
            .and_then(|e| e.iter().find(|x| x["primary"] == true).or(e.first()))
            .and_then(|e| e["value"].as_str())
            .map(str::to_string);
        let (Some(given), Some(family), Some(email)) = (name("givenName"), name("familyName"), email) else {
            return scim_error(400, "name.givenName, name.familyName and emails are required in a PUT");
        };
        if body.get("userName").and_then(Json::as_str).is_some_and(|n| self.users.get(&id).is_some_and(|u| u.username != n)) {
            return scim_error(400, "userName cannot be changed");
        }
        let active = body.get("active").and_then(Json::as_bool);
        self.users.update(id, |u| {
            u.details.insert("FIRSTNAME".into(), json!(given));
            u.details.insert("LASTNAME".into(), json!(family));
            u.details.insert("EMAIL".into(), json!(email));
            if let Some(a) = active {
                u.locked = !a;
            }
        });
        SimResponse::json(200, &self.scim_user(id))
    }

    fn group_json(&self, g: &Group) -> Json {
        let members: Vec<Json> = g
            .members
            .iter()
            .filter_map(|id| self.users.get(id))
            .map(|u| json!({ "value": u.id.to_string(), "display": u.username }))
            .collect();
        json!({ "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "id": g.id.to_string(),
                "displayName": g.name, "members": members })
    }

    fn patch_group(&mut self, at: usize, req: &SimRequest) -> SimResponse {
        let Ok(body) = serde_json::from_slice::<Json>(&req.body) else {
            return scim_error(400, "The body is not valid JSON");
        };
        let Some(ops) = body["Operations"].as_array().cloned() else {
            return scim_error(400, "A PatchOp needs Operations");
        };
        for op in &ops {
            let path = op["path"].as_str().unwrap_or_default();
            match op["op"].as_str().map(str::to_ascii_lowercase).as_deref() {
                Some("add") if path == "members" => {
                    for v in op["value"].as_array().into_iter().flatten() {
                        let id = v["value"].as_str().and_then(|s| s.parse::<i64>().ok());
                        let Some(id) = id.filter(|i| self.users.get(i).is_some()) else {
                            return scim_error(400, &format!("No such user: {}", v["value"]));
                        };
                        if !self.groups[at].members.contains(&id) {
                            self.groups[at].members.push(id);
                        }
                    }
                }
                Some("remove") if path.starts_with("members[value eq ") => {
                    let id = path.trim_start_matches("members[value eq ").trim_end_matches(']').trim_matches('"');
                    self.groups[at].members.retain(|m| m.to_string() != id);
                }
                _ => return scim_error(400, &format!("Unsupported operation {op}")),
            }
        }
        self.share_changes += 1;
        SimResponse::json(200, &self.group_json(&self.groups[at]))
    }
}
