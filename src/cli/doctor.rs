//! `onboard doctor`: a profile checked against its vendors, all at once and read-only, as a
//! table of ✔/✘ with the fix for each ✘ (or JSON).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::cli::args::DoctorArgs;
use crate::config::{Config, Profile, locate, searched_places};
use crate::run::each::DEFAULT_JOBS;
use crate::run::rows::Rows;
use crate::util::error::{Error, Exit};
use crate::vendors::http::Http;
use crate::vendors::probe::{self, Finding};

/// The longest any one step of the doctor waits.
const DOCTOR_TIMEOUT: Duration = Duration::from_secs(5);

/// Every check of one vendor, and the round trip measured on the way.
struct Report {
    vendor: &'static str,
    findings: Vec<Finding>,
    round_trip: Option<Duration>,
    per_minute: Option<u32>,
}

pub fn doctor(config_path: Option<&Path>, args: &DoctorArgs) -> Result<(), Error> {
    let path = locate(config_path)?.ok_or_else(|| {
        Error::input(format!(
            "no onboard.toml was found (looked in {})",
            searched_places()
        ))
        .hint("`onboard init` writes one to fill in")
    })?;
    let config = Config::load(&path)?;
    let profile = config.select(args.profile.as_deref())?.clone();
    let vendors: Vec<&'static str> = crate::vendors::ALL
        .iter()
        .map(|v| v.name)
        .filter(|v| profile.has(v))
        .collect();
    if vendors.is_empty() {
        return Err(Error::input(format!(
            "profile `{}` has no vendor section",
            profile.name
        )));
    }
    let runtime = crate::runtime::io::runtime().map_err(Error::runtime)?;
    let profile = Arc::new(profile);
    let reports: Vec<Report> = runtime.block_on(async {
        let tasks: Vec<_> = vendors
            .iter()
            .map(|v| tokio::spawn(check_vendor(profile.clone(), v)))
            .collect();
        let mut reports = Vec::new();
        for (task, vendor) in tasks.into_iter().zip(&vendors) {
            reports.push(task.await.unwrap_or_else(|e| Report {
                vendor,
                findings: vec![Finding::fail(
                    "doctor",
                    e.to_string(),
                    "report this as a bug",
                )],
                round_trip: None,
                per_minute: None,
            }));
        }
        reports
    });
    let rows = match &args.each {
        Some(each) => Some(check_rows(config_path, args, each, &profile, &reports)?),
        None => None,
    };
    if args.json {
        crate::outln!("{}", json(&profile.name, &reports, rows.as_ref()));
    } else {
        crate::out!("{}", table(&profile.name, &reports, rows.as_ref()));
    }
    let failed: Vec<String> = reports
        .iter()
        .flat_map(|r| {
            r.findings
                .iter()
                .filter(|f| f.blocks())
                .map(move |f| format!("{} {}", r.vendor, f.check))
        })
        .chain(
            rows.iter()
                .filter(|r| !r.problems.is_empty())
                .map(|_| "rows".to_string()),
        )
        .collect();
    if failed.is_empty() {
        return Ok(());
    }
    Err(Error::new(
        Exit::Runtime,
        format!(
            "profile `{}` is not ready: {} failed",
            profile.name,
            failed.join(", ")
        ),
    )
    .hint("each ✘ above says what to do"))
}

/// Secret, network, then the client's own checks, for one vendor.
async fn check_vendor(profile: Arc<Profile>, vendor: &'static str) -> Report {
    let mut report = Report {
        vendor,
        findings: Vec::new(),
        round_trip: None,
        per_minute: None,
    };
    let mut settings = match profile.resolve(vendor) {
        Ok(s) => s,
        Err(e) => {
            report.findings.push(Finding::fail(
                "settings",
                e.to_string(),
                "set the environment variable or file the setting names, or fix the value",
            ));
            return report;
        }
    };
    if let Some(left) = placeholders(&settings).first() {
        report.findings.push(Finding::fail(
            "settings",
            format!("`{left}` still has the value `onboard init` wrote"),
            format!("set `{left}` in [profiles.{}.{vendor}], or remove the section if you do not use {vendor}", profile.name),
        ));
        return report;
    }
    report.per_minute = settings.max_per_minute;
    // A doctor answers within seconds: a server that does not is a finding, not a wait.
    settings.timeout = settings.timeout.min(DOCTOR_TIMEOUT);
    settings.connect_timeout = settings.connect_timeout.min(DOCTOR_TIMEOUT);
    report.findings.push(Finding::pass(
        "settings",
        "every setting and secret resolves",
    ));
    let http = match Http::new(&settings) {
        Ok(h) => h,
        Err(e) => {
            report.findings.push(Finding::fail(
                "tls",
                e.message,
                "fix `ca_cert` in the profile",
            ));
            return report;
        }
    };
    let probed = probe::network(&settings, &http).await;
    report.findings.extend(probed.findings);
    report.round_trip = probed.round_trip;
    if !probed.reachable {
        return report;
    }
    match crate::vendors::connect_ops(vendor, &settings) {
        Some(Ok(ops)) => {
            report.findings.extend(ops.diagnose().await);
            ops.close().await;
        }
        Some(Err(e)) => report.findings.push(Finding::failed_call(
            "logon",
            &e,
            "fix the profile's section",
        )),
        None => {}
    }
    report
}

