//! Simulated ManageEngine Applications Manager V1: users in JSON and XML, `apikey` as a parameter, codes not statuses.


use quick_xml::escape::escape;
use serde_json::{Value as Json, json};

mod v3;

use super::directory::{Directory, Named};
use super::{SimRequest, SimResponse, SimSpec, SimVendor};

// Applications Manager has no knobs of its own. (The knobs structs have no doc comments: `sim`'s
// arguments are built deferred, and a flattened struct's doc would replace its summary.)
#[derive(clap::Args, Debug, Clone, Default)]
#[group(skip)]
pub struct Knobs {}

pub static SIM: SimSpec = SimSpec {
    name: "appmanager",
    user_name_key: "userName",
    new: |_| Box::new(AppManagerSim::new()),
    profile: |url| {
        vec![
            ("url", super::toml_string(url)),
            ("apikey", super::toml_string(APIKEY)),
            ("format", super::toml_string("json")),
            // The real server allows 1000 calls a minute; the simulator has no limit.
            ("max_per_minute", "0".into()),
        ]
    },
};

/// The simulator's fixed API key; it guards nothing.
pub const APIKEY: &str = "d1b6c9a0e3f54a7e8c2b9f10a4d6e8c3";

const ROLES: &[&str] = &["OPERATOR", "MANAGER", "ADMIN", "USER", "DELEGATEDADMIN"];
/// Monitor groups; a user created without groups is associated with all of them, as the
/// API document's sample answer shows.
const GROUPS: &[(i64, &str)] = &[
    (10_000_035, "Applications Manager"),
    (10_000_037, "mg1"),
    (10_000_038, "mg2"),
];

/// User groups (ACCESS-FACTS §4.3); the banner lists them.
const USER_GROUPS: &[(i64, &str)] = &[(1, "NOC Team"), (2, "Helpdesk"), (3, "DBA")];

/// The id of the person to offboard (`sim::LEAVER`), clear of the ids new users get.
const LEAVER_ID: i64 = 50;

/// The built-in admin, whose key the simulator's profile holds.
const ADMIN_ID: i64 = 1;

/// Monitor groups by comma-separated ids, or else names (a name is ignored when ids are given).
fn group_ids(ids: Option<&str>, names: Option<&str>) -> Result<Vec<i64>, (&'static str, String)> {
    let mut out = Vec::new();
    if let Some(ids) = ids {
        for id in ids.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            match id.parse::<i64>() {
                Ok(i) if GROUPS.iter().any(|g| g.0 == i) => out.push(i),
                _ => return Err(("4032", format!("The monitor group with id {id} does not exist."))),
            }
        }
    } else if let Some(names) = names {
        for name in names.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            match GROUPS.iter().find(|g| g.1 == name) {
                Some(g) => out.push(g.0),
                None => return Err(("4032", format!("The monitor group {name} does not exist."))),
            }
        }
    }
    Ok(out)
}

/// User groups by comma-separated ids, or else names (the `removeUsergroup*` names are
/// inferred by symmetry: the document's table is cut off there).
fn usergroup_ids(ids: Option<&str>, names: Option<&str>) -> Result<Vec<i64>, (&'static str, String)> {
    let mut out = Vec::new();
    let listed = |s: &str| s.split(',').map(str::trim).filter(|x| !x.is_empty()).map(str::to_string).collect::<Vec<_>>();
    if let Some(ids) = ids {
        for id in listed(ids) {
            match id.parse::<i64>() {
                Ok(i) if USER_GROUPS.iter().any(|g| g.0 == i) => out.push(i),
                _ => return Err(("4032", format!("The user group with id {id} does not exist."))),
            }
        }
    } else if let Some(names) = names {
        for name in listed(names) {
            match USER_GROUPS.iter().find(|g| g.1 == name) {
                Some(g) => out.push(g.0),
                None => return Err(("4032", format!("The user group {name} does not exist."))),
            }
        }
    }
    Ok(out)
}

#[derive(Clone)]
struct User {
    id: i64,
    name: String,
    role: String,
    email: String,
    description: String,
    groups: Vec<i64>,
    usergroups: Vec<i64>,
    /// The V3 `userStatus`: `Active`, or `InActive` once disabled.
    active: bool,
    builtin: bool,
    /// Only `/__sim/users` shows it (tests check it never leaks).
    password: String,
}

pub struct AppManagerSim {
    users: Directory<User>,
    next_id: i64,
}

