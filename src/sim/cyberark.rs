//! Simulated CyberArk PVWA: Gen2 logon and users, the Gen1 paths older clients still call, IIS-style paths.
//!
//! The enum lists here are written out from the API documents on purpose, not shared with the
//! client: the simulator and the client must each agree with the documents, so that a mistake in
//! one is caught by the other.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::{Value as Json, json};

use super::directory::{Directory, Named};
use super::{SimRequest, SimResponse, SimSpec, SimVendor};
use crate::util::lenient::field as get_ci;
use crate::util::secret::random_hex;

mod answers;
mod groups;
mod lifecycle;
mod routes;
mod safes;
mod users;

use answers::{error, invalid, not_found, user_not_found};
use routes::{Route, json_body};
use users::{AUTHORIZATIONS, build_user, from_gen1, gen1_view, summary, user_name};

// CyberArk's knobs of `onboard sim` (not a doc comment: see appmanager.rs).
#[derive(clap::Args, Debug, Clone, Default)]
#[group(skip)]
#[command(next_help_heading = "CyberArk")]
pub struct Knobs {
    /// End a CyberArk session after it has served N requests, as an inactivity timeout would
    /// (deterministic re-logon tests).
    #[arg(long = "cyberark-session-requests", value_name = "N", hide = true)]
    pub session_requests: Option<u32>,
    /// The vault authorizations the logon user holds (default: all of them); a call that
    /// needs one it lacks is refused with 403, as PVWA refuses it.
    #[arg(long = "cyberark-authorizations", value_delimiter = ',', value_name = "AUTH,...")]
    pub authorizations: Vec<String>,
    /// Answer a name with a dot and no trailing slash with IIS's HTML 404, as a real PVWA does.
    #[arg(long = "cyberark-iis-dots")]
    pub iis_dots: bool,
    /// Behave as Privilege Cloud: a safe member added without `memberType` is refused (400
    /// PASWS167E), as Privilege Cloud refuses it. Platform tokens are taken in either mode.
    #[arg(long = "cyberark-privilege-cloud")]
    pub privilege_cloud: bool,
}

pub static SIM: SimSpec = SimSpec {
    name: "cyberark",
    user_name_key: "username",
    new: |options| Box::new(CyberArkSim::new(&options.vendors.cyberark)),
    profile: |url| {
        vec![
            ("url", super::toml_string(url)),
            ("auth_method", super::toml_string("CyberArk")),
            ("username", super::toml_string(USERNAME)),
            ("password", super::toml_string(PASSWORD)),
        ]
    },
};

/// The simulator's fixed logon; it guards nothing.
pub const USERNAME: &str = "onboard-sim";
pub const PASSWORD: &str = "Sim-Vault-Passw0rd";

/// The id of the person to offboard (`sim::LEAVER`).
const LEAVER_ID: i64 = 5;

const SESSION_TTL: Duration = Duration::from_secs(1200);
/// .NET `DateTime.MinValue` in Unix seconds, which PVWA sends for "never expires".
pub(super) const NEVER: i64 = -62_135_578_800;

/// What IIS answers for a path whose last part has a dot and no trailing slash.
const IIS_404: &str = "<!DOCTYPE html><html><head><title>404 - File or directory not found.</title></head><body><h2>404 - File or directory not found.</h2></body></html>";

/// IIS takes a last path part with a dot for a file name unless the path ends with `/`.
fn iis_would_refuse(req: &SimRequest) -> bool {
    !req.path.ends_with('/') && req.path.rsplit('/').next().is_some_and(|last| last.contains('.'))
}

const LOGON_METHODS: &[&str] = &["cyberark", "ldap", "radius", "windows"];
struct User {
    /// The Gen2 user object as PVWA returns it.
    json: Json,
    builtin: bool,
    /// What the user was created with; only `/__sim/users` shows it (tests check it never leaks).
    password: Option<String>,
    /// The name, first and last name in lower case: what `search=` matches, kept so that a
    /// search of ten thousand users allocates nothing.
    searched: [String; 3],
}

