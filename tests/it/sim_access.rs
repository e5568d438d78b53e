//! The simulator's CyberArk access and lifecycle endpoints, as ACCESS-FACTS describes them: vault
//! groups and their members, a PUT that replaces the whole user, enable, disable, activate and
//! password reset.

use serde_json::Value as Json;

use crate::common::Sim;

/// A logged-on CyberArk session on a simulator.
struct Vault {
    sim: Sim,
    token: String,
}

impl Vault {
    fn new() -> Vault {
        let sim = Sim::start();
        let token = sim.cyberark_token();
        Vault { sim, token }
    }

    fn call(&self, method: &str, path: &str, body: &str) -> (u16, Json) {
        let (status, text) = self.sim.send(
            method,
            &format!("/PasswordVault/API/{path}"),
            &[
                ("Authorization", self.token.as_str()),
                ("Content-Type", "application/json"),
            ],
            body,
        );
        let json = if text.is_empty() {
            Json::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
        };
        (status, json)
    }

    /// A vault user made for the test, and its id.
    fn user(&self, name: &str) -> i64 {
        let body = format!(
            r#"{{"username":"{name}","initialPassword":"Start-Passw0rd","userType":"EPVUser",
                "internet":{{"businessEmail":"{name}@example.com"}},
                "personalDetails":{{"firstName":"Jane","lastName":"Doe","department":"NOC"}}}}"#
        );
        let (status, user) = self.call("POST", "Users", &body);
        assert_eq!(status, 201, "{user}");
        user["id"].as_i64().expect("an id")
    }

    fn group_id(&self, name: &str) -> i64 {
        let (status, list) = self.call(
            "GET",
            &format!(
                "UserGroups?filter=groupName%20eq%20{}",
                name.replace(' ', "%20")
            ),
            "",
        );
        assert_eq!(status, 200, "{list}");
        assert_eq!(list["count"], 1, "{list}");
        list["value"][0]["id"].as_i64().expect("a group id")
    }
}

#[test]
fn vault_groups_are_seeded_searched_and_filtered() {
    let v = Vault::new();
    let (status, all) = v.call("GET", "UserGroups", "");
    assert_eq!(status, 200);
    let names: Vec<&str> = all["value"]
        .as_array()
        .expect("value")
        .iter()
        .filter_map(|g| g["groupName"].as_str())
        .collect();
    assert_eq!(
        names,
        ["Vault Admins", "NOC Operators", "Auditors", "Service Desk"]
    );
    assert_eq!(all["count"], 4);
    assert_eq!(all["value"][0]["groupType"], "Vault");
    // `search` needs every word in the name; `filter` names one exactly.
    let (_, found) = v.call("GET", "UserGroups?search=noc%20oper", "");
    assert_eq!(found["count"], 1, "{found}");
    let (_, found) = v.call("GET", "UserGroups?search=noc%20admins", "");
    assert_eq!(found["count"], 0, "{found}");
    let (_, found) = v.call(
        "GET",
        "UserGroups?filter=groupType%20eq%20Vault%20AND%20groupName%20eq%20%22Vault%20Admins%22&includeMembers=true",
        "",
    );
    assert_eq!(found["count"], 1, "{found}");
    assert_eq!(found["value"][0]["members"][0]["UserName"], "Administrator");
    let id = found["value"][0]["id"].as_i64().expect("id");
    let (status, one) = v.call("GET", &format!("UserGroups/{id}/"), "");
    assert_eq!(
        (status, one["groupName"].as_str()),
        (200, Some("Vault Admins"))
    );
    let (status, missing) = v.call("GET", "UserGroups/999/", "");
    assert_eq!(status, 404, "{missing}");
}

