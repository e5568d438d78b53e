//! PAM360's resources, accounts and shares, and the transfer of a user's accountabilities
//! (ACCESS-FACTS §3.1, §3.4).
//!
//! Choices where the documents are silent (ACCESS-FACTS §6): the share answer's
//! `operation.name` `SHARE_ACCOUNT` and its message are invented, as are the transfer's.

use serde_json::{Value as Json, json};

use super::{Fail, Pam360Sim};
use crate::sim::{SimRequest, SimResponse};

/// The resources and accounts every simulator starts with (the banner lists them).
pub(super) const SEEDED: &[(&str, &[&str])] = &[
    ("core-router-01", &["netops", "admin"]),
    ("db-prod-01", &["postgres", "oncall"]),
    ("win-dc-01", &["Administrator"]),
];

pub(super) struct Account {
    pub resource_id: i64,
    pub resource: String,
    pub id: i64,
    pub name: String,
    /// Who it is shared with, and at which level.
    pub shares: Vec<(i64, String)>,
}

pub(super) fn seeded() -> Vec<Account> {
    let mut out = Vec::new();
    for (r, (resource, accounts)) in SEEDED.iter().enumerate() {
        for (a, account) in accounts.iter().enumerate() {
            out.push(Account {
                resource_id: 301 + r as i64,
                resource: resource.to_string(),
                id: 4001 + (r * 10 + a) as i64,
                name: account.to_string(),
                shares: Vec::new(),
            });
        }
    }
    out
}

const LEVELS: &[&str] = &["view", "modify", "fullaccess", "revoke"];

impl Pam360Sim {
    /// The answer to a resource, share or SCIM request; `None` for other paths.
    pub(super) fn serve_access(&mut self, req: &SimRequest) -> Option<SimResponse> {
        if req.route("/restapi/json/v1/resources/getResourceIdAccountId", false).is_some() {
            return Some(self.account_ids(req));
        }
        if let Some(c) = req.route("/restapi/json/v1/resources/{}/accounts/{}/share", false) {
            return Some(match req.method.as_str() {
                "PUT" => self.share(&c[0], &c[1], req),
                _ => SimResponse::tomcat(405, "Method Not Allowed"),
            });
        }
        None
    }

    fn account_ids(&self, req: &SimRequest) -> SimResponse {
        const OP: &str = "GET_RESOURCEACCOUNTID";
        let (resource, account) = (req.param("RESOURCENAME").unwrap_or_default(), req.param("ACCOUNTNAME").unwrap_or_default());
        match self.accounts.iter().find(|a| a.resource == resource && a.name == account) {
            Some(a) => self.ok(OP, "Resource ID and account ID fetched successfully.", json!({
                "RESOURCEID": a.resource_id.to_string(), "ACCOUNTID": a.id.to_string() })),
            None => self.fail(OP, Fail::Missing, "No such account found"),
        }
    }

    fn share(&mut self, resource_id: &str, account_id: &str, req: &SimRequest) -> SimResponse {
        const OP: &str = "SHARE_ACCOUNT";
        let details = req
            .param("INPUT_DATA")
            .and_then(|i| serde_json::from_str::<Json>(i).ok())
            .and_then(|j| j.get("operation")?.get("Details").cloned());
        let Some(details) = details else {
            return self.fail(OP, Fail::Invalid, "Invalid INPUT_DATA: expected {\"operation\":{\"Details\":{...}}} as JSON.");
        };
        let access = details.get("ACCESSTYPE").and_then(Json::as_str).unwrap_or_default().to_ascii_lowercase();
        if !LEVELS.contains(&access.as_str()) {
            return self.fail(OP, Fail::Invalid, &format!("Invalid ACCESSTYPE {access}; it must be view, modify, fullaccess or revoke."));
        }
        // Documented as an integer; the document's own sample sends a string.
        let user_id = match details.get("USERID") {
            Some(Json::Number(n)) => n.as_i64(),
            Some(Json::String(s)) => s.trim().parse().ok(),
            _ => None,
        };
        let Some(user_id) = user_id.filter(|id| self.users.get(id).is_some()) else {
            return self.fail(OP, Fail::Missing, "USERID is missing or no such user exists.");
        };
        let Some(account) = self
            .accounts
            .iter_mut()
            .find(|a| a.resource_id.to_string() == resource_id && a.id.to_string() == account_id)
        else {
            return self.fail(OP, Fail::Missing, "No such account found");
        };
        account.shares.retain(|(u, _)| *u != user_id);
        if access != "revoke" {
            account.shares.push((user_id, access.clone()));
        }
        self.share_changes += 1;
        let message = match access.as_str() {
            "revoke" => "Account share has been revoked successfully.".to_string(),
            level => format!("Account has been shared successfully with {level} permission."),
        };
        self.ok(OP, &message, json!({}))
    }

    /// `transferUserAccountabilities` (ACCESS-FACTS §3.1): `Details{oldUserId, newUserId}`.
    /// The answer's name and message are invented.
    pub(super) fn transfer(&mut self, req: &SimRequest) -> SimResponse {
        const OP: &str = "TRANSFER_USER_ACCOUNTABILITIES";
        let details = req
            .param("INPUT_DATA")
            .and_then(|i| serde_json::from_str::<Json>(i).ok())
            .and_then(|j| j.get("operation")?.get("Details").cloned());
        let id = |k: &str| {
            details.as_ref().and_then(|d| match d.get(k) {
                Some(Json::Number(n)) => n.as_i64(),
                Some(Json::String(s)) => s.trim().parse().ok(),
                _ => None,
            })
        };
        let name = |id: Option<i64>| id.and_then(|i| self.users.get(&i)).map(|u| u.username.clone());
        match (name(id("oldUserId")), name(id("newUserId"))) {
            (Some(from), Some(to)) if from != to => {
                self.transfers.push((from.clone(), to.clone()));
                self.share_changes += 1;
                self.ok(OP, &format!("Accountabilities of {from} have been transferred to {to}."), json!({}))
            }
            _ => self.fail(OP, Fail::Invalid, "oldUserId and newUserId must be two different existing users."),
        }
    }

    /// Every share, for `/__sim/state`.
    pub(super) fn shares_json(&self) -> Json {
        self.accounts
            .iter()
            .map(|a| {
                let with: Vec<Json> = a
                    .shares
                    .iter()
                    .map(|(u, level)| {
                        let name = self.users.get(u).map(|u| u.username.clone()).unwrap_or_default();
                        json!({ "user": name, "level": level })
                    })
                    .collect();
                json!({ "resource": a.resource, "account": a.name, "shared_with": with })
            })
            .collect()
    }

    /// A deleted user's shares go with it.
    pub(super) fn forget_shares(&mut self, user_id: i64) {
        for a in &mut self.accounts {
            a.shares.retain(|(u, _)| *u != user_id);
        }
    }
}