impl User {
    fn new(json: Json, builtin: bool, password: Option<String>) -> User {
        let mut user = User {
            json,
            builtin,
            password,
            searched: Default::default(),
        };
        user.index();
        user
    }

    fn index(&mut self) {
        let pd = |k: &str| {
            self.json["personalDetails"][k]
                .as_str()
                .unwrap_or_default()
                .to_lowercase()
        };
        self.searched = [user_name(&self.json).to_lowercase(), pd("firstName"), pd("lastName")];
    }
}

/// A logon session: when it was last used and how many requests it may still serve.
struct Session {
    last_used: Instant,
    requests_left: Option<u32>,
}

impl Named for User {
    fn name(&self) -> &str {
        user_name(&self.json)
    }
}

pub struct CyberArkSim {
    users: Directory<User>,
    next_id: i64,
    groups: Vec<groups::Group>,
    next_group_id: i64,
    safes: Vec<safes::Safe>,
    /// Changes to groups, safes and their members, for `changes()`.
    group_changes: u64,
    sessions: HashMap<String, Session>,
    session_requests: Option<u32>,
    /// The logon user's vault authorizations (`--cyberark-authorizations`).
    authorizations: Vec<String>,
    iis_dots: bool,
    privilege_cloud: bool,
}

impl CyberArkSim {
    fn new(knobs: &Knobs) -> Self {
        let session_requests = knobs.session_requests;
        let authorizations = if knobs.authorizations.is_empty() {
            AUTHORIZATIONS.iter().map(|a| a.to_string()).collect()
        } else {
            knobs.authorizations.clone()
        };
        let mut sim = CyberArkSim {
            authorizations: authorizations.clone(),
            iis_dots: knobs.iis_dots,
            privilege_cloud: knobs.privilege_cloud,
            users: Directory::default(),
            next_id: 100,
            groups: Vec::new(),
            next_group_id: groups::FIRST_GROUP_ID,
            safes: safes::seeded(),
            group_changes: 0,
            sessions: HashMap::new(),
            session_requests,
        };
        for (id, name) in [(2, "Administrator"), (3, "Auditor"), (4, USERNAME)] {
            let mut body = json!({ "username": name, "authenticationMethod": ["AuthTypePass"] });
            if name == "Administrator" {
                body["vaultAuthorization"] = json!(AUTHORIZATIONS);
            }
            if name == USERNAME {
                body["vaultAuthorization"] = json!(authorizations);
            }
            if let Ok(mut json) = build_user(&body, id, false) {
                json["location"] = json!("\\");
                sim.users.insert(
                    id,
                    User::new(json, true, None),
                );
            }
        }
        let leaver = json!({ "username": super::LEAVER, "authenticationMethod": ["AuthTypePass"],
            "personalDetails": { "firstName": "Alex", "lastName": "Leaver" },
            "internet": { "businessEmail": "alex.leaver@example.com" } });
        if let Ok(json) = build_user(&leaver, LEAVER_ID, false) {
            sim.users.insert(LEAVER_ID, User::new(json, false, None));
        }
        for (name, description) in groups::SEEDED {
            sim.groups.push(groups::Group {
                id: sim.next_group_id,
                name: name.to_string(),
                description: description.to_string(),
                location: "\\".into(),
                // The built-in Administrator (id 2) administers the vault; the leaver is on
                // the service desk.
                members: match *name {
                    "Vault Admins" => vec![2],
                    "Service Desk" => vec![LEAVER_ID],
                    _ => Vec::new(),
                },
            });
            sim.next_group_id += 1;
        }
        sim
    }

