//! Safe membership: members added, updated and removed with the 22 Gen2 permissions, presets
//! for the usual sets, and the member's level read first (ACCESS-FACTS §1.2).

use reqwest::Method;
use rhai::{Dynamic, ImmutableString, Map};
use serde_json::{Map as JsonMap, Value as Json, json};

use super::{CyberArk, NAME};
use crate::util::lenient::{bool as lenient_bool, field, int as lenient_int};
use crate::util::suggest::did_you_mean;
use crate::vendors::access::{Direction, Held, Holding, Level};
use crate::vendors::error::{ErrorKind, VendorError};

/// The Gen2 permissions, in the order PVWA wants them (psPAS `ConvertTo-SortedPermission`).
pub const PERMISSIONS: [&str; 22] = [
    "useAccounts",
    "retrieveAccounts",
    "listAccounts",
    "addAccounts",
    "updateAccountContent",
    "updateAccountProperties",
    "initiateCPMAccountManagementOperations",
    "specifyNextAccountContent",
    "renameAccounts",
    "deleteAccounts",
    "unlockAccounts",
    "manageSafe",
    "manageSafeMembers",
    "backupSafe",
    "viewAuditLog",
    "viewSafeMembers",
    "accessWithoutConfirmation",
    "createFolders",
    "deleteFolders",
    "moveAccountsAndFolders",
    "requestsAuthorizationLevel1",
    "requestsAuthorizationLevel2",
];

const RETRIEVE: &[&str] = &["listAccounts", "retrieveAccounts", "useAccounts"];

/// The presets FIELDS.md names, each a set of true permissions. `full` leaves out
/// `requestsAuthorizationLevel2`, as psPAS and ark-sdk do: both levels at once is not a
/// setting PVWA documents.
pub const PRESETS: &[(&str, &[&str])] = &[
    ("list", &["listAccounts"]),
    ("use", &["listAccounts", "useAccounts", "viewSafeMembers"]),
    ("retrieve", RETRIEVE),
    (
        "manage",
        &[
            "listAccounts",
            "retrieveAccounts",
            "useAccounts",
            "addAccounts",
            "updateAccountContent",
            "updateAccountProperties",
            "renameAccounts",
            "deleteAccounts",
            "unlockAccounts",
        ],
    ),
    ("full", PERMISSIONS.split_at(21).0),
];

#[cfg(test)]
#[test]
fn the_completion_names_are_the_presets() {
    let names: Vec<&str> = PRESETS.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, LEVEL.names);
}

const ACCESS_KEYS: &[&str] = &["preset", "permissions", "member_type", "search_in", "expires"];

pub static LEVEL: Level = Level {
    param: "access",
    doc: "A preset name (list, use, retrieve, manage, full) or #{ preset, permissions: #{ \
          use_accounts: true, … }, member_type: \"User\"|\"Group\", search_in: \"Vault\" or a \
          directory, expires: \"YYYY-MM-DD\" or Unix seconds }; explicit permissions override \
          the preset's.",
    keys: ACCESS_KEYS,
    names: &["list", "use", "retrieve", "manage", "full"],
    parse: parse_access,
    show: show_access,
    same: same_access,
};

/// `use_accounts` for `useAccounts`.
fn snake(camel: &str) -> String {
    let mut out = String::new();
    for c in camel.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out.replace("c_p_m", "cpm").replace("level_1", "level1").replace("level_2", "level2")
}

fn preset(name: &str) -> Result<&'static [&'static str], String> {
    PRESETS
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, p)| *p)
        .ok_or_else(|| {
            let names: Vec<&str> = PRESETS.iter().map(|(n, _)| *n).collect();
            format!(
                "unknown safe permission preset \"{name}\"{} (presets: {})",
                did_you_mean(name, names.iter().copied()),
                names.join(", ")
            )
        })
}

fn text(value: &Dynamic, key: &str) -> Result<String, String> {
    value
        .read_lock::<ImmutableString>()
        .map(|s| s.to_string())
        .ok_or_else(|| format!("`{key}` must be a string, not {}", value.type_name()))
}

