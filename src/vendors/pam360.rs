//! ManageEngine PAM360 (REST API v1): `AUTHTOKEN` header, `INPUT_DATA` form field, success read from the body.

use reqwest::Method;
use rhai::Dynamic;
use serde::Deserialize;
use serde_json::{Value as Json, json};

use super::error::{ErrorKind, VendorError};
use super::http::{Http, Reply, kind_of_status};
use super::record::{Common, UserRecord};
use super::schema::{Field, Kind, optional, required, Request, RequestSpec, Value};
use super::access::{AccessKind, Direction, Held, Holding, Lifecycle, MEMBERSHIP};
use super::{UserApi, VendorSpec};
use super::settings::{SettingKind, SettingSpec, VendorSettings, When};
use crate::util::secret::Secret;

const NAME: &str = "pam360";

/// The client the registry binds (`with_vendors!`).
pub type Client = Pam360;

pub static SPEC: VendorSpec = VendorSpec {
    name: NAME,
    product: "ManageEngine PAM360 (REST API v1)",
    doc: "PAM360 users, including API-only users whose AUTHTOKEN comes back as a Secret. \
          Success is read from operation.result.status (\"Success\" or \"true\"), never from the HTTP status.",
    settings: SETTINGS,
    per_minute: None,
    create: &CREATE,
    // PAM360's lookup by name (getUserId) answers with the id alone.
    identity: &[],
    user_type: Pam360User::TYPE_NAME,
    user_properties: Pam360User::PROPERTIES,
    example: r#"#{ username: name, first_name: "Conformance", last_name: "Test",
                email: `${name}@example.com`, password: random_password(16) }"#,
    access: ACCESS,
    lifecycle: &[Lifecycle::TransferAccountabilities],
    update: Some(&UPDATE),
    states: STATES,
    access_example: &[
        ("share", r#"#{ resource: "core-router-01", account: "netops", level: "view" }"#),
        ("user_group", r#"#{ user_group: "Network Admins" }"#),
    ],
};

mod access;
mod scim;

const UPDATE_FIELDS: &[Field] = &[
    required("username", "userName", Kind::Name { max: 0, forbidden: "" }, "the user name"),
    optional("first_name", "givenName", TEXT, "first name (SCIM name.givenName)"),
    optional("last_name", "familyName", TEXT, "last name (SCIM name.familyName)"),
    optional("email", "email", EMAIL, "primary email (SCIM emails)"),
];

/// `update_user` goes over SCIM: REST v1 has no user update (ACCESS-FACTS §0.15).
static UPDATE: RequestSpec = RequestSpec {
    vendor: NAME,
    function: "update_user",
    fields: UPDATE_FIELDS,
    exclusive: &[],
    check: None,
};

const ACCESS: &[AccessKind] = &[AccessKind {
    key: "user_group",
    noun: "user group",
    grant_fn: "add_to_user_group",
    revoke_fn: "remove_from_user_group",
    list_fn: "user_groups",
    doc: "User groups, by exact name, over SCIM (`/scim/v2/Groups`, members added and removed \
          with an RFC 7644 PATCH; REST v1 has no group calls).",
    ..MEMBERSHIP
}, AccessKind {
    key: "share",
    noun: "account",
    grant_fn: "share_account",
    revoke_fn: "unshare_account",
    list_fn: "",
    doc: "An account on a resource, shared with a user at a level (`PUT resources/{id}/accounts/\
          {id}/share`). PAM360 has no call that reads a share, so a share is always sent, and \
          undo revokes it whatever was shared before; an unshare is not undoable.",
    target: &["resource", "account"],
    target_first: true,
    level: Some(&access::LEVEL),
    ..MEMBERSHIP
}];

const STATES: &[AccessKind] = &[AccessKind {
    key: "enabled",
    noun: "enabled",
    grant_fn: "enable_user",
    revoke_fn: "disable_user",
    list_fn: "",
    doc: "PAM360 `PUT user/unlock` and `user/lock`; the state is read first over SCIM \
          (`active`; that a lock is SCIM's inactive is inferred).",
    starts_on: true,
    ..MEMBERSHIP
}];

const SETTINGS: &[SettingSpec] = &[
    SettingSpec {
        key: "authtoken",
        kind: SettingKind::Secret,
        required: true,
        when: When::Always,
        doc: "the AUTHTOKEN of a PAM360 API user allowed to add users",
    },
    SettingSpec {
        key: "org_name",
        kind: SettingKind::Text,
        required: false,
        when: When::Always,
        doc: "organization to act in (MSP editions; sent as the orgName header)",
    },
];

const TEXT: Kind = Kind::Text { max: 0 };
const EMAIL: Kind = Kind::Email { max: 0 };

const FIELDS: &[Field] = &[
    required("first_name", "FIRSTNAME", TEXT, "first name"),
    required("last_name", "LASTNAME", TEXT, "last name"),
    required("username", "USERNAME", Kind::Name { max: 0, forbidden: "" }, "unique user name"),
    required("email", "EMAIL", EMAIL, "primary email"),
    optional("secondary_email", "SECONDARYEMAILID", EMAIL, "secondary email"),
    optional("role", "ROLE", TEXT, "role: Administrator, Password Administrator, Privileged Administrator, Password Auditor, Password User, or a custom role"),
    optional("role_id", "ROLEID", Kind::Int { min: 1, max: i64::MAX }, "id of the role"),
    optional("department", "DEPARTMENT", TEXT, "department"),
    optional("location", "LOCATION", TEXT, "location"),
    optional("user_group_name", "USERGROUPNAME", TEXT, "user group to join"),
    optional("rest_api_access", "RESTAPIACCESS", Kind::Bool, "may use the REST API"),
    optional("sdk_access", "SDKACCESS", Kind::Bool, "may use the SDK"),
    optional("is_api_user", "ISAPIUSER", Kind::Bool, "a strict REST-API-only user (its AUTHTOKEN comes back as `auth_token`)"),
    optional("owner_name_option", "OWNERNAMEOPTION", Kind::Bool, "may create resources for another user"),
    optional("expiry_date", "EXPIRYDATE", Kind::Date, "when the user's token expires (YYYY-MM-DD, in the future)"),
    optional("token_validity_days", "TOKENVALIDITYDAYS", Kind::Int { min: 1, max: i64::MAX }, "days the token is valid"),
    optional("host_check", "HOSTCHECK", Kind::Bool, "serve the user only from `hostname`"),
    optional("hostname", "HOSTNAME", TEXT, "the host the user may call from"),
    optional("is_super_admin", "ISSUPERADMIN", Kind::Bool, "super administrator"),
    optional("web_access", "WEBACCESS", Kind::Bool, "may use the web interface"),
    optional("policy", "POLICY", TEXT, "password policy name (e.g. Strong)"),
    optional("password", "PASSWORD", Kind::Secret { max: 0 }, "the user's password"),
    optional("mobile_access", "ENABLEMOBILEACCESS", Kind::Bool, "may use the mobile app"),
    optional("addon_access", "ENABLEADDONACCESS", Kind::Bool, "may use browser add-ons"),
    optional("remote_connect_access", "REMOTECONNECTACCESS", Kind::Bool, "may open remote connections"),
    optional("remote_connect_via_ssh_proxy", "REMOTECONNECTVIASSHPROXY", Kind::Bool, "remote connections through the SSH proxy"),
    optional("two_factor", "ENABLETWOFACTOR", Kind::Bool, "two-factor authentication"),
    optional("rsa_username", "RSAUSERNAME", TEXT, "RSA SecurID user name"),
    optional("radius_username", "RADIUSUSERNAME", TEXT, "RADIUS user name"),
    optional("phonefactor_username", "PHONEFACTOR_USERNAME", TEXT, "PhoneFactor user name"),
    optional("duo_username", "DUOUSERNAME", TEXT, "Duo user name"),
    optional("primary_contact", "PRIMARYCONTACT", TEXT, "Mobile or Landline"),
    optional("mobile_country_code", "MOBILE_COUNTRYCODE", TEXT, "mobile country code"),
    optional("mobile", "MOBILE", TEXT, "mobile number"),
    optional("landline", "LANDLINE", TEXT, "landline number"),
    optional("landline_country_code", "LANDLINE_COUNTRYCODE", TEXT, "landline country code"),
    optional("landline_ext", "LANDLINE_EXT", TEXT, "landline extension"),
    optional("org_name", "orgName", TEXT, "organization for this call (the orgName header); overrides the profile's org_name"),
];

static CREATE: RequestSpec = RequestSpec {
    vendor: NAME,
    function: "create_user",
    fields: FIELDS,
    exclusive: &[],
    check: Some(check_create),
};

fn check_create(req: &Request) -> Result<(), String> {
    if req.get("host_check") == Some(&Value::Bool(true)) && req.get("hostname").is_none() {
        return Err("`host_check: true` needs `hostname`, the host the user may call from".into());
    }
    Ok(())
}

/// A PAM360 user as the API describes it: its id, and for a new API user its AUTHTOKEN.
#[derive(Clone)]
pub struct Pam360User {
    common: Common,
    auth_token: Option<Secret>,
    message: String,
}

impl UserRecord for Pam360User {
    const TYPE_NAME: &'static str = "Pam360User";
    const PROPERTIES: &'static [(&'static str, &'static str)] = &[
        ("auth_token", "the new API user's AUTHTOKEN as a Secret, or ()"),
        ("message", "PAM360's message about the call"),
    ];
    const SUMMARY: &'static [&'static str] = &["auth_token"];

    fn common(&self) -> &Common {
        &self.common
    }

    fn common_mut(&mut self) -> &mut Common {
        &mut self.common
    }

    fn property(&self, name: &str) -> Dynamic {
        match name {
            "auth_token" => self.auth_token.clone().map_or(Dynamic::UNIT, Dynamic::from),
            "message" => self.message.clone().into(),
            _ => Dynamic::UNIT,
        }
    }
}