/// The keys whose values are still `onboard init`'s placeholders.
fn placeholders(settings: &crate::vendors::settings::VendorSettings) -> Vec<String> {
    let mut left = Vec::new();
    if settings
        .url
        .host_str()
        .is_some_and(|h| h.ends_with(".example.com"))
    {
        left.push("url".to_string());
    }
    for (key, value) in &settings.values {
        if matches!(value, crate::vendors::settings::Setting::Text(t) if t == crate::config::template::PLACEHOLDER)
        {
            left.push(key.to_string());
        }
    }
    left
}

/// What `--each` found: the rows, their problems, and how long a run would take.
struct RowsReport {
    rows: u64,
    problems: Vec<String>,
    estimate: Option<Duration>,
}

fn check_rows(
    config_path: Option<&Path>,
    args: &DoctorArgs,
    each: &Path,
    profile: &Profile,
    reports: &[Report],
) -> Result<RowsReport, Error> {
    let rows =
        Rows::open(each).map_err(|e| Error::input(format!("--each {}: {e}", each.display())))?;
    let count = rows
        .iter()
        .map_err(|e| Error::input(format!("--each {}: {e}", each.display())))?
        .count() as u64;
    let (problems, source) = match &args.script {
        Some(script) => {
            let problems = crate::cli::check::doctor_rows(config_path, script, each)?;
            (
                problems,
                std::fs::read_to_string(script).unwrap_or_default(),
            )
        }
        None => (Vec::new(), String::new()),
    };
    let jobs = profile.jobs.unwrap_or(DEFAULT_JOBS).max(1) as f64;
    // Requests a row makes of each vendor: the calls the script names (one when there is no
    // script), each taking the round trip measured above, `jobs` rows at a time, and no
    // faster than a vendor's cap.
    let mut by_latency = 0.0;
    let mut by_cap: f64 = 0.0;
    let mut known = true;
    for r in reports {
        let calls = if source.is_empty() {
            1
        } else {
            source.matches(&format!("{}::", r.vendor)).count()
        };
        let Some(rtt) = r.round_trip else {
            known &= calls == 0;
            continue;
        };
        let requests = (count * calls as u64) as f64;
        by_latency += requests * rtt.as_secs_f64() / jobs;
        if let Some(n) = r.per_minute.filter(|n| *n > 0) {
            by_cap = by_cap.max(requests / (n as f64 / 60.0));
        }
    }
    let estimate = known.then(|| Duration::from_secs_f64(by_latency.max(by_cap)));
    Ok(RowsReport {
        rows: count,
        problems,
        estimate,
    })
}

fn mark(f: &Finding) -> &'static str {
    match (f.ok, f.needed) {
        (Some(true), _) => "✔",
        (Some(false), true) => "✘",
        (Some(false), false) => "!",
        (None, _) => "?",
    }
}

fn table(profile: &str, reports: &[Report], rows: Option<&RowsReport>) -> String {
    let mut out = format!("profile {profile}\n");
    for r in reports {
        for f in &r.findings {
            out.push_str(&format!(
                "{} {:<11} {:<9} {}\n",
                mark(f),
                r.vendor,
                f.check,
                f.detail
            ));
            if let Some(fix) = f.fix.as_ref().filter(|_| f.ok == Some(false)) {
                out.push_str(&format!("  {:<21} fix: {fix}\n", ""));
            }
        }
    }
    if let Some(rows) = rows {
        let mark = if rows.problems.is_empty() {
            "✔"
        } else {
            "✘"
        };
        out.push_str(&format!(
            "{mark} {:<11} {:<9} {} rows, {} with problems\n",
            "rows",
            "check",
            rows.rows,
            rows.problems.len()
        ));
        for p in &rows.problems {
            out.push_str(&format!("  {p}\n"));
        }
        if let Some(e) = rows.estimate {
            out.push_str(&format!(
                "  {:<11} {:<9} about {:.1} s for the run, from the round trips and caps above\n",
                "rows",
                "estimate",
                e.as_secs_f64()
            ));
        }
    }
    out
}

fn json(profile: &str, reports: &[Report], rows: Option<&RowsReport>) -> String {
    let vendors: Vec<serde_json::Value> = reports
        .iter()
        .map(|r| {
            serde_json::json!({
                "vendor": r.vendor,
                "ok": !r.findings.iter().any(Finding::blocks),
                "round_trip_ms": r.round_trip.map(|d| d.as_secs_f64() * 1000.0),
                "findings": r.findings,
            })
        })
        .collect();
    let rows = rows.map(|r| {
        serde_json::json!({
            "rows": r.rows,
            "problems": r.problems,
            "estimate_secs": r.estimate.map(|d| d.as_secs_f64()),
        })
    });
    let ok = reports
        .iter()
        .all(|r| !r.findings.iter().any(Finding::blocks))
        && rows
            .as_ref()
            .is_none_or(|r| r["problems"].as_array().is_none_or(Vec::is_empty));
    serde_json::json!({ "profile": profile, "ok": ok, "vendors": vendors, "rows": rows })
        .to_string()
}
