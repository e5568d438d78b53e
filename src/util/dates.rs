//! Calendar dates as the vendors write them (`YYYY-MM-DD`, Unix seconds), without a time-zone library.

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch, now.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Today's date (UTC) as days since the epoch.
pub fn today() -> i64 {
    now().div_euclid(86_400)
}

/// Parse `YYYY-MM-DD` into days since the epoch; `None` if it is not a real date.
pub fn parse_ymd(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let digits = |r: std::ops::Range<usize>| -> Option<i64> {
        let s = &text[r];
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())?
    };
    let (y, m, d) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    if !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
        return None;
    }
    Some(days_from_civil(y, m, d))
}

/// Days since the epoch as `YYYY-MM-DD`.
pub fn format_ymd(days: i64) -> String {
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Seconds since the epoch as an RFC 3339 UTC timestamp (`2026-11-23T09:17:00Z`). Written digit
/// by digit: the journal stamps every record with one.
pub fn format_rfc3339(secs: i64) -> String {
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    let mut out = String::with_capacity(20);
    let mut digits = |n: i64, width: u32| {
        for p in (0..width).rev() {
            out.push(char::from(b'0' + (n / 10_i64.pow(p) % 10) as u8));
        }
    };
    digits(y, 4);
    digits(m, 2);
    digits(d, 2);
    digits(rem / 3600, 2);
    digits(rem % 3600 / 60, 2);
    digits(rem % 60, 2);
    // Separators go in afterwards: YYYY-MM-DDTHH:MM:SSZ.
    for (at, c) in [(4, '-'), (7, '-'), (10, 'T'), (13, ':'), (16, ':')] {
        out.insert(at, c);
    }
    out.push('Z');
    out
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

// Howard Hinnant's algorithms (public domain), proleptic Gregorian calendar.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        assert_eq!(parse_ymd("1970-01-01"), Some(0));
        assert_eq!(parse_ymd("2020-01-01"), Some(18_262));
        assert_eq!(format_ymd(18_262), "2020-01-01");
        assert_eq!(
            parse_ymd("2024-02-29").map(format_ymd).as_deref(),
            Some("2024-02-29")
        );
        assert_eq!(parse_ymd("2023-02-29"), None);
        assert_eq!(parse_ymd("2023-13-01"), None);
        assert_eq!(parse_ymd("20-01-2023"), None);
        assert_eq!(format_rfc3339(1_577_836_800), "2020-01-01T00:00:00Z");
    }
}