#[derive(Deserialize)]
struct Envelope {
    operation: Operation,
}

#[derive(Deserialize)]
struct Operation {
    result: Option<OpResult>,
    #[serde(rename = "Details")]
    details: Option<Json>,
}

#[derive(Deserialize)]
struct OpResult {
    status: Option<Json>,
    message: Option<String>,
}

/// The words PAM360 uses in failure messages, since it reports failures with HTTP 200.
/// The wording of a real server is not public: unknown wording is a `server` error, never a guess
/// that could make `ensure_user` create a duplicate.
fn classify(message: &str) -> ErrorKind {
    let m = message.to_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| m.contains(w));
    if has(&["already exist", "already present", "duplicate", "already in use"]) {
        ErrorKind::AlreadyExists
    } else if has(&["authtoken", "auth token", "invalid token", "token is invalid", "authentication failed", "not authenticated"]) {
        ErrorKind::Auth
    } else if has(&["permission", "not allowed", "privilege", "access denied", "not authorized to"]) {
        ErrorKind::Forbidden
    } else if has(&["does not exist", "doesn't exist", "not exist", "not found", "no such", "no user"]) {
        ErrorKind::NotFound
    } else if has(&["mandatory", "missing", "required", "invalid", "input_data"]) {
        ErrorKind::Validation
    } else {
        ErrorKind::Server
    }
}

