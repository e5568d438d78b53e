//! ManageEngine Applications Manager (REST API V1): `apikey` as a parameter, JSON or XML answers, code 4000 for success.

use reqwest::Method;
use rhai::{Array, Dynamic, Map};
use serde::Deserialize;
use serde_json::Value as Json;

use super::error::{ErrorKind, VendorError};
use super::http::{Http, Reply, kind_of_status};
use super::record::{self, Common, UserRecord};
use super::schema::{Field, Kind, Request, RequestSpec, Value, optional, required};
use super::{UserApi, VendorSpec, bridge};
use crate::config::{SettingKind, SettingSpec, VendorSettings};
use crate::lenient::{field as json_field, text as json_text};
use crate::secret::Secret;

const NAME: &str = "appmanager";

pub static SPEC: VendorSpec = VendorSpec {
    name: NAME,
    product: "ManageEngine Applications Manager (REST API V1)",
    doc: "Applications Manager users. The apikey travels as a request parameter (never a header) \
          and is scrubbed from every message, since the server echoes it in errors.",
    settings: SETTINGS,
    per_minute: Some(1000),
    create: &CREATE,
    user_type: AppManagerUser::TYPE_NAME,
    user_properties: AppManagerUser::PROPERTIES,
    install: bridge::install::<AppManager>,
    connect: super::connect::<AppManager>,
    record_map: record::map_of::<AppManagerUser>,
    record_common: record::common_of::<AppManagerUser>,
    record_summary: |v| v.read_lock::<AppManagerUser>().map(|u| u.summary()),
};

