//! Simulated ManageEngine PAM360: `INPUT_DATA` create, getUserId, delete, lock/unlock; failures as HTTP 200.
//!
//! Failure wording is invented (PAM360's is not public); the `GET /restapi/json/v1/user` list is
//! an extension of the simulator's.


use serde_json::{Map as JsonMap, Value as Json, json};

mod access;
mod scim;

use super::directory::{Directory, Named};
use super::{SimRequest, SimResponse, SimSpec, SimVendor};
use crate::util::secret::random_hex;

pub static SIM: SimSpec = SimSpec {
    name: "pam360",
    user_name_key: "USERNAME",
    new: |options| Box::new(Pam360Sim::new(&options.vendors.pam360)),
    profile: |url| {
        vec![
            ("url", super::toml_string(url)),
            ("authtoken", super::toml_string(AUTHTOKEN)),
        ]
    },
};

// PAM360's knobs of `onboard sim` (not a doc comment: see appmanager.rs).
#[derive(clap::Args, Debug, Clone, Default)]
#[group(skip)]
#[command(next_help_heading = "PAM360")]
pub struct Knobs {
    /// How PAM360 spells success: "Success" (deployed servers) or "true" (the API document).
    #[arg(long = "pam360-status", value_enum, default_value_t = Status::Success)]
    pub status: Status,
    /// PAM360 failures with HTTP 400/401/404/409 instead of 200.
    #[arg(long = "pam360-http-errors")]
    pub http_errors: bool,
    /// PAM360 organizations that exist (the orgName header is checked only when given).
    #[arg(long = "pam360-orgs", value_delimiter = ',', value_name = "ORG,...")]
    pub orgs: Vec<String>,
}

/// How the simulator spells success.
#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Status {
    #[default]
    #[value(name = "Success", alias = "success")]
    Success,
    #[value(name = "true")]
    True,
}

/// The simulator's fixed API token; it guards nothing.
pub const AUTHTOKEN: &str = "5F0A8B2C-51A0-4E1D-9C3A-0B0A2D5E7C11";

const ROLES: &[&str] = &[
    "Administrator",
    "Password Administrator",
    "Privileged Administrator",
    "Password Auditor",
    "Password User",
];
const MANDATORY: &[&str] = &["FIRSTNAME", "LASTNAME", "USERNAME", "EMAIL"];
const BOOLEANS: &[&str] = &[
    "RESTAPIACCESS", "SDKACCESS", "ISAPIUSER", "OWNERNAMEOPTION", "HOSTCHECK", "ISSUPERADMIN",
    "WEBACCESS", "ENABLEMOBILEACCESS", "ENABLEADDONACCESS", "REMOTECONNECTACCESS",
    "REMOTECONNECTVIASSHPROXY", "ENABLETWOFACTOR",
];

struct User {
    id: i64,
    username: String,
    details: JsonMap<String, Json>,
    token: Option<String>,
    builtin: bool,
    locked: bool,
}

impl Named for User {
    fn name(&self) -> &str {
        &self.username
    }
}

pub struct Pam360Sim {
    users: Directory<User>,
    accounts: Vec<access::Account>,
    groups: Vec<scim::Group>,
    /// Shares given and revoked, and accountabilities transferred, for `changes()`.
    share_changes: u64,
    /// (from, to) user names of each transfer of accountabilities.
    transfers: Vec<(String, String)>,
    next_id: i64,
    success: &'static str,
    http_errors: bool,
    orgs: Vec<String>,
}

/// Why a call failed, which picks the HTTP status under `--pam360-http-errors`.
#[derive(Clone, Copy)]
enum Fail {
    Auth,
    Invalid,
    Missing,
    Exists,
    Forbidden,
}

