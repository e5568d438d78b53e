//! Reading onboard.toml text: walking its tables with their positions, so every mistake names a line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::parse_retry::parse_retry;
use super::{
    COMMON_SETTINGS, Config, ConfigError, Loc, Profile, Raw, SecretSource, SettingKind,
    SettingSpec, VendorSection, resolve_path,
};
use crate::util::secret::Secret;
use crate::util::suggest;
use crate::vendors;
use crate::vendors::retry::RetryPolicy;

pub(super) fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
    let file: Arc<str> = path.display().to_string().into();
    let lines = LineIndex::new(text, file.clone());
    let doc = DeTable::parse(text).map_err(|e| {
        let at = lines.loc(e.span().map(|s| s.start).unwrap_or(0));
        ConfigError::at(
            &at,
            format!("this is not valid TOML: {}", e.message().trim()),
        )
    })?;
    let base_dir = path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let mut cfg = Config {
        path: path.to_path_buf(),
        default_profile: None,
        profiles: BTreeMap::new(),
        module_paths: Vec::new(),
        limits: super::LimitSettings::default(),
    };
    for (key, value) in doc.get_ref().iter() {
        let at = lines.loc(key.span().start);
        match key.get_ref().as_ref() {
            "default_profile" => {
                let name = expect_string(value, &at, "`default_profile`")?;
                cfg.default_profile = Some((name, at));
            }
            "profiles" => {
                let table = expect_table(value, &at, "`profiles`")?;
                for (pkey, pvalue) in table.iter() {
                    let name = pkey.get_ref().to_string();
                    let pat = lines.loc(pkey.span().start);
                    let profile = parse_profile(&name, pvalue, &pat, &lines, &base_dir)?;
                    cfg.profiles.insert(name, profile);
                }
            }
            "limits" => parse_limits(value, &at, &lines, &mut cfg.limits)?,
            "modules" => parse_modules(value, &at, &lines, &base_dir, &mut cfg.module_paths)?,
            other => {
                return Err(unknown_key(
                    &at,
                    other,
                    "the top level",
                    &["default_profile", "profiles", "modules"],
                ));
            }
        }
    }
    Ok(cfg)
}

/// `[limits]`: `max_operations`, `max_memory_mb`, `max_seconds`.
fn parse_limits(
    value: &Spanned<DeValue>,
    at: &Loc,
    lines: &LineIndex,
    limits: &mut super::LimitSettings,
) -> Result<(), ConfigError> {
    let table = expect_table(value, at, "`[limits]`")?;
    for (lkey, lvalue) in table.iter() {
        let lat = lines.loc(lkey.span().start);
        let key = lkey.get_ref().as_ref();
        let slot = match key {
            "max_operations" => &mut limits.max_operations,
            "max_memory_mb" => &mut limits.max_memory_mb,
            "max_seconds" => &mut limits.max_seconds,
            other => {
                return Err(unknown_key(
                    &lat,
                    other,
                    "[limits]",
                    &["max_operations", "max_memory_mb", "max_seconds"],
                ));
            }
        };
        let n = match lvalue.get_ref() {
            DeValue::Integer(i) => u64::from_str_radix(i.as_str(), i.radix()).ok(),
            _ => None,
        };
        *slot = Some(n.ok_or_else(|| {
            ConfigError::at(
                &lat,
                format!("`{key}` in [limits] must be a whole number (0: no limit)"),
            )
        })?);
    }
    Ok(())
}

/// `[modules]`: `paths`, relative to the config file.
fn parse_modules(
    value: &Spanned<DeValue>,
    at: &Loc,
    lines: &LineIndex,
    base_dir: &Path,
    paths: &mut Vec<PathBuf>,
) -> Result<(), ConfigError> {
    let table = expect_table(value, at, "`[modules]`")?;
    for (mkey, mvalue) in table.iter() {
        let mat = lines.loc(mkey.span().start);
        match mkey.get_ref().as_ref() {
            "paths" => {
                let DeValue::Array(items) = mvalue.get_ref() else {
                    return Err(ConfigError::at(
                        &mat,
                        "`paths` in [modules] must be an array of folder paths",
                    ));
                };
                for item in items {
                    let iat = lines.loc(item.span().start);
                    let p = expect_string(item, &iat, "each of [modules] `paths`")?;
                    paths.push(resolve_path(base_dir, &p));
                }
            }
            other => {
                return Err(unknown_key(&mat, other, "[modules]", &["paths"]));
            }
        }
    }
    Ok(())
}

