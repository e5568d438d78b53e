//! The simulated PVWA's user objects: what a create or update body must hold, the defaults PVWA
//! fills in, and the list and Gen1 views of a user.

use serde_json::{Map as JsonMap, Value as Json, json};

use super::NEVER;
use crate::util::lenient::{bool as lenient_bool, field as get_ci, int as lenient_int};

const AUTH_TYPES: &[&str] = &["AuthTypePass", "AuthTypeLDAP", "AuthTypeRADIUS"];
const INTERFACES: &[&str] = &[
    "PIMSU", "PSM", "PSMP", "PVWA", "WINCLIENT", "PTA", "PACLI", "NAPI", "XAPI", "HTTPGW", "EVD",
    "CPM", "PVWAApp", "PSMApp", "AppPrv", "AIMApp", "PSMPApp", "GUI",
];
pub(super) const AUTHORIZATIONS: &[&str] = &[
    "AddSafes", "AuditUsers", "AddUpdateUsers", "ResetUsersPasswords", "ActivateUsers",
    "AddNetworkAreas", "ManageDirectoryMapping", "ManageServerFileCategories", "BackupAllSafes",
    "RestoreAllSafes",
];
const ALLOWED_METHODS: &[&str] = &["SAML", "PKI", "FIDO", "WINDOWS"];
const COMPONENT_TYPES: &[&str] = &[
    "CPM", "PSM", "PVWA", "AppProvider", "AIMAccount", "PSMHTML5Gateway", "OPMProvider",
    "CCPEndpoints", "PSMPServer", "PTA", "DiscoveryApp",
];
const NAME_FORBIDDEN: &str = "\\/:*?\"<>|\t\r\n";

/// Nested objects: their keys and length limits.
const NESTED: &[(&str, &[(&str, usize)])] = &[
    (
        "businessAddress",
        &[("workStreet", 29), ("workCity", 19), ("workState", 19), ("workZip", 19), ("workCountry", 19)],
    ),
    (
        "internet",
        &[("homePage", 319), ("homeEmail", 319), ("businessEmail", 319), ("otherEmail", 319)],
    ),
    (
        "phones",
        &[("homeNumber", 24), ("businessNumber", 24), ("cellularNumber", 24), ("faxNumber", 24), ("pagerNumber", 24)],
    ),
    (
        "personalDetails",
        &[
            ("street", 29), ("city", 19), ("state", 19), ("zip", 19), ("country", 19), ("title", 49),
            ("organization", 49), ("department", 49), ("profession", 49), ("firstName", 29),
            ("middleName", 29), ("lastName", 29),
        ],
    ),
];

pub(super) fn user_name(u: &Json) -> &str {
    u.get("username").and_then(Json::as_str).unwrap_or_default()
}

/// Whether a password meets the vault's default policy: 8 to 39 characters with upper case,
/// lower case and a digit.
pub(super) fn password_ok(password: &str) -> bool {
    (8..=39).contains(&password.chars().count())
        && password.chars().any(|c| c.is_ascii_uppercase())
        && password.chars().any(|c| c.is_ascii_lowercase())
        && password.chars().any(|c| c.is_ascii_digit())
}

/// A create (or update) body read the way PVWA reads it, with every problem it finds.
struct Reader<'a> {
    body: &'a Json,
    problems: Vec<String>,
}

