//! What `onboard doctor` asks a PVWA: the logon, the vault authorizations of the account that
//! logged on, and the server's version mapped to the calls it supports (psPAS's minimums).

use reqwest::Method;
use serde_json::Value as Json;

use super::logon::Logon;
use super::{CyberArk, field};
use crate::vendors::probe::Finding;

/// The vault authorizations onboarding needs, and those only some calls need.
const NEEDED: &[(&str, &str)] = &[("AddUpdateUsers", "create, update, delete users and their groups")];
const OPTIONAL: &[(&str, &str)] = &[
    ("ActivateUsers", "activate_user"),
    ("ResetUsersPasswords", "reset_password"),
];

/// The lowest PVWA version of each call onboard makes (ACCESS-FACTS §1.4).
const VERSIONS: &[((u32, u32), &str)] = &[
    ((10, 9), "get_user, user_exists (the Users list)"),
    ((10, 10), "activate_user, reset_password"),
    ((11, 1), "update_user"),
    ((12, 1), "grant/revoke safe (Gen2 safe members)"),
    ((12, 6), "enable_user, disable_user"),
];

impl CyberArk {
    pub(super) async fn doctor(&self) -> Vec<Finding> {
        let logged_on = match &self.logon {
            Logon::Vault { auth_method, username, .. } => format!("{username} ({auth_method})"),
            Logon::Platform(_) => "the platform's service user (Identity)".to_string(),
        };
        if let Err(e) = self.token().await {
            return vec![Finding::failed_call("logon", &e, "check username and password (or client_id and client_secret) in the profile")];
        }
        let mut findings = vec![Finding::pass("logon", format!("logged on as {logged_on}"))];
        if let Logon::Vault { username, .. } = &self.logon {
            findings.extend(self.rights(username).await);
        }
        findings.push(self.version().await);
        findings
    }

    async fn rights(&self, username: &str) -> Vec<Finding> {
        let user = match self.user_json(username).await {
            Ok((_, user)) => user,
            Err(e) => return vec![Finding::failed_call("rights", &e, "the logon user must be able to read users (Audit Users or Add/Update Users)")],
        };
        let held: Vec<&str> = field(&user, "vaultAuthorization")
            .and_then(Json::as_array)
            .map(|a| a.iter().filter_map(Json::as_str).collect())
            .unwrap_or_default();
        let holds = |a: &str| held.iter().any(|h| h.eq_ignore_ascii_case(a));
        let mut findings = Vec::new();
        for (auth, for_what) in NEEDED {
            findings.push(if holds(auth) {
                Finding::pass("rights", format!("{username} holds {auth} ({for_what})"))
            } else {
                Finding::fail(
                    "rights",
                    format!("{username} lacks the vault authorization {auth}, which {for_what} need"),
                    format!("grant {username} \"Add/Update Users\" in the vault (PrivateArk or the PVWA's user administration)"),
                )
            });
        }
        for (auth, for_what) in OPTIONAL {
            let finding = if holds(auth) {
                Finding::pass("rights", format!("{username} holds {auth} ({for_what})"))
            } else {
                Finding::fail("rights", format!("{username} lacks {auth}: {for_what} will be refused"), format!("grant {auth} if scripts call {for_what}"))
            };
            findings.push(finding.optional());
        }
        findings
    }

    async fn version(&self) -> Finding {
        let url = self.http.url("/PasswordVault/WebServices/PIMServices.svc/Server", &[]);
        let reply = match self.call(Method::GET, url, None).await {
            Ok(r) if r.status == 200 => r,
            Ok(r) => return Finding::unknown("version", format!("the server did not say (HTTP {})", r.status)),
            Err(e) => return Finding::unknown("version", format!("the server did not say ({})", e.message)),
        };
        let body: Json = serde_json::from_str(&reply.body).unwrap_or_default();
        let Some(text) = field(&body, "ExternalVersion").and_then(Json::as_str) else {
            return Finding::unknown("version", "the server's answer has no ExternalVersion");
        };
        let mut parts = text.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
        let version = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
        let missing: Vec<String> = VERSIONS
            .iter()
            .filter(|(min, _)| version < *min)
            .map(|((major, minor), calls)| format!("{calls} (needs {major}.{minor})"))
            .collect();
        if missing.is_empty() {
            return Finding::pass("version", format!("PVWA {text}: every onboard call is supported"));
        }
        let lookups_missing = version < VERSIONS[0].0;
        let finding = Finding::fail(
            "version",
            format!("PVWA {text} lacks: {}", missing.join("; ")),
            "upgrade the PVWA, or keep scripts to the calls it has",
        );
        if lookups_missing { finding } else { finding.optional() }
    }
}
