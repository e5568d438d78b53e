//! The commented `onboard.toml` that `onboard init` writes: one profile, a section per vendor
//! from what each vendor declares, secrets as environment placeholders.

use std::fmt::Write;

use crate::config::COMMON_SETTINGS;
use crate::vendors::retry::{DEFAULT_STATUSES, RetryPolicy};
use crate::vendors::settings::{SettingKind, SettingSpec};

/// What a text setting a newcomer must fill in says until they do.
pub const PLACEHOLDER: &str = "CHANGE-ME";

/// The whole file for a profile named `profile`.
pub fn template(profile: &str) -> String {
    let retry = RetryPolicy::default();
    let statuses: Vec<String> = DEFAULT_STATUSES.iter().map(u16::to_string).collect();
    let mut out = format!(
        "# onboard.toml: written by `onboard init`. Fill in each vendor's url and put the secrets in\n\
         # the environment variables named below (or use {{ file = \"path\" }}), then check it with\n\
         #   onboard doctor --profile {profile}\n\
         # Remove the section of a vendor you do not use. `onboard docs` lists what scripts can call.\n\n\
         default_profile = \"{profile}\"\n\n\
         [profiles.{profile}]\n\
         # Rows run at once with `run --each`.\n\
         # jobs = 8\n\
         # Delete what a run created when it ends in an uncaught error.\n\
         # rollback_on_error = false\n\n\
         # What is tried again, and for how long (these are the defaults).\n\
         [profiles.{profile}.retry]\n\
         # attempts = {}\n\
         # base_delay_ms = {}\n\
         # max_delay_ms = {}\n\
         # max_total_secs = {}\n\
         # statuses = [{}]\n",
        retry.attempts,
        retry.base_delay.as_millis(),
        retry.max_delay.as_millis(),
        retry.max_total.as_secs(),
        statuses.join(", ")
    );
    for vendor in crate::vendors::ALL {
        let _ = write!(
            out,
            "\n# {}: {}\n[profiles.{profile}.{}]\n",
            vendor.product, vendor.doc, vendor.name
        );
        for spec in COMMON_SETTINGS.iter().chain(vendor.settings) {
            out.push_str(&setting(vendor.name, spec, vendor.per_minute));
        }
    }
    out
}

/// One key with its doc: set when a default profile needs it, commented out otherwise.
fn setting(vendor: &str, spec: &SettingSpec, per_minute: Option<u32>) -> String {
    // A setting needed only while another has a non-default value is left out until it has.
    let needed = spec.required && spec.when.needed(|_| None);
    let value = match (&spec.kind, spec.key) {
        (_, "url") => format!("\"https://{vendor}.example.com\""),
        (_, "max_per_minute") => per_minute.unwrap_or(0).to_string(),
        (SettingKind::Secret, key) => format!(
            "{{ env = \"ONBOARD_{}_{}\" }}",
            vendor.to_uppercase(),
            key.to_uppercase()
        ),
        (SettingKind::OneOf(options), _) => format!("\"{}\"", options.first().unwrap_or(&"")),
        (SettingKind::Int { min, .. }, "timeout_secs") => 30.max(*min).to_string(),
        (SettingKind::Int { min, .. }, "connect_timeout_secs") => 10.max(*min).to_string(),
        (SettingKind::Int { min, .. }, _) => min.max(&1).to_string(),
        (SettingKind::Bool, _) => "false".into(),
        (SettingKind::Path, _) => "\"ca.pem\"".into(),
        (SettingKind::Text, _) => format!("\"{PLACEHOLDER}\""),
    };
    let hash = if needed { "" } else { "# " };
    format!(
        "# {}{}\n{hash}{} = {value}\n",
        spec.doc,
        spec.when.words(),
        spec.key
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_is_a_valid_config_with_every_vendor() {
        let text = template("prod");
        let config = crate::config::Config::parse(&text, std::path::Path::new("onboard.toml"))
            .map_err(|e| e.to_string());
        let Ok(config) = config else {
            panic!("{config:?}\n{text}");
        };
        let profile = &config.profiles["prod"];
        for vendor in crate::vendors::ALL {
            assert!(profile.has(vendor.name), "{}", vendor.name);
        }
        assert!(text.contains("ONBOARD_CYBERARK_PASSWORD"));
        assert!(text.contains("# client_secret = "), "{text}");
    }
}