impl Reader<'_> {
    fn text(&mut self, key: &str, max: usize) -> String {
        match get_ci(self.body, key) {
            None => String::new(),
            Some(Json::String(s)) if max == 0 || s.chars().count() <= max => s.clone(),
            Some(Json::String(_)) => {
                self.problems.push(format!("{key} is longer than {max} characters"));
                String::new()
            }
            Some(_) => {
                self.problems.push(format!("{key} must be a string"));
                String::new()
            }
        }
    }

    fn flag(&mut self, key: &str, default: bool) -> bool {
        match get_ci(self.body, key) {
            None => default,
            Some(v) => lenient_bool(v).unwrap_or_else(|| {
                self.problems.push(format!("{key} must be true or false"));
                default
            }),
        }
    }

    fn list(&mut self, key: &str, allowed: &[&str], default: &[&str]) -> Vec<String> {
        match get_ci(self.body, key) {
            None => default.iter().map(|s| s.to_string()).collect(),
            Some(Json::Array(items)) => {
                let mut out = Vec::new();
                for i in items {
                    let s = i.as_str().unwrap_or_default();
                    match allowed.iter().find(|a| a.eq_ignore_ascii_case(s)) {
                        Some(a) => out.push(a.to_string()),
                        None => self.problems.push(format!("{key} has an invalid value [{s}]")),
                    }
                }
                out
            }
            Some(_) => {
                self.problems.push(format!("{key} must be an array"));
                vec![]
            }
        }
    }

    fn username(&mut self) -> String {
        let username = self.text("username", 128);
        if username.is_empty() {
            self.problems.push("username is mandatory".into());
        } else if username.contains(|c| NAME_FORBIDDEN.contains(c)) {
            self.problems.push(format!(
                "username [{username}] contains a character that is not allowed"
            ));
        }
        username
    }

    /// The initial password, held to the vault's default policy when it is used to log on.
    fn password(&mut self, check: bool, methods: &[String]) -> String {
        let password = self.text("initialPassword", 39);
        if check && methods.iter().any(|m| m == "AuthTypePass") && !password_ok(&password) {
            self.problems.push(
                "initialPassword does not meet the password policy (8-39 characters with upper case, lower case and a digit)"
                    .into(),
            );
        }
        password
    }

    fn expiry(&mut self) -> i64 {
        match get_ci(self.body, "expiryDate") {
            None => NEVER,
            Some(v) => lenient_int(v).unwrap_or_else(|| {
                self.problems.push(
                    "Input parameter for [expiryDate] value is invalid. The value should be numeric"
                        .into(),
                );
                NEVER
            }),
        }
    }

    fn hours(&mut self) -> JsonMap<String, Json> {
        let mut hours = JsonMap::new();
        for key in ["loginFromHour", "loginToHour"] {
            if let Some(v) = get_ci(self.body, key) {
                match lenient_int(v) {
                    Some(h) if (0..=23).contains(&h) => {
                        hours.insert(key.into(), json!(h));
                    }
                    _ => self
                        .problems
                        .push(format!("{key} must be an hour from 0 to 23")),
                }
            }
        }
        hours
    }

    fn retention(&mut self) -> i64 {
        let retention = get_ci(self.body, "userActivityLogRetentionDays").map_or(Some(90), lenient_int);
        if retention.is_none() {
            self.problems
                .push("userActivityLogRetentionDays must be a number".into());
        }
        retention.unwrap_or(90)
    }

    /// `personal_details`, `internet` and the other nested objects: every key a string.
    fn nested(&mut self, user: &mut JsonMap<String, Json>) {
        for (name, keys) in NESTED {
            let given = get_ci(self.body, name);
            if given.is_some_and(|g| !g.is_object()) {
                self.problems.push(format!("{name} must be an object"));
            }
            let mut obj = JsonMap::new();
            for (key, max) in *keys {
                let s = match given.and_then(|g| get_ci(g, key)) {
                    None => String::new(),
                    Some(Json::String(s)) if s.chars().count() <= *max => s.clone(),
                    Some(Json::String(_)) => {
                        self.problems
                            .push(format!("{name}.{key} is longer than {max} characters"));
                        String::new()
                    }
                    Some(_) => {
                        self.problems.push(format!("{name}.{key} must be a string"));
                        String::new()
                    }
                };
                obj.insert((*key).into(), json!(s));
            }
            user.insert((*name).into(), Json::Object(obj));
        }
    }
}

/// Validate a create (or merged update) body the way PVWA does and build the stored user.
pub(super) fn build_user(body: &Json, id: i64, check_password: bool) -> Result<Json, Vec<String>> {
    let mut r = Reader {
        body,
        problems: Vec::new(),
    };
    let username = r.username();
    let mut user_type = r.text("userType", 0);
    if user_type.is_empty() {
        user_type = "EPVUser".into();
    }
    let methods = r.list("authenticationMethod", AUTH_TYPES, &["AuthTypePass"]);
    r.password(check_password, &methods);
    let mut location = r.text("location", 0);
    if location.is_empty() {
        location = "\\".into();
    }
    let mut user = json!({
        "enableUser": r.flag("enableUser", true),
        "changePassOnNextLogon": r.flag("changePassOnNextLogon", true),
        "expiryDate": r.expiry(),
        "suspended": r.flag("suspended", false),
        "lastSuccessfulLoginDate": 0,
        "unAuthorizedInterfaces": r.list("unAuthorizedInterfaces", INTERFACES, &[]),
        "authenticationMethod": methods,
        "passwordNeverExpires": r.flag("passwordNeverExpires", false),
        "distinguishedName": r.text("distinguishedName", 0),
        "description": r.text("description", 99),
        "id": id,
        "username": username,
        "source": "CyberArk",
        "userType": user_type,
        "componentUser": COMPONENT_TYPES.iter().any(|t| t.eq_ignore_ascii_case(&user_type)),
        "groupsMembership": [],
        "vaultAuthorization": r.list("vaultAuthorization", AUTHORIZATIONS, &[]),
        "allowedAuthenticationMethods": r.list("allowedAuthenticationMethods", ALLOWED_METHODS, &[]),
        "location": location,
        "userActivityLogRetentionDays": r.retention(),
    });
    let hours = r.hours();
    if let Json::Object(u) = &mut user {
        u.extend(hours);
        r.nested(u);
    }
    if r.problems.is_empty() { Ok(user) } else { Err(r.problems) }
}