impl Pam360Sim {
    fn new(knobs: &Knobs) -> Self {
        let mut sim = Pam360Sim {
            users: Directory::default(),
            accounts: access::seeded(),
            groups: scim::seeded(),
            share_changes: 0,
            transfers: Vec::new(),
            // The API document's sample answer gives the first new user id 603.
            next_id: 603,
            success: match knobs.status {
                Status::Success => "Success",
                Status::True => "true",
            },
            http_errors: knobs.http_errors,
            orgs: knobs.orgs.clone(),
        };
        for (id, name, token) in [(1, "admin", None), (2, "onboard-sim", Some(AUTHTOKEN))] {
            sim.users.insert(
                id,
                User {
                    id,
                    username: name.into(),
                    details: JsonMap::new(),
                    token: token.map(str::to_string),
                    builtin: true,
                    locked: false,
                },
            );
        }
        // The person to offboard, with the NOC's router account shared to view.
        let leaver = 500;
        let mut details = JsonMap::new();
        for (k, v) in [("FIRSTNAME", "Alex"), ("LASTNAME", "Leaver"), ("EMAIL", "alex.leaver@example.com")] {
            details.insert(k.into(), json!(v));
        }
        sim.users.insert(
            leaver,
            User { id: leaver, username: super::LEAVER.into(), details, token: None, builtin: false, locked: false },
        );
        if let Some(a) = sim.accounts.iter_mut().find(|a| a.name == "netops") {
            a.shares.push((leaver, "view".into()));
        }
        sim
    }

    fn answer(&self, name: &str, status_ok: bool, message: &str, details: Option<Json>, fail: Option<Fail>) -> SimResponse {
        let status_word = if status_ok { self.success } else { "Failed" };
        let mut op = json!({ "result": { "status": status_word, "message": message }, "name": name });
        if let Some(d) = details {
            op["Details"] = d;
        }
        let http = match (self.http_errors, fail) {
            (true, Some(Fail::Auth)) => 401,
            (true, Some(Fail::Invalid)) => 400,
            (true, Some(Fail::Missing)) => 404,
            (true, Some(Fail::Exists)) => 409,
            (true, Some(Fail::Forbidden)) => 403,
            _ => 200,
        };
        SimResponse::json(http, &json!({ "operation": op }))
    }

    fn ok(&self, name: &str, message: &str, details: Json) -> SimResponse {
        self.answer(name, true, message, Some(details), None)
    }

    fn fail(&self, name: &str, fail: Fail, message: &str) -> SimResponse {
        self.answer(name, false, message, None, Some(fail))
    }

    /// The AUTHTOKEN header must belong to the simulator's API user or to an API user created here.
    fn authorized(&self, req: &SimRequest) -> bool {
        // SCIM takes the same token as a Bearer token too (ACCESS-FACTS §3.3).
        let bearer = req.header("authorization").and_then(|a| a.strip_prefix("Bearer "));
        let Some(token) = req.header("authtoken").or(bearer) else {
            return false;
        };
        self.users
            .values()
            .any(|u| !u.locked && u.token.as_deref() == Some(token))
    }

    fn org_ok(&self, req: &SimRequest) -> bool {
        match req.header("orgname") {
            Some(org) if !self.orgs.is_empty() => self.orgs.iter().any(|o| o.eq_ignore_ascii_case(org)),
            _ => true,
        }
    }

    fn find(&self, name: &str) -> Option<&User> {
        self.users.find(name)
    }

