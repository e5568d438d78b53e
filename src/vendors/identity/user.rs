//! The Identity user as scripts see it, and the fields of CreateUser and ChangeUser
//! (ACCESS-FACTS §2.4).

use rhai::Dynamic;

use crate::vendors::record::{Common, UserRecord};
use crate::vendors::schema::{Field, Kind, Request, RequestSpec, optional, required};

const TEXT: Kind = Kind::Text { max: 0 };

/// Login names: letters, digits and `+ - _ .`, then `@suffix` (added when missing).
const LOGIN: Kind = Kind::Name { max: 0, forbidden: " /\\:*?\"<>|%&," };

pub const FIELDS: &[Field] = &[
    required("username", "Name", LOGIN, "the login name; the tenant's suffix (`@…`) is added when it has none"),
    optional("mail", "Mail", Kind::Email { max: 0 }, "email address"),
    optional("display_name", "DisplayName", TEXT, "the name shown for the user"),
    optional("password", "Password", Kind::Secret { max: 0 }, "initial password (Identity makes one when omitted)"),
    optional("mobile_number", "MobileNumber", TEXT, "mobile number, for SMS invites and MFA"),
    optional("description", "Description", TEXT, "free text"),
    optional("force_password_change_next", "ForcePasswordChangeNext", Kind::Bool, "change the password at first logon"),
    optional("send_email_invite", "SendEmailInvite", Kind::Bool, "email the user an invitation"),
    optional("send_sms_invite", "SendSmsInvite", Kind::Bool, "text the user an invitation"),
    optional("in_everybody_role", "InEverybodyRole", Kind::Bool, "member of the Everybody role (only settable now; a service user never is)"),
    optional("in_sys_admin_role", "InSysAdminRole", Kind::Bool, "member of the System Administrator role"),
    optional("password_never_expire", "PasswordNeverExpire", Kind::Bool, "the password never expires"),
    optional("service_user", "ServiceUser", Kind::Bool, "an API-only service user (no MFA policies, no portal)"),
    optional("oauth_client", "OauthClient", Kind::Bool, "an OAuth confidential client"),
];

pub static CREATE: RequestSpec = RequestSpec {
    vendor: super::NAME,
    function: "create_user",
    fields: FIELDS,
    exclusive: &[],
    check: Some(check_create),
};

fn check_create(req: &Request) -> Result<(), String> {
    let login = req.username();
    // Not known yet (a row's value in a check): the name's own rules say the rest.
    if login.is_empty() {
        return Ok(());
    }
    let name = login.split('@').next().unwrap_or_default();
    if name.is_empty() || !name.chars().all(|c| c.is_alphanumeric() || "+-_.".contains(c)) {
        return Err(format!(
            "`username` \"{login}\": a login name is letters, digits and + - _ . before its @suffix"
        ));
    }
    Ok(())
}

const UPDATE_FIELDS: &[Field] = &[
    required("username", "Name", LOGIN, "the login name"),
    optional("mail", "Mail", Kind::Email { max: 0 }, "email address"),
    optional("display_name", "DisplayName", TEXT, "the name shown for the user"),
    optional("mobile_number", "MobileNumber", TEXT, "mobile number"),
    optional("description", "Description", TEXT, "free text"),
];

/// `ChangeUser` sends only the fields to change, with the user's id.
pub static UPDATE: RequestSpec = RequestSpec {
    vendor: super::NAME,
    function: "update_user",
    fields: UPDATE_FIELDS,
    exclusive: &[],
    check: None,
};

/// A CyberArk Identity user.
#[derive(Clone)]
pub struct IdentityUser {
    pub common: Common,
    pub uuid: String,
    pub display_name: String,
    pub mail: String,
    pub enabled: bool,
}

impl UserRecord for IdentityUser {
    const TYPE_NAME: &'static str = "IdentityUser";
    const PROPERTIES: &'static [(&'static str, &'static str)] = &[
        ("uuid", "Identity's id of the user (a UUID; `id` is a number made from it)"),
        ("display_name", "the name shown for the user"),
        ("mail", "the user's email"),
        ("enabled", "false when the user is disabled"),
    ];
    const SUMMARY: &'static [&'static str] = &["display_name"];

    fn common(&self) -> &Common {
        &self.common
    }

    fn common_mut(&mut self) -> &mut Common {
        &mut self.common
    }

    fn property(&self, name: &str) -> Dynamic {
        match name {
            "uuid" => self.uuid.clone().into(),
            "display_name" => self.display_name.clone().into(),
            "mail" => self.mail.clone().into(),
            "enabled" => self.enabled.into(),
            _ => Dynamic::UNIT,
        }
    }
}

/// The number onboard's journal and results use for a UUID: its first 15 hex digits, the same
/// every time it is read (undo compares it with what the create answered).
pub fn number_of(uuid: &str) -> i64 {
    let hex: String = uuid.chars().filter(char::is_ascii_hexdigit).take(15).collect();
    i64::from_str_radix(&hex, 16).unwrap_or(0)
}