/// The PAM360 client of one run.
pub struct Pam360 {
    http: Http,
    authtoken: Secret,
    org_name: Option<String>,
}

impl Pam360 {
    fn request(&self, method: Method, url: reqwest::Url, org: Option<&str>) -> reqwest::RequestBuilder {
        let mut r = self
            .http
            .request(method, url)
            .header("AUTHTOKEN", self.authtoken.reveal());
        if let Some(org) = org.or(self.org_name.as_deref()) {
            r = r.header("orgName", org);
        }
        r
    }

    /// The `Details` of a successful answer, or the error the answer stands for.
    fn details(&self, reply: &Reply, doing: &str) -> Result<(Json, String), VendorError> {
        let envelope: Result<Envelope, _> = serde_json::from_str(&reply.body);
        let Ok(envelope) = envelope else {
            let kind = if reply.status >= 400 {
                kind_of_status(reply.status)
            } else {
                ErrorKind::Protocol
            };
            let what = if reply.is_html() { "an HTML page" } else { "an unexpected answer" };
            return Err(self
                .http
                .error(kind, format!("{doing}: {what}: {}", self.http.excerpt(&reply.body)))
                .reply(reply));
        };
        let result = envelope.operation.result;
        let status = result.as_ref().and_then(|r| r.status.as_ref()).map(|s| match s {
            Json::String(s) => s.clone(),
            other => other.to_string(),
        });
        let message = result.and_then(|r| r.message).unwrap_or_default();
        // Deployed servers say "Success"; the API document says "true".
        let ok = status
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case("success") || s.eq_ignore_ascii_case("true"));
        if ok && reply.status < 400 {
            return Ok((envelope.operation.details.unwrap_or(Json::Null), message));
        }
        let kind = match classify(&message) {
            ErrorKind::Server if reply.status >= 400 => kind_of_status(reply.status),
            k => k,
        };
        let message = if message.is_empty() {
            format!("status {:?} without a message", status.unwrap_or_default())
        } else {
            message
        };
        Err(self
            .http
            .error(kind, format!("{doing}: {message}"))
            .reply(reply))
    }

    fn user_id(&self, details: &Json, reply: &Reply) -> Result<i64, VendorError> {
        let id = details.get("USERID").and_then(|v| match v {
            Json::String(s) => s.trim().parse().ok(),
            Json::Number(n) => n.as_i64(),
            _ => None,
        });
        id.ok_or_else(|| {
            self.http
                .error(
                    ErrorKind::Protocol,
                    format!("expected Details.USERID, got {}", self.http.excerpt(&reply.body)),
                )
                .reply(reply)
        })
    }

    fn user(&self, id: i64, username: &str, created: bool, auth_token: Option<Secret>, message: String) -> Pam360User {
        Pam360User {
            common: Common {
                vendor: NAME,
                id,
                username: username.to_string(),
                created,
                dry_run: false,
                http_status: None,
                changed: created,
                changes: Vec::new(),
            },
            auth_token,
            message,
        }
    }
}

