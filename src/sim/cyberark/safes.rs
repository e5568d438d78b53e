//! Safes and their members as PVWA serves them: a safe read, members listed (filters, search,
//! pages), added, read, updated (PUT replaces) and removed (ACCESS-FACTS §1.2).
//!
//! The logon user's own permissions on a safe are enforced: without *Manage Safe Members* a
//! change is 403, and nobody can give a permission they do not hold (the doc's rule).
//! Where the documents are silent these are the simulator's choices (ACCESS-FACTS §6): an
//! unknown member name is 404 `SFWS0009` (invented code, the documented message); a member
//! that is not on the safe is 404 `ITATS003E`; both request-authorization levels at once is
//! 400; a missing `memberType` is accepted (self-hosted 12.6+ makes it optional) unless the
//! simulator plays Privilege Cloud (400 `PASWS167E` with `PASWS179E`, ACCESS-FACTS §0.3). The
//! simulated vault knows the simulated Identity tenant's principals: a login with its suffix
//! (`User`) and its roles (`Role`), with GUID member ids, as on Privilege Cloud.

use serde_json::{Map as JsonMap, Value as Json, json};

use super::{CyberArkSim, USERNAME, error, invalid};
use crate::sim::{SimRequest, SimResponse};
use crate::util::lenient::{bool as lenient_bool, field as get_ci};

/// The Gen2 permission names, written out from the API document (not shared with the client).
const PERMISSIONS: [&str; 22] = [
    "useAccounts", "retrieveAccounts", "listAccounts", "addAccounts", "updateAccountContent",
    "updateAccountProperties", "initiateCPMAccountManagementOperations",
    "specifyNextAccountContent", "renameAccounts", "deleteAccounts", "unlockAccounts",
    "manageSafe", "manageSafeMembers", "backupSafe", "viewAuditLog", "viewSafeMembers",
    "accessWithoutConfirmation", "createFolders", "deleteFolders", "moveAccountsAndFolders",
    "requestsAuthorizationLevel1", "requestsAuthorizationLevel2",
];

/// The safes every simulator starts with (the banner lists them). On the last the logon user
/// may only look: changing its members is refused with 403.
pub(super) const SEEDED: &[(&str, &str)] = &[
    ("NOC-Shared", "Accounts the NOC shares"),
    ("Linux-Root", "Root accounts of the Linux estate"),
    ("Windows-Admins", "Domain administrator accounts"),
    ("Audit-Archive", "Read-only: the logon user cannot change its members"),
];
pub(super) const LOCKED_SAFE: &str = "Audit-Archive";

pub(super) struct Safe {
    number: i64,
    name: String,
    description: String,
    members: Vec<Member>,
}

struct Member {
    name: String,
    /// `User` or `Group`.
    kind: String,
    expires: Json,
    /// The 22 permissions, all present.
    permissions: JsonMap<String, Json>,
    predefined: bool,
}

/// Which safe endpoint a request is for.
pub(super) enum SafeRoute {
    Safe(String),
    Members(String),
    Member(String, String),
}

impl SafeRoute {
    pub(super) fn of(req: &SimRequest) -> Option<SafeRoute> {
        let r = |p: &str| req.route(p, true);
        if let Some(mut c) = r("/PasswordVault/API/Safes/{}") {
            return Some(SafeRoute::Safe(c.remove(0)));
        }
        if let Some(mut c) = r("/PasswordVault/API/Safes/{}/Members") {
            return Some(SafeRoute::Members(c.remove(0)));
        }
        let mut c = r("/PasswordVault/API/Safes/{}/Members/{}")?;
        let name = c.remove(1);
        Some(SafeRoute::Member(c.remove(0), name))
    }

    pub(super) fn allows(&self, method: &str) -> bool {
        let allowed: &[&str] = match self {
            SafeRoute::Safe(_) => &["GET"],
            SafeRoute::Members(_) => &["GET", "POST"],
            SafeRoute::Member(..) => &["GET", "PUT", "DELETE"],
        };
        allowed.contains(&method)
    }
}

fn all(on: &[&str]) -> JsonMap<String, Json> {
    PERMISSIONS.iter().map(|p| (p.to_string(), json!(on.contains(p)))).collect()
}