#[test]
fn a_member_is_added_once_shown_on_the_user_and_removed_once() {
    let v = Vault::new();
    let user = v.user("jdoe");
    let noc = v.group_id("NOC Operators");
    let add = r#"{"memberId":"jdoe","memberType":"Vault"}"#;
    let (status, echo) = v.call("POST", &format!("UserGroups/{noc}/Members/"), add);
    assert_eq!(status, 201, "{echo}");
    assert_eq!(echo["memberId"], "jdoe");
    // Again: 409 PASWS213E, what clients (Ansible) read as "already a member".
    let (status, again) = v.call("POST", &format!("UserGroups/{noc}/Members/"), add);
    assert_eq!(
        (status, again["ErrorCode"].as_str()),
        (409, Some("PASWS213E")),
        "{again}"
    );
    let (_, shown) = v.call("GET", &format!("Users/{user}/"), "");
    assert_eq!(
        shown["groupsMembership"][0]["groupName"], "NOC Operators",
        "{shown}"
    );
    assert_eq!(shown["groupsMembership"][0]["groupID"], noc);
    // Lists show memberships only with ExtendedDetails.
    let (_, plain) = v.call("GET", "Users?search=jdoe", "");
    assert!(
        plain["Users"][0].get("groupsMembership").is_none(),
        "{plain}"
    );
    let (_, extended) = v.call("GET", "Users?search=jdoe&ExtendedDetails=true", "");
    assert_eq!(
        extended["Users"][0]["groupsMembership"][0]["groupName"],
        "NOC Operators"
    );
    assert_eq!(extended["Users"][0]["enableUser"], true);
    // Removing twice: 204, then 404.
    let (status, _) = v.call("DELETE", &format!("UserGroups/{noc}/Members/jdoe/"), "");
    assert_eq!(status, 204);
    let (status, gone) = v.call("DELETE", &format!("UserGroups/{noc}/Members/jdoe/"), "");
    assert_eq!(
        (status, gone["ErrorCode"].as_str()),
        (404, Some("ITATS003E")),
        "{gone}"
    );
    let (_, shown) = v.call("GET", &format!("Users/{user}/"), "");
    assert_eq!(shown["groupsMembership"], serde_json::json!([]));
    // Someone who is not a vault user cannot be added; nothing changes.
    let (status, _) = v.call(
        "POST",
        &format!("UserGroups/{noc}/Members/"),
        r#"{"memberId":"nobody"}"#,
    );
    assert_eq!(status, 404);
}

