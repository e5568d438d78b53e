//! Vault user groups as PVWA serves them: listed, searched and filtered, created, renamed and
//! deleted, members added and removed by name (ACCESS-FACTS §1.1).
//!
//! Where the documents are silent these are the simulator's choices (ACCESS-FACTS §6): a
//! duplicate group name is 409 `PASWS027E`; a member that is not a vault user is 404 with the
//! user-not-found code; removing a non-member is 404 `ITATS003E`; a group id that does not exist
//! is 404 `PASWS043E` (invented).

use serde_json::{Value as Json, json};

use super::{CyberArkSim, error, invalid};
use crate::sim::{SimRequest, SimResponse};
use crate::util::lenient::field as get_ci;

/// The groups every simulator starts with (the banner lists them).
pub(super) const SEEDED: &[(&str, &str)] = &[
    ("Vault Admins", "Full vault administration"),
    ("NOC Operators", "Network operations centre"),
    ("Auditors", "Read-only audit access"),
    ("Service Desk", "First-line support"),
];

/// The first id a group gets.
pub(super) const FIRST_GROUP_ID: i64 = 10;

pub(super) struct Group {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub location: String,
    /// User ids, in the order they were added.
    pub members: Vec<i64>,
}

/// Which group endpoint a request is for.
pub(super) enum GroupRoute {
    Groups,
    Group(String),
    Members(String),
    Member(String, String),
}

impl GroupRoute {
    pub(super) fn of(req: &SimRequest) -> Option<GroupRoute> {
        let r = |p: &str| req.route(p, true);
        if r("/PasswordVault/API/UserGroups").is_some() {
            return Some(GroupRoute::Groups);
        }
        if let Some(mut c) = r("/PasswordVault/API/UserGroups/{}") {
            return Some(GroupRoute::Group(c.remove(0)));
        }
        if let Some(mut c) = r("/PasswordVault/API/UserGroups/{}/Members") {
            return Some(GroupRoute::Members(c.remove(0)));
        }
        let mut c = r("/PasswordVault/API/UserGroups/{}/Members/{}")?;
        let name = c.remove(1);
        Some(GroupRoute::Member(c.remove(0), name))
    }

    pub(super) fn allows(&self, method: &str) -> bool {
        let allowed: &[&str] = match self {
            GroupRoute::Groups => &["GET", "POST"],
            GroupRoute::Group(_) => &["GET", "PUT", "DELETE"],
            GroupRoute::Members(_) => &["POST"],
            GroupRoute::Member(..) => &["DELETE"],
        };
        allowed.contains(&method)
    }
}

fn no_group(id: &str) -> SimResponse {
    error(404, "PASWS043E", &format!("User group [{id}] was not found."))
}

fn text_field(body: &Json, key: &str) -> Option<String> {
    get_ci(body, key).and_then(Json::as_str).map(str::to_string)
}

impl CyberArkSim {
    pub(super) fn serve_groups(
        &mut self,
        route: GroupRoute,
        req: &SimRequest,
        body: Option<Json>,
    ) -> SimResponse {
        let body = body.unwrap_or(Json::Null);
        match (route, req.method.as_str()) {
            (GroupRoute::Groups, "GET") => self.list_groups(req),
            (GroupRoute::Groups, _) => self.create_group(&body),
            (GroupRoute::Group(id), method) => {
                let Some(index) = self.group_index(&id) else {
                    return no_group(&id);
                };
                match method {
                    "GET" => {
                        let members = req.query_ci("includeMembers").is_some_and(is_true);
                        SimResponse::json(200, &self.group_json(&self.groups[index], members))
                    }
                    "PUT" => self.rename_group(index, &body),
                    _ => {
                        self.groups.remove(index);
                        self.group_changes += 1;
                        SimResponse::empty(204)
                    }
                }
            }
            (GroupRoute::Members(id), _) => match self.group_index(&id) {
                Some(index) => self.add_member(index, &body),
                None => no_group(&id),
            },
            (GroupRoute::Member(id, name), _) => match self.group_index(&id) {
                Some(index) => self.remove_member(index, &name),
                None => no_group(&id),
            },
        }
    }

    fn group_index(&self, id: &str) -> Option<usize> {
        let id: i64 = id.parse().ok()?;
        self.groups.iter().position(|g| g.id == id)
    }

    pub(super) fn group_json(&self, g: &Group, members: bool) -> Json {
        let mut j = json!({
            "id": g.id, "groupType": "Vault", "groupName": g.name,
            "description": g.description, "location": g.location,
        });
        if members {
            j["members"] = g
                .members
                .iter()
                .filter_map(|id| self.users.get(id))
                .map(|u| json!({ "UserName": u.json["username"], "id": u.json["id"] }))
                .collect();
        }
        j
    }