/// Each seeded safe's members: the predefined ones, Vault Admins, and the logon user.
pub(super) fn seeded() -> Vec<Safe> {
    SEEDED
        .iter()
        .enumerate()
        .map(|(i, (name, description))| {
            let everything: Vec<&str> = PERMISSIONS[..21].to_vec();
            let own: Vec<&str> = if *name == LOCKED_SAFE {
                vec!["listAccounts", "viewSafeMembers", "viewAuditLog"]
            } else {
                everything.clone()
            };
            let member = |name: &str, kind: &str, on: &[&str], predefined| Member {
                name: name.into(),
                kind: kind.into(),
                expires: Json::Null,
                permissions: all(on),
                predefined,
            };
            Safe {
                number: 2 + i as i64,
                name: name.to_string(),
                description: description.to_string(),
                members: {
                    let mut m = vec![
                        member("Master", "User", &everything, true),
                        member("Batch", "User", &everything, true),
                        member("Vault Admins", "Group", &everything, false),
                        member(USERNAME, "User", &own, false),
                    ];
                    if *name == "NOC-Shared" {
                        m.push(member(crate::sim::LEAVER, "User", &["listAccounts", "useAccounts", "viewSafeMembers"], false));
                    }
                    m
                },
            }
        })
        .collect()
}

fn no_safe(name: &str) -> SimResponse {
    error(404, "SFWS0007", &format!("Safe [{name}] has been deleted or does not exist."))
}

fn not_member(member: &str, safe: &str) -> SimResponse {
    error(404, "ITATS003E", &format!("Owner {member} was not found in safe {safe}."))
}

impl CyberArkSim {
    pub(super) fn serve_safes(&mut self, route: SafeRoute, req: &SimRequest, body: Option<Json>) -> SimResponse {
        let body = body.unwrap_or(Json::Null);
        let (SafeRoute::Safe(id) | SafeRoute::Members(id) | SafeRoute::Member(id, _)) = &route;
        let Some(index) = self.safes.iter().position(|s| s.name.eq_ignore_ascii_case(id)) else {
            return no_safe(id);
        };
        let method = req.method.as_str();
        if method != "GET" && !self.may(index, "manageSafeMembers") {
            return error(403, "PASWS041E", &format!("You are not authorized to manage the members of safe [{}].", self.safes[index].name));
        }
        match (route, method) {
            (SafeRoute::Safe(_), _) => SimResponse::json(200, &self.safe_json(index)),
            (SafeRoute::Members(_), "GET") => self.list_members(index, req),
            (SafeRoute::Members(_), _) => self.add_safe_member(index, &body),
            (SafeRoute::Member(_, name), m) => {
                let safe = &self.safes[index];
                let Some(at) = safe.members.iter().position(|x| x.name.eq_ignore_ascii_case(&name)) else {
                    return not_member(&name, &safe.name);
                };
                match m {
                    "GET" => SimResponse::json(200, &self.member_json(index, at)),
                    "PUT" => self.update_safe_member(index, at, &body),
                    _ => {
                        self.safes[index].members.remove(at);
                        self.group_changes += 1;
                        SimResponse::empty(204)
                    }
                }
            }
        }
    }

    /// Whether the logon user holds `permission` on the safe.
    fn may(&self, index: usize, permission: &str) -> bool {
        self.safes[index]
            .members
            .iter()
            .find(|m| m.name == USERNAME)
            .is_some_and(|m| m.permissions.get(permission) == Some(&json!(true)))
    }

    fn safe_json(&self, index: usize) -> Json {
        let s = &self.safes[index];
        json!({ "safeUrlId": s.name, "safeName": s.name, "safeNumber": s.number,
                "description": s.description, "location": "\\", "managingCPM": "PasswordManager",
                "numberOfVersionsRetention": 5, "olacEnabled": false })
    }