/// The wire form of a script's access: all 22 permissions, the member type and where the
/// name is looked up, and the expiry; checked before anything is sent.
fn parse_access(access: &Dynamic) -> Result<Json, String> {
    let map = match access.read_lock::<ImmutableString>() {
        Some(name) => Map::from([("preset".into(), Dynamic::from(name.clone()))]),
        None => access.read_lock::<Map>().map(|m| m.clone()).ok_or_else(|| {
            format!("the access must be a preset name or a map, not {}", access.type_name())
        })?,
    };
    for key in map.keys() {
        if !ACCESS_KEYS.contains(&key.as_str()) {
            return Err(format!(
                "unknown key `{key}` in the safe access{} (keys: {})",
                did_you_mean(key, ACCESS_KEYS.iter().copied()),
                ACCESS_KEYS.join(", ")
            ));
        }
    }
    let mut on: Vec<&str> = match map.get("preset") {
        Some(p) => preset(&text(p, "preset")?)?.to_vec(),
        None => Vec::new(),
    };
    if let Some(explicit) = map.get("permissions") {
        let explicit = explicit.read_lock::<Map>().ok_or("`permissions` must be a map of booleans")?;
        for (key, value) in explicit.iter() {
            let Some(name) = PERMISSIONS.iter().find(|p| snake(p) == key.as_str()) else {
                let all: Vec<String> = PERMISSIONS.iter().map(|p| snake(p)).collect();
                return Err(format!(
                    "unknown safe permission `{key}`{}",
                    did_you_mean(key, all.iter().map(String::as_str))
                ));
            };
            let Some(yes) = value.as_bool().ok() else {
                return Err(format!("permission `{key}` must be true or false, not {}", value.type_name()));
            };
            on.retain(|p| p != name);
            if yes {
                on.push(name);
            }
        }
    }
    if on.is_empty() {
        return Err("the access gives no permission: name a preset or set permissions".into());
    }
    if on.contains(&"specifyNextAccountContent") && !on.contains(&"initiateCPMAccountManagementOperations") {
        return Err("specify_next_account_content needs initiate_cpm_account_management_operations".into());
    }
    if on.contains(&"requestsAuthorizationLevel1") && on.contains(&"requestsAuthorizationLevel2") {
        return Err("requests_authorization_level1 and level2 exclude each other".into());
    }
    let permissions: JsonMap<String, Json> =
        PERMISSIONS.iter().map(|p| (p.to_string(), json!(on.contains(p)))).collect();
    let (member_type, search_in, expires) = membership(&map)?;
    Ok(json!({
        "memberType": member_type,
        "searchIn": search_in,
        "membershipExpirationDate": expires,
        "permissions": permissions,
    }))
}

/// Who the member is and until when: its type, where its name is looked up, its expiry.
fn membership(map: &Map) -> Result<(String, Json, Json), String> {
    let member_type = match map.get("member_type") {
        None => "User".to_string(),
        Some(t) => {
            let t = text(t, "member_type")?;
            // Role exists on Privilege Cloud only (an Identity role).
            ["User", "Group", "Role"]
                .into_iter()
                .find(|k| k.eq_ignore_ascii_case(&t))
                .ok_or_else(|| format!("member_type must be \"User\", \"Group\" or \"Role\", not \"{t}\""))?
                .to_string()
        }
    };
    // Left out unless given: the vault is the default on self-hosted, and Privilege Cloud
    // resolves Identity principals without it (ACCESS-FACTS §2.6).
    let search_in = match map.get("search_in") {
        Some(s) => json!(text(s, "search_in")?),
        None => Json::Null,
    };
    let expires = match map.get("expires") {
        None => Json::Null,
        Some(e) if e.is_unit() => Json::Null,
        Some(e) => match (e.as_int().ok(), e.read_lock::<ImmutableString>()) {
            (Some(secs), _) if secs > 0 => json!(secs),
            (_, Some(day)) => crate::util::dates::parse_ymd(day.as_str())
                .map(|d| json!(d * 86_400))
                .ok_or_else(|| format!("expires must be a date YYYY-MM-DD, not \"{}\"", day.as_str()))?,
            _ => return Err("expires must be a date YYYY-MM-DD or Unix seconds".into()),
        },
    };
    Ok((member_type, search_in, expires))
}

/// The permissions a level gives, read case-insensitively (cybr-cli decodes PascalCase).
fn granted(level: &Json) -> Vec<&'static str> {
    let perms = field(level, "permissions");
    PERMISSIONS
        .iter()
        .copied()
        .filter(|p| perms.and_then(|ps| field(ps, p)).and_then(lenient_bool).unwrap_or(false))
        .collect()
}

