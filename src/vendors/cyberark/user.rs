//! CyberArk's create request (the fields PVWA takes, with its limits) and the Vault user it
//! answers with.

use std::sync::{Arc, OnceLock};

use rhai::Dynamic;
use serde::Deserialize;
use serde_json::{Value as Json, json};

use super::NAME;
use crate::util::lenient::{bool as lenient_bool, field, int as lenient_int};
use crate::vendors::error::{ErrorKind, VendorError};
use crate::vendors::http::{Http, Reply};
use crate::vendors::record::{Common, UserRecord, json_to_dynamic};
use crate::vendors::schema::{Field, Kind, Request, RequestSpec, Value, optional, required};

/// Characters CyberArk refuses in user names.
const NAME_FORBIDDEN: &str = "\\/:*?\"<>|\t";

pub const INTERFACES: &[&str] = &[
    "PIMSU", "PSM", "PSMP", "PVWA", "WINCLIENT", "PTA", "PACLI", "NAPI", "XAPI", "HTTPGW", "EVD",
    "CPM", "PVWAApp", "PSMApp", "AppPrv", "AIMApp", "PSMPApp", "GUI",
];
pub const AUTHORIZATIONS: &[&str] = &[
    "AddSafes",
    "AuditUsers",
    "AddUpdateUsers",
    "ResetUsersPasswords",
    "ActivateUsers",
    "AddNetworkAreas",
    "ManageDirectoryMapping",
    "ManageServerFileCategories",
    "BackupAllSafes",
    "RestoreAllSafes",
];
pub const AUTH_TYPES: &[&str] = &["AuthTypePass", "AuthTypeLDAP", "AuthTypeRADIUS"];

const BUSINESS_ADDRESS: &[Field] = &[
    optional("work_street", "workStreet", Kind::Text { max: 29 }, "street"),
    optional("work_city", "workCity", Kind::Text { max: 19 }, "city"),
    optional("work_state", "workState", Kind::Text { max: 19 }, "state"),
    optional("work_zip", "workZip", Kind::Text { max: 19 }, "postal code"),
    optional("work_country", "workCountry", Kind::Text { max: 19 }, "country"),
];

const INTERNET: &[Field] = &[
    optional("home_page", "homePage", Kind::Text { max: 319 }, "web page"),
    optional("home_email", "homeEmail", Kind::Email { max: 319 }, "personal email"),
    optional("business_email", "businessEmail", Kind::Email { max: 319 }, "work email (the shortcut `email` sets it)"),
    optional("other_email", "otherEmail", Kind::Email { max: 319 }, "another email"),
];

const PHONES: &[Field] = &[
    optional("home_number", "homeNumber", Kind::Text { max: 24 }, "home phone"),
    optional("business_number", "businessNumber", Kind::Text { max: 24 }, "work phone"),
    optional("cellular_number", "cellularNumber", Kind::Text { max: 24 }, "mobile phone"),
    optional("fax_number", "faxNumber", Kind::Text { max: 24 }, "fax"),
    optional("pager_number", "pagerNumber", Kind::Text { max: 24 }, "pager"),
];

const PERSONAL_DETAILS: &[Field] = &[
    optional("street", "street", Kind::Text { max: 29 }, "street"),
    optional("city", "city", Kind::Text { max: 19 }, "city"),
    optional("state", "state", Kind::Text { max: 19 }, "state"),
    optional("zip", "zip", Kind::Text { max: 19 }, "postal code"),
    optional("country", "country", Kind::Text { max: 19 }, "country"),
    optional("title", "title", Kind::Text { max: 49 }, "job title"),
    optional("organization", "organization", Kind::Text { max: 49 }, "organization"),
    optional("department", "department", Kind::Text { max: 49 }, "department (the shortcut `department` sets it)"),
    optional("profession", "profession", Kind::Text { max: 49 }, "profession"),
    optional("first_name", "firstName", Kind::Text { max: 29 }, "first name (the shortcut `first_name` sets it)"),
    optional("middle_name", "middleName", Kind::Text { max: 29 }, "middle name"),
    optional("last_name", "lastName", Kind::Text { max: 29 }, "last name (the shortcut `last_name` sets it)"),
];