#[test]
fn groups_are_created_once_and_a_deleted_user_leaves_them() {
    let v = Vault::new();
    let (status, made) = v.call(
        "POST",
        "UserGroups/",
        r#"{"groupName":"Onboarding","description":"made by a test"}"#,
    );
    assert_eq!(status, 201, "{made}");
    assert_eq!(made["location"], "\\");
    let (status, dup) = v.call("POST", "UserGroups/", r#"{"groupName":"onboarding"}"#);
    assert_eq!(
        (status, dup["ErrorCode"].as_str()),
        (409, Some("PASWS027E"))
    );
    let id = made["id"].as_i64().expect("id");
    let user = v.user("leaver");
    let (status, _) = v.call(
        "POST",
        &format!("UserGroups/{id}/Members/"),
        r#"{"memberId":"leaver"}"#,
    );
    assert_eq!(status, 201);
    let (status, _) = v.call("DELETE", &format!("Users/{user}/"), "");
    assert_eq!(status, 204);
    let (_, group) = v.call("GET", &format!("UserGroups/{id}/?includeMembers=true"), "");
    assert_eq!(group["members"], serde_json::json!([]), "{group}");
}

#[test]
fn a_put_replaces_the_whole_user_so_a_partial_body_clears_fields() {
    let v = Vault::new();
    let id = v.user("jpartial");
    let (status, after) = v.call(
        "PUT",
        &format!("Users/{id}/"),
        r#"{"username":"jpartial","description":"only this"}"#,
    );
    assert_eq!(status, 200, "{after}");
    assert_eq!(after["description"], "only this");
    // Everything the body left out is gone, as on a real vault.
    assert_eq!(after["internet"]["businessEmail"], "");
    assert_eq!(after["personalDetails"]["firstName"], "");
    let (_, read) = v.call("GET", &format!("Users/{id}/"), "");
    assert_eq!(read["personalDetails"]["department"], "");
    // The full body keeps them: read, merge, write is the way to update.
    let mut full = read.clone();
    full["personalDetails"]["firstName"] = "Jane".into();
    let (status, kept) = v.call("PUT", &format!("Users/{id}/"), &full.to_string());
    assert_eq!(status, 200, "{kept}");
    assert_eq!(kept["personalDetails"]["firstName"], "Jane");
    assert_eq!(kept["description"], "only this");
}

#[test]
fn disable_enable_activate_and_reset_password_change_only_what_they_name() {
    let v = Vault::new();
    let id = v.user("jcycle");
    for (action, key, want) in [
        ("disable", "enableUser", false),
        ("disable", "enableUser", false),
        ("enable", "enableUser", true),
        ("Activate", "suspended", false),
    ] {
        let (status, body) = v.call("POST", &format!("Users/{id}/{action}/"), "");
        assert_eq!((status, &body), (200, &Json::Null), "{action}");
        let (_, user) = v.call("GET", &format!("Users/{id}/"), "");
        assert_eq!(user[key], want, "{action}: {user}");
        assert_eq!(user["internet"]["businessEmail"], "jcycle@example.com");
    }
    let (status, weak) = v.call(
        "POST",
        &format!("Users/{id}/ResetPassword/"),
        r#"{"NewPassword":"short"}"#,
    );
    assert_eq!(status, 400, "{weak}");
    let (status, _) = v.call(
        "POST",
        &format!("Users/{id}/ResetPassword/"),
        r#"{"newPassword":"Brand-New-Passw0rd"}"#,
    );
    assert_eq!(status, 200);
    // The new password is one of the secrets the leak scans look for.
    assert!(v.sim.secrets().contains(&"Brand-New-Passw0rd".to_string()));
    let (status, _) = v.call("POST", "Users/9999/disable/", "");
    assert_eq!(status, 404);
}

#[test]
fn users_list_by_status_as_pspas_asks() {
    let v = Vault::new();
    let user = v.user("jdoe");
    let (status, _) = v.call("POST", &format!("Users/{user}/disable/"), "");
    assert_eq!(status, 200);
    let names = |q: &str| -> Vec<String> {
        let (_, list) = v.call("GET", &format!("Users?{q}"), "");
        list["Users"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|u| u["username"].as_str().map(String::from))
            .collect()
    };
    assert_eq!(names("UserStatus=Disabled"), ["jdoe"]);
    assert!(!names("userstatus=active").contains(&"jdoe".to_string()));
}

#[test]
fn a_safe_member_is_added_once_with_every_permission_and_a_put_replaces() {
    let v = Vault::new();
    v.user("jane.doe");
    // String booleans (cybr-cli) and PascalCase keys (psPAS) bind; a missing permission is false.
    let add = r#"{"MemberName":"jane.doe","SearchIn":"Vault","MemberType":"User",
        "Permissions":{"UseAccounts":"true","ListAccounts":true}}"#;
    let (status, member) = v.call("POST", "Safes/NOC-Shared/Members/", add);
    assert_eq!(status, 201, "{member}");
    assert_eq!(member["permissions"]["useAccounts"], true);
    assert_eq!(member["permissions"]["retrieveAccounts"], false);
    assert_eq!(member["permissions"].as_object().map(|p| p.len()), Some(22));
    let (status, again) = v.call("POST", "Safes/NOC-Shared/Members/", add);
    assert_eq!(
        (status, again["ErrorCode"].as_str()),
        (409, Some("SFWS0012")),
        "{again}"
    );
    // PUT replaces: what it leaves out is cleared.
    let (status, put) = v.call(
        "PUT",
        "Safes/NOC-Shared/Members/jane.doe/",
        r#"{"permissions":{"listAccounts":true}}"#,
    );
    assert_eq!(status, 200, "{put}");
    assert_eq!(put["permissions"]["useAccounts"], false, "{put}");
    // Predefined members are left out unless asked for; pages carry nextLink.
    let (_, list) = v.call("GET", "Safes/NOC-Shared/Members?limit=1", "");
    assert_eq!(list["count"], 4, "{list}");
    assert!(list["nextLink"].is_string(), "{list}");
    let (_, all) = v.call(
        "GET",
        "Safes/NOC-Shared/Members?filter=includePredefinedUsers%20eq%20true",
        "",
    );
    assert_eq!(all["count"], 6, "{all}");
    // The logon user may not change who is on Audit-Archive, nor give what it does not hold.
    let (status, refused) = v.call("POST", "Safes/Audit-Archive/Members/", add);
    assert_eq!(
        (status, refused["ErrorCode"].as_str()),
        (403, Some("PASWS041E")),
        "{refused}"
    );
    let (status, missing) = v.call("GET", "Safes/Nowhere/Members/jane.doe/", "");
    assert_eq!(
        (status, missing["ErrorCode"].as_str()),
        (404, Some("SFWS0007")),
        "{missing}"
    );
    let (status, _) = v.call("DELETE", "Safes/NOC-Shared/Members/jane.doe/", "");
    assert_eq!(status, 204);
    let (status, _) = v.call("DELETE", "Safes/NOC-Shared/Members/jane.doe/", "");
    assert_eq!(status, 404);
}
