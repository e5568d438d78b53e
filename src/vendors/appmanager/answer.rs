//! Applications Manager's answers, JSON or XML, read into a response code, a message and users.

use serde::Deserialize;
use serde_json::Value as Json;

use super::{AppManagerUser, NAME, SUCCESS};
use crate::util::lenient::{field as json_field, text as json_text};
use crate::vendors::record::Common;

/// The parts of an answer that matter, whichever format it came in.
pub(super) struct Answer {
    pub code: String,
    pub message: Option<String>,
    pub users: Vec<AppManagerUser>,
}

/// `{"response-code":"4000","response":{"result":[{…user…}],"uri":"…"}}`, read leniently: the
/// JSON flavour of the user object is not documented, so keys are matched ignoring case and
/// users may sit directly in `result` or under a `User` key.
pub(super) fn parse_json(body: &str) -> Option<Answer> {
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
                changed: false,
                changes: Vec::new(),
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
                changed: false,
                changes: Vec::new(),
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
pub(super) fn parse_xml(body: &str) -> Option<Answer> {
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