const FIELDS: &[Field] = &[
    required(
        "username",
        "username",
        Kind::Name {
            max: 128,
            forbidden: NAME_FORBIDDEN,
        },
        "the Vault user name",
    ),
    optional("user_type", "userType", Kind::Text { max: 0 }, "user type the licence allows (default EPVUser)"),
    optional("initial_password", "initialPassword", Kind::Secret { max: 39 }, "first password; needed for password (AuthTypePass) logon"),
    optional("authentication_method", "authenticationMethod", Kind::ListOf(AUTH_TYPES), "how the user logs on (default [\"AuthTypePass\"])"),
    optional("location", "location", Kind::Text { max: 0 }, "Vault location path (default \"\\\\\")"),
    optional("unauthorized_interfaces", "unAuthorizedInterfaces", Kind::ListOf(INTERFACES), "interfaces the user may not use"),
    optional("expiry_date", "expiryDate", Kind::UnixTime, "when the user expires"),
    optional("vault_authorization", "vaultAuthorization", Kind::ListOf(AUTHORIZATIONS), "Vault authorizations to grant"),
    optional("enable_user", "enableUser", Kind::Bool, "enabled on creation (default true)"),
    optional("change_pass_on_next_logon", "changePassOnNextLogon", Kind::Bool, "must change the password at first logon (default true)"),
    optional("password_never_expires", "passwordNeverExpires", Kind::Bool, "the password never expires (default false)"),
    optional("distinguished_name", "distinguishedName", Kind::Text { max: 0 }, "distinguished name (PKI or LDAP)"),
    optional("description", "description", Kind::Text { max: 99 }, "free text"),
    optional("user_activity_log_retention_days", "userActivityLogRetentionDays", Kind::Int { min: 0, max: i64::MAX }, "days the user's activity is kept (0: not audited)"),
    optional("login_from_hour", "loginFromHour", Kind::Int { min: 0, max: 23 }, "first hour the user may log on"),
    optional("login_to_hour", "loginToHour", Kind::Int { min: 0, max: 23 }, "last hour the user may log on"),
    optional("allowed_authentication_methods", "allowedAuthenticationMethods", Kind::ListOf(&["SAML", "PKI", "FIDO", "WINDOWS"]), "further logon methods allowed (14.4+)"),
    optional("business_address", "businessAddress", Kind::Object(BUSINESS_ADDRESS), "postal address at work"),
    optional("internet", "internet", Kind::Object(INTERNET), "web page and email addresses"),
    optional("phones", "phones", Kind::Object(PHONES), "phone numbers"),
    optional("personal_details", "personalDetails", Kind::Object(PERSONAL_DETAILS), "name, title, organization and address"),
    optional("email", "", Kind::Alias(&["internet", "business_email"]), "shortcut for internet.business_email"),
    optional("first_name", "", Kind::Alias(&["personal_details", "first_name"]), "shortcut for personal_details.first_name"),
    optional("last_name", "", Kind::Alias(&["personal_details", "last_name"]), "shortcut for personal_details.last_name"),
    optional("department", "", Kind::Alias(&["personal_details", "department"]), "shortcut for personal_details.department"),
];

pub(super) static CREATE: RequestSpec = RequestSpec {
    vendor: NAME,
    function: "create_user",
    fields: FIELDS,
    exclusive: &[],
    check: Some(check_create),
};

/// `update_user`: the create's fields (the name and initial password are refused before this).
pub(super) static UPDATE: RequestSpec = RequestSpec {
    vendor: NAME,
    function: "update_user",
    fields: FIELDS,
    exclusive: &[],
    check: None,
};

fn check_create(req: &Request) -> Result<(), String> {
    let password_logon = match req.get("authentication_method") {
        Some(Value::List(methods)) => methods.iter().any(|m| *m == Value::Text("AuthTypePass".into())),
        Some(_) => false,
        None => true,
    };
    if password_logon && req.get("initial_password").is_none() {
        return Err("`initial_password` is required for password logon (authentication_method \
                    AuthTypePass, the default); give one, e.g. random_password(20)"
            .into());
    }
    if req.get("login_from_hour").is_some() != req.get("login_to_hour").is_some() {
        return Err("give both `login_from_hour` and `login_to_hour`, or neither".into());
    }
    Ok(())
}

/// A Vault user, as PVWA describes it.
#[derive(Clone)]
pub struct CyberArkUser {
    common: Common,
    raw: Arc<Raw>,
}

/// What PVWA said about a user, read into a JSON tree only when a script asks for more than
/// the id and name (most runs never do, and the object is large).
struct Raw {
    source: Source,
    tree: OnceLock<Json>,
}

enum Source {
    /// The answer's text.
    Answer(String),
    /// A dry run's request, with PVWA's defaults for what it leaves out.
    Planned(Request),
}

impl Raw {
    fn new(source: Source) -> Arc<Raw> {
        Arc::new(Raw {
            source,
            tree: OnceLock::new(),
        })
    }

    fn tree(&self) -> &Json {
        self.tree.get_or_init(|| match &self.source {
            Source::Answer(text) => serde_json::from_str(text).unwrap_or(Json::Null),
            Source::Planned(request) => {
                let mut raw = json!({
                    "enableUser": true, "changePassOnNextLogon": true, "passwordNeverExpires": false,
                    "suspended": false, "userType": "EPVUser", "location": "\\", "source": "CyberArk",
                    "componentUser": false, "authenticationMethod": ["AuthTypePass"],
                    "vaultAuthorization": [], "unAuthorizedInterfaces": [],
                });
                if let (Json::Object(base), Json::Object(given)) =
                    (&mut raw, request.to_wire_json(false, &[]))
                {
                    base.extend(given);
                    base.remove("initialPassword");
                }
                raw
            }
        })
    }
}