fn show_access(level: &Json) -> String {
    let mut on = granted(level);
    on.sort_unstable();
    let named = PRESETS.iter().find(|(_, p)| {
        let mut p = p.to_vec();
        p.sort_unstable();
        p == on
    });
    match named {
        Some((name, _)) => name.to_string(),
        None => on.iter().map(|p| snake(p)).collect::<Vec<_>>().join(", "),
    }
}

fn same_access(a: &Json, b: &Json) -> bool {
    let expiry = |l: &Json| field(l, "membershipExpirationDate").and_then(lenient_int).filter(|s| *s > 0);
    granted(a) == granted(b) && expiry(a) == expiry(b)
}

impl CyberArk {
    fn member_url(&self, safe: &str, member: Option<&str>) -> reqwest::Url {
        // A name with a dot needs the trailing slash (IIS answers HTML 404 without it).
        match member {
            Some(m) => self.http.url("/PasswordVault/API/Safes", &[safe, "Members", m, ""]),
            None => self.http.url("/PasswordVault/API/Safes", &[safe, "Members", ""]),
        }
    }

    /// Whether the safe exists: `not_found` naming it when it does not.
    pub(super) async fn safe_exists(&self, safe: &str) -> Result<(), VendorError> {
        let reply = self.call(Method::GET, self.http.url("/PasswordVault/API/Safes", &[safe, ""]), None).await?;
        match reply.status {
            200 => Ok(()),
            404 => Err(VendorError::new(NAME, ErrorKind::NotFound, format!("there is no safe named \"{safe}\""))),
            _ => Err(self.error(&reply, &format!("looking up safe {safe}"))),
        }
    }

    /// The member's level on the safe, or that it is none.
    pub(super) async fn safe_holding(&self, member: &str, safe: &str) -> Result<Holding, VendorError> {
        let reply = self.call(Method::GET, self.member_url(safe, Some(member)), None).await?;
        match reply.status {
            200 => Ok(Holding::Yes(reply.json(&self.http, "a safe member")?)),
            // SFWS0007: the safe itself is gone (CyberArk's Safe-Management script).
            404 if Self::code_of(&reply).as_deref() == Some("SFWS0007") => {
                Err(VendorError::new(NAME, ErrorKind::NotFound, format!("there is no safe named \"{safe}\"")))
            }
            404 => Ok(Holding::No),
            _ => Err(self.error(&reply, &format!("reading {member}'s membership of safe {safe}"))),
        }
    }

    /// Add a member at a level (an existing one is updated to it), or remove one.
    pub(super) async fn safe_member(
        &self,
        direction: Direction,
        member: &str,
        safe: &str,
        level: Option<&Json>,
        held: bool,
    ) -> Result<bool, VendorError> {
        if direction == Direction::Revoke {
            let reply = self.call(Method::DELETE, self.member_url(safe, Some(member)), None).await?;
            return match reply.status {
                200 | 204 => Ok(true),
                // Not a member (PVWA's code for it is not published).
                404 if Self::code_of(&reply).as_deref() != Some("SFWS0007") => Ok(false),
                _ => Err(self.error(&reply, &format!("removing {member} from safe {safe}"))),
            };
        }
        let Some(level) = level else {
            return Err(VendorError::new(
                NAME,
                ErrorKind::Validation,
                format!("the permissions {member} had on safe {safe} are not known, so they cannot be given back"),
            ));
        };
        let expires = field(level, "membershipExpirationDate").cloned().unwrap_or(Json::Null);
        let permissions = json!(PERMISSIONS.iter().map(|p| (p.to_string(), json!(granted(level).contains(p)))).collect::<JsonMap<_, _>>());
        // memberType is always sent: Privilege Cloud refuses an add without it (§0.3).
        let mut body = json!({
            "memberName": member,
            "membershipExpirationDate": expires,
            "permissions": permissions,
            "memberType": field(level, "memberType").cloned().unwrap_or(json!("User")),
        });
        match field(level, "searchIn").filter(|s| !s.is_null()) {
            Some(s) => body["searchIn"] = s.clone(),
            None if !self.privilege_cloud => body["searchIn"] = json!("Vault"),
            None => {}
        }
        // A member read just before is updated in place; a new one added (and updated after
        // all if PVWA says it is already a member, as CyberArk's own scripts fall back).
        if held && let Some(changed) = self.put_member(member, safe, &expires, &permissions).await? {
            return Ok(changed);
        }
        let reply = self.call(Method::POST, self.member_url(safe, None), Some(&body)).await?;
        let already = reply.status == 409
            && (Self::code_of(&reply).as_deref() == Some("SFWS0012") || reply.body.contains("is already a member"));
        match reply.status {
            200 | 201 => Ok(true),
            _ if already => match self.put_member(member, safe, &expires, &permissions).await? {
                Some(changed) => Ok(changed),
                None => Err(self.error(&reply, &format!("adding {member} to safe {safe}"))),
            },
            _ => Err(self.error(&reply, &format!("adding {member} to safe {safe}"))),
        }
    }