fn parse_profile(
    name: &str,
    value: &Spanned<DeValue>,
    at: &Loc,
    lines: &LineIndex,
    base_dir: &Path,
) -> Result<Profile, ConfigError> {
    let table = expect_table(value, at, &format!("profile `{name}`"))?;
    let mut vendors_found = BTreeMap::new();
    let mut retry = RetryPolicy::default();
    let mut rollback_on_error = false;
    let mut jobs = None;
    for (vkey, vvalue) in table.iter() {
        let vat = lines.loc(vkey.span().start);
        let vname = vkey.get_ref().as_ref();
        match vname {
            "retry" => {
                retry = parse_retry(name, vvalue, &vat, lines)?;
                continue;
            }
            "jobs" => {
                let n = match vvalue.get_ref() {
                    DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix()).ok(),
                    _ => None,
                }
                .filter(|n| (1..=256).contains(n))
                .ok_or_else(|| {
                    ConfigError::at(
                        &vat,
                        format!("`jobs` in [profiles.{name}] must be an integer from 1 to 256"),
                    )
                })?;
                jobs = Some(n as usize);
                continue;
            }
            "rollback_on_error" => {
                let DeValue::Boolean(b) = vvalue.get_ref() else {
                    return Err(ConfigError::at(
                        &vat,
                        format!("`rollback_on_error` in [profiles.{name}] must be true or false"),
                    ));
                };
                rollback_on_error = *b;
                continue;
            }
            _ => {}
        }
        let Some(spec) = vendors::find(vname) else {
            let mut names: Vec<&str> = vendors::ALL.iter().map(|v| v.name).collect();
            names.extend(PROFILE_KEYS);
            return Err(unknown_key(
                &vat,
                vname,
                &format!("[profiles.{name}]"),
                &names,
            ));
        };
        let section = parse_vendor_section(name, spec, vvalue, vat, lines)?;
        vendors_found.insert(spec.name, section);
    }
    Ok(Profile {
        name: name.to_string(),
        at: at.clone(),
        base_dir: base_dir.to_path_buf(),
        vendors: vendors_found,
        retry,
        rollback_on_error,
        jobs,
    })
}

/// `[profiles.NAME.VENDOR]`: the vendor's declared settings, every required one present.
fn parse_vendor_section(
    name: &str,
    spec: &'static vendors::VendorSpec,
    vvalue: &Spanned<DeValue>,
    vat: Loc,
    lines: &LineIndex,
) -> Result<VendorSection, ConfigError> {
    let where_ = format!("[profiles.{name}.{}]", spec.name);
    let vtable = expect_table(vvalue, &vat, &where_)?;
    let mut entries = BTreeMap::new();
    let specs = || COMMON_SETTINGS.iter().chain(spec.settings.iter());
    for (key, val) in vtable.iter() {
        let kat = lines.loc(key.span().start);
        let k = key.get_ref().as_ref();
        let Some(setting) = specs().find(|s| s.key == k) else {
            let keys: Vec<&str> = specs().map(|s| s.key).collect();
            return Err(unknown_key(&kat, k, &where_, &keys));
        };
        let raw = parse_setting(setting, val, &kat, &where_)?;
        entries.insert(setting.key, (kat, raw));
    }
    let text_of = |key: &str| {
        vtable
            .get(key)
            .and_then(|v| v.get_ref().as_str())
            .map(str::to_string)
    };
    for s in specs().filter(|s| s.required && s.when.needed(text_of)) {
        if !entries.contains_key(s.key) {
            return Err(ConfigError::at(
                &vat,
                format!(
                    "{where_} is missing `{}` ({}{})",
                    s.key,
                    s.doc,
                    s.when.words()
                ),
            ));
        }
    }
    Ok(VendorSection {
        vendor: spec.name,
        at: vat,
        entries,
    })
}