    fn member_json(&self, index: usize, at: usize) -> Json {
        let s = &self.safes[index];
        let m = &s.members[at];
        let id = match m.kind.as_str() {
            "Group" => self.groups.iter().find(|g| g.name == m.name).map(|g| json!(g.id)),
            // Identity principals have GUID ids (ACCESS-FACTS §0.6).
            "Role" => Some(json!(format!("c2c7bcc6-9560-44e0-8dff-{:012x}", m.name.len()))),
            _ if m.name.contains('@') => Some(json!(format!("a1b2c3d4-0000-4000-8000-{:012x}", m.name.len()))),
            _ => self.users.find_id(&m.name).map(|i| json!(i)),
        };
        json!({ "safeUrlId": s.name, "safeName": s.name, "safeNumber": s.number,
                "memberId": id.unwrap_or(json!(1)), "memberName": m.name, "memberType": m.kind,
                "membershipExpirationDate": m.expires, "isExpiredMembershipEnable": false,
                "isPredefinedUser": m.predefined, "isReadOnly": false, "permissions": m.permissions })
    }

    /// `filter` (`memberType eq user|group`, `includePredefinedUsers eq true`), `search`,
    /// `offset` and `limit` (default 25), with `nextLink` when more pages exist.
    fn list_members(&self, index: usize, req: &SimRequest) -> SimResponse {
        let filter = req.query_ci("filter").unwrap_or_default().to_lowercase();
        let predefined = filter.contains("includepredefinedusers eq true");
        let of_type = ["user", "group"].into_iter().find(|t| filter.contains(&format!("membertype eq {t}")));
        let search = req.query_ci("search").map(str::to_lowercase);
        let number = |k: &str, d: usize| req.query_ci(k).and_then(|v| v.parse().ok()).unwrap_or(d);
        let (offset, limit) = (number("offset", 0), number("limit", 25).clamp(1, 1000));
        let matching: Vec<usize> = (0..self.safes[index].members.len())
            .filter(|&at| {
                let m = &self.safes[index].members[at];
                (predefined || !m.predefined)
                    && of_type.is_none_or(|t| m.kind.eq_ignore_ascii_case(t))
                    && search.as_ref().is_none_or(|s| m.name.to_lowercase().contains(s.as_str()))
            })
            .collect();
        let page: Vec<Json> = matching.iter().skip(offset).take(limit).map(|&at| self.member_json(index, at)).collect();
        let mut answer = json!({ "value": page, "count": matching.len() });
        if offset + limit < matching.len() {
            answer["nextLink"] = json!(format!(
                "api/Safes/{}/Members?offset={}&limit={limit}",
                self.safes[index].name,
                offset + limit
            ));
        }
        SimResponse::json(200, &answer)
    }

    /// The 22 permissions of a body, read as PVWA binds them: names case-insensitively, the
    /// strings "true"/"false" as booleans (cybr-cli sends them), a missing one false (Gen2).
    fn permissions_of(&self, index: usize, body: &Json) -> Result<JsonMap<String, Json>, SimResponse> {
        let given = get_ci(body, "permissions").cloned().unwrap_or(Json::Null);
        let mut on: Vec<&str> = PERMISSIONS
            .iter()
            .copied()
            .filter(|p| get_ci(&given, p).and_then(lenient_bool).unwrap_or(false))
            .collect();
        if on.contains(&"requestsAuthorizationLevel1") && on.contains(&"requestsAuthorizationLevel2") {
            return Err(invalid(vec!["requestsAuthorizationLevel1 and requestsAuthorizationLevel2 cannot both be set".into()]));
        }
        // psPAS: specifyNextAccountContent only with initiateCPMAccountManagementOperations.
        if !on.contains(&"initiateCPMAccountManagementOperations") {
            on.retain(|p| *p != "specifyNextAccountContent");
        }
        if let Some(missing) = on.iter().find(|p| !self.may(index, p)) {
            return Err(error(403, "PASWS041E", &format!("You cannot grant the [{missing}] permission: you do not hold it on safe [{}].", self.safes[index].name)));
        }
        Ok(all(&on))
    }

