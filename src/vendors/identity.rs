//! CyberArk Identity (the Identity Administration API of the Identity Security Platform): users
//! and roles, on a platform token; every answer's `success` read, whatever the HTTP status.

use reqwest::Method;
use serde_json::{Value as Json, json};
use tokio::sync::OnceCell;

use super::access::{AccessKind, Direction, Held, Lifecycle, MEMBERSHIP};
use super::error::{ErrorKind, VendorError};
use super::platform::Platform;
use super::schema::Request;
use super::settings::{SettingKind, SettingSpec, VendorSettings, When};
use super::{UserApi, VendorSpec};
use crate::util::lenient::{bool as lenient_bool, field};
use crate::util::secret::Secret;

mod roles;
mod user;

pub use user::IdentityUser;
use user::{CREATE, UPDATE, number_of};

const NAME: &str = "identity";

/// The client the registry binds (`with_vendors!`).
pub type Client = Identity;

pub static SPEC: VendorSpec = VendorSpec {
    name: NAME,
    product: "CyberArk Identity (Identity Administration API)",
    doc: "Identity users and roles: where people live on CyberArk's Identity Security Platform \
          (Privilege Cloud). A platform token (client credentials) shared with the cyberark \
          section of the same tenant, renewed before it runs out; a `success: false` answer is \
          a failure whatever its HTTP status.",
    settings: SETTINGS,
    per_minute: None,
    create: &CREATE,
    identity: &[(&["mail"], "mail"), (&["display_name"], "display_name")],
    user_type: <IdentityUser as super::record::UserRecord>::TYPE_NAME,
    user_properties: <IdentityUser as super::record::UserRecord>::PROPERTIES,
    example: r#"#{ username: name, mail: `${name}@example.com`, display_name: "Conformance Test",
                password: random_password(16) }"#,
    access: ACCESS,
    lifecycle: &[Lifecycle::ResetPassword],
    update: Some(&UPDATE),
    states: STATES,
    access_example: &[("role", r#"#{ role: "NOC Engineers" }"#)],
};

const SETTINGS: &[SettingSpec] = &[
    SettingSpec {
        key: "client_id",
        kind: SettingKind::Text,
        required: true,
        when: When::Always,
        doc: "the service user's login (`svc@cyberark.cloud.1234`), for the platform token",
    },
    SettingSpec {
        key: "client_secret",
        kind: SettingKind::Secret,
        required: true,
        when: When::Always,
        doc: "the service user's password",
    },
    SettingSpec {
        key: "suffix",
        kind: SettingKind::Text,
        required: false,
        when: When::Always,
        doc: "the login suffix added to names without one (default: the tenant's, asked once)",
    },
];

const ACCESS: &[AccessKind] = &[AccessKind {
    key: "role",
    noun: "role",
    grant_fn: "add_to_role",
    revoke_fn: "remove_from_role",
    list_fn: "roles",
    doc: "Identity roles, by exact name (`SaasManage/AddUsersAndGroupsToRole`); a role's \
          members are read first, so adding a member twice sends nothing.",
    ..MEMBERSHIP
}];

const STATES: &[AccessKind] = &[AccessKind {
    key: "enabled",
    noun: "enabled",
    grant_fn: "enable_user",
    revoke_fn: "disable_user",
    list_fn: "",
    doc: "`CDirectoryService/SetUserState` (`Disabled`, `None` to enable); the user is read first.",
    starts_on: true,
    ..MEMBERSHIP
}];

/// The Identity client of one run.
pub struct Identity {
    http: super::http::Http,
    platform: Platform,
    suffix: OnceCell<String>,
}

impl Identity {
    /// A POST of `body` to `path`, with the platform token (renewed once after a 401): the
    /// envelope's `Result` when `success` is true, else the error the answer stands for.
    async fn call(&self, path: &str, body: &Json, doing: &str) -> Result<Json, VendorError> {
        self.call_query(path, &[], body, doing).await
    }

    /// `call` with query parameters (`?ID=…`), which some calls take besides their body.
    async fn call_query(&self, path: &str, query: &[(&str, &str)], body: &Json, doing: &str) -> Result<Json, VendorError> {
        let mut url = self.http.url(path, &[]);
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        let mut renewed = false;
        loop {
            let bearer = self.platform.bearer().await?;
            let request = self
                .http
                .request(Method::POST, url.clone())
                .header("Authorization", &bearer.header)
                .header("X-IDAP-NATIVE-CLIENT", "true")
                .json(body);
            let reply = self.http.send(request).await?;
            if reply.status == 401 && !renewed {
                self.platform.refused(bearer.generation).await;
                renewed = true;
                continue;
            }
            return self.result(&reply, doing);
        }
    }

    fn result(&self, reply: &super::http::Reply, doing: &str) -> Result<Json, VendorError> {
        let envelope: Option<Json> = serde_json::from_str(&reply.body).ok();
        let success = envelope.as_ref().and_then(|e| field(e, "success")).and_then(lenient_bool);
        if reply.status < 300 && success == Some(true) {
            return Ok(envelope.and_then(|e| field(&e, "Result").cloned()).unwrap_or(Json::Null));
        }
        let message = envelope
            .as_ref()
            .and_then(|e| field(e, "Message").or_else(|| field(e, "error_description")))
            .and_then(Json::as_str)
            .map(str::to_string);
        let kind = match (reply.status, &message) {
            (401, _) => ErrorKind::Auth,
            (403, _) => ErrorKind::Forbidden,
            (s, Some(m)) if s < 400 => classify(m),
            (s, _) if s >= 400 => super::http::kind_of_status(s),
            _ => ErrorKind::Protocol,
        };
        let what = match (message, &envelope) {
            (Some(m), _) => m,
            (None, Some(_)) => format!("`success` is not true (HTTP {})", reply.status),
            (None, None) => format!("an unexpected answer: {}", self.http.excerpt(&reply.body)),
        };
        Err(self.http.error(kind, format!("{doing}: {what}")).reply(reply))
    }

    /// The tenant's login suffix: the profile's, else the tenant's default, asked once.
    async fn suffix(&self) -> Result<&str, VendorError> {
        self.suffix
            .get_or_try_init(|| async {
                let result = self.call("/Core/GetCdsAliasesForTenant", &json!({}), "reading the tenant's login suffix").await?;
                let key = field(&result, "Results")
                    .and_then(Json::as_array)
                    .and_then(|r| r.first())
                    .and_then(|r| field(r, "Entities"))
                    .and_then(Json::as_array)
                    .and_then(|e| e.first())
                    .and_then(|e| field(e, "Key"))
                    .and_then(Json::as_str)
                    .map(str::to_string);
                key.ok_or_else(|| self.http.error(ErrorKind::Protocol, "the tenant has no login suffix (GetCdsAliasesForTenant)"))
            })
            .await
            .map(String::as_str)
    }

    /// `jdoe` as `jdoe@suffix`; a name with a suffix as it is.
    async fn login(&self, username: &str) -> Result<String, VendorError> {
        if username.contains('@') {
            return Ok(username.to_string());
        }
        Ok(format!("{username}@{}", self.suffix().await?))
    }

    /// The user row of a login (`Redrock/query`), if there is one.
    async fn row(&self, username: &str) -> Result<Option<Json>, VendorError> {
        let login = self.login(username).await?;
        // A quote in a name is doubled, as SQL wants.
        let script = format!(
            "Select ID, Username, DisplayName, Email, MobileNumber, Description, State from User WHERE Username='{}'",
            login.replace('\'', "''")
        );
        let result = self.call("/Redrock/query", &json!({ "Script": script }), &format!("looking up user {login}")).await?;
        Ok(field(&result, "Results")
            .and_then(Json::as_array)
            .and_then(|rows| {
                rows.iter()
                    .filter_map(|r| field(r, "Row"))
                    .find(|r| field(r, "Username").and_then(Json::as_str).is_some_and(|n| n.eq_ignore_ascii_case(&login)))
            })
            .cloned())
    }

    async fn existing(&self, username: &str) -> Result<Json, VendorError> {
        self.row(username)
            .await?
            .ok_or_else(|| VendorError::new(NAME, ErrorKind::NotFound, format!("there is no user named \"{username}\"")))
    }

    fn user_of(&self, row: &Json, created: bool) -> IdentityUser {
        let text = |k: &str| field(row, k).and_then(Json::as_str).unwrap_or_default().to_string();
        let uuid = text("ID");
        IdentityUser {
            common: super::record::Common {
                vendor: NAME,
                id: number_of(&uuid),
                username: text("Username"),
                created,
                dry_run: false,
                http_status: None,
                changed: created,
                changes: Vec::new(),
            },
            display_name: text("DisplayName"),
            mail: text("Email"),
            enabled: !text("State").to_ascii_lowercase().contains("disabled"),
            uuid,
        }
    }

    /// Disable or enable, unless it already is so: whether anything changed.
    async fn set_enabled(&self, on: bool, username: &str) -> Result<bool, VendorError> {
        let row = self.existing(username).await?;
        let user = self.user_of(&row, false);
        if user.enabled == on {
            return Ok(false);
        }
        // The body's field names are not published (ACCESS-FACTS §2.4); the simulator's too.
        let state = if on { "None" } else { "Disabled" };
        let body = json!({ "ID": user.uuid, "state": state });
        self.call("/CDirectoryService/SetUserState", &body, &format!("setting {username} {state}")).await.map(|_| true)
    }
}

/// Identity's failure messages are not published: known words, else `server` (never a guess
/// that could make `ensure_user` create a duplicate).
fn classify(message: &str) -> ErrorKind {
    let m = message.to_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| m.contains(w));
    if has(&["already exists", "already in use", "duplicate"]) {
        ErrorKind::AlreadyExists
    } else if has(&["not authorized", "permission", "access denied", "unauthorized"]) {
        ErrorKind::Forbidden
    } else if has(&["not found", "does not exist", "no such"]) {
        ErrorKind::NotFound
    } else if has(&["invalid", "required", "missing", "must be", "weak"]) {
        ErrorKind::Validation
    } else {
        ErrorKind::Server
    }
}