impl UserApi for Pam360 {
    type User = Pam360User;

    fn spec() -> &'static VendorSpec {
        &SPEC
    }

    fn connect(settings: &VendorSettings) -> Result<Self, VendorError> {
        let authtoken = settings.secret("authtoken").cloned().ok_or_else(|| {
            VendorError::new(NAME, ErrorKind::Auth, "the profile has no `authtoken` for pam360")
        })?;
        Ok(Pam360 {
            http: Http::new(settings)?,
            authtoken,
            org_name: settings.text("org_name").map(str::to_string),
        })
    }

    async fn create_user(&self, request: &Request) -> Result<Pam360User, VendorError> {
        let url = self.http.url("/restapi/json/v1/user", &[]);
        let details = request.to_wire_json(true, &["org_name"]);
        let input = json!({ "operation": { "Details": details } }).to_string();
        let reply = self
            .http
            .send(
                self.request(Method::POST, url, request.text("org_name"))
                    .form(&[("INPUT_DATA", input.as_str())]),
            )
            .await?;
        let username = request.username();
        let (details, message) = self.details(&reply, &format!("creating user {username}"))?;
        let id = self.user_id(&details, &reply)?;
        let token = details
            .get("AUTHTOKEN")
            .and_then(Json::as_str)
            .filter(|t| !t.is_empty())
            .map(Secret::new);
        let mut user = self.user(id, username, true, token, message);
        user.common.http_status = Some(reply.status);
        Ok(user)
    }

    async fn get_user(&self, username: &str) -> Result<Option<Pam360User>, VendorError> {
        let mut url = self.http.url("/restapi/json/v1/user/getUserId", &[]);
        url.query_pairs_mut().append_pair("USERNAME", username);
        let reply = self.http.send(self.request(Method::GET, url, None)).await?;
        match self.details(&reply, &format!("looking up user {username}")) {
            Ok((details, message)) => {
                let id = self.user_id(&details, &reply)?;
                Ok(Some(self.user(id, username, false, None, message)))
            }
            Err(e) if e.kind == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn delete_user(&self, id: i64, username: &str) -> Result<(), VendorError> {
        let url = self.http.url("/restapi/json/v1/user", &[&id.to_string()]);
        let reply = self.http.send(self.request(Method::DELETE, url, None)).await?;
        self.details(&reply, &format!("deleting user {username}"))
            .map(|_| ())
    }

    async fn change_access(&self, kind: &str, direction: Direction, username: &str, target: &str, level: Option<&Json>, _held: bool) -> Result<bool, VendorError> {
        match kind {
            "share" => self.share(direction, username, target, level).await,
            "user_group" => self.user_group(direction, username, target).await,
            "enabled" => self.switch_locked(direction == Direction::Grant, username).await,
            other => Err(VendorError::new(NAME, ErrorKind::Validation, format!("pam360 has no access of kind `{other}`"))),
        }
    }

    async fn transfer_accountabilities(&self, username: &str, to: &str) -> Result<(), VendorError> {
        self.transfer(username, to).await
    }

    async fn holding(&self, kind: &str, username: &str, target: &str) -> Result<Holding, VendorError> {
        match kind {
            "enabled" => Ok(if self.active(username).await? { Holding::Yes(Json::Null) } else { Holding::No }),
            "user_group" => Ok(if self.user_groups(username).await?.iter().any(|g| g.name == target) { Holding::Yes(Json::Null) } else { Holding::No }),
            _ => Ok(Holding::Unknown),
        }
    }

    async fn user_fields(&self, username: &str) -> Result<Option<Json>, VendorError> {
        self.update_fields(username).await
    }

    async fn write_fields(&self, username: &str, partial: &Json) -> Result<(), VendorError> {
        self.put_user(username, partial).await
    }

    async fn check_target(&self, kind: &str, target: &str) -> Result<(), VendorError> {
        match kind {
            "share" => self.account_exists(target).await,
            "user_group" => self.group_exists(target).await,
            _ => Ok(()),
        }
    }

    async fn access(&self, kind: &str, username: &str) -> Result<Vec<Held>, VendorError> {
        match kind {
            "enabled" => Ok(self
                .active(username)
                .await?
                .then(|| Held { id: None, name: String::new(), kind: "enabled".into(), level: None })
                .into_iter()
                .collect()),
            "user_group" => self.user_groups(username).await,
            other => Err(VendorError::new(NAME, ErrorKind::Validation, format!("pam360 cannot read `{other}`"))),
        }
    }

    fn planned(request: &Request, id: i64) -> Pam360User {
        let api = [request.get("is_api_user"), request.get("rest_api_access")]
            .contains(&Some(&Value::Bool(true)));
        Pam360User {
            common: Common::planned(NAME, request, id),
            auth_token: api.then(|| Secret::new("dry-run: no token was made")),
            message: "dry run: nothing was sent".into(),
        }
    }

    /// A lookup proves the token; PAM360 has no published call that names a token's role.
    async fn diagnose(&self) -> Vec<crate::vendors::probe::Finding> {
        use crate::vendors::probe::Finding;
        match self.user_exists("onboard-doctor-check").await {
            Ok(_) => vec![
                Finding::pass("logon", "the AUTHTOKEN was accepted (a user lookup was answered)"),
                Finding::unknown("rights", "PAM360 publishes no call that names a token's role; adding users needs the Administrator role"),
            ],
            Err(e) => vec![Finding::failed_call(
                "logon",
                &e,
                "generate the API user's AUTHTOKEN again (Admin > Users > the API user) and put it in `authtoken`",
            )],
        }
    }
}
