//! Reading `[profiles.NAME.retry]`: how often and on which statuses a call is tried again.

use std::time::Duration;

use toml::Spanned;
use toml::de::DeValue;

use super::parse::{LineIndex, expect_table, unknown_key};
use super::{ConfigError, Loc};
use crate::vendors::retry::RetryPolicy;

/// `[profiles.NAME.retry]`: `attempts`, `base_delay_ms`, `max_delay_ms`, `max_total_secs`,
/// `statuses` (the 5xx statuses tried again).
pub(super) fn parse_retry(
    profile: &str,
    value: &Spanned<DeValue>,
    at: &Loc,
    lines: &LineIndex,
) -> Result<RetryPolicy, ConfigError> {
    let where_ = format!("[profiles.{profile}.retry]");
    let table = expect_table(value, at, &where_)?;
    let mut policy = RetryPolicy::default();
    const KEYS: &[(&str, i64, i64)] = &[
        ("attempts", 1, 20),
        ("base_delay_ms", 0, 60_000),
        ("max_delay_ms", 0, 600_000),
        ("max_total_secs", 1, 3600),
    ];
    for (key, val) in table.iter() {
        let kat = lines.loc(key.span().start);
        let k = key.get_ref().as_ref();
        if k == "statuses" {
            policy.statuses = parse_statuses(val, &kat, &where_)?;
            continue;
        }
        let Some((_, min, max)) = KEYS.iter().find(|(name, ..)| *name == k) else {
            let mut names: Vec<&str> = KEYS.iter().map(|(n, ..)| *n).collect();
            names.push("statuses");
            return Err(unknown_key(&kat, k, &where_, &names));
        };
        let n = match val.get_ref() {
            DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix()).ok(),
            _ => None,
        }
        .filter(|n| (*min..=*max).contains(n))
        .ok_or_else(|| {
            ConfigError::at(
                &kat,
                format!("`{k}` in {where_} must be an integer from {min} to {max}"),
            )
        })?;
        match k {
            "attempts" => policy.attempts = n as u32,
            "base_delay_ms" => policy.base_delay = Duration::from_millis(n as u64),
            "max_delay_ms" => policy.max_delay = Duration::from_millis(n as u64),
            _ => policy.max_total = Duration::from_secs(n as u64),
        }
    }
    Ok(policy)
}

/// `statuses = [500, 502, 503, 504]`: server errors (500 to 599) worth trying again.
fn parse_statuses(
    value: &Spanned<DeValue>,
    at: &Loc,
    where_: &str,
) -> Result<Vec<u16>, ConfigError> {
    let wrong = || {
        ConfigError::at(
            at,
            format!("`statuses` in {where_} must be an array of HTTP statuses from 500 to 599"),
        )
    };
    let DeValue::Array(items) = value.get_ref() else {
        return Err(wrong());
    };
    items
        .iter()
        .map(|v| match v.get_ref() {
            DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix())
                .ok()
                .filter(|n| (500..=599).contains(n))
                .map(|n| n as u16)
                .ok_or_else(wrong),
            _ => Err(wrong()),
        })
        .collect()
}
