//! Applications Manager's V3 API (`/api/v3`): the user list with each user's status and user
//! groups, a user's status set, the user-group list (ACCESS-FACTS §4.5).
//!
//! Choices where the documents are silent (ACCESS-FACTS §6): the status is sent as the form
//! field `status` (`Active` or `InActive`); errors are `{"message", "data": [], "meta": {}}`
//! with a 4xx status; a user's `userGroup` entries are `{ id, name }`.

use serde_json::{Value as Json, json};

use super::{APIKEY, AppManagerSim, GROUPS, USER_GROUPS, User};
use crate::sim::{SimRequest, SimResponse};

fn v3_error(status: u16, message: &str) -> SimResponse {
    SimResponse::json(status, &json!({ "message": message, "data": [], "meta": {} }))
}

fn ok(data: Json) -> SimResponse {
    SimResponse::json(200, &json!({ "message": "success", "data": data, "meta": {} }))
}

/// The V3 role names are display names, not the V1 enums.
fn display_role(role: &str) -> &'static str {
    match role {
        "ADMIN" => "Administrator",
        "OPERATOR" => "Operator",
        "MANAGER" => "Manager",
        "DELEGATEDADMIN" => "Delegated Admin",
        _ => "User",
    }
}

pub(super) fn user_v3(u: &User) -> Json {
    let groups: Vec<Json> = USER_GROUPS
        .iter()
        .filter(|g| u.usergroups.contains(&g.0))
        .map(|(id, name)| json!({ "id": id, "name": name }))
        .collect();
    let monitor: Vec<Json> = GROUPS
        .iter()
        .filter(|g| u.groups.contains(&g.0))
        .map(|(id, name)| json!({ "id": id, "name": name }))
        .collect();
    json!({ "id": u.id, "name": u.name, "emailId": u.email, "description": u.description,
            "role": display_role(&u.role), "userStatus": if u.active { "Active" } else { "InActive" },
            "authentication": "Local Authentication", "domainName": "", "userGroup": groups,
            "monitorGroup": monitor, "activeSessions": 0 })
}

impl AppManagerSim {
    pub(super) fn serve_v3(&mut self, req: &SimRequest) -> SimResponse {
        // The plain key, no scheme (ACCESS-FACTS §4.5).
        if req.header("authorization") != Some(APIKEY) {
            return v3_error(401, "The API key in the authorization header is invalid.");
        }
        let method = req.method.as_str();
        if req.route("/api/v3/users", true).is_some() && method == "GET" {
            return ok(self.users.values().map(user_v3).collect());
        }
        if req.route("/api/v3/usergroups", true).is_some() && method == "GET" {
            let groups: Vec<Json> = USER_GROUPS
                .iter()
                .map(|(id, name)| {
                    let members: Vec<Json> = self
                        .users
                        .values()
                        .filter(|u| u.usergroups.contains(id))
                        .map(|u| json!({ "id": u.id, "name": u.name }))
                        .collect();
                    json!({ "id": id, "name": name, "authentication": "Local Authentication",
                            "userProfile": members, "monitorGroup": [] })
                })
                .collect();
            return ok(Json::Array(groups));
        }
        if let Some(c) = req.route("/api/v3/users/{}/status", true)
            && method == "PUT"
        {
            return self.set_status(&c[0], req);
        }
        v3_error(404, "The requested resource was not found.")
    }

    fn set_status(&mut self, id: &str, req: &SimRequest) -> SimResponse {
        let Some(id) = id.parse::<i64>().ok().filter(|i| self.users.contains_key(i)) else {
            return v3_error(404, &format!("The user with id {id} does not exist."));
        };
        let active = match req.param("status") {
            Some(s) if s.eq_ignore_ascii_case("Active") => true,
            Some(s) if s.eq_ignore_ascii_case("InActive") => false,
            other => {
                return v3_error(400, &format!("Invalid status {}; it must be Active or InActive.", other.unwrap_or("(none)")));
            }
        };
        if id == super::ADMIN_ID && !active {
            return v3_error(403, "The default admin cannot be made inactive.");
        }
        self.users.update(id, |u| u.active = active);
        match self.users.get(&id) {
            Some(u) => ok(json!([user_v3(u)])),
            None => v3_error(404, "The user does not exist."),
        }
    }
}
