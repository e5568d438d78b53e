//! CyberArk PVWA (Gen2 REST API): logon once per run, users created with `POST /PasswordVault/API/Users`.

use reqwest::Method;
use serde::Deserialize;
use serde_json::Value as Json;
use tokio::sync::Mutex;

use super::error::{ErrorKind, VendorError};
use super::http::{Http, Reply};
use super::record::UserRecord;
use super::schema::Request;
use super::access::{AccessKind, Direction, Held, Holding, Lifecycle, MEMBERSHIP};
use super::{UserApi, VendorSpec};
use super::settings::{SettingKind, SettingSpec, VendorSettings, When};
use crate::util::lenient::{bool as lenient_bool_value, field, int as lenient_int};
use crate::util::error::warn;
use crate::util::secret::Secret;

mod access;
mod doctor;
mod logon;
mod safes;
mod user;

pub use user::CyberArkUser;
use user::{CREATE, UPDATE};

const NAME: &str = "cyberark";

/// The client the registry binds (`with_vendors!`).
pub type Client = CyberArk;

pub static SPEC: VendorSpec = VendorSpec {
    name: NAME,
    product: "CyberArk Privileged Access Security (PVWA REST API)",
    doc: "Vault users. One logon per run (auth_method CyberArk, LDAP, RADIUS or Windows), \
          logoff when the run ends; one re-logon when the session expires.",
    settings: SETTINGS,
    per_minute: None,
    create: &CREATE,
    identity: &[
        (&["internet", "business_email"], "email"),
        (&["personal_details", "first_name"], "first_name"),
        (&["personal_details", "last_name"], "last_name"),
        (&["user_type"], "user_type"),
    ],
    user_type: CyberArkUser::TYPE_NAME,
    user_properties: CyberArkUser::PROPERTIES,
    example: r#"#{ username: name, initial_password: random_password(20), email: `${name}@example.com`,
                personal_details: #{ first_name: "Conformance", last_name: "Test" } }"#,
    access: ACCESS,
    lifecycle: &[Lifecycle::Activate, Lifecycle::ResetPassword],
    update: Some(&UPDATE),
    states: STATES,
    access_example: &[
        ("group", r#"#{ group: "NOC Operators" }"#),
        ("safe", r#"#{ safe: "NOC-Shared", preset: "use" }"#),
    ],
};

const ACCESS: &[AccessKind] = &[
    AccessKind {
        key: "group",
        noun: "vault group",
        grant_fn: "add_to_group",
        revoke_fn: "remove_from_group",
        list_fn: "groups",
        doc: "Vault groups, by exact name. Adding a member twice is no change (PVWA's 409 PASWS213E).",
        ..MEMBERSHIP
    },
    AccessKind {
        key: "safe",
        noun: "safe",
        grant_fn: "add_safe_member",
        revoke_fn: "remove_safe_member",
        list_fn: "safe_members",
        doc: "Safe membership of a user or a group (`member_type: \"Group\"`), with the 22 Gen2 \
              permissions; the member is read first, so giving the permissions it has sends \
              nothing, and undo gives back the permissions it had. `memberType` is always sent.",
        target: &["safe"],
        who: "member",
        target_first: true,
        level: Some(&safes::LEVEL),
        update_fn: Some("update_safe_member"),
        lists_members: true,
        ..MEMBERSHIP
    },
];

const STATES: &[AccessKind] = &[AccessKind {
    key: "enabled",
    noun: "enabled",
    grant_fn: "enable_user",
    revoke_fn: "disable_user",
    list_fn: "",
    doc: "PVWA 12.6+ (`POST Users/{id}/enable/`, `disable/`); the user is read first.",
    starts_on: true,
    ..MEMBERSHIP
}];

/// What a user `PUT` must not carry: PVWA sets these itself (psPAS strips the same).
const READ_ONLY: &[&str] = &[
    "id",
    "lastSuccessfulLoginDate",
    "source",
    "componentUser",
    "groupsMembership",
];

/// PVWA's codes for "already a member of this group" (the second from older versions).
const ALREADY_MEMBER: &[&str] = &["PASWS213E", "ITATS262E"];

pub const AUTH_METHODS: &[&str] = &["CyberArk", "LDAP", "RADIUS", "Windows", "Identity"];

const SETTINGS: &[SettingSpec] = &[
    SettingSpec {
        key: "auth_method",
        kind: SettingKind::OneOf(AUTH_METHODS),
        required: false,
        when: When::Always,
        doc: "how onboard logs on: CyberArk (default), LDAP, RADIUS or Windows (the vault's \
              Logon, with username and password), or Identity (a platform token, with \
              identity_url, client_id and client_secret: Privilege Cloud)",
    },
    SettingSpec {
        key: "username",
        kind: SettingKind::Text,
        required: true,
        when: When::IsNot("auth_method", "Identity"),
        doc: "the user onboard logs on as (needs Add Users and Update Users); not for Identity",
    },
    SettingSpec {
        key: "password",
        kind: SettingKind::Secret,
        required: true,
        when: When::IsNot("auth_method", "Identity"),
        doc: "its password: { env = \"VAR\" }, { file = \"path\" } or a string",
    },
    SettingSpec {
        key: "identity_url",
        kind: SettingKind::Text,
        required: true,
        when: When::Is("auth_method", "Identity"),
        doc: "auth_method Identity: the tenant, https://{tenant}.id.cyberark.cloud",
    },
    SettingSpec {
        key: "client_id",
        kind: SettingKind::Text,
        required: true,
        when: When::Is("auth_method", "Identity"),
        doc: "auth_method Identity: the service user's login",
    },
    SettingSpec {
        key: "client_secret",
        kind: SettingKind::Secret,
        required: true,
        when: When::Is("auth_method", "Identity"),
        doc: "auth_method Identity: the service user's password",
    },
    SettingSpec {
        key: "platform",
        kind: SettingKind::OneOf(&["self_hosted", "privilege_cloud"]),
        required: false,
        when: When::Always,
        doc: "self_hosted or privilege_cloud (default: privilege_cloud when url is on \
              privilegecloud.cyberark.cloud)",
    },
];

/// A PVWA error body: `{"ErrorCode": "PASWS167E", "ErrorMessage": "…", "Details": …}` or
/// ASP.NET's `{"Message": "…"}`.
#[derive(Deserialize, Default)]
struct ErrorBody {
    #[serde(alias = "errorCode", alias = "code")]
    #[serde(rename = "ErrorCode")]
    error_code: Option<String>,
    #[serde(alias = "errorMessage")]
    #[serde(rename = "ErrorMessage")]
    error_message: Option<String>,
    #[serde(alias = "message")]
    #[serde(rename = "Message")]
    message: Option<String>,
    #[serde(alias = "details")]
    #[serde(rename = "Details")]
    details: Option<Json>,
}

const SESSION_EXPIRED: &str = "PASWS006E";
const BAD_CREDENTIALS: &str = "ITATS004E";

/// The PVWA client of one run.
pub struct CyberArk {
    http: Http,
    logon: logon::Logon,
    /// The session token and how many logons produced it, so concurrent callers re-logon once.
    session: Mutex<Option<(Secret, u64)>>,
    /// Privilege Cloud on the Identity Security Platform (`platform`, or its URL): safe members
    /// are named by Identity login without `searchIn`.
    privilege_cloud: bool,
}

impl CyberArk {
    fn error(&self, reply: &Reply, doing: &str) -> VendorError {
        let body: ErrorBody = serde_json::from_str(&reply.body).unwrap_or_default();
        let code = body.error_code.unwrap_or_default();
        let mut message = body
            .error_message
            .or(body.message)
            .unwrap_or_else(|| {
                if reply.is_html() {
                    format!("an HTML page instead of an API answer: {}", self.http.excerpt(&reply.body))
                } else {
                    format!("an unexpected answer: {}", self.http.excerpt(&reply.body))
                }
            });
        if let Some(details) = body.details {
            let items = match details {
                Json::Array(a) => a,
                other => vec![other],
            };
            let texts: Vec<String> = items
                .iter()
                .filter_map(|d| {
                    let m = field(d, "ErrorMessage").or_else(|| field(d, "Message"))?.as_str()?;
                    Some(m.to_string())
                })
                .collect();
            if !texts.is_empty() {
                message = format!("{message} ({})", texts.join("; "));
            }
        }
        let kind = match (reply.status, code.as_str()) {
            (403, BAD_CREDENTIALS) | (401, _) => ErrorKind::Auth,
            (status, _) => super::http::kind_of_status(status),
        };
        self.http
            .error(kind, format!("{doing}: {message}"))
            .reply(reply)
            .code(code)
    }

    fn code_of(reply: &Reply) -> Option<String> {
        serde_json::from_str::<ErrorBody>(&reply.body)
            .ok()
            .and_then(|b| b.error_code)
    }

    /// The list entries whose name is exactly `username`: PVWA's search matches substrings.
    async fn search(&self, username: &str) -> Result<Option<i64>, VendorError> {
        let mut url = self.http.url("/PasswordVault/API/Users", &[]);
        url.query_pairs_mut().append_pair("search", username);
        let reply = self.call(Method::GET, url, None).await?;
        if reply.status != 200 {
            return Err(self.error(&reply, &format!("looking up user {username}")));
        }
        let list: Json = reply.json(&self.http, "a user list")?;
        let users = field(&list, "Users")
            .and_then(Json::as_array)
            .ok_or_else(|| {
                self.http.error(
                    ErrorKind::Protocol,
                    format!("expected {{\"Users\": [...]}}, got {}", self.http.excerpt(&reply.body)),
                )
            })?;
        Ok(users
            .iter()
            .find(|u| field(u, "username").and_then(Json::as_str) == Some(username))
            .and_then(|u| field(u, "id").and_then(lenient_int)))
    }
}

impl UserApi for CyberArk {
    type User = CyberArkUser;

    fn spec() -> &'static VendorSpec {
        &SPEC
    }

    fn connect(settings: &VendorSettings) -> Result<Self, VendorError> {
        let host = settings.url.host_str().unwrap_or_default().to_ascii_lowercase();
        let privilege_cloud = match settings.text("platform") {
            Some(p) => p.eq_ignore_ascii_case("privilege_cloud"),
            None => host.ends_with(".privilegecloud.cyberark.cloud"),
        };
        Ok(CyberArk {
            http: Http::new(settings)?,
            logon: logon::Logon::of(settings)?,
            session: Mutex::new(None),
            privilege_cloud,
        })
    }

    async fn create_user(&self, request: &Request) -> Result<CyberArkUser, VendorError> {
        let url = self.http.url("/PasswordVault/API/Users", &[]);
        let body = request.to_wire_json(true, &[]);
        let reply = self.call(Method::POST, url, Some(&body)).await?;
        if !matches!(reply.status, 200 | 201) {
            return Err(self.error(&reply, &format!("creating user {}", request.username())));
        }
        let status = reply.status;
        let mut user = CyberArkUser::from_answer(&self.http, reply, true)?;
        user.common_mut().http_status = Some(status);
        Ok(user)
    }

    async fn get_user(&self, username: &str) -> Result<Option<CyberArkUser>, VendorError> {
        let Some(id) = self.search(username).await? else {
            return Ok(None);
        };
        let url = self.http.url("/PasswordVault/API/Users", &[&id.to_string()]);
        let reply = self.call(Method::GET, url, None).await?;
        match reply.status {
            200 => CyberArkUser::from_answer(&self.http, reply, false).map(Some),
            // Deleted between the search and now.
            404 => Ok(None),
            _ => Err(self.error(&reply, &format!("reading user {username}"))),
        }
    }

    async fn user_exists(&self, username: &str) -> Result<bool, VendorError> {
        Ok(self.search(username).await?.is_some())
    }

    async fn delete_user(&self, id: i64, username: &str) -> Result<(), VendorError> {
        // The documented form ends with a slash.
        let url = self.http.url("/PasswordVault/API/Users", &[&id.to_string(), ""]);
        let reply = self.call(Method::DELETE, url, None).await?;
        match reply.status {
            200 | 204 => Ok(()),
            _ => Err(self.error(&reply, &format!("deleting user {username}"))),
        }
    }


    fn planned(request: &Request, id: i64) -> CyberArkUser {
        CyberArkUser::planned(request, id)
    }

    async fn change_access(&self, kind: &str, direction: Direction, username: &str, target: &str, level: Option<&Json>, held: bool) -> Result<bool, VendorError> {
        match kind {
            "group" => self.membership(direction, username, target).await,
            "safe" => self.safe_member(direction, username, target, level, held).await,
            "enabled" => self.switch_enabled(direction == Direction::Grant, username).await,
            other => Err(VendorError::new(NAME, ErrorKind::Validation, format!("cyberark has no access of kind `{other}`"))),
        }
    }

    async fn activate_user(&self, username: &str) -> Result<bool, VendorError> {
        self.activate(username).await
    }

    async fn reset_password(&self, username: &str, password: &Secret) -> Result<(), VendorError> {
        self.set_password(username, password).await
    }

    async fn user_fields(&self, username: &str) -> Result<Option<Json>, VendorError> {
        match self.user_json(username).await {
            Ok((_, user)) => Ok(Some(user)),
            Err(e) if e.kind == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn write_fields(&self, username: &str, partial: &Json) -> Result<(), VendorError> {
        self.put_fields(username, partial).await
    }

    async fn check_target(&self, kind: &str, target: &str) -> Result<(), VendorError> {
        match kind {
            "group" => self.group_id(target).await.map(|_| ()),
            "safe" => self.safe_exists(target).await,
            _ => Ok(()),
        }
    }

    async fn holding(&self, kind: &str, username: &str, target: &str) -> Result<Holding, VendorError> {
        match kind {
            "safe" => self.safe_holding(username, target).await,
            _ => Ok(if self.access(kind, username).await?.iter().any(|h| h.name == target) { Holding::Yes(Json::Null) } else { Holding::No }),
        }
    }

    async fn members(&self, kind: &str, target: &str) -> Result<Vec<Held>, VendorError> {
        match kind {
            "safe" => self.safe_members(target).await,
            other => Err(VendorError::new(NAME, ErrorKind::Validation, format!("cyberark lists no members of `{other}`"))),
        }
    }

    async fn access(&self, kind: &str, username: &str) -> Result<Vec<Held>, VendorError> {
        match kind {
            "group" => self.memberships(username).await,
            "enabled" => {
                let (_, user) = self.user_json(username).await?;
                let on = field(&user, "enableUser").and_then(lenient_bool_value).unwrap_or(true);
                Ok(on
                    .then(|| Held { id: None, name: String::new(), kind: "enabled".into(), level: None })
                    .into_iter()
                    .collect())
            }
            other => Err(VendorError::new(NAME, ErrorKind::Validation, format!("cyberark has no access of kind `{other}`"))),
        }
    }

    async fn diagnose(&self) -> Vec<crate::vendors::probe::Finding> {
        self.doctor().await
    }

    async fn close(&self) {
        let Some((token, _)) = self.session.lock().await.take() else {
            return;
        };
        let url = self.http.url("/PasswordVault/API/Auth/Logoff", &[]);
        let result = self.send(&token, Method::POST, url, None).await;
        match result {
            Ok(r) if r.status == 200 || r.status == 204 => {}
            Ok(r) => warn(format!("cyberark logoff answered HTTP {}", r.status)),
            Err(e) => warn(format!("cyberark logoff failed: {}", e.message)),
        }
    }
}