/// The keys of a profile besides its vendor sections.
const PROFILE_KEYS: &[&str] = &["retry", "rollback_on_error", "jobs"];

fn parse_setting(
    spec: &SettingSpec,
    value: &Spanned<DeValue>,
    at: &Loc,
    where_: &str,
) -> Result<Raw, ConfigError> {
    let key = spec.key;
    let wrong = |what: &str| ConfigError::at(at, format!("`{key}` in {where_} must be {what}"));
    match (&spec.kind, value.get_ref()) {
        (SettingKind::Text | SettingKind::Path, DeValue::String(s)) => Ok(Raw::Text(s.to_string())),
        (SettingKind::Text | SettingKind::Path, _) => Err(wrong("a string")),
        (SettingKind::OneOf(allowed), DeValue::String(s)) => allowed
            .iter()
            .find(|a| a.eq_ignore_ascii_case(s))
            .map(|a| Raw::Text(a.to_string()))
            .ok_or_else(|| {
                ConfigError::at(
                    at,
                    format!(
                        "`{key}` in {where_} must be one of {}, not \"{s}\"{}",
                        allowed.join(", "),
                        suggest::did_you_mean(s, allowed.iter().copied())
                    ),
                )
            }),
        (SettingKind::OneOf(allowed), _) => Err(wrong(&format!("one of {}", allowed.join(", ")))),
        (SettingKind::Int { min, max }, DeValue::Integer(i)) => {
            match i64::from_str_radix(i.as_str(), i.radix()) {
                Ok(n) if (*min..=*max).contains(&n) => Ok(Raw::Int(n)),
                _ => Err(wrong(&format!("an integer from {min} to {max}"))),
            }
        }
        (SettingKind::Int { min, max }, _) => {
            Err(wrong(&format!("an integer from {min} to {max}")))
        }
        (SettingKind::Bool, DeValue::Boolean(b)) => Ok(Raw::Bool(*b)),
        (SettingKind::Bool, _) => Err(wrong("true or false")),
        (SettingKind::Secret, DeValue::String(s)) => {
            Ok(Raw::Secret(SecretSource::Inline(Secret::new(s.as_ref()))))
        }
        (SettingKind::Secret, DeValue::Table(t)) => {
            let form = "a string, { env = \"VAR\" } or { file = \"path\" }";
            let mut entries = t.iter();
            let (Some((k, v)), None) = (entries.next(), entries.next()) else {
                return Err(wrong(form));
            };
            let DeValue::String(s) = v.get_ref() else {
                return Err(wrong(form));
            };
            match k.get_ref().as_ref() {
                "env" => Ok(Raw::Secret(SecretSource::Env(s.to_string()))),
                "file" => Ok(Raw::Secret(SecretSource::File(s.to_string()))),
                other => Err(ConfigError::at(
                    at,
                    format!(
                        "`{key}` in {where_}: unknown secret source `{other}`{}; a secret is {form}",
                        suggest::did_you_mean(other, ["env", "file"])
                    ),
                )),
            }
        }
        (SettingKind::Secret, _) => {
            Err(wrong("a string, { env = \"VAR\" } or { file = \"path\" }"))
        }
    }
}

fn expect_string(value: &Spanned<DeValue>, at: &Loc, what: &str) -> Result<String, ConfigError> {
    match value.get_ref() {
        DeValue::String(s) => Ok(s.to_string()),
        _ => Err(ConfigError::at(at, format!("{what} must be a string"))),
    }
}

pub(super) fn expect_table<'a, 'i>(
    value: &'a Spanned<DeValue<'i>>,
    at: &Loc,
    what: &str,
) -> Result<&'a DeTable<'i>, ConfigError> {
    match value.get_ref() {
        DeValue::Table(t) => Ok(t),
        _ => Err(ConfigError::at(at, format!("{what} must be a table"))),
    }
}

pub(super) fn unknown_key(at: &Loc, key: &str, place: &str, valid: &[&str]) -> ConfigError {
    let hint = match suggest::closest(key, valid.iter().copied()) {
        Some(c) => format!("; did you mean `{c}`?"),
        None => format!(" (valid: {})", valid.join(", ")),
    };
    ConfigError::at(at, format!("unknown key `{key}` in {place}{hint}"))
}