impl UserApi for Identity {
    type User = IdentityUser;

    const RENAMES: bool = true;

    fn spec() -> &'static VendorSpec {
        &SPEC
    }

    fn connect(settings: &VendorSettings) -> Result<Self, VendorError> {
        let missing = |k: &str| VendorError::new(NAME, ErrorKind::Auth, format!("the profile has no `{k}` for identity"));
        let client_id = settings.text("client_id").ok_or_else(|| missing("client_id"))?;
        let secret = settings.secret("client_secret").cloned().ok_or_else(|| missing("client_secret"))?;
        let suffix = OnceCell::new();
        if let Some(s) = settings.text("suffix") {
            let _ = suffix.set(s.trim_start_matches('@').to_string());
        }
        Ok(Identity {
            http: super::http::Http::new(settings)?,
            platform: Platform::new(settings, settings.url.clone(), client_id, secret)?,
            suffix,
        })
    }

    async fn create_user(&self, request: &Request) -> Result<IdentityUser, VendorError> {
        let login = self.login(request.username()).await?;
        let mut body = request.to_wire_json(true, &[]);
        body["Name"] = json!(login);
        let result = self.call("/CDirectoryService/CreateUser", &body, &format!("creating user {login}")).await?;
        let uuid = result.as_str().map(str::to_string).unwrap_or_default();
        let text = |k: &str| body.get(k).and_then(Json::as_str).unwrap_or_default().to_string();
        Ok(IdentityUser {
            common: super::record::Common {
                vendor: NAME,
                id: number_of(&uuid),
                username: login,
                created: true,
                dry_run: false,
                http_status: Some(200),
                changed: true,
                changes: Vec::new(),
            },
            display_name: text("DisplayName"),
            mail: text("Mail"),
            enabled: true,
            uuid,
        })
    }

    async fn canonical_name(&self, username: &str) -> Result<String, VendorError> {
        self.login(username).await
    }

    async fn get_user(&self, username: &str) -> Result<Option<IdentityUser>, VendorError> {
        Ok(self.row(username).await?.map(|r| self.user_of(&r, false)))
    }

    async fn delete_user(&self, _id: i64, username: &str) -> Result<(), VendorError> {
        // DeleteUser takes the UUID or the login; the login is what the journal has.
        let login = self.login(username).await?;
        self.call("/CDirectoryService/DeleteUser", &json!({ "ID": login }), &format!("deleting user {login}"))
            .await
            .map(|_| ())
    }

    fn planned(request: &Request, id: i64) -> IdentityUser {
        IdentityUser {
            common: super::record::Common::planned(NAME, request, id),
            uuid: String::new(),
            display_name: request.text("display_name").unwrap_or_default().to_string(),
            mail: request.text("mail").unwrap_or_default().to_string(),
            enabled: true,
        }
    }

    async fn change_access(&self, kind: &str, direction: Direction, username: &str, target: &str, _level: Option<&Json>, _held: bool) -> Result<bool, VendorError> {
        match kind {
            "role" => self.membership(direction, username, target).await,
            "enabled" => self.set_enabled(direction == Direction::Grant, username).await,
            other => Err(VendorError::new(NAME, ErrorKind::Validation, format!("identity has no access of kind `{other}`"))),
        }
    }

    async fn check_target(&self, kind: &str, target: &str) -> Result<(), VendorError> {
        match kind {
            "role" => self.role_id(target).await.map(|_| ()),
            _ => Ok(()),
        }
    }

    async fn access(&self, kind: &str, username: &str) -> Result<Vec<Held>, VendorError> {
        match kind {
            "role" => self.roles_of(username).await,
            "enabled" => {
                let user = self.user_of(&self.existing(username).await?, false);
                Ok(user.enabled.then(|| Held { id: None, name: String::new(), kind: "enabled".into(), level: None }).into_iter().collect())
            }
            other => Err(VendorError::new(NAME, ErrorKind::Validation, format!("identity has no access of kind `{other}`"))),
        }
    }

    async fn reset_password(&self, username: &str, password: &Secret) -> Result<(), VendorError> {
        let row = self.existing(username).await?;
        let uuid = field(&row, "ID").cloned().unwrap_or(Json::Null);
        let body = json!({ "ID": uuid, "newPassword": password.reveal() });
        self.call("/UserMgmt/ResetUserPassword", &body, &format!("resetting the password of {username}")).await.map(|_| ())
    }

    async fn user_fields(&self, username: &str) -> Result<Option<Json>, VendorError> {
        Ok(self.row(username).await?.map(|r| {
            json!({
                "Name": field(&r, "Username"),
                "Mail": field(&r, "Email"),
                "DisplayName": field(&r, "DisplayName"),
                "MobileNumber": field(&r, "MobileNumber"),
                "Description": field(&r, "Description"),
            })
        }))
    }

    async fn write_fields(&self, username: &str, partial: &Json) -> Result<(), VendorError> {
        // ChangeUser takes only what changes, with the user's id: no read-merge-write.
        let row = self.existing(username).await?;
        let mut body = partial.clone();
        if let Json::Object(fields) = &mut body {
            fields.remove("Name");
            fields.insert("ID".into(), field(&row, "ID").cloned().unwrap_or(Json::Null));
        }
        self.call("/CDirectoryService/ChangeUser", &body, &format!("updating user {username}")).await.map(|_| ())
    }
}
