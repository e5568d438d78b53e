//! Which PVWA endpoint a request is for, and serving a logged-on request.

use serde_json::{Value as Json, json};

use super::groups::GroupRoute;
use super::safes::SafeRoute;
use super::lifecycle::Action;
use super::users::gen1_view;
use super::{CyberArkSim, USERNAME, error, invalid, not_found, user_not_found};
use crate::sim::{SimRequest, SimResponse};

pub(super) enum Route {
    Logon(String),
    Gen1Logon,
    Logoff,
    Gen1Logoff,
    Server,
    LoginsInfo,
    Users,
    User(String),
    Gen1Users,
    Gen1User(String),
    Gen1Me,
    Groups(GroupRoute),
    Safes(SafeRoute),
    UserAction(String, Action),
}

impl Route {
    /// The vault authorization a call needs (ACCESS-FACTS §1.1, §1.3; *Add/Update Users* for
    /// enable and disable is inferred).
    pub(super) fn needs(&self, method: &str) -> Option<&'static str> {
        match (self, method) {
            (Route::Users, "POST") | (Route::User(_), "PUT" | "DELETE") => Some("AddUpdateUsers"),
            (Route::Groups(_), "POST" | "PUT" | "DELETE") => Some("AddUpdateUsers"),
            (Route::UserAction(_, Action::Activate), _) => Some("ActivateUsers"),
            (Route::UserAction(_, Action::ResetPassword), _) => Some("ResetUsersPasswords"),
            (Route::UserAction(..), _) => Some("AddUpdateUsers"),
            _ => None,
        }
    }

    pub(super) fn allows(&self, method: &str) -> bool {
        let allowed: &[&str] = match self {
            Route::Groups(g) => return g.allows(method),
            Route::Safes(s) => return s.allows(method),
            Route::UserAction(..) => &["POST"],
            Route::Logon(_) | Route::Gen1Logon | Route::Logoff | Route::Gen1Logoff => &["POST"],
            Route::Server | Route::LoginsInfo | Route::Gen1Me => &["GET"],
            Route::Users | Route::Gen1Users => &["GET", "POST"],
            Route::User(_) | Route::Gen1User(_) => &["GET", "PUT", "DELETE"],
        };
        allowed.contains(&method)
    }
}

/// The JSON body of a `POST` or `PUT`, refused as PVWA refuses another media type or bad JSON.
pub(super) fn json_body(req: &SimRequest) -> Result<Option<Json>, SimResponse> {
    let has_body = matches!(req.method.as_str(), "POST" | "PUT") && !req.body.is_empty();
    if !has_body {
        return Ok(None);
    }
    if !req.content_type().contains("json") {
        return Err(SimResponse::json(
            415,
            &json!({ "Message": format!("The request entity's media type '{}' is not supported for this resource.", req.content_type()) }),
        ));
    }
    serde_json::from_slice::<Json>(&req.body)
        .map(Some)
        .map_err(|e| invalid(vec![format!("the body is not valid JSON: {e}")]))
}

impl CyberArkSim {
    pub(super) fn route(req: &SimRequest) -> Option<Route> {
        let r = |p: &str| req.route(p, true);
        let one = |p: &str| r(p).and_then(|c| c.into_iter().next());
        if let Some(m) = one("/PasswordVault/API/auth/{}/Logon") {
            return Some(Route::Logon(m));
        }
        let gen1_auth = "/PasswordVault/WebServices/auth/Cyberark/CyberArkAuthenticationService.svc";
        Some(if r(&format!("{gen1_auth}/Logon")).is_some() {
            Route::Gen1Logon
        } else if r(&format!("{gen1_auth}/Logoff")).is_some() {
            Route::Gen1Logoff
        } else if r("/PasswordVault/API/Auth/Logoff").is_some() {
            Route::Logoff
        } else if r("/PasswordVault/WebServices/PIMServices.svc/Server").is_some() {
            Route::Server
        } else if r("/PasswordVault/API/LoginsInfo").is_some() {
            Route::LoginsInfo
        } else if r("/PasswordVault/API/Users").is_some() {
            Route::Users
        } else if let Some(id) = one("/PasswordVault/API/Users/{}") {
            Route::User(id)
        } else if let Some(g) = GroupRoute::of(req) {
            Route::Groups(g)
        } else if let Some(s) = SafeRoute::of(req) {
            Route::Safes(s)
        } else if let Some(c) = r("/PasswordVault/API/Users/{}/{}")
            && let Some(action) = Action::of(&c[1])
        {
            Route::UserAction(c[0].clone(), action)
        } else if r("/PasswordVault/WebServices/PIMServices.svc/Users").is_some() {
            Route::Gen1Users
        } else if let Some(name) = one("/PasswordVault/WebServices/PIMServices.svc/Users/{}") {
            Route::Gen1User(name)
        } else if r("/PasswordVault/WebServices/PIMServices.svc/User").is_some() {
            Route::Gen1Me
        } else {
            return None;
        })
    }

    /// A logged-on request with its body read.
    pub(super) fn serve(&mut self, route: Route, req: &SimRequest, body: Option<Json>) -> SimResponse {
        let method = req.method.as_str();
        match (route, method) {
            (Route::Logoff | Route::Gen1Logoff, _) => {
                if let Some(token) = req.header("authorization") {
                    self.sessions.remove(token);
                }
                SimResponse::empty(200)
            }
            (Route::LoginsInfo, _) => SimResponse::json(
                200,
                &json!({ "FullName": USERNAME, "UserName": USERNAME, "LastSuccessfulLoginDate": crate::util::dates::now() }),
            ),
            (Route::Groups(g), _) => self.serve_groups(g, req, body),
            (Route::Safes(s), _) => self.serve_safes(s, req, body),
            (Route::UserAction(id, action), _) => self.user_action(&id, action, body.as_ref()),
            (Route::Users, "GET") => self.list(req),
            (Route::Users, _) => match self.create(&body.unwrap_or(Json::Null)) {
                Ok((_, user)) => SimResponse::json(201, &user),
                Err(resp) => resp,
            },
            (Route::User(id), m) => self.user_by_id(&id, m, body),
            (Route::Gen1Users, "GET") => {
                let users: Vec<Json> = self.users.values().map(|u| gen1_view(&u.json)).collect();
                SimResponse::json(200, &json!({ "users": users }))
            }
            (Route::Gen1Users, _) => self.gen1_create(&body.unwrap_or(Json::Null)),
            (Route::Gen1User(name), m) => self.gen1_user(m, &name, req),
            (Route::Gen1Me, _) => match self.users.find(USERNAME) {
                Some(u) => SimResponse::json(200, &gen1_view(&u.json)),
                None => user_not_found(USERNAME),
            },
            _ => not_found(req),
        }
    }

    /// `GET`, `PUT` or `DELETE /API/Users/{id}`.
    fn user_by_id(&mut self, id: &str, method: &str, body: Option<Json>) -> SimResponse {
        let Ok(id) = id.parse::<i64>() else {
            return error(
                400,
                "PASWS018E",
                &format!("Input parameter for [UserID] value [{id}] is invalid. The value should be numeric."),
            );
        };
        match method {
            "GET" => match self.users.get(&id) {
                Some(u) => {
                    let mut user = u.json.clone();
                    user["groupsMembership"] = self.memberships(id);
                    SimResponse::json(200, &user)
                }
                None => user_not_found(&id.to_string()),
            },
            "PUT" => match self.update(id, &body.unwrap_or(Json::Null)) {
                Ok(user) => SimResponse::json(200, &user),
                Err(resp) => resp,
            },
            _ => self.delete(id),
        }
    }

}