    /// The session a request carries, or the 401 PVWA answers.
    fn authorize(&mut self, req: &SimRequest) -> Result<(), SimResponse> {
        let now = Instant::now();
        self.sessions.retain(|_, s| {
            now.duration_since(s.last_used) < SESSION_TTL && s.requests_left != Some(0)
        });
        // A platform token from CyberArk Identity, as Privilege Cloud takes it.
        if super::platform::authorized(req.header("authorization")) {
            return Ok(());
        }
        // Self-hosted PVWA takes the bare token: a `Bearer ` prefix is a client mistake.
        let token = req.header("authorization").unwrap_or_default();
        match self.sessions.get_mut(token) {
            Some(s) => {
                s.last_used = now;
                s.requests_left = s.requests_left.map(|n| n.saturating_sub(1));
                Ok(())
            }
            None => Err(error(
                401,
                "PASWS006E",
                "The session token is missing, invalid or has expired. Please log on again.",
            )),
        }
    }

    fn logon(&mut self, method: &str, req: &SimRequest, gen1: bool) -> SimResponse {
        if !gen1 && !LOGON_METHODS.contains(&method.to_ascii_lowercase().as_str()) {
            return not_found(req);
        }
        let Ok(body) = serde_json::from_slice::<Json>(&req.body) else {
            return invalid(vec!["the logon body must be JSON with username and password".into()]);
        };
        let (Some(user), Some(pass)) = (
            get_ci(&body, "username").and_then(Json::as_str),
            get_ci(&body, "password").and_then(Json::as_str),
        ) else {
            return invalid(vec!["username and password are mandatory".into()]);
        };
        if !(user.eq_ignore_ascii_case(USERNAME) && pass == PASSWORD) {
            return error(403, "ITATS004E", &format!("Authentication failure for User [{user}]."));
        }
        // psPAS recognises a Gen2 token by its length (180 characters or more).
        let token = random_hex(100);
        self.sessions.insert(
            token.clone(),
            Session {
                last_used: Instant::now(),
                requests_left: self.session_requests,
            },
        );
        if gen1 {
            SimResponse::json(200, &json!({ "CyberArkLogonResult": token }))
        } else {
            SimResponse::json(200, &json!(token))
        }
    }

    fn find_by_name(&self, name: &str) -> Option<i64> {
        self.users.find_id(name)
    }

    fn create(&mut self, body: &Json) -> Result<(i64, Json), SimResponse> {
        let name = get_ci(body, "username").and_then(Json::as_str).unwrap_or_default();
        if !name.is_empty() && self.find_by_name(name).is_some() {
            return Err(error(409, "PASWS027E", &format!("User [{name}] already exists.")));
        }
        let id = self.next_id;
        let user = build_user(body, id, true).map_err(invalid)?;
        self.next_id += 1;
        let password = get_ci(body, "initialPassword")
            .and_then(Json::as_str)
            .map(str::to_string);
        self.users.insert(
            id,
            User::new(user.clone(), false, password),
        );
        Ok((id, user))
    }

    /// `PUT /API/Users/{id}` replaces the whole user (ACCESS-FACTS §0.1): whatever the body
    /// leaves out is cleared to its default, so a client that sends a partial body is caught.
    fn update(&mut self, id: i64, body: &Json) -> Result<Json, SimResponse> {
        let Some(user) = self.users.get(&id) else {
            return Err(user_not_found(&id.to_string()));
        };
        let last_logon = user.json["lastSuccessfulLoginDate"].clone();
        let mut rebuilt = build_user(body, id, false).map_err(invalid)?;
        rebuilt["lastSuccessfulLoginDate"] = last_logon;
        let taken = self
            .users
            .find_id(user_name(&rebuilt))
            .is_some_and(|other| other != id);
        if taken {
            return Err(error(
                409,
                "PASWS027E",
                &format!("User [{}] already exists.", user_name(&rebuilt)),
            ));
        }
        self.users.update(id, |u| {
            u.json = rebuilt.clone();
            u.index();
        });
        rebuilt["groupsMembership"] = self.memberships(id);
        Ok(rebuilt)
    }