impl Named for User {
    fn name(&self) -> &str {
        &self.name
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Flavour {
    Json,
    Xml,
}

/// An answer in the V1 envelope, before it is written as JSON or XML.
enum Body {
    Users(Vec<User>),
    Message(String),
}

impl AppManagerSim {
    fn new() -> Self {
        let mut users = Directory::default();
        // Five users exist, so the first one created gets id 6 as in the document's sample.
        for (id, name, role) in [
            (1, "sim-admin", "ADMIN"),
            (2, "apm-operator", "OPERATOR"),
            (3, "apm-manager", "MANAGER"),
            (4, "apm-user", "USER"),
            (5, "apm-delegated", "DELEGATEDADMIN"),
        ] {
            users.insert(
                id,
                User {
                    id,
                    name: name.into(),
                    role: role.into(),
                    email: format!("{name}@example.com"),
                    description: String::new(),
                    groups: GROUPS.iter().map(|g| g.0).collect(),
                    usergroups: Vec::new(),
                    active: true,
                    builtin: true,
                    password: String::new(),
                },
            );
        }
        // The person to offboard: an operator of mg1 in the NOC Team user group.
        users.insert(
            LEAVER_ID,
            User {
                id: LEAVER_ID,
                name: super::LEAVER.into(),
                role: "OPERATOR".into(),
                email: "alex.leaver@example.com".into(),
                description: "operator".into(),
                groups: vec![10_000_037],
                usergroups: vec![1],
                active: true,
                builtin: false,
                password: String::new(),
            },
        );
        AppManagerSim { users, next_id: 6 }
    }

    fn find(&self, name: &str) -> Option<&User> {
        self.users.find(name)
    }

    fn create(&mut self, req: &SimRequest) -> Result<Body, (&'static str, String)> {
        let p = |k: &str| req.param(k).map(str::trim).filter(|v| !v.is_empty());
        for key in ["userName", "role", "password", "email"] {
            if p(key).is_none() {
                return Err(("4032", format!("The mandatory parameter {key} is missing.")));
            }
        }
        let name = p("userName").unwrap_or_default().to_string();
        let role_in = p("role").unwrap_or_default();
        let Some(role) = ROLES.iter().find(|r| r.eq_ignore_ascii_case(role_in)) else {
            return Err((
                "4032",
                format!("Invalid role {role_in}. Possible values are {}.", ROLES.join(", ")),
            ));
        };
        let email = p("email").unwrap_or_default().to_string();
        if !email.contains('@') {
            return Err(("4032", format!("Invalid email {email}.")));
        }
        if self.find(&name).is_some() {
            return Err(("4032", format!("The user name {name} already exists.")));
        }
        let groups = match (p("groupId"), p("groupName")) {
            (Some(ids), _) => {
                let mut out = Vec::new();
                for id in ids.split(',') {
                    match id.trim().parse::<i64>() {
                        Ok(i) if GROUPS.iter().any(|g| g.0 == i) => out.push(i),
                        _ => return Err(("4032", format!("Invalid monitor group id {id}."))),
                    }
                }
                out
            }
            (None, Some(gname)) => match GROUPS.iter().find(|g| g.1 == gname) {
                Some(g) => vec![g.0],
                None => return Err(("4032", format!("Invalid monitor group name {gname}."))),
            },
            (None, None) => GROUPS.iter().map(|g| g.0).collect(),
        };
        let user = User {
            id: self.next_id,
            name,
            role: role.to_string(),
            email,
            description: p("description")
                .map(str::to_string)
                .unwrap_or_else(|| role.to_lowercase()),
            groups,
            usergroups: Vec::new(),
            active: true,
            builtin: false,
            password: p("password").unwrap_or_default().to_string(),
        };
        self.next_id += 1;
        self.users.insert(user.id, user.clone());
        Ok(Body::Users(vec![user]))
    }

    /// `Users/update` (ACCESS-FACTS §4.1): without `userId` it changes the API key's owner, as
    /// the document says; monitor groups are added and removed by id or name.
    fn update(&mut self, req: &SimRequest) -> Result<Body, (&'static str, String)> {
        let id = match req.param("userId") {
            Some(id) => match id.trim().parse::<i64>() {
                Ok(i) if self.users.contains_key(&i) => i,
                _ => return Err(("4032", format!("The user with id {id} does not exist."))),
            },
            // The key's owner: the built-in admin.
            None => ADMIN_ID,
        };
        let add = group_ids(req.param("associateGroupId"), req.param("associateGroupName"))?;
        let remove = group_ids(req.param("removeGroupId"), req.param("removeGroupName"))?;
        let join = usergroup_ids(req.param("associateUsergroupId"), req.param("associateUsergroupName"))?;
        let leave = usergroup_ids(req.param("removeUsergroupId"), req.param("removeUsergroupName"))?;
        let email = req.param("email").map(str::to_string);
        let description = req.param("description").map(str::to_string);
        let role = match req.param("role") {
            Some(r) => match ROLES.iter().find(|x| x.eq_ignore_ascii_case(r)) {
                Some(x) => Some(x.to_string()),
                None => {
                    return Err((
                        "4032",
                        format!("Invalid role {r}. Possible values are {}.", ROLES.join(", ")),
                    ));
                }
            },
            None => None,
        };
        self.users.update(id, |u| {
            for g in add {
                if !u.groups.contains(&g) {
                    u.groups.push(g);
                }
            }
            u.groups.retain(|g| !remove.contains(g));
            for g in join {
                if !u.usergroups.contains(&g) {
                    u.usergroups.push(g);
                }
            }
            u.usergroups.retain(|g| !leave.contains(g));
            if let Some(e) = email {
                u.email = e;
            }
            if let Some(d) = description {
                u.description = d;
            }
            if let Some(r) = role {
                u.role = r;
            }
        });
        match self.users.get(&id) {
            Some(u) => Ok(Body::Users(vec![u.clone()])),
            None => Err(("4032", format!("The user with id {id} does not exist."))),
        }
    }

    fn delete(&mut self, req: &SimRequest) -> Result<Body, (&'static str, String)> {
        let ids: Vec<i64> = match (req.param("userId"), req.param("userName")) {
            (Some(ids), _) => {
                let mut out = Vec::new();
                for id in ids.split(',') {
                    match id.trim().parse::<i64>() {
                        Ok(i) if self.users.contains_key(&i) => out.push(i),
                        _ => return Err(("4032", format!("The user with id {id} does not exist."))),
                    }
                }
                out
            }
            (None, Some(name)) => match self.find(name) {
                Some(u) => vec![u.id],
                None => return Err(("4032", format!("The user {name} does not exist."))),
            },
            (None, None) => {
                return Err(("4032", "The mandatory parameter userId or userName is missing.".into()));
            }
        };
        if let Some(u) = ids.iter().filter_map(|i| self.users.get(i)).find(|u| u.builtin) {
            return Err(("4032", format!("The user {} cannot be deleted.", u.name)));
        }
        for id in ids {
            self.users.remove(id);
        }
        Ok(Body::Message("User(s) deleted successfully.".into()))
    }
}

impl SimVendor for AppManagerSim {
    fn changes(&self) -> u64 {
        self.users.changes()
    }

    fn owns(&self, path: &str) -> bool {
        let path = path.to_ascii_lowercase();
        path.starts_with("/appmanager/") || path.starts_with("/api/v3/")
    }

    fn seeded(&self) -> Option<String> {
        let monitor: Vec<&str> = GROUPS.iter().map(|g| g.1).collect();
        let user: Vec<&str> = USER_GROUPS.iter().map(|g| g.1).collect();
        Some(format!(
            "monitor groups {}; user groups {}; {} in mg1 and NOC Team",
            monitor.join(", "),
            user.join(", "),
            super::LEAVER
        ))
    }

    fn state(&self) -> Json {
        Json::Array(self.users.values().map(v3::user_v3).collect())
    }

    fn handle(&mut self, req: &SimRequest) -> SimResponse {
        if req.path.to_ascii_lowercase().starts_with("/api/v3/") {
            return self.serve_v3(req);
        }
        let flavour = match req.segments.get(1).map(|s| s.to_ascii_lowercase()) {
            Some(f) if f == "json" => Flavour::Json,
            Some(f) if f == "xml" => Flavour::Xml,
            _ => return SimResponse::tomcat(404, "Not Found"),
        };
        // The answer echoes the request's path in lower case.
        let uri = req.path.to_ascii_lowercase();
        let key = req.param("apikey").unwrap_or_default();
        if key != APIKEY {
            // Like the real server, the message echoes the key it received.
            return envelope(
                flavour,
                &uri,
                "4004",
                Body::Message(format!(
                    "The specified apikey [ {key} ] in the request is invalid. Kindly login to Applications Manager and check for the key."
                )),
            );
        }
        let rest: Vec<String> = req.segments[2..].iter().map(|s| s.to_string()).collect();
        let method = req.method.as_str();
        let result = match rest.iter().map(String::as_str).collect::<Vec<_>>()[..] {
            [u, c] if u.eq_ignore_ascii_case("Users") && c.eq_ignore_ascii_case("create") => {
                if method != "POST" {
                    Err(("4016", "The HTTP method used in the request is incorrect; use POST.".into()))
                } else {
                    self.create(req)
                }
            }
            [u, c] if u.eq_ignore_ascii_case("Users") && c.eq_ignore_ascii_case("update") => {
                if method != "POST" {
                    Err(("4016", "The HTTP method used in the request is incorrect; use POST.".into()))
                } else {
                    self.update(req)
                }
            }
            [u, d] if u.eq_ignore_ascii_case("Users") && d.eq_ignore_ascii_case("delete") => {
                if method != "POST" {
                    Err(("4016", "The HTTP method used in the request is incorrect; use POST.".into()))
                } else {
                    self.delete(req)
                }
            }
            [u] if u.eq_ignore_ascii_case("Users") || u.eq_ignore_ascii_case("ListUserDetails") => {
                Ok(Body::Users(self.users.values().cloned().collect()))
            }
            [u, who] if u.eq_ignore_ascii_case("Users") => {
                let found = match who.parse::<i64>() {
                    Ok(id) => self.users.get(&id),
                    Err(_) => self.find(who),
                };
                match found {
                    Some(u) => Ok(Body::Users(vec![u.clone()])),
                    None => Err(("4032", format!("The user {who} does not exist."))),
                }
            }
            _ => Err(("4008", "The request URI is incorrect.".into())),
        };
        match result {
            Ok(body) => envelope(flavour, &uri, "4000", body),
            Err((code, message)) => envelope(flavour, &uri, code, Body::Message(message)),
        }
    }

    fn server_error(&self) -> SimResponse {
        SimResponse::tomcat(500, "Internal Server Error")
    }

    fn secrets(&self) -> Vec<String> {
        self.users.values().map(|u| u.password.clone()).collect()
    }

    fn users(&self) -> Json {
        Json::Array(
            self.users
                .values()
                .map(|u| {
                    let mut j = user_json(u);
                    j["password"] = json!(u.password);
                    j
                })
                .collect(),
        )
    }
}

fn user_json(u: &User) -> Json {
    let groups: Vec<Json> = u
        .groups
        .iter()
        .map(|g| {
            let name = GROUPS.iter().find(|x| x.0 == *g).map_or("", |x| x.1);
            json!({ "groupId": g.to_string(), "groupName": name })
        })
        .collect();
    json!({
        "email": u.email, "userId": u.id.to_string(), "description": u.description,
        "userName": u.name, "role": u.role, "AssociatedGroups": groups,
    })
}

fn user_xml(u: &User) -> String {
    let mut out = format!(
        "<User email=\"{}\" userId=\"{}\" description=\"{}\" userName=\"{}\" role=\"{}\">\n",
        escape(&u.email),
        u.id,
        escape(&u.description),
        escape(&u.name),
        escape(&u.role)
    );
    for g in &u.groups {
        let name = GROUPS.iter().find(|x| x.0 == *g).map_or("", |x| x.1);
        out.push_str(&format!(
            "<AssociatedGroups groupId=\"{g}\" groupName=\"{}\"/>\n",
            escape(name)
        ));
    }
    out.push_str("</User>\n");
    out
}

/// The V1 envelope, always HTTP 200: the response code says how it went.
fn envelope(flavour: Flavour, uri: &str, code: &str, body: Body) -> SimResponse {
    match flavour {
        Flavour::Json => {
            let response = match body {
                Body::Users(users) if code == "4000" => {
                    json!({ "result": users.iter().map(user_json).collect::<Vec<_>>(), "uri": uri })
                }
                Body::Message(m) if code == "4000" => {
                    json!({ "result": [{ "message": m }], "uri": uri })
                }
                Body::Message(m) => json!({ "message": m, "uri": uri }),
                Body::Users(_) => json!({ "uri": uri }),
            };
            SimResponse::json(200, &json!({ "response-code": code, "response": response }))
        }
        Flavour::Xml => {
            let inner = match body {
                Body::Users(users) => users.iter().map(user_xml).collect::<String>(),
                Body::Message(m) => format!("<message>{}</message>\n", escape(&m)),
            };
            SimResponse::xml(
                200,
                format!(
                    "<AppManager-response uri=\"{}\">\n<result>\n<response response-code=\"{code}\">\n{inner}</response>\n</result>\n</AppManager-response>",
                    escape(uri)
                ),
            )
        }
    }
}