    /// `filter=groupType eq Vault AND groupName eq NAME`, `search=` (every word in the name),
    /// `includeMembers=true`.
    fn list_groups(&self, req: &SimRequest) -> SimResponse {
        let words: Vec<String> = req
            .query_ci("search")
            .map(|s| s.split_whitespace().map(str::to_lowercase).collect())
            .unwrap_or_default();
        let mut filters = Vec::new();
        for clause in req.query_ci("filter").unwrap_or_default().split(" AND ") {
            let mut parts = clause.trim().splitn(3, ' ');
            if let (Some(field), Some(op), Some(value)) = (parts.next(), parts.next(), parts.next())
                && op.eq_ignore_ascii_case("eq")
            {
                filters.push((field.to_lowercase(), value.trim_matches('"').to_string()));
            }
        }
        let members = req.query_ci("includeMembers").is_some_and(is_true);
        let matching: Vec<Json> = self
            .groups
            .iter()
            .filter(|g| {
                let name = g.name.to_lowercase();
                words.iter().all(|w| name.contains(w.as_str()))
            })
            .filter(|g| {
                filters.iter().all(|(f, v)| match f.as_str() {
                    "grouptype" => v.eq_ignore_ascii_case("Vault"),
                    "groupname" => g.name.eq_ignore_ascii_case(v),
                    _ => true,
                })
            })
            .map(|g| self.group_json(g, members))
            .collect();
        SimResponse::json(
            200,
            &json!({ "value": matching, "count": matching.len() }),
        )
    }

    fn create_group(&mut self, body: &Json) -> SimResponse {
        let Some(name) = text_field(body, "groupName").filter(|n| !n.trim().is_empty()) else {
            return invalid(vec!["groupName is mandatory".into()]);
        };
        if self.groups.iter().any(|g| g.name.eq_ignore_ascii_case(&name)) {
            return error(
                409,
                "PASWS027E",
                &format!("The group [{name}] already exists."),
            );
        }
        let group = Group {
            id: self.next_group_id,
            name,
            description: text_field(body, "description").unwrap_or_default(),
            location: text_field(body, "location").unwrap_or_else(|| "\\".into()),
            members: Vec::new(),
        };
        self.next_group_id += 1;
        let answer = self.group_json(&group, false);
        self.groups.push(group);
        self.group_changes += 1;
        SimResponse::json(201, &answer)
    }

    fn rename_group(&mut self, index: usize, body: &Json) -> SimResponse {
        let Some(name) = text_field(body, "groupName").filter(|n| !n.trim().is_empty()) else {
            return invalid(vec!["groupName is mandatory".into()]);
        };
        self.groups[index].name = name;
        self.group_changes += 1;
        SimResponse::json(200, &self.group_json(&self.groups[index], false))
    }

    fn add_member(&mut self, index: usize, body: &Json) -> SimResponse {
        let Some(member) = text_field(body, "memberId").filter(|n| !n.is_empty()) else {
            return invalid(vec!["memberId is mandatory".into()]);
        };
        let member_type = text_field(body, "memberType").unwrap_or_else(|| "Vault".into());
        if member_type.eq_ignore_ascii_case("domain") {
            if text_field(body, "domainName").is_none_or(|d| d.is_empty()) {
                return invalid(vec!["domainName is mandatory when memberType is domain".into()]);
            }
            // Directory members are not simulated: accepted and echoed, as PVWA would.
            return SimResponse::json(201, body);
        }
        if !member_type.eq_ignore_ascii_case("vault") {
            return invalid(vec![format!("memberType [{member_type}] is invalid")]);
        }
        let Some(user) = self
            .users
            .values()
            .find(|u| u.json["username"].as_str().is_some_and(|n| n.eq_ignore_ascii_case(&member)))
        else {
            return super::user_not_found(&member);
        };
        let id = user.json["id"].as_i64().unwrap_or_default();
        let group = &mut self.groups[index];
        if group.members.contains(&id) {
            return error(
                409,
                "PASWS213E",
                &format!("Member [{member}] is already a member of group [{}].", group.name),
            );
        }
        group.members.push(id);
        self.group_changes += 1;
        SimResponse::json(
            201,
            &json!({ "memberId": member, "memberType": member_type, "domainName": Json::Null }),
        )
    }

    fn remove_member(&mut self, index: usize, name: &str) -> SimResponse {
        let id = self
            .users
            .values()
            .find(|u| u.json["username"].as_str().is_some_and(|n| n.eq_ignore_ascii_case(name)))
            .and_then(|u| u.json["id"].as_i64());
        let group = &mut self.groups[index];
        match id.and_then(|id| group.members.iter().position(|m| *m == id)) {
            Some(at) => {
                group.members.remove(at);
                self.group_changes += 1;
                SimResponse::empty(204)
            }
            None => error(
                404,
                "ITATS003E",
                &format!("Member [{name}] is not a member of group [{}].", group.name),
            ),
        }
    }

    /// A user's `groupsMembership`, as `GET /API/Users/{id}` and extended lists show it.
    pub(super) fn memberships(&self, user_id: i64) -> Json {
        self.groups
            .iter()
            .filter(|g| g.members.contains(&user_id))
            .map(|g| json!({ "groupID": g.id, "groupName": g.name, "groupType": "Vault" }))
            .collect()
    }

    /// A deleted user leaves every group.
    pub(super) fn leave_groups(&mut self, user_id: i64) {
        for g in &mut self.groups {
            g.members.retain(|m| *m != user_id);
        }
    }
}

fn is_true(v: &str) -> bool {
    v.eq_ignore_ascii_case("true")
}