    fn create(&mut self, req: &SimRequest) -> SimResponse {
        const OP: &str = "CREATE_USER";
        let Some(input) = req.param("INPUT_DATA") else {
            return self.fail(OP, Fail::Invalid, "INPUT_DATA is missing in the request.");
        };
        let parsed: Result<Json, _> = serde_json::from_str(input);
        let Some(details) = parsed
            .ok()
            .and_then(|j| j.get("operation")?.get("Details")?.as_object().cloned())
        else {
            return self.fail(OP, Fail::Invalid, "Invalid INPUT_DATA: expected {\"operation\":{\"Details\":{...}}} as JSON.");
        };
        let text = |k: &str| details.get(k).and_then(Json::as_str).map(str::trim).unwrap_or_default();
        for key in MANDATORY {
            if text(key).is_empty() {
                return self.fail(OP, Fail::Invalid, &format!("{key} is mandatory."));
            }
        }
        let username = text("USERNAME").to_string();
        for key in ["EMAIL", "SECONDARYEMAILID"] {
            let v = text(key);
            let looks_like_email = v.contains('@') && v.rsplit('@').next().is_some_and(|d| d.contains('.'));
            if !v.is_empty() && !looks_like_email {
                return self.fail(OP, Fail::Invalid, &format!("Invalid {key} {v}."));
            }
        }
        let role = text("ROLE");
        if !role.is_empty() && !ROLES.iter().any(|r| r.eq_ignore_ascii_case(role)) {
            return self.fail(OP, Fail::Invalid, &format!("Invalid ROLE {role}."));
        }
        // Booleans are read leniently: true, "true" and "TRUE" all count.
        let flag = |k: &str| match details.get(k) {
            Some(Json::Bool(b)) => Some(*b),
            Some(Json::String(s)) => s.to_ascii_lowercase().parse().ok(),
            _ => None,
        };
        for key in BOOLEANS {
            if details.contains_key(*key) && flag(key).is_none() {
                return self.fail(OP, Fail::Invalid, &format!("Invalid value for {key}; it must be true or false."));
            }
        }
        for key in ["ROLEID", "TOKENVALIDITYDAYS"] {
            if let Some(v) = details.get(key)
                && v.as_i64().is_none()
                && v.as_str().and_then(|s| s.parse::<i64>().ok()).is_none()
            {
                return self.fail(OP, Fail::Invalid, &format!("Invalid value for {key}; it must be a number."));
            }
        }
        if self.find(&username).is_some() {
            return self.fail(OP, Fail::Exists, &format!("User with the name {username} already exists."));
        }
        let api = flag("ISAPIUSER") == Some(true) || flag("RESTAPIACCESS") == Some(true);
        let token = api.then(uuid_upper);
        let id = self.next_id;
        self.next_id += 1;
        let stored = details.clone();
        self.users.insert(
            id,
            User {
                id,
                username: username.clone(),
                details: stored,
                token: token.clone(),
                builtin: false,
                locked: false,
            },
        );
        let mut out = json!({ "USERID": id.to_string() });
        if let Some(t) = token {
            out["AUTHTOKEN"] = json!(t);
        }
        self.ok(OP, &format!("User {username} has been added successfully."), out)
    }
}

