//! A user's lifecycle calls (ACCESS-FACTS §1.3): enable and disable (12.6+), activate (clears
//! suspension only), reset password. The documents leave their answers open; the simulator's
//! choice is 200 with an empty body, and a call that finds the state already there changes nothing.

use serde_json::Value as Json;

use super::users::password_ok;
use super::{CyberArkSim, invalid, user_not_found};
use crate::sim::SimResponse;
use crate::util::lenient::field as get_ci;

/// `POST /API/Users/{id}/<action>/`.
#[derive(Clone, Copy)]
pub(super) enum Action {
    Enable,
    Disable,
    Activate,
    ResetPassword,
}

impl Action {
    pub(super) fn of(name: &str) -> Option<Action> {
        Some(match name.to_ascii_lowercase().as_str() {
            "enable" => Action::Enable,
            "disable" => Action::Disable,
            "activate" => Action::Activate,
            "resetpassword" => Action::ResetPassword,
            _ => return None,
        })
    }
}

impl CyberArkSim {
    pub(super) fn user_action(&mut self, id: &str, action: Action, body: Option<&Json>) -> SimResponse {
        let Some(id) = id.parse::<i64>().ok().filter(|id| self.users.contains_key(id)) else {
            return user_not_found(id);
        };
        let (key, value) = match action {
            Action::Enable => ("enableUser", Json::Bool(true)),
            Action::Disable => ("enableUser", Json::Bool(false)),
            Action::Activate => ("suspended", Json::Bool(false)),
            Action::ResetPassword => return self.reset_password(id, body),
        };
        let already = self.users.get(&id).is_some_and(|u| u.json[key] == value);
        if !already {
            self.users.update(id, |u| u.json[key] = value);
        }
        SimResponse::empty(200)
    }

    fn reset_password(&mut self, id: i64, body: Option<&Json>) -> SimResponse {
        let new = body
            .and_then(|b| get_ci(b, "newPassword"))
            .and_then(Json::as_str)
            .map(str::to_string);
        let Some(new) = new else {
            return invalid(vec!["newPassword is mandatory".into()]);
        };
        if !password_ok(&new) {
            return invalid(vec![
                "newPassword does not meet the password policy (8-39 characters with upper case, lower case and a digit)"
                    .into(),
            ]);
        }
        self.users.update(id, |u| u.password = Some(new));
        SimResponse::empty(200)
    }
}