    /// `PUT` a member's whole level (PUT replaces, so all of it, as psPAS sends after merging);
    /// `None` when the member is not on the safe.
    async fn put_member(&self, member: &str, safe: &str, expires: &Json, permissions: &Json) -> Result<Option<bool>, VendorError> {
        let body = json!({ "membershipExpirationDate": expires, "permissions": permissions });
        let reply = self.call(Method::PUT, self.member_url(safe, Some(member)), Some(&body)).await?;
        match reply.status {
            200 | 204 => Ok(Some(true)),
            404 if Self::code_of(&reply).as_deref() != Some("SFWS0007") => Ok(None),
            _ => Err(self.error(&reply, &format!("updating {member}'s permissions on safe {safe}"))),
        }
    }

    /// Every member of a safe, page by page (PVWA's default page is 25; bounded).
    pub(super) async fn safe_members(&self, safe: &str) -> Result<Vec<Held>, VendorError> {
        let mut members = Vec::new();
        for page in 0..1000 {
            let mut url = self.member_url(safe, None);
            url.query_pairs_mut()
                .append_pair("limit", "100")
                .append_pair("offset", &(page * 100).to_string());
            let reply = self.call(Method::GET, url, None).await?;
            if reply.status == 404 {
                return Err(VendorError::new(NAME, ErrorKind::NotFound, format!("there is no safe named \"{safe}\"")));
            }
            if reply.status != 200 {
                return Err(self.error(&reply, &format!("listing the members of safe {safe}")));
            }
            let list: Json = reply.json(&self.http, "a safe member list")?;
            let value = field(&list, "value").and_then(Json::as_array).ok_or_else(|| {
                self.http.error(ErrorKind::Protocol, format!("expected {{\"value\": [...]}}, got {}", self.http.excerpt(&reply.body)))
            })?;
            members.extend(value.iter().map(|m| Held {
                // An integer on self-hosted, a GUID on Privilege Cloud (§0.6): never parsed.
                id: field(m, "memberId").and_then(Json::as_i64),
                name: field(m, "memberName").and_then(Json::as_str).unwrap_or_default().to_string(),
                kind: field(m, "memberType").and_then(Json::as_str).unwrap_or("User").to_string(),
                level: Some(m.clone()),
            }));
            if field(&list, "nextLink").is_none_or(Json::is_null) || value.is_empty() {
                return Ok(members);
            }
        }
        Ok(members)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_names_are_what_scripts_write() {
        assert_eq!(snake("useAccounts"), "use_accounts");
        assert_eq!(snake("initiateCPMAccountManagementOperations"), "initiate_cpm_account_management_operations");
        assert_eq!(snake("requestsAuthorizationLevel2"), "requests_authorization_level2");
    }

    #[test]
    fn presets_show_by_name_and_explicit_keys_override() {
        let level = parse_access(&Dynamic::from("use")).unwrap_or_default();
        assert_eq!(show_access(&level), "use");
        let mut map = Map::new();
        map.insert("preset".into(), "use".into());
        map.insert("permissions".into(), Dynamic::from_map(Map::from([("view_safe_members".into(), false.into())])));
        let level = parse_access(&Dynamic::from_map(map)).unwrap_or_default();
        assert_eq!(show_access(&level), "list_accounts, use_accounts");
        let typo = Map::from([("permissions".into(), Dynamic::from_map(Map::from([("use_acounts".into(), true.into())])))]);
        let err = parse_access(&Dynamic::from_map(typo)).err().unwrap_or_default();
        assert!(err.contains("did you mean `use_accounts`"), "{err}");
    }
}