    fn add_safe_member(&mut self, index: usize, body: &Json) -> SimResponse {
        let text = |k: &str| get_ci(body, k).and_then(Json::as_str).map(str::to_string);
        let Some(name) = text("memberName").filter(|n| !n.trim().is_empty()) else {
            return invalid(vec!["memberName is mandatory".into()]);
        };
        let search_in = text("searchIn").unwrap_or_else(|| "Vault".into());
        let group = self.groups.iter().any(|g| g.name.eq_ignore_ascii_case(&name));
        if self.privilege_cloud && text("memberType").is_none() {
            return SimResponse::json(400, &json!({ "ErrorCode": "PASWS167E", "ErrorMessage": "There are some invalid parameters",
                "Details": [{ "ErrorCode": "PASWS179E", "ErrorMessage": "Missing mandatory parameter [MemberType].", "ParameterName": "memberType" }] }));
        }
        let kind = match text("memberType") {
            Some(t) if t.eq_ignore_ascii_case("user") => "User",
            Some(t) if t.eq_ignore_ascii_case("group") => "Group",
            Some(t) if t.eq_ignore_ascii_case("role") => "Role",
            Some(t) => return invalid(vec![format!("memberType [{t}] is invalid (User, Group or Role)")]),
            None if group => "Group",
            None => "User",
        };
        let identity_login = name.to_ascii_lowercase().ends_with(&format!("@{}", crate::sim::identity::SUFFIX));
        let identity_role = crate::sim::identity::ROLES.iter().any(|r| r.eq_ignore_ascii_case(&name));
        // Directory principals are not simulated: taken as named, as PVWA would find them.
        let known = match kind {
            "Group" => group,
            "Role" => identity_role,
            _ => identity_login || self.users.find_id(&name).is_some(),
        };
        if kind == "Role" && !identity_role {
            return error(404, "SFWS0009", &format!("User or Group was not found. Role [{name}] hasn't been defined."));
        }
        if search_in.eq_ignore_ascii_case("vault") && !known {
            return error(404, "SFWS0009", &format!("User or Group was not found. Member [{name}] hasn't been defined."));
        }
        if self.safes[index].members.iter().any(|m| m.name.eq_ignore_ascii_case(&name)) {
            return error(409, "SFWS0012", &format!("[{name}] is already a member of safe [{}].", self.safes[index].name));
        }
        let permissions = match self.permissions_of(index, body) {
            Ok(p) => p,
            Err(resp) => return resp,
        };
        // The name as the vault spells it.
        let name = match kind {
            "Role" => crate::sim::identity::ROLES.iter().find(|r| r.eq_ignore_ascii_case(&name)).map_or(name, |r| r.to_string()),
            _ if identity_login => name,
            "Group" => self.groups.iter().find(|g| g.name.eq_ignore_ascii_case(&name)).map_or(name, |g| g.name.clone()),
            _ => self.users.find_id(&name).and_then(|id| self.users.get(&id)).map_or(name, |u| super::user_name(&u.json).to_string()),
        };
        self.safes[index].members.push(Member {
            name,
            kind: kind.into(),
            expires: get_ci(body, "membershipExpirationDate").cloned().filter(Json::is_i64).unwrap_or(Json::Null),
            permissions,
            predefined: false,
        });
        self.group_changes += 1;
        let at = self.safes[index].members.len() - 1;
        SimResponse::json(201, &self.member_json(index, at))
    }

    /// PUT replaces: permissions the body leaves out are cleared, as on PVWA before psPAS merged.
    fn update_safe_member(&mut self, index: usize, at: usize, body: &Json) -> SimResponse {
        let permissions = match self.permissions_of(index, body) {
            Ok(p) => p,
            Err(resp) => return resp,
        };
        let m = &mut self.safes[index].members[at];
        m.permissions = permissions;
        m.expires = get_ci(body, "membershipExpirationDate").cloned().filter(Json::is_i64).unwrap_or(Json::Null);
        self.group_changes += 1;
        SimResponse::json(200, &self.member_json(index, at))
    }

    /// A deleted user leaves every safe.
    pub(super) fn leave_safes(&mut self, name: &str) {
        for s in &mut self.safes {
            s.members.retain(|m| !(m.kind == "User" && m.name.eq_ignore_ascii_case(name)));
        }
    }

    /// The safes and who is on them, for `/__sim/users` checks.
    pub(super) fn safes_json(&self) -> Json {
        self.safes
            .iter()
            .map(|s| {
                let members: JsonMap<String, Json> = s
                    .members
                    .iter()
                    .filter(|m| !m.predefined)
                    .map(|m| (m.name.clone(), json!(m.permissions.iter().filter(|(_, v)| **v == json!(true)).map(|(k, _)| k.clone()).collect::<Vec<_>>())))
                    .collect();
                json!({ "safeName": s.name, "members": members })
            })
            .collect()
    }
}