/// An entry of `GET /API/Users`: the fields PVWA lists.
pub(super) fn summary(u: &Json) -> Json {
    json!({
        "id": u["id"], "username": u["username"], "source": u["source"], "userType": u["userType"],
        "componentUser": u["componentUser"], "vaultAuthorization": u["vaultAuthorization"],
        "location": u["location"],
        "personalDetails": {
            "firstName": u["personalDetails"]["firstName"],
            "middleName": u["personalDetails"]["middleName"],
            "lastName": u["personalDetails"]["lastName"],
        },
    })
}

/// The Gen1 (`PIMServices.svc`) view of a user.
pub(super) fn gen1_view(u: &Json) -> Json {
    let expiry = u["expiryDate"].as_i64().filter(|e| *e > 0).map(|e| {
        let ymd = crate::util::dates::format_ymd(e.div_euclid(86_400));
        // Gen1 dates are MM/DD/YYYY.
        format!("{}/{}/{}", &ymd[5..7], &ymd[8..10], &ymd[0..4])
    });
    json!({
        "AgentUser": u["componentUser"],
        "Disabled": !u["enableUser"].as_bool().unwrap_or(true),
        "Email": u["internet"]["businessEmail"],
        "Expired": false,
        "ExpiryDate": expiry.unwrap_or_default(),
        "ExternalUser": false,
        "FirstName": u["personalDetails"]["firstName"],
        "LastName": u["personalDetails"]["lastName"],
        "Location": u["location"],
        "Source": "Internal",
        "Suspended": u["suspended"],
        "UserName": u["username"],
        "UserTypeName": u["userType"],
        "ChangePasswordOnTheNextLogon": u["changePassOnNextLogon"],
        "PasswordNeverExpires": u["passwordNeverExpires"],
    })
}

/// A Gen1 body (`UserName`, `Email`, `FirstName`, `Disabled`, …) as Gen2 fields, over `base`.
pub(super) fn from_gen1(body: &Json, base: Option<&Json>) -> Json {
    let mut out = base.cloned().unwrap_or_else(|| json!({}));
    let g = |k: &str| get_ci(body, k);
    if let Some(v) = g("UserName") {
        out["username"] = v.clone();
    }
    if let Some(v) = g("InitialPassword").or_else(|| g("NewPassword")) {
        out["initialPassword"] = v.clone();
    }
    if let Some(v) = g("UserTypeName") {
        out["userType"] = v.clone();
    }
    if let Some(v) = g("Location") {
        out["location"] = v.clone();
    }
    if let Some(v) = g("ChangePasswordOnTheNextLogon") {
        out["changePassOnNextLogon"] = v.clone();
    }
    if let Some(v) = g("Disabled").and_then(lenient_bool) {
        out["enableUser"] = json!(!v);
    }
    if let Some(v) = g("ExpiryDate").and_then(Json::as_str) {
        // MM/DD/YYYY
        let parts: Vec<&str> = v.split('/').collect();
        if let [m, d, y] = parts[..]
            && let Some(day) = crate::util::dates::parse_ymd(&format!("{y:0>4}-{m:0>2}-{d:0>2}"))
        {
            out["expiryDate"] = json!(day * 86_400);
        }
    }
    for (gen1, parent, key) in [
        ("Email", "internet", "businessEmail"),
        ("FirstName", "personalDetails", "firstName"),
        ("LastName", "personalDetails", "lastName"),
    ] {
        if let Some(v) = g(gen1) {
            if !out[parent].is_object() {
                out[parent] = json!({});
            }
            out[parent][key] = v.clone();
        }
    }
    out
}
