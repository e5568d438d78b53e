//! Simulated CyberArk Identity tenant: the platform token (client credentials), users created,
//! queried, changed, disabled, deleted and given new passwords, and roles with their members;
//! every failure an HTTP 200 with `success: false`, as Identity answers (ACCESS-FACTS §2.1, §2.4).
//!
//! Where the documents are silent these are the simulator's choices (ACCESS-FACTS §6): the
//! failure messages and `ErrorID`s are invented; `SetUserState` takes `{"ID", "state"}`; the
//! Redrock `User` rows have `ID, Username, DisplayName, Email, MobileNumber, Description, State`;
//! roles are looked up with Redrock's `Role` table; a bad token is HTTP 401 with the envelope;
//! a role member added twice is no error.

use std::time::Duration;

use serde_json::{Value as Json, json};

use super::directory::{Directory, Named};
use super::{SimRequest, SimResponse, SimSpec, SimVendor, platform};
use crate::util::secret::random_hex;

mod roles;

// Identity's knobs of `onboard sim` (not a doc comment: see appmanager.rs).
#[derive(clap::Args, Debug, Clone, Default)]
#[group(skip)]
#[command(next_help_heading = "CyberArk Identity")]
pub struct Knobs {
    /// How long a platform token lasts, in seconds (default 3600): short, to see renewal.
    #[arg(long = "identity-token-lifetime", value_name = "SECS")]
    pub token_lifetime: Option<u64>,
}

pub static SIM: SimSpec = SimSpec {
    name: "identity",
    user_name_key: "name",
    new: |options| Box::new(IdentitySim::new(&options.vendors.identity)),
    profile: |url| {
        vec![
            ("url", super::toml_string(url)),
            ("client_id", super::toml_string(CLIENT_ID)),
            ("client_secret", super::toml_string(CLIENT_SECRET)),
        ]
    },
};

/// The roles the tenant starts with: a simulated Privilege Cloud vault takes them as members.
pub const ROLES: &[&str] = roles::SEEDED;

/// The tenant's login suffix, as ISPSS default suffixes look.
pub const SUFFIX: &str = "cyberark.cloud.1234";
/// The simulator's fixed service user; it guards nothing.
pub const CLIENT_ID: &str = "onboard-sim@cyberark.cloud.1234";
pub const CLIENT_SECRET: &str = "Sim-Identity-Secret-1";

struct User {
    uuid: String,
    login: String,
    display_name: String,
    mail: String,
    mobile: String,
    description: String,
    /// `None` or `Disabled`.
    state: String,
    /// Only `/__sim/users` shows it (tests check it never leaks).
    password: Option<String>,
    builtin: bool,
}

impl Named for User {
    fn name(&self) -> &str {
        &self.login
    }
}

pub struct IdentitySim {
    users: Directory<User>,
    next_id: i64,
    roles: Vec<roles::Role>,
    role_changes: u64,
    lifetime: Duration,
}