/// Byte offsets to line and column numbers.
pub(super) struct LineIndex {
    file: Arc<str>,
    starts: Vec<usize>,
    text: String,
}

impl LineIndex {
    fn new(text: &str, file: Arc<str>) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex {
            file,
            starts,
            text: text.to_string(),
        }
    }

    pub(super) fn loc(&self, offset: usize) -> Loc {
        let line = self.starts.partition_point(|&s| s <= offset).max(1);
        let start = self.starts[line - 1];
        let col = self
            .text
            .get(start..offset.min(self.text.len()))
            .map_or(1, |s| s.chars().count() + 1);
        Loc {
            file: self.file.clone(),
            line,
            col,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::config::Config;

    fn parse(text: &str) -> Result<Config, String> {
        Config::parse(text, Path::new("onboard.toml")).map_err(|e| e.to_string())
    }

    const GOOD: &str = r#"
default_profile = "lab"

[profiles.lab]
jobs = 4

[profiles.lab.cyberark]
url = "https://pvwa.example.com"
username = "svc-onboard"
password = { env = "ONBOARD_TEST_UNSET_VARIABLE" }

[profiles.lab.retry]
attempts = 5
"#;

    #[test]
    fn a_good_config_reads_and_a_missing_secret_is_an_error_only_when_it_is_used() {
        let config = parse(GOOD).expect("valid config");
        let profile = config.select(None).expect("the default profile");
        assert_eq!(profile.name, "lab");
        assert_eq!(profile.jobs, Some(4));
        assert_eq!(profile.retry.attempts, 5);
        let err = profile
            .resolve("cyberark")
            .expect_err("the variable is not set");
        assert_eq!(
            err.to_string(),
            "onboard.toml:10:1: `password` in [profiles.lab.cyberark] reads the environment \
             variable ONBOARD_TEST_UNSET_VARIABLE, which is not set"
        );
    }

    #[test]
    fn a_typo_is_placed_by_line_and_column_with_what_was_meant() {
        let err = parse(&GOOD.replace("username =", "usernme =")).expect_err("a typo");
        assert!(err.starts_with("onboard.toml:9:1: "), "{err}");
        assert!(err.contains("did you mean `username`"), "{err}");
    }

    #[test]
    fn a_missing_required_key_and_bad_toml_say_where() {
        let err = parse(&GOOD.replace("username = \"svc-onboard\"\n", "")).expect_err("no user");
        assert!(
            err.contains("[profiles.lab.cyberark] is missing `username`"),
            "{err}"
        );
        let err = parse("default_profile = \n").expect_err("not TOML");
        assert!(
            err.starts_with("onboard.toml:1:") && err.contains("not valid TOML"),
            "{err}"
        );
        let err = parse(&GOOD.replace("jobs = 4", "jobs = 0")).expect_err("zero jobs");
        assert!(err.contains("must be an integer from 1 to 256"), "{err}");
    }

    #[test]
    fn what_a_logon_needs_depends_on_its_method() {
        let cloud = GOOD.replace(
            "username = \"svc-onboard\"\npassword = { env = \"ONBOARD_TEST_UNSET_VARIABLE\" }\n",
            "auth_method = \"Identity\"\nidentity_url = \"https://t.id.cyberark.cloud\"\nclient_id = \"svc@cyberark.cloud.1\"\n",
        );
        let err = parse(&cloud).expect_err("no client secret");
        assert!(err.contains("missing `client_secret`"), "{err}");
        assert!(err.contains("needed when auth_method is Identity"), "{err}");
        let whole = cloud.replace("client_id =", "client_secret = \"x\"\nclient_id =");
        assert!(
            parse(&whole).is_ok(),
            "no username or password with Identity"
        );
    }

    #[test]
    fn an_unknown_vendor_section_lists_the_vendors() {
        let err = parse(&GOOD.replace("[profiles.lab.cyberark]", "[profiles.lab.cyberak]"))
            .expect_err("unknown vendor");
        assert!(err.contains("did you mean `cyberark`"), "{err}");
    }
}