    fn delete(&mut self, id: i64) -> SimResponse {
        match self.users.get(&id) {
            None => user_not_found(&id.to_string()),
            Some(u) if u.builtin => error(403, "PASWS041E", "Not authorized."),
            Some(u) => {
                let name = user_name(&u.json).to_string();
                self.users.remove(id);
                self.leave_groups(id);
                self.leave_safes(&name);
                SimResponse::empty(204)
            }
        }
    }

    fn list(&self, req: &SimRequest) -> SimResponse {
        let search = req.query_ci("search").map(str::to_lowercase);
        let exact = req.query_ci("userName");
        // ExtendedDetails=true adds groupsMembership, enableUser and suspended (ACCESS-FACTS §1.3).
        let extended = req
            .query_ci("ExtendedDetails")
            .is_some_and(|v| v.eq_ignore_ascii_case("true"));
        let user_type = req.query_ci("userType");
        // psPAS's plain parameters (13.2+): UserStatus Active|Disabled|Suspended, ComponentUser.
        let status = req.query_ci("UserStatus").map(str::to_ascii_lowercase);
        let component = req.query_ci("ComponentUser").map(str::to_ascii_lowercase);
        let status_of = |u: &Json| {
            if u["suspended"].as_bool() == Some(true) {
                "suspended"
            } else if u["enableUser"].as_bool() == Some(false) {
                "disabled"
            } else {
                "active"
            }
        };
        let filters: Vec<(String, String)> = req
            .query_ci("filter")
            .map(|f| {
                f.split(" AND ")
                    .filter_map(|c| {
                        let mut parts = c.trim().splitn(3, ' ');
                        let (field, op, value) = (parts.next()?, parts.next()?, parts.next()?);
                        op.eq_ignore_ascii_case("eq")
                            .then(|| (field.to_lowercase(), value.to_string()))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let users: Vec<Json> = self
            .users
            .values()
            .filter(|u| search.as_ref().is_none_or(|s| u.searched.iter().any(|t| t.contains(s.as_str()))))
            .map(|u| &u.json)
            .filter(|u| {
                let name = user_name(u);
                let text = |k: &str| u.get(k).and_then(Json::as_str).unwrap_or_default();
                let exact_ok = exact.is_none_or(|n| name.eq_ignore_ascii_case(n));
                let type_ok = user_type.is_none_or(|t| text("userType").eq_ignore_ascii_case(t));
                let filters_ok = filters.iter().all(|(f, v)| match f.as_str() {
                    "username" => name.eq_ignore_ascii_case(v),
                    "usertype" => text("userType").eq_ignore_ascii_case(v),
                    "componentuser" => u["componentUser"].as_bool().map(|b| b.to_string()).as_deref() == Some(v.to_lowercase().as_str()),
                    _ => true,
                });
                let status_ok = status.as_deref().is_none_or(|st| status_of(u) == st);
                let component_ok = component
                    .as_deref()
                    .is_none_or(|c| u["componentUser"].as_bool().unwrap_or(false).to_string() == c);
                exact_ok && type_ok && filters_ok && status_ok && component_ok
            })
            .map(|u| {
                let mut listed = summary(u);
                if extended {
                    let id = u["id"].as_i64().unwrap_or_default();
                    listed["groupsMembership"] = self.memberships(id);
                    listed["enableUser"] = u["enableUser"].clone();
                    listed["suspended"] = u["suspended"].clone();
                }
                listed
            })
            .collect();
        SimResponse::json(200, &json!({ "Users": users, "Total": users.len() }))
    }

    fn gen1_create(&mut self, body: &Json) -> SimResponse {
        let converted = from_gen1(body, None);
        match self.create(&converted) {
            Ok((_, user)) => SimResponse::json(201, &gen1_view(&user)),
            Err(resp) => resp,
        }
    }

    fn gen1_user(&mut self, method: &str, name: &str, req: &SimRequest) -> SimResponse {
        let Some((id, current)) = self
            .find_by_name(name)
            .and_then(|id| Some((id, self.users.get(&id)?.json.clone())))
        else {
            return user_not_found(name);
        };
        match method {
            "GET" => SimResponse::json(200, &gen1_view(&current)),
            "PUT" => {
                let Ok(body) = serde_json::from_slice::<Json>(&req.body) else {
                    return invalid(vec!["the body must be JSON".into()]);
                };
                let changes = from_gen1(&body, Some(&current));
                match self.update(id, &changes) {
                    Ok(user) => SimResponse::json(200, &gen1_view(&user)),
                    Err(resp) => resp,
                }
            }
            _ => match self.delete(id) {
                r if r.status == 204 => SimResponse::json(200, &json!({})),
                r => r,
            },
        }
    }
}

impl SimVendor for CyberArkSim {
    fn changes(&self) -> u64 {
        self.users.changes() + self.group_changes
    }

    fn seeded(&self) -> Option<String> {
        let names: Vec<&str> = groups::SEEDED.iter().map(|(n, _)| *n).collect();
        let safes: Vec<&str> = safes::SEEDED.iter().map(|(n, _)| *n).collect();
        Some(format!(
            "vault groups {}; safes {} (the logon user may not change {}'s members); {} in Service Desk and on NOC-Shared",
            names.join(", "),
            safes.join(", "),
            safes::LOCKED_SAFE,
            super::LEAVER
        ))
    }

    fn state(&self) -> Json {
        let groups: Vec<Json> = self.groups.iter().map(|g| self.group_json(g, true)).collect();
        json!({ "groups": groups, "safes": self.safes_json() })
    }

    fn owns(&self, path: &str) -> bool {
        path.to_ascii_lowercase().starts_with("/passwordvault")
    }

    fn handle(&mut self, req: &SimRequest) -> SimResponse {
        let Some(route) = Self::route(req) else {
            return not_found(req);
        };
        let method = req.method.as_str();
        if !route.allows(method) {
            return SimResponse::json(
                405,
                &json!({ "Message": format!("The requested resource does not support http method '{method}'.") }),
            );
        }
        match &route {
            Route::Logon(m) => return self.logon(m, req, false),
            Route::Gen1Logon => return self.logon("cyberark", req, true),
            Route::Server => {
                return SimResponse::json(
                    200,
                    &json!({ "ServerName": "onboard simulator", "ServerId": "onboard-sim",
                             "ExternalVersion": "14.2.0", "InternalVersion": "14.2.0.6",
                             "Applications": [] }),
                );
            }
            _ => {}
        }
        if let Err(resp) = self.authorize(req) {
            return resp;
        }
        if self.iis_dots && iis_would_refuse(req) {
            return SimResponse::text(404, IIS_404).header("Content-Type", "text/html");
        }
        if let Some(needed) = route.needs(method)
            && !self.authorizations.iter().any(|a| a.eq_ignore_ascii_case(needed))
        {
            return error(403, "PASWS041E", &format!("You are not authorized to perform this action (it needs {needed})."));
        }
        let body = match json_body(req) {
            Ok(b) => b,
            Err(resp) => return resp,
        };
        self.serve(route, req, body)
    }

    fn server_error(&self) -> SimResponse {
        SimResponse::json(500, &json!({ "Message": "An error has occurred." }))
    }

    fn secrets(&self) -> Vec<String> {
        self.users.values().filter_map(|u| u.password.clone()).collect()
    }

    fn users(&self) -> Json {
        Json::Array(
            self.users
                .values()
                .map(|u| {
                    let mut j = u.json.clone();
                    if let Some(p) = &u.password {
                        j["initialPassword"] = json!(p);
                    }
                    j
                })
                .collect(),
        )
    }

    fn expire_sessions(&mut self) {
        self.sessions.clear();
    }
}