/// The two fields every user answer must have, read without building the whole tree.
#[derive(Deserialize)]
struct Head {
    #[serde(alias = "Id", alias = "ID")]
    id: Option<Json>,
    #[serde(alias = "userName", alias = "UserName")]
    username: Option<String>,
}

impl UserRecord for CyberArkUser {
    const TYPE_NAME: &'static str = "CyberArkUser";
    const PROPERTIES: &'static [(&'static str, &'static str)] = &[
        ("user_type", "the user type (EPVUser, …)"),
        ("enabled", "whether the user is enabled"),
        ("suspended", "whether the user is suspended"),
        ("location", "Vault location"),
        ("source", "where the user comes from (CyberArk, LDAP)"),
        ("component_user", "whether this is a component user"),
        ("vault_authorization", "array of Vault authorizations"),
        ("authentication_method", "array of logon methods"),
        ("unauthorized_interfaces", "array of interfaces the user may not use"),
        ("change_pass_on_next_logon", "must change the password at next logon"),
        ("password_never_expires", "the password never expires"),
        ("expiry_date", "Unix seconds, or () when the user never expires"),
        ("description", "free text"),
        ("distinguished_name", "distinguished name"),
        ("email", "internet.business_email"),
        ("first_name", "personal_details.first_name"),
        ("last_name", "personal_details.last_name"),
        ("personal_details", "map of personal details"),
        ("internet", "map of web page and emails"),
        ("business_address", "map of the work address"),
        ("phones", "map of phone numbers"),
    ];
    const SUMMARY: &'static [&'static str] = &["user_type", "enabled"];

    fn common(&self) -> &Common {
        &self.common
    }

    fn common_mut(&mut self) -> &mut Common {
        &mut self.common
    }

    fn property(&self, name: &str) -> Dynamic {
        let raw = self.raw.tree();
        let at = |path: &[&str]| {
            path.iter()
                .try_fold(raw, |v, k| field(v, k))
                .filter(|v| !v.is_null())
        };
        let text = |path: &[&str]| at(path).map_or(Dynamic::UNIT, json_to_dynamic);
        let flag = |key: &str| at(&[key]).and_then(lenient_bool).map_or(Dynamic::UNIT, Dynamic::from);
        match name {
            "user_type" => text(&["userType"]),
            "enabled" => flag("enableUser"),
            "suspended" => flag("suspended"),
            "location" => text(&["location"]),
            "source" => text(&["source"]),
            "component_user" => flag("componentUser"),
            "vault_authorization" => text(&["vaultAuthorization"]),
            "authentication_method" => text(&["authenticationMethod"]),
            "unauthorized_interfaces" => text(&["unAuthorizedInterfaces"]),
            "change_pass_on_next_logon" => flag("changePassOnNextLogon"),
            "password_never_expires" => flag("passwordNeverExpires"),
            // PVWA sends DateTime.MinValue (a large negative number) for "never".
            "expiry_date" => match at(&["expiryDate"]).and_then(lenient_int) {
                Some(secs) if secs > 0 => Dynamic::from_int(secs),
                _ => Dynamic::UNIT,
            },
            "description" => text(&["description"]),
            "distinguished_name" => text(&["distinguishedName"]),
            "email" => text(&["internet", "businessEmail"]),
            "first_name" => text(&["personalDetails", "firstName"]),
            "last_name" => text(&["personalDetails", "lastName"]),
            "personal_details" => text(&["personalDetails"]),
            "internet" => text(&["internet"]),
            "business_address" => text(&["businessAddress"]),
            "phones" => text(&["phones"]),
            _ => Dynamic::UNIT,
        }
    }
}

impl CyberArkUser {
    /// What a dry run shows for a create: the request, with PVWA's defaults.
    pub(super) fn planned(request: &Request, id: i64) -> Self {
        CyberArkUser {
            common: Common::planned(NAME, request, id),
            raw: Raw::new(Source::Planned(request.clone())),
        }
    }

    /// A user from an answer's text.
    pub(super) fn from_answer(http: &Http, reply: Reply, created: bool) -> Result<Self, VendorError> {
        let head: Option<Head> = serde_json::from_str(&reply.body).ok();
        let (id, username) = match head {
            Some(Head {
                id: Some(id),
                username: Some(name),
            }) => (lenient_int(&id), Some(name)),
            // Names in another case: read the whole tree, leniently.
            _ => {
                let tree: Json = reply.json(http, "a user")?;
                (
                    field(&tree, "id").and_then(lenient_int),
                    field(&tree, "username").and_then(Json::as_str).map(str::to_string),
                )
            }
        };
        let (Some(id), Some(username)) = (id, username) else {
            return Err(http
                .error(
                    ErrorKind::Protocol,
                    format!(
                        "expected a user with `id` and `username`, got {}",
                        http.excerpt(&reply.body)
                    ),
                )
                .reply(&reply));
        };
        Ok(CyberArkUser {
            common: Common {
                vendor: NAME,
                id,
                username,
                created,
                dry_run: false,
                http_status: None,
                changed: created,
                changes: Vec::new(),
            },
            raw: Raw::new(Source::Answer(reply.body)),
        })
    }
}