const SETTINGS: &[SettingSpec] = &[
    SettingSpec {
        key: "apikey",
        kind: SettingKind::Secret,
        required: true,
        doc: "the REST API key of an administrator",
    },
    SettingSpec {
        key: "format",
        kind: SettingKind::OneOf(&["json", "xml"]),
        required: false,
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

/// The parts of an answer that matter, whichever format it came in.
struct Answer {
    code: String,
    message: Option<String>,
    users: Vec<AppManagerUser>,
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

/// `{"response-code":"4000","response":{"result":[{…user…}],"uri":"…"}}`, read leniently: the
/// JSON flavour of the user object is not documented, so keys are matched ignoring case and
/// users may sit directly in `result` or under a `User` key.
fn parse_json(body: &str) -> Option<Answer> {
    parse_json_exact(body).or_else(|| parse_json_lenient(body))
}

fn parse_json_lenient(body: &str) -> Option<Answer> {
    let root: Json = serde_json::from_str(body).ok()?;
    let code = json_field(&root, "response-code").and_then(json_text)?;
    let response = json_field(&root, "response");
    let mut users = Vec::new();
    let mut message = response
        .and_then(|r| json_field(r, "message"))
        .and_then(json_text)
        .or_else(|| json_field(&root, "message").and_then(json_text));
    let items: Vec<&Json> = match response.and_then(|r| json_field(r, "result")) {
        Some(Json::Array(a)) => a.iter().collect(),
        Some(other) => vec![other],
        None => vec![],
    };
    for item in items {
        let candidates: Vec<&Json> = match json_field(item, "User") {
            Some(Json::Array(a)) => a.iter().collect(),
            Some(u) => vec![u],
            None => vec![item],
        };
        for c in candidates {
            if let Some(u) = json_user(c) {
                users.push(u);
            } else if message.is_none() {
                message = json_field(c, "message").and_then(json_text);
            }
        }
    }
    Some(Answer {
        code,
        message,
        users,
    })
}

/// The answer in exactly the documented shape, read straight into types: a bulk run reads
/// thousands of these, and a JSON tree costs several times more. Anything else (another case,
/// numbers for ids, `null`s, an error) is left to the lenient reading.
fn parse_json_exact(body: &str) -> Option<Answer> {
    #[derive(Deserialize)]
    struct Exact {
        #[serde(rename = "response-code")]
        code: String,
        response: ExactResponse,
    }
    #[derive(Deserialize)]
    struct ExactResponse {
        result: Vec<ExactUser>,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct ExactUser {
        user_id: String,
        user_name: String,
        #[serde(default)]
        role: String,
        #[serde(default)]
        email: String,
        #[serde(default)]
        description: String,
        #[serde(rename = "AssociatedGroups", default)]
        groups: Vec<ExactGroup>,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct ExactGroup {
        group_id: String,
        #[serde(default)]
        group_name: String,
    }
    let exact: Exact = serde_json::from_str(body).ok()?;
    if exact.code != SUCCESS {
        return None;
    }
    let mut users = Vec::with_capacity(exact.response.result.len());
    for u in exact.response.result {
        let groups = u.groups.into_iter().map(|g| (g.group_id, g.group_name));
        users.push(listed_user(
            &u.user_id,
            u.user_name,
            u.role,
            u.email,
            u.description,
            groups,
        )?);
    }
    Some(Answer {
        code: exact.code,
        message: None,
        users,
    })
}

fn json_user(v: &Json) -> Option<AppManagerUser> {
    let text = |k: &str| json_field(v, k).and_then(json_text);
    let id = text("userId")?.trim().parse().ok()?;
    let groups = match json_field(v, "AssociatedGroups") {
        Some(Json::Array(a)) => a.iter().collect(),
        Some(g @ Json::Object(_)) => vec![g],
        _ => vec![],
    }
    .into_iter()
    .filter_map(|g| {
        let id = json_field(g, "groupId").and_then(json_text)?.trim().parse().ok()?;
        let name = json_field(g, "groupName").and_then(json_text).unwrap_or_default();
        Some((id, name))
    })
    .collect();
    Some(AppManagerUser {
        common: Common {
            vendor: NAME,
            id,
            username: text("userName")?,
            created: false,
            dry_run: false,
            http_status: None,
        },
        role: text("role").unwrap_or_default(),
        email: text("email").unwrap_or_default(),
        description: text("description").unwrap_or_default(),
        groups,
    })
}

#[derive(Deserialize)]
struct XmlRoot {
    result: XmlResult,
}

#[derive(Deserialize)]
struct XmlResult {
    response: XmlResponse,
}

#[derive(Deserialize)]
struct XmlResponse {
    #[serde(rename = "@response-code")]
    code: String,
    #[serde(rename = "User", default)]
    users: Vec<XmlUser>,
    #[serde(default)]
    message: Option<String>,
}

#[derive(Deserialize)]
struct XmlUser {
    #[serde(rename = "@userId")]
    id: String,
    #[serde(rename = "@userName")]
    username: String,
    #[serde(rename = "@role", default)]
    role: String,
    #[serde(rename = "@email", default)]
    email: String,
    #[serde(rename = "@description", default)]
    description: String,
    #[serde(rename = "AssociatedGroups", default)]
    groups: Vec<XmlGroup>,
}

#[derive(Deserialize)]
struct XmlGroup {
    #[serde(rename = "@groupId")]
    id: String,
    #[serde(rename = "@groupName", default)]
    name: String,
}

/// A user as an answer lists it, ids still text: `None` when the user's id is not a number (a
/// group with a bad id is left out).
fn listed_user(
    id: &str,
    username: String,
    role: String,
    email: String,
    description: String,
    groups: impl Iterator<Item = (String, String)>,
) -> Option<AppManagerUser> {
    Some(AppManagerUser {
        common: Common {
            vendor: NAME,
            id: id.trim().parse().ok()?,
            username,
            created: false,
            dry_run: false,
            http_status: None,
        },
        role,
        email,
        description,
        groups: groups
            .filter_map(|(gid, name)| Some((gid.trim().parse().ok()?, name)))
            .collect(),
    })
}

/// `<AppManager-response><result><response response-code="4000"><User …/></response></result>…`
fn parse_xml(body: &str) -> Option<Answer> {
    let root: XmlRoot = quick_xml::de::from_str(body).ok()?;
    let r = root.result.response;
    let users = r
        .users
        .into_iter()
        .filter_map(|u| {
            let groups = u.groups.into_iter().map(|g| (g.id, g.name));
            listed_user(&u.id, u.username, u.role, u.email, u.description, groups)
        })
        .collect();
    Some(Answer {
        code: r.code.trim().to_string(),
        message: r.message.map(|m| m.trim().to_string()),
        users,
    })
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

    fn matches(user: &AppManagerUser, request: &Request) -> bool {
        request.text("email").is_none_or(|e| e.eq_ignore_ascii_case(&user.email))
            && request.text("role").is_none_or(|r| r.eq_ignore_ascii_case(&user.role))
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_xml_sample_parses() {
        let body = r#"<AppManager-response uri="/AppManager/xml/users/create">
<result> <response response-code="4000">
<User email="example@example.com" userId="6" description="manager" userName="admin" role="MANAGER">
<AssociatedGroups groupId="10000035" groupName="Applications Manager"/>
<AssociatedGroups groupId="10000037" groupName="mg1"/>
</User>
</response>
</result>
</AppManager-response>"#;
        let a = parse_xml(body).unwrap();
        assert_eq!(a.code, "4000");
        assert_eq!(a.users.len(), 1);
        assert_eq!(a.users[0].common.id, 6);
        assert_eq!(a.users[0].groups, vec![(10000035, "Applications Manager".into()), (10000037, "mg1".into())]);
    }

    #[test]
    fn json_envelope_parses() {
        let body = r#"{"response-code":"4000","response":{"result":[{"userId":"7","userName":"jdoe","role":"OPERATOR","email":"j@x.io","description":"","AssociatedGroups":[]}],"uri":"/AppManager/json/users/create"}}"#;
        let a = parse_json(body).unwrap();
        assert_eq!(a.users[0].common.username, "jdoe");
        let err = r#"{"response-code":"4004","response":{"message":"bad key","uri":"/x"}}"#;
        let a = parse_json(err).unwrap();
        assert_eq!((a.code.as_str(), a.message.as_deref()), ("4004", Some("bad key")));
    }

    #[test]
    fn exact_and_lenient_readings_agree() {
        let body = r#"{"response":{"result":[{"AssociatedGroups":[{"groupId":"10000035","groupName":"Applications Manager"},{"groupId":"x","groupName":"bad id"}],"description":"operator","email":"z@x.com","role":"OPERATOR","userId":"6","userName":"zz"}],"uri":"/appmanager/json/users/create"},"response-code":"4000"}"#;
        let exact = parse_json_exact(body).unwrap();
        let lenient = parse_json_lenient(body).unwrap();
        assert_eq!(format!("{:?}", exact.users), format!("{:?}", lenient.users));
        assert_eq!(exact.users[0].groups, vec![(10000035, "Applications Manager".into())]);
        // Another case, or a number for an id, is not the exact shape: the lenient reading takes it.
        assert!(parse_json_exact(&body.replace("userName", "username")).is_none());
        assert!(parse_json_exact(&body.replace(r#""userId":"6""#, r#""userId":6"#)).is_none());
        assert_eq!(parse_json(&body.replace(r#""userId":"6""#, r#""userId":6"#)).unwrap().users[0].common.id, 6);
    }
}