fn uuid() -> String {
    let h = random_hex(16);
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

/// The envelope of a success.
fn ok(result: Json) -> SimResponse {
    SimResponse::json(200, &json!({ "success": true, "Result": result, "Message": null, "ErrorID": null }))
}

/// Identity's failures are HTTP 200 with `success: false`.
fn failed(message: &str) -> SimResponse {
    SimResponse::json(200, &json!({ "success": false, "Result": null, "Message": message,
        "ErrorID": format!("sim-{:08x}", message.len() * 2654435761 % 4294967296) }))
}

fn text(body: &Json, key: &str) -> String {
    crate::util::lenient::field(body, key).and_then(Json::as_str).unwrap_or_default().to_string()
}

impl IdentitySim {
    fn new(knobs: &Knobs) -> Self {
        let mut sim = IdentitySim {
            users: Directory::default(),
            next_id: 1,
            roles: roles::seeded(),
            role_changes: 0,
            lifetime: Duration::from_secs(knobs.token_lifetime.unwrap_or(3600)),
        };
        for (login, builtin) in [(CLIENT_ID.to_string(), true), (format!("{}@{SUFFIX}", super::LEAVER), false)] {
            let id = sim.next_id;
            sim.next_id += 1;
            sim.users.insert(id, User {
                uuid: uuid(), display_name: login.split('@').next().unwrap_or_default().into(),
                mail: String::new(), mobile: String::new(), description: String::new(),
                state: "None".into(), password: None, builtin, login,
            });
        }
        if let Some(noc) = sim.roles.iter_mut().find(|r| r.name == "NOC Engineers") {
            noc.members.push(format!("{}@{SUFFIX}", super::LEAVER));
        }
        sim
    }

    /// The user an `ID` names: its UUID, or its login (DeleteUser takes either).
    fn by_id(&self, id: &str) -> Option<i64> {
        self.users
            .values()
            .find(|u| u.uuid == id)
            .map(|u| u.login.clone())
            .and_then(|login| self.users.find_id(&login))
            .or_else(|| self.users.find_id(id))
    }

    /// `POST oauth2/platformtoken` (form-encoded client credentials).
    fn token(&self, req: &SimRequest) -> SimResponse {
        if req.param("grant_type") != Some("client_credentials") {
            return SimResponse::json(400, &json!({ "error": "unsupported_grant_type",
                "error_description": "grant_type must be client_credentials" }));
        }
        if req.param("client_id") != Some(CLIENT_ID) || req.param("client_secret") != Some(CLIENT_SECRET) {
            return SimResponse::json(401, &json!({ "error": "invalid_client",
                "error_description": "The client credentials are invalid." }));
        }
        SimResponse::json(200, &json!({ "access_token": platform::issue(self.lifetime),
            "token_type": "Bearer", "expires_in": self.lifetime.as_secs() }))
    }

    fn create(&mut self, body: &Json) -> SimResponse {
        let login = text(body, "Name");
        let Some((name, suffix)) = login.split_once('@') else {
            return failed(&format!("The user name {login} is invalid: it must end with @{SUFFIX}."));
        };
        if name.is_empty() || !name.chars().all(|c| c.is_alphanumeric() || "+-_.".contains(c)) {
            return failed(&format!("The user name {login} is invalid."));
        }
        if !suffix.eq_ignore_ascii_case(SUFFIX) {
            return failed(&format!("The suffix {suffix} is invalid for this tenant; use {SUFFIX}."));
        }
        if self.users.find_id(&login).is_some() {
            return failed(&format!("The user name {login} already exists."));
        }
        let password = text(body, "Password");
        if !password.is_empty() && password.chars().count() < 8 {
            return failed("The password is invalid: it must have at least 8 characters.");
        }
        let id = self.next_id;
        self.next_id += 1;
        let user = User {
            uuid: uuid(),
            display_name: text(body, "DisplayName"),
            mail: text(body, "Mail"),
            mobile: text(body, "MobileNumber"),
            description: text(body, "Description"),
            state: "None".into(),
            password: (!password.is_empty()).then_some(password),
            builtin: false,
            login,
        };
        let answer = json!(user.uuid);
        self.users.insert(id, user);
        ok(answer)
    }

    fn row(u: &User) -> Json {
        json!({ "Row": { "ID": u.uuid, "Username": u.login, "DisplayName": u.display_name, "Email": u.mail,
                         "MobileNumber": u.mobile, "Description": u.description, "State": u.state } })
    }

    /// `Redrock/query`: `Select … from User|Role [WHERE Username|Name='x']`.
    fn query(&self, body: &Json) -> SimResponse {
        let script = text(body, "Script");
        let lower = script.to_ascii_lowercase();
        let wanted = script
            .split_once('\'')
            .and_then(|(_, rest)| rest.rsplit_once('\''))
            .map(|(v, _)| v.replace("''", "'"));
        let results: Vec<Json> = if lower.contains(" from role") {
            self.roles
                .iter()
                .filter(|r| wanted.as_ref().is_none_or(|w| r.name.eq_ignore_ascii_case(w)))
                .map(|r| json!({ "Row": { "ID": r.id, "Name": r.name } }))
                .collect()
        } else if lower.contains(" from user") {
            self.users
                .values()
                .filter(|u| wanted.as_ref().is_none_or(|w| u.login.eq_ignore_ascii_case(w)))
                .map(Self::row)
                .collect()
        } else {
            return failed(&format!("Query is invalid: {script}"));
        };
        ok(json!({ "Count": results.len(), "Results": results }))
    }

    fn change(&mut self, body: &Json) -> SimResponse {
        let Some(id) = self.by_id(&text(body, "ID")) else {
            return failed("User not found.");
        };
        let set = |k: &str| crate::util::lenient::field(body, k).and_then(Json::as_str).map(str::to_string);
        let (display, mail, mobile, description) = (set("DisplayName"), set("Mail"), set("MobileNumber"), set("Description"));
        self.users.update(id, |u| {
            // ChangeUser changes only what it is given.
            if let Some(v) = display { u.display_name = v; }
            if let Some(v) = mail { u.mail = v; }
            if let Some(v) = mobile { u.mobile = v; }
            if let Some(v) = description { u.description = v; }
        });
        ok(Json::Null)
    }

    fn delete(&mut self, body: &Json) -> SimResponse {
        let Some(id) = self.by_id(&text(body, "ID")) else {
            return failed("User not found.");
        };
        match self.users.get(&id) {
            Some(u) if u.builtin => failed("You are not authorized to delete this user."),
            Some(u) => {
                let login = u.login.clone();
                self.users.remove(id);
                self.leave_roles(&login);
                ok(Json::Null)
            }
            None => failed("User not found."),
        }
    }

    fn set_state(&mut self, body: &Json) -> SimResponse {
        let Some(id) = self.by_id(&text(body, "ID")) else {
            return failed("User not found.");
        };
        let state = text(body, "state");
        let known = state.split(',').map(str::trim).all(|s| ["None", "Locked", "Disabled", "Expired"].iter().any(|k| k.eq_ignore_ascii_case(s)));
        if state.is_empty() || !known {
            return failed(&format!("The state {state} is invalid: None, or Locked, Disabled, Expired."));
        }
        self.users.update(id, |u| u.state = state);
        ok(Json::Null)
    }

    fn reset_password(&mut self, body: &Json) -> SimResponse {
        let Some(id) = self.by_id(&text(body, "ID")) else {
            return failed("User not found.");
        };
        let password = text(body, "newPassword");
        if password.chars().count() < 8 {
            return failed("The password is invalid: it must have at least 8 characters.");
        }
        self.users.update(id, |u| u.password = Some(password));
        ok(Json::Null)
    }

    fn route(&mut self, path: &str, req: &SimRequest, body: &Json) -> SimResponse {
        match path {
            "/core/getcdsaliasesfortenant" => ok(json!({ "Results": [{ "Entities": [{ "Key": SUFFIX, "Type": "CdsAlias" }] }] })),
            "/cdirectoryservice/createuser" => self.create(body),
            "/cdirectoryservice/getuser" => match self.by_id(&text(body, "ID")).and_then(|id| self.users.get(&id)) {
                Some(u) => ok(Self::row(u)["Row"].clone()),
                None => failed("User not found."),
            },
            "/cdirectoryservice/getuserbyname" => match self.users.find(&text(body, "username")) {
                Some(u) => ok(Self::row(u)["Row"].clone()),
                None => failed("User not found."),
            },
            "/cdirectoryservice/changeuser" => self.change(body),
            "/cdirectoryservice/deleteuser" => self.delete(body),
            "/cdirectoryservice/setuserstate" => self.set_state(body),
            "/redrock/query" => self.query(body),
            "/usermgmt/resetuserpassword" => self.reset_password(body),
            "/usermgmt/getusersrolesandadministrativerights" => self.roles_of(req.param("ID").unwrap_or_default()),
            "/roles/getrolemembers" => self.role_members(body),
            "/saasmanage/adduserandgroupstorole" | "/saasmanage/addusersandgroupstorole" => self.add_to_role(body),
            "/saasmanage/removeusersandgroupsfromrole" => self.remove_from_role(body),
            _ => SimResponse::json(404, &json!({ "success": false, "Message": format!("No such API: {path}") })),
        }
    }
}

const PATHS: &[&str] = &["/oauth2/", "/cdirectoryservice/", "/redrock/", "/usermgmt/", "/roles/", "/saasmanage/", "/core/"];

impl SimVendor for IdentitySim {
    fn changes(&self) -> u64 {
        self.users.changes() + self.role_changes
    }

    fn owns(&self, path: &str) -> bool {
        let path = path.to_ascii_lowercase();
        PATHS.iter().any(|p| path.starts_with(p))
    }

    fn seeded(&self) -> Option<String> {
        let names: Vec<&str> = roles::SEEDED.to_vec();
        Some(format!(
            "login suffix {SUFFIX}; roles {}; {}@{SUFFIX} in NOC Engineers",
            names.join(", "),
            super::LEAVER
        ))
    }

    fn state(&self) -> Json {
        json!({ "roles": self.roles.iter().map(|r| json!({ "name": r.name, "members": r.members })).collect::<Vec<_>>() })
    }

    fn handle(&mut self, req: &SimRequest) -> SimResponse {
        let path = req.path.trim_end_matches('/').to_ascii_lowercase();
        if req.method != "POST" {
            return SimResponse::json(405, &json!({ "success": false, "Message": "Only POST is supported." }));
        }
        if path == "/oauth2/platformtoken" {
            return self.token(req);
        }
        if !platform::authorized(req.header("authorization")) {
            return SimResponse::json(401, &json!({ "success": false, "Result": null,
                "Message": "Authentication (login or challenge) has failed.", "ErrorID": "sim-auth" }));
        }
        let body = if req.body.is_empty() {
            Json::Null
        } else {
            match serde_json::from_slice::<Json>(&req.body) {
                Ok(b) => b,
                Err(e) => return failed(&format!("The request body is invalid JSON: {e}")),
            }
        };
        self.route(&path, req, &body)
    }

    fn server_error(&self) -> SimResponse {
        SimResponse::json(500, &json!({ "success": false, "Message": "An internal error occurred." }))
    }

    fn secrets(&self) -> Vec<String> {
        self.users.values().filter_map(|u| u.password.clone()).collect()
    }

    fn users(&self) -> Json {
        Json::Array(
            self.users
                .values()
                .map(|u| {
                    let mut j = Self::row(u)["Row"].clone();
                    // The login without its suffix: what scripts call the user.
                    j["name"] = json!(u.login.split('@').next().unwrap_or_default());
                    if let Some(p) = &u.password {
                        j["password"] = json!(p);
                    }
                    j
                })
                .collect(),
        )
    }

    fn expire_sessions(&mut self) {
        platform::revoke_all();
    }
}