fn uuid_upper() -> String {
    let h = random_hex(16);
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

impl Pam360Sim {
    /// `…/user/{TAIL}`: getUserId, transferUserAccountabilities, lock, unlock, a delete by id.
    fn user_call(&mut self, m: &str, tail: &str, req: &SimRequest) -> SimResponse {
        match (m, tail) {
            ("GET", "getUserId") => {
                let name = req.param("USERNAME").unwrap_or_default();
                match self.find(name) {
                    Some(u) => {
                        let d = json!({ "USERID": u.id.to_string(), "USERNAME": u.username });
                        self.ok("GET_USERID", "User ID fetched successfully.", d)
                    }
                    None => self.fail("GET_USERID", Fail::Missing, &format!("User {name} does not exist.")),
                }
            }
            ("POST", "transferUserAccountabilities") => self.transfer(req),
            ("PUT", "lock" | "unlock") => {
                let name = req.param("USERNAME").unwrap_or_default().to_string();
                let lock = tail == "lock";
                let Some(id) = self.find(&name).map(|u| u.id) else {
                    return self.fail("LOCK_USER", Fail::Missing, &format!("User {name} does not exist."));
                };
                self.users.update(id, |u| u.locked = lock);
                let verb = if lock { "locked" } else { "unlocked" };
                self.ok("LOCK_USER", &format!("User {name} has been {verb} successfully."), json!({}))
            }
            ("DELETE", id) => {
                let id: i64 = id.parse().unwrap_or(-1);
                match self.users.get(&id) {
                    None => self.fail("DELETE_USER", Fail::Missing, &format!("User with ID {id} does not exist.")),
                    Some(u) if u.builtin => {
                        self.fail("DELETE_USER", Fail::Forbidden, "You are not allowed to delete this user.")
                    }
                    Some(u) => {
                        let name = u.username.clone();
                        self.users.remove(id);
                        self.forget_shares(id);
                        for g in &mut self.groups {
                            g.members.retain(|m| *m != id);
                        }
                        self.ok("DELETE_USER", &format!("User {name} has been deleted successfully."), json!({}))
                    }
                }
            }
            _ => SimResponse::tomcat(405, "Method Not Allowed"),
        }
    }
}

impl SimVendor for Pam360Sim {
    fn changes(&self) -> u64 {
        self.users.changes() + self.share_changes
    }

    fn owns(&self, path: &str) -> bool {
        path.starts_with("/restapi/") || path.starts_with("/scim/")
    }

    fn seeded(&self) -> Option<String> {
        let names: Vec<String> = access::SEEDED
            .iter()
            .map(|(r, accounts)| format!("{r} ({})", accounts.join(", ")))
            .collect();
        Some(format!(
            "resources and accounts {}; user groups {}; {} shares core-router-01/netops",
            names.join(", "),
            scim::SEEDED.join(", "),
            super::LEAVER
        ))
    }

    fn state(&self) -> Json {
        let groups: Vec<Json> = self
            .groups
            .iter()
            .map(|g| {
                let members: Vec<&str> = g.members.iter().filter_map(|id| self.users.get(id)).map(|u| u.username.as_str()).collect();
                json!({ "name": g.name, "members": members })
            })
            .collect();
        json!({ "shares": self.shares_json(), "transfers": self.transfers, "groups": groups })
    }

    fn handle(&mut self, req: &SimRequest) -> SimResponse {
        let m = req.method.as_str();
        let route = |p: &str| req.route(p, false);
        let known = route("/restapi/json/v1/user").is_some()
            || route("/restapi/json/v1/user/{}").is_some();
        let other = req.path.starts_with("/scim/") || req.path.starts_with("/restapi/json/v1/resources/");
        if !known && !other {
            return SimResponse::tomcat(404, "Not Found");
        }
        if !self.authorized(req) && req.path.starts_with("/scim/") {
            return scim::scim_error(401, "Authentication failed: the token is invalid or has expired");
        }
        if !self.authorized(req) {
            return self.fail(
                "AUTHENTICATE",
                Fail::Auth,
                "Invalid AUTHTOKEN. The AUTHTOKEN given is invalid or has expired; regenerate it and try again.",
            );
        }
        if !self.org_ok(req) {
            return self.fail(
                "AUTHENTICATE",
                Fail::Invalid,
                &format!("Invalid organization name {}.", req.header("orgname").unwrap_or_default()),
            );
        }
        if !known {
            return self
                .serve_access(req)
                .or_else(|| self.serve_scim(req))
                .unwrap_or_else(|| SimResponse::tomcat(404, "Not Found"));
        }
        if route("/restapi/json/v1/user").is_some() {
            return match m {
                "POST" => self.create(req),
                "GET" => {
                    let users: Vec<Json> = self
                        .users
                        .values()
                        .map(|u| json!({ "USERID": u.id.to_string(), "USERNAME": u.username }))
                        .collect();
                    self.ok("GET_USERS", "Users fetched successfully.", Json::Array(users))
                }
                _ => SimResponse::tomcat(405, "Method Not Allowed"),
            };
        }
        let tail = route("/restapi/json/v1/user/{}")
            .and_then(|c| c.into_iter().next())
            .unwrap_or_default();
        self.user_call(m, &tail, req)
    }

    fn server_error(&self) -> SimResponse {
        SimResponse::tomcat(500, "Internal Server Error")
    }

    fn secrets(&self) -> Vec<String> {
        let mut out = Vec::new();
        for u in self.users.values() {
            out.extend(u.token.clone());
            out.extend(u.details.get("PASSWORD").and_then(Json::as_str).map(String::from));
        }
        out
    }

    fn users(&self) -> Json {
        Json::Array(
            self.users
                .values()
                .map(|u| {
                    let mut d = u.details.clone();
                    d.insert("USERID".into(), json!(u.id));
                    d.insert("USERNAME".into(), json!(u.username));
                    d.insert("LOCKED".into(), json!(u.locked));
                    if let Some(t) = &u.token {
                        d.insert("AUTHTOKEN".into(), json!(t));
                    }
                    Json::Object(d)
                })
                .collect(),
        )
    }
}
