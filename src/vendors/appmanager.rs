//! ManageEngine Applications Manager (REST API V1): `apikey` as a parameter, JSON or XML answers, code 4000 for success.

use reqwest::Method;
use serde_json::{Value as Json, json};
use rhai::{Array, Dynamic, Map};

use super::error::{ErrorKind, VendorError};
use super::http::{Http, Reply, kind_of_status};
use super::record::{Common, UserRecord};
use super::schema::{Field, Kind, Request, RequestSpec, Value, optional, required};
use super::access::{AccessKind, Direction, Held, MEMBERSHIP};
use super::{UserApi, VendorSpec};
use super::settings::{SettingKind, SettingSpec, VendorSettings, When};
use crate::util::secret::Secret;

mod answer;
mod v3;

use answer::{Answer, parse_json, parse_xml};

const NAME: &str = "appmanager";

/// The client the registry binds (`with_vendors!`).
pub type Client = AppManager;

pub static SPEC: VendorSpec = VendorSpec {
    name: NAME,
    product: "ManageEngine Applications Manager (REST API V1)",
    doc: "Applications Manager users. The apikey travels as a request parameter (never a header) \
          and is scrubbed from every message, since the server echoes it in errors.",
    settings: SETTINGS,
    per_minute: Some(1000),
    create: &CREATE,
    identity: &[(&["email"], "email"), (&["role"], "role")],
    user_type: AppManagerUser::TYPE_NAME,
    user_properties: AppManagerUser::PROPERTIES,
    // One monitor group only: a user created without any is put in all of them.
    example: r#"#{ username: name, role: "OPERATOR", password: random_password(16),
                email: `${name}@example.com`, group_ids: [10000035] }"#,
    access: ACCESS,
    lifecycle: &[],
    update: Some(&UPDATE),
    states: STATES,
    access_example: &[
        ("monitor_group", r#"#{ monitor_group: "mg1" }"#),
        ("user_group", r#"#{ user_group: "NOC Team" }"#),
    ],
};

const SETTINGS: &[SettingSpec] = &[
    SettingSpec {
        key: "apikey",
        kind: SettingKind::Secret,
        required: true,
        when: When::Always,
        doc: "the REST API key of an administrator",
    },
    SettingSpec {
        key: "format",
        kind: SettingKind::OneOf(&["json", "xml"]),
        required: false,
        when: When::Always,
        doc: "which API flavour to call: json (default) or xml",
    },
];

pub const ROLES: &[&str] = &["OPERATOR", "MANAGER", "ADMIN", "USER", "DELEGATEDADMIN"];

const FIELDS: &[Field] = &[
    required("username", "userName", Kind::Name { max: 0, forbidden: "" }, "the user name"),
    required("role", "role", Kind::OneOf(ROLES), "the user's role (any case; sent upper-case)"),
    required("password", "password", Kind::Secret { max: 0 }, "the user's password"),
    required("email", "email", Kind::Email { max: 0 }, "the user's email"),
    optional("description", "description", Kind::Text { max: 0 }, "free text"),
    optional("group_ids", "groupId", Kind::Ints, "ids of monitor groups to associate"),
    optional("group_name", "groupName", Kind::Text { max: 0 }, "name of a monitor group to associate"),
    optional("user_group_ids", "usergroupId", Kind::Ints, "ids of user groups to join"),
    optional("user_group_name", "usergroupName", Kind::Text { max: 0 }, "name of a user group to join"),
    optional("domain_ids", "domainid", Kind::Ints, "ids of domains"),
    optional("domain_name", "domainname", Kind::Text { max: 0 }, "name of a domain"),
];

/// What `Users/update` changes besides monitor groups (which are access).
const UPDATE_FIELDS: &[Field] = &[
    required("username", "userName", Kind::Name { max: 0, forbidden: "" }, "the user name"),
    optional("role", "role", Kind::OneOf(ROLES), "the user's role (any case; sent upper-case)"),
    optional("email", "email", Kind::Email { max: 0 }, "the user's email"),
    optional("description", "description", Kind::Text { max: 0 }, "free text"),
];

static UPDATE: RequestSpec = RequestSpec {
    vendor: NAME,
    function: "update_user",
    fields: UPDATE_FIELDS,
    exclusive: &[],
    check: None,
};

static CREATE: RequestSpec = RequestSpec {
    vendor: NAME,
    function: "create_user",
    fields: FIELDS,
    exclusive: &[
        ("group_ids", "group_name", "Applications Manager ignores the name when ids are given"),
        ("user_group_ids", "user_group_name", "Applications Manager ignores the name when ids are given"),
        ("domain_ids", "domain_name", "Applications Manager ignores the name when ids are given"),
    ],
    check: None,
};

const ACCESS: &[AccessKind] = &[
    AccessKind {
        key: "monitor_group",
        noun: "monitor group",
        grant_fn: "add_to_monitor_group",
        revoke_fn: "remove_from_monitor_group",
        list_fn: "monitor_groups",
        doc: "Monitor groups, by exact name; sent as `Users/update` with the user's `userId` \
              (without it, Applications Manager changes the API key's owner).",
        ..MEMBERSHIP
    },
    AccessKind {
        key: "user_group",
        noun: "user group",
        grant_fn: "add_to_user_group",
        revoke_fn: "remove_from_user_group",
        list_fn: "user_groups",
        doc: "User groups, by exact name, read from the V3 user list; sent as `Users/update` \
              with the user's `userId` and `associateUsergroupName`/`removeUsergroupName`.",
        ..MEMBERSHIP
    },
];

const STATES: &[AccessKind] = &[AccessKind {
    key: "enabled",
    noun: "enabled",
    grant_fn: "enable_user",
    revoke_fn: "disable_user",
    list_fn: "",
    doc: "The V3 status (`PUT /api/v3/users/{id}/status`, Active or InActive), read first from \
          `GET /api/v3/users`.",
    starts_on: true,
    ..MEMBERSHIP
}];

/// An Applications Manager user; the same whether the answer was JSON or XML.
#[derive(Clone, Debug)]
pub struct AppManagerUser {
    common: Common,
    role: String,
    email: String,
    description: String,
    groups: Vec<(i64, String)>,
}

impl UserRecord for AppManagerUser {
    const TYPE_NAME: &'static str = "AppManagerUser";
    const PROPERTIES: &'static [(&'static str, &'static str)] = &[
        ("role", "OPERATOR, MANAGER, ADMIN, USER or DELEGATEDADMIN"),
        ("email", "the user's email"),
        ("description", "free text"),
        ("groups", "array of #{ id, name } monitor groups"),
    ];
    const SUMMARY: &'static [&'static str] = &["role"];

    fn common(&self) -> &Common {
        &self.common
    }

    fn common_mut(&mut self) -> &mut Common {
        &mut self.common
    }

    fn property(&self, name: &str) -> Dynamic {
        match name {
            "role" => self.role.clone().into(),
            "email" => self.email.clone().into(),
            "description" => self.description.clone().into(),
            "groups" => {
                let groups: Array = self
                    .groups
                    .iter()
                    .map(|(id, name)| {
                        let mut m = Map::new();
                        m.insert("id".into(), Dynamic::from_int(*id));
                        m.insert("name".into(), name.clone().into());
                        Dynamic::from_map(m)
                    })
                    .collect();
                groups.into()
            }
            _ => Dynamic::UNIT,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Xml,
}

const SUCCESS: &str = "4000";
const INVALID_APIKEY: &str = "4004";

/// The Applications Manager client of one run.
pub struct AppManager {
    http: Http,
    apikey: Secret,
    format: Format,
}

impl AppManager {
    fn path(&self, tail: &str) -> String {
        let flavour = match self.format {
            Format::Json => "json",
            Format::Xml => "xml",
        };
        format!("/AppManager/{flavour}/{tail}")
    }

    fn parse(&self, reply: &Reply, doing: &str) -> Result<Answer, VendorError> {
        let parsed = match self.format {
            Format::Json => parse_json(&reply.body),
            Format::Xml => parse_xml(&reply.body),
        };
        match parsed {
            Some(a) => Ok(a),
            None => {
                let kind = if reply.status >= 400 {
                    kind_of_status(reply.status)
                } else {
                    ErrorKind::Protocol
                };
                let what = if reply.is_html() { "an HTML page" } else { "an unexpected answer" };
                Err(self
                    .http
                    .error(kind, format!("{doing}: {what}: {}", self.http.excerpt(&reply.body)))
                    .reply(reply))
            }
        }
    }

    /// The answer's users on success, or the error its response code stands for.
    fn expect_success(&self, reply: &Reply, doing: &str) -> Result<Answer, VendorError> {
        if reply.status == 429 || reply.status >= 500 {
            return Err(self
                .http
                .error(
                    kind_of_status(reply.status),
                    format!("{doing}: HTTP {}: {}", reply.status, self.http.excerpt(&reply.body)),
                )
                .reply(reply));
        }
        let answer = self.parse(reply, doing)?;
        if answer.code == SUCCESS {
            return Ok(answer);
        }
        let message = answer
            .message
            .clone()
            .unwrap_or_else(|| format!("response code {}", answer.code));
        let kind = classify(&answer.code, &message);
        Err(self
            .http
            .error(kind, format!("{doing}: {message}"))
            .reply(reply)
            .code(answer.code))
    }

    fn form(&self, params: Vec<(&'static str, String)>) -> Vec<(&'static str, String)> {
        let mut all = vec![("apikey", self.apikey.reveal().to_string())];
        all.extend(params);
        all
    }

    async fn list(&self) -> Result<Vec<AppManagerUser>, VendorError> {
        let mut url = self.http.url(&self.path("Users"), &[]);
        url.query_pairs_mut().append_pair("apikey", self.apikey.reveal());
        let reply = self.http.send(self.http.request(Method::GET, url)).await?;
        Ok(self.expect_success(&reply, "listing users")?.users)
    }
}

/// What a response code (and, for the catch-all 4032, its message) means.
impl AppManager {
    /// The user named `username`, or `not_found`.
    async fn existing(&self, username: &str) -> Result<AppManagerUser, VendorError> {
        self.get_user(username).await?.ok_or_else(|| {
            VendorError::new(NAME, ErrorKind::NotFound, format!("there is no user named \"{username}\""))
        })
    }
}

fn classify(code: &str, message: &str) -> ErrorKind {
    let m = message.to_lowercase();
    match code {
        INVALID_APIKEY => ErrorKind::Auth,
        "4008" | "4016" => ErrorKind::Protocol,
        "4105" | "4128" => ErrorKind::Server,
        _ if m.contains("already exist") || m.contains("duplicate") => ErrorKind::AlreadyExists,
        _ if m.contains("does not exist") || m.contains("not found") || m.contains("no such user") => {
            ErrorKind::NotFound
        }
        _ if m.contains("not allowed") || m.contains("permission") || m.contains("privilege") => {
            ErrorKind::Forbidden
        }
        "4032" | "4002" | "4003" | "4005" | "4006" | "4007" => ErrorKind::Validation,
        c if c.starts_with("42") => ErrorKind::Validation,
        _ => ErrorKind::Server,
    }
}

impl UserApi for AppManager {
    type User = AppManagerUser;

    fn spec() -> &'static VendorSpec {
        &SPEC
    }

    fn connect(settings: &VendorSettings) -> Result<Self, VendorError> {
        let apikey = settings.secret("apikey").cloned().ok_or_else(|| {
            VendorError::new(NAME, ErrorKind::Auth, "the profile has no `apikey` for appmanager")
        })?;
        let format = match settings.text("format") {
            Some("xml") => Format::Xml,
            _ => Format::Json,
        };
        Ok(AppManager {
            http: Http::new(settings)?,
            apikey,
            format,
        })
    }

    async fn create_user(&self, request: &Request) -> Result<AppManagerUser, VendorError> {
        let url = self.http.url(&self.path("Users/create"), &[]);
        // A form body rather than the query string of the document's sample: the password
        // stays out of URLs and the server's access log.
        let form = self.form(request.to_params(&[]));
        let reply = self
            .http
            .send(self.http.request(Method::POST, url).form(&form))
            .await?;
        let username = request.username();
        let answer = self.expect_success(&reply, &format!("creating user {username}"))?;
        let mut user = answer
            .users
            .into_iter()
            .find(|u| u.common.username == username)
            .ok_or_else(|| {
                self.http
                    .error(
                        ErrorKind::Protocol,
                        format!(
                            "the answer to creating {username} holds no such user: {}",
                            self.http.excerpt(&reply.body)
                        ),
                    )
                    .reply(&reply)
            })?;
        user.common.created = true;
        user.common.http_status = Some(reply.status);
        Ok(user)
    }

    async fn get_user(&self, username: &str) -> Result<Option<AppManagerUser>, VendorError> {
        let mut url = self.http.url(&self.path("Users"), &[username]);
        url.query_pairs_mut().append_pair("apikey", self.apikey.reveal());
        let reply = self.http.send(self.http.request(Method::GET, url)).await?;
        match self.expect_success(&reply, &format!("looking up user {username}")) {
            Ok(answer) => Ok(answer
                .users
                .into_iter()
                .find(|u| u.common.username == username)),
            Err(e) if e.kind == ErrorKind::NotFound => Ok(None),
            Err(e) if matches!(e.kind, ErrorKind::Validation | ErrorKind::Server) => {
                // The code for "no such user" is not documented: confirm with the full list
                // rather than guess, so `ensure_user` never creates a duplicate.
                let users = self.list().await?;
                Ok(users.into_iter().find(|u| u.common.username == username))
            }
            Err(e) => Err(e),
        }
    }


    fn planned(request: &Request, id: i64) -> AppManagerUser {
        let groups = match request.get("group_ids") {
            Some(Value::List(ids)) => ids
                .iter()
                .filter_map(|v| match v {
                    Value::Int(i) => Some((*i, String::new())),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        AppManagerUser {
            common: Common::planned(NAME, request, id),
            role: request.text("role").unwrap_or_default().to_string(),
            email: request.text("email").unwrap_or_default().to_string(),
            description: request.text("description").unwrap_or_default().to_string(),
            groups,
        }
    }

    async fn change_access(
        &self,
        kind: &str,
        direction: Direction,
        username: &str,
        target: &str,
        _level: Option<&Json>,
        _held: bool,
    ) -> Result<bool, VendorError> {
        match kind {
            "user_group" => return self.user_group(direction, username, target).await,
            "enabled" => return self.set_active(direction == Direction::Grant, username).await,
            "monitor_group" => {}
            other => return Err(VendorError::new(NAME, ErrorKind::Validation, format!("appmanager has no access of kind `{other}`"))),
        }
        let user = self.existing(username).await?;
        let holds = user.groups.iter().any(|(_, name)| name == target);
        if holds == (direction == Direction::Grant) {
            return Ok(false);
        }
        let param = match direction {
            Direction::Grant => "associateGroupName",
            Direction::Revoke => "removeGroupName",
        };
        let url = self.http.url(&self.path("Users/update"), &[]);
        // Always the user's id: without it the update applies to the API key's owner.
        let form = self.form(vec![("userId", user.common.id.to_string()), (param, target.to_string())]);
        let reply = self.http.send(self.http.request(Method::POST, url).form(&form)).await?;
        self.expect_success(&reply, &format!("changing the monitor groups of {username}"))?;
        Ok(true)
    }

    async fn user_fields(&self, username: &str) -> Result<Option<Json>, VendorError> {
        Ok(self.get_user(username).await?.map(|u| {
            json!({
                "userName": u.common.username,
                "role": u.role,
                "email": u.email,
                "description": u.description,
            })
        }))
    }

    async fn write_fields(&self, username: &str, partial: &Json) -> Result<(), VendorError> {
        let user = self.existing(username).await?;
        // Always the user's id: without it the update applies to the API key's owner.
        let mut params = vec![("userId", user.common.id.to_string())];
        if let Json::Object(fields) = partial {
            for (key, value) in fields {
                let Some(wire) = UPDATE_FIELDS.iter().find(|f| f.wire == key).map(|f| f.wire) else {
                    continue;
                };
                let text = match value {
                    Json::String(s) => s.clone(),
                    Json::Null => String::new(),
                    other => other.to_string(),
                };
                params.push((wire, text));
            }
        }
        let url = self.http.url(&self.path("Users/update"), &[]);
        let form = self.form(params);
        let reply = self.http.send(self.http.request(Method::POST, url).form(&form)).await?;
        self.expect_success(&reply, &format!("updating user {username}")).map(|_| ())
    }

    async fn check_target(&self, kind: &str, target: &str) -> Result<(), VendorError> {
        match kind {
            "user_group" => self.user_group_exists(target).await,
            _ => Ok(()),
        }
    }

    async fn access(&self, kind: &str, username: &str) -> Result<Vec<Held>, VendorError> {
        match kind {
            "user_group" => return self.user_groups(username).await,
            "enabled" => {
                let on = self.is_active(username).await?;
                return Ok(on.then(|| Held { id: None, name: String::new(), kind: "enabled".into(), level: None }).into_iter().collect());
            }
            "monitor_group" => {}
            other => return Err(VendorError::new(NAME, ErrorKind::Validation, format!("appmanager has no access of kind `{other}`"))),
        }
        let user = self.existing(username).await?;
        Ok(user
            .groups
            .iter()
            .map(|(id, name)| Held { id: Some(*id), name: name.clone(), kind: "monitor group".into(), level: None })
            .collect())
    }

    async fn delete_user(&self, id: i64, username: &str) -> Result<(), VendorError> {
        let url = self.http.url(&self.path("Users/delete"), &[]);
        let form = self.form(vec![("userId", id.to_string())]);
        let reply = self
            .http
            .send(self.http.request(Method::POST, url).form(&form))
            .await?;
        self.expect_success(&reply, &format!("deleting user {username}"))
            .map(|_| ())
    }

    /// The user list is for administrators only: listing proves the key and its role at once.
    async fn diagnose(&self) -> Vec<crate::vendors::probe::Finding> {
        use crate::vendors::probe::Finding;
        match self.list().await {
            Ok(users) => vec![
                Finding::pass("logon", "the API key was accepted"),
                Finding::pass("rights", format!("the key is an administrator's (it lists the {} users)", users.len())),
            ],
            Err(e) if e.kind == ErrorKind::Auth => vec![Finding::failed_call(
                "logon",
                &e,
                "copy the REST API key from Settings > REST API of an administrator into `apikey`",
            )],
            Err(e) => vec![
                Finding::pass("logon", "the API key was accepted"),
                Finding::failed_call("rights", &e, "use the API key of a user with the Administrator role"),
            ],
        }
    }
}
