//! PAM360's access and lifecycle calls: account shares (`view`, `modify`, `fullaccess`,
//! `revoke`) and lock/unlock, the state read from SCIM (ACCESS-FACTS §3.1, §3.3, §3.4).

use reqwest::Method;
use rhai::{Dynamic, ImmutableString, Map};
use serde_json::{Value as Json, json};

use super::{NAME, Pam360};
use crate::util::lenient::{bool as lenient_bool, field};
use crate::util::suggest::did_you_mean;
use crate::vendors::access::{Direction, Level};
use crate::vendors::error::{ErrorKind, VendorError};

/// The share levels PAM360 documents for `ACCESSTYPE` (`revoke` is the unshare).
const LEVELS: &[&str] = &["view", "modify", "fullaccess"];

pub static LEVEL: Level = Level {
    param: "level",
    doc: "\"view\", \"modify\" or \"fullaccess\" (PAM360's ACCESSTYPE).",
    keys: &["level"],
    names: LEVELS,
    parse: parse_level,
    show: |l| l.as_str().unwrap_or_default().to_string(),
    same: |a, b| a == b,
};

fn parse_level(given: &Dynamic) -> Result<Json, String> {
    let text = match given.read_lock::<Map>() {
        Some(m) => m.get("level").and_then(|l| l.read_lock::<ImmutableString>().map(|s| s.to_string())),
        None => given.read_lock::<ImmutableString>().map(|s| s.to_string()),
    };
    let Some(text) = text else {
        return Err(format!("the share level must be one of {} (a string)", LEVELS.join(", ")));
    };
    let lower = text.to_ascii_lowercase();
    match LEVELS.iter().find(|l| **l == lower) {
        Some(l) => Ok(json!(l)),
        None => Err(format!(
            "unknown share level \"{text}\"{} (levels: {})",
            did_you_mean(&lower, LEVELS.iter().copied()),
            LEVELS.join(", ")
        )),
    }
}

impl Pam360 {
    /// The ids of an account on a resource, by their names.
    async fn account_ids(&self, resource: &str, account: &str) -> Result<(String, String), VendorError> {
        let mut url = self.http.url("/restapi/json/v1/resources/getResourceIdAccountId", &[]);
        url.query_pairs_mut().append_pair("RESOURCENAME", resource).append_pair("ACCOUNTNAME", account);
        let reply = self.http.send(self.request(Method::GET, url, None)).await?;
        let (details, _) = self
            .details(&reply, &format!("looking up account {account} on resource {resource}"))
            .map_err(|e| match e.kind {
                ErrorKind::NotFound => VendorError::new(
                    NAME,
                    ErrorKind::NotFound,
                    format!("there is no account \"{account}\" on a resource named \"{resource}\""),
                ),
                _ => e,
            })?;
        let id = |k: &str| match details.get(k) {
            Some(Json::String(s)) => Some(s.clone()),
            Some(Json::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        match (id("RESOURCEID"), id("ACCOUNTID")) {
            (Some(r), Some(a)) => Ok((r, a)),
            _ => Err(self.http.error(
                ErrorKind::Protocol,
                format!("expected Details.RESOURCEID and ACCOUNTID, got {}", self.http.excerpt(&reply.body)),
            )),
        }
    }

    /// Whether the account named `resource/account` exists.
    pub(super) async fn account_exists(&self, target: &str) -> Result<(), VendorError> {
        let (resource, account) = split(target)?;
        self.account_ids(resource, account).await.map(|_| ())
    }

    /// Share an account with a user at a level, or revoke the share. PAM360 has no call that
    /// reads a share, so the call is always sent (sharing again at a level sets that level).
    pub(super) async fn share(
        &self,
        direction: Direction,
        username: &str,
        target: &str,
        level: Option<&Json>,
    ) -> Result<bool, VendorError> {
        let (resource, account) = split(target)?;
        let access = match direction {
            Direction::Revoke => "revoke".to_string(),
            Direction::Grant => level.and_then(Json::as_str).map(str::to_string).ok_or_else(|| {
                VendorError::new(
                    NAME,
                    ErrorKind::Validation,
                    format!("the level {username} had on {target} is not known (PAM360 has no call that reads a share), so it cannot be given back"),
                )
            })?,
        };
        let Some(user) = super::UserApi::get_user(self, username).await? else {
            return Err(VendorError::new(NAME, ErrorKind::NotFound, format!("there is no user named \"{username}\"")));
        };
        let (resource_id, account_id) = self.account_ids(resource, account).await?;
        let url = self.http.url("/restapi/json/v1/resources", &[&resource_id, "accounts", &account_id, "share"]);
        let input = json!({ "operation": { "Details": { "ACCESSTYPE": access, "USERID": user.common.id.to_string() } } }).to_string();
        let reply = self
            .http
            .send(self.request(Method::PUT, url, None).form(&[("INPUT_DATA", input.as_str())]))
            .await?;
        self.details(&reply, &format!("sharing {target} with {username} ({access})")).map(|_| true)
    }

    /// Whether the user is active, from SCIM (REST v1 has no user read; a locked user is
    /// taken as SCIM's `active: false`, which is inferred, not documented).
    pub(super) async fn active(&self, username: &str) -> Result<bool, VendorError> {
        match self.scim_user(username).await? {
            Some(u) => Ok(field(&u, "active").and_then(lenient_bool).unwrap_or(true)),
            None => Err(VendorError::new(NAME, ErrorKind::NotFound, format!("there is no user named \"{username}\""))),
        }
    }

    /// Unlock or lock a user, unless it already is: whether anything changed.
    pub(super) async fn switch_locked(&self, on: bool, username: &str) -> Result<bool, VendorError> {
        if self.active(username).await? == on {
            return Ok(false);
        }
        let action = if on { "unlock" } else { "lock" };
        let mut url = self.http.url("/restapi/json/v1/user", &[action]);
        url.query_pairs_mut().append_pair("USERNAME", username);
        let reply = self.http.send(self.request(Method::PUT, url, None)).await?;
        self.details(&reply, &format!("{action}ing user {username}")).map(|_| true)
    }
}

impl Pam360 {
    /// `POST user/transferUserAccountabilities` with both users' ids (ints, per the document).
    pub(super) async fn transfer(&self, username: &str, to: &str) -> Result<(), VendorError> {
        let id_of = |name: &str| {
            let name = name.to_string();
            async move {
                match super::UserApi::get_user(self, &name).await? {
                    Some(u) => Ok(u.common.id),
                    None => Err(VendorError::new(NAME, ErrorKind::NotFound, format!("there is no user named \"{name}\""))),
                }
            }
        };
        let (from_id, to_id) = (id_of(username).await?, id_of(to).await?);
        let url = self.http.url("/restapi/json/v1/user/transferUserAccountabilities", &[]);
        let input = json!({ "operation": { "Details": { "oldUserId": from_id, "newUserId": to_id } } }).to_string();
        let reply = self
            .http
            .send(self.request(Method::POST, url, None).form(&[("INPUT_DATA", input.as_str())]))
            .await?;
        self.details(&reply, &format!("transferring the accountabilities of {username} to {to}")).map(|_| ())
    }
}

/// `resource/account`: an account name has no `/` (the script layer refuses one).
fn split(target: &str) -> Result<(&str, &str), VendorError> {
    target.rsplit_once('/').ok_or_else(|| {
        VendorError::new(NAME, ErrorKind::Validation, format!("an account is named resource/account, not \"{target}\""))
    })
}
