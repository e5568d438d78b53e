//! `--each`: rows in parallel, reports, bad rows, resume, caps.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value as Json;

use crate::common::{Output, Sim, onboard, output};

const SCRIPT: &str = r#"
cyberark::create_user(#{ username: row.username, initial_password: random_password(20),
    first_name: row.first_name, last_name: row.last_name, email: row.email });
if row.department == "NOC" {
    pam360::create_user(#{ username: row.username + "-api", first_name: row.first_name,
        last_name: row.last_name, email: row.email, is_api_user: true });
}
appmanager::create_user(#{ username: row.username, role: "OPERATOR",
    password: random_password(16), email: row.email });
print(`done ${row.username}`);
"#;

fn people_csv(sim: &Sim, n: usize, edit: impl Fn(usize, &mut [String; 5])) -> PathBuf {
    let mut text = String::from("username,first_name,last_name,email,department\n");
    for i in 1..=n {
        let mut cols = [
            format!("user{i}"),
            format!("First{i}"),
            "Last".to_string(),
            format!("user{i}@example.com"),
            if i % 2 == 0 {
                "NOC".into()
            } else {
                "Finance".into()
            },
        ];
        edit(i, &mut cols);
        let quoted: Vec<String> = cols
            .iter()
            .map(|c| {
                if c.contains(',') {
                    format!("\"{c}\"")
                } else {
                    c.clone()
                }
            })
            .collect();
        text.push_str(&quoted.join(","));
        text.push('\n');
    }
    let path = sim.dir.path().join(format!("people-{n}.csv"));
    std::fs::write(&path, text).unwrap();
    path
}

fn bulk(sim: &Sim, each: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["--each", each.to_str().unwrap()];
    args.extend_from_slice(extra);
    sim.run(SCRIPT, &args)
}

fn report(path: &PathBuf) -> (Json, Vec<Json>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text
        .lines()
        .map(|l| serde_json::from_str::<Json>(l).unwrap());
    let header = lines.next().unwrap();
    (header, lines.collect())
}

fn count_users(sim: &Sim, vendor: &str, prefix: &str) -> usize {
    let key = match vendor {
        "cyberark" => "username",
        "pam360" => "USERNAME",
        _ => "userName",
    };
    sim.users(vendor)
        .iter()
        .filter(|u| u[key].as_str().is_some_and(|n| n.starts_with(prefix)))
        .count()
}

#[test]
fn two_hundred_rows_on_eight_workers_each_created_once_with_a_complete_report() {
    let sim = Sim::start();
    let each = people_csv(&sim, 200, |_, _| {});
    let report_path = sim.dir.path().join("report.jsonl");
    let out = bulk(
        &sim,
        &each,
        &["--jobs", "8", "--report", report_path.to_str().unwrap()],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(count_users(&sim, "cyberark", "user"), 200);
    assert_eq!(count_users(&sim, "pam360", "user"), 100);
    assert_eq!(count_users(&sim, "appmanager", "user"), 200);
    // One logon for the whole run, one logoff at the end.
    let logons = sim
        .log()
        .iter()
        .filter(|e| e["path"].as_str().unwrap().ends_with("/Logon"))
        .count();
    assert_eq!(logons, 1);

    let (header, rows) = report(&report_path);
    assert_eq!(header["rows"], 200);
    assert_eq!(rows.len(), 200);
    let mut numbers: Vec<u64> = rows.iter().map(|r| r["row"].as_u64().unwrap()).collect();
    numbers.sort_unstable();
    assert_eq!(numbers, (1..=200).collect::<Vec<_>>());
    assert!(rows.iter().all(|r| r["ok"] == true));
    let r7 = rows.iter().find(|r| r["row"] == 7).unwrap();
    assert_eq!(r7["line"], 8);
    assert_eq!(r7["key"]["username"], "user7");
    let vendors: Vec<&str> = r7["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["vendor"].as_str().unwrap())
        .collect();
    assert_eq!(vendors, ["cyberark", "appmanager"]);

    assert!(out.stderr.contains("200 rows in"), "{}", out.stderr);
    assert!(out.stderr.contains("200 ok, 0 failed"), "{}", out.stderr);
    let table = |v: &str| {
        out.stderr
            .lines()
            .find(|l| l.trim_start().starts_with(v))
            .unwrap()
            .split_whitespace()
            .skip(1)
            .map(|n| n.parse::<u64>().unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(table("cyberark"), [200, 0, 0, 0]);
    assert_eq!(table("pam360"), [100, 0, 0, 0]);
    // Not a terminal: plain progress lines, at every tenth.
    assert!(
        out.stderr.contains("onboard: 20/200 rows (10%)"),
        "{}",
        out.stderr
    );
    // Prints say which row printed them.
    assert!(
        out.stdout
            .lines()
            .all(|l| l.starts_with("[row ") && l.contains("] done user")),
        "{}",
        out.stdout
    );
    assert_eq!(out.stdout.lines().count(), 200);

    // Eight workers append to the journal at once, with no lock between them: every line is
    // whole, the run's header comes first, and every create has its intent and its outcome.
    let records = sim.journal_records();
    assert_eq!(records[0]["type"], "run", "{:?}", records[0]);
    assert!(records[0]["script"].is_string() && records[0]["profile"].is_string());
    let of = |t: &str| -> BTreeSet<u64> {
        records
            .iter()
            .filter(|r| r["type"] == t)
            .map(|r| r["seq"].as_u64().unwrap())
            .collect()
    };
    assert_eq!(of("intent").len(), 500);
    assert_eq!(of("intent"), of("outcome"));
    assert!(
        records
            .iter()
            .filter(|r| r["type"] == "outcome")
            .all(|r| r["outcome"] == "created")
    );
}

#[test]
fn a_row_a_library_refuses_after_a_create_sends_nothing() {
    // The create comes first; std/people's `require` refuses the bad row after it. The row's
    // offline check sees the refusal, so the create is never sent.
    let sim = Sim::start();
    let each = people_csv(&sim, 6, |i, c| {
        if i == 4 {
            c[3] = "no-at-sign".into();
        }
    });
    let script = r#"
import "std/people" as people;
cyberark::create_user(#{ username: row.username, initial_password: "Passw0rd-123!" });
people::require(row);
"#;
    let report_path = sim.dir.path().join("report.jsonl");
    let out = sim.run(
        script,
        &[
            "--each",
            each.to_str().unwrap(),
            "--report",
            report_path.to_str().unwrap(),
        ],
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("5 ok, 1 failed"), "{}", out.stderr);
    assert!(!sim.has_user("cyberark", "user4"));
    assert_eq!(count_users(&sim, "cyberark", "user"), 5);
    let (_, rows) = report(&report_path);
    let bad = rows.iter().find(|r| r["row"] == 4).unwrap();
    assert_eq!(bad["error"]["nothing_sent"], true);
    assert_eq!(bad["error"]["kind"], "validation");
    assert!(
        bad["error"]["message"]
            .as_str()
            .unwrap()
            .contains("email \"no-at-sign\" is not an email address"),
        "{bad}"
    );
}

#[test]
fn a_row_with_a_bad_email_is_reported_with_its_line_and_sends_nothing() {
    let sim = Sim::start();
    let each = people_csv(&sim, 20, |i, c| {
        if i == 12 {
            c[3] = "not-an-email".into();
        }
    });
    let report_path = sim.dir.path().join("report.jsonl");
    let out = bulk(&sim, &each, &["--report", report_path.to_str().unwrap()]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("19 ok, 1 failed"), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("row 12 (line 13): cyberark::create_user failed (validation): field `email`"),
        "{}",
        out.stderr
    );
    for v in ["cyberark", "pam360", "appmanager"] {
        assert!(!sim.has_user(v, "user12"), "{v}");
        assert!(!sim.has_user(v, "user12-api"), "{v}");
    }
    assert_eq!(count_users(&sim, "cyberark", "user"), 19);
    let (_, rows) = report(&report_path);
    let bad = rows.iter().find(|r| r["row"] == 12).unwrap();
    assert_eq!(bad["ok"], false);
    assert_eq!(bad["error"]["nothing_sent"], true);
    assert_eq!(bad["error"]["kind"], "validation");
}

#[test]
fn quoted_commas_and_utf8_names_arrive_intact() {
    let sim = Sim::start();
    let each = people_csv(&sim, 4, |i, c| match i {
        1 => c[2] = "Doe, Jr.".into(),
        2 => c[1] = "Åsa-Märta".into(),
        3 => c[2] = "Nguyễn".into(),
        _ => {}
    });
    let out = bulk(&sim, &each, &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let users = sim.users("cyberark");
    let last = |name: &str| {
        users.iter().find(|u| u["username"] == name).unwrap()["personalDetails"].clone()
    };
    assert_eq!(last("user1")["lastName"], "Doe, Jr.");
    assert_eq!(last("user2")["firstName"], "Åsa-Märta");
    assert_eq!(last("user3")["lastName"], "Nguyễn");
}

#[test]
fn json_lines_rows_are_typed_and_a_bad_line_is_reported() {
    let sim = Sim::start();
    let each = sim.dir.path().join("people.jsonl");
    std::fs::write(
        &each,
        concat!(
            r#"{"username": "j1", "api": true, "days": 30, "groups": [10000037]}"#,
            "\n",
            "\n",
            r#"{"username": "j2", "api": false, "days": 7, "groups": []}"#,
            "\n",
            r#"{"username": "j3", "api": "yes""#,
            "\n",
            r#"["not", "an", "object"]"#,
            "\n",
        ),
    )
    .unwrap();
    let script = sim.script(
        r#"
let u = pam360::create_user(#{ username: row.username, first_name: "J", last_name: "S",
    email: `${row.username}@example.com`, is_api_user: row.api, token_validity_days: row.days });
appmanager::create_user(#{ username: row.username, role: "USER", password: random_password(16),
    email: `${row.username}@example.com`, group_ids: row.groups });
print(`${type_of(row.api)} ${type_of(row.days)} ${u.auth_token != ()}`);
"#,
    );
    let report_path = sim.dir.path().join("report.jsonl");
    let out = output(
        onboard()
            .env("ONBOARD_JOURNAL", sim.journal())
            .arg("--config")
            .arg(sim.config())
            .arg("run")
            .arg(&script)
            .arg("--each")
            .arg(&each)
            .args(["--jobs", "1", "--report"])
            .arg(&report_path),
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stdout.contains("[row 1] bool i64 true"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("[row 2] bool i64 false"),
        "{}",
        out.stdout
    );
    assert!(
        out.stderr
            .contains("row 3 (line 4): line 4: it is not valid JSON"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("row 4 (line 5): line 5: it is not a JSON object"),
        "{}",
        out.stderr
    );
    assert!(sim.has_user("pam360", "j1") && sim.has_user("appmanager", "j2"));
    let (_, rows) = report(&report_path);
    assert_eq!(rows.len(), 4);
}

#[test]
fn resume_reruns_exactly_the_failed_rows() {
    let sim = Sim::start();
    let each = people_csv(&sim, 30, |i, c| {
        if i == 5 || i == 17 {
            c[3] = "broken".into();
        }
    });
    let first = sim.dir.path().join("first.jsonl");
    let out = bulk(&sim, &each, &["--report", first.to_str().unwrap()]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr
            .contains(&format!("--resume {}", first.display())),
        "{}",
        out.stderr
    );
    // The data is fixed; only the two failed rows run again.
    let fixed = people_csv(&sim, 30, |_, _| {});
    assert_eq!(fixed, each);
    let sent_before = sim.log().len();
    let second = sim.dir.path().join("second.jsonl");
    let out = bulk(
        &sim,
        &each,
        &[
            "--resume",
            first.to_str().unwrap(),
            "--report",
            second.to_str().unwrap(),
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let creates = sim.log()[sent_before..]
        .iter()
        .filter(|e| e["method"] == "POST" && e["path"] == "/PasswordVault/API/Users")
        .count();
    assert_eq!(creates, 2, "only the two failed rows ran again");
    // The second report carries the first one's finished rows: it has them all.
    let (_, rows) = report(&second);
    let mut done: Vec<u64> = rows
        .iter()
        .filter(|r| r["ok"] == true)
        .map(|r| r["row"].as_u64().unwrap())
        .collect();
    done.sort_unstable();
    assert_eq!(done, (1..=30).collect::<Vec<u64>>());
    assert_eq!(count_users(&sim, "cyberark", "user"), 30);
    // Resuming a report with nothing left does nothing.
    let out = bulk(&sim, &each, &["--resume", second.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("nothing to do"), "{}", out.stdout);
}

#[test]
fn rows_runs_only_the_rows_named() {
    let sim = Sim::start();
    let each = people_csv(&sim, 40, |_, _| {});
    let out = bulk(&sim, &each, &["--rows", "10-20,35"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(count_users(&sim, "cyberark", "user"), 12);
    assert!(sim.has_user("cyberark", "user10") && sim.has_user("cyberark", "user35"));
    assert!(!sim.has_user("cyberark", "user9") && !sim.has_user("cyberark", "user21"));
}

#[test]
fn fail_fast_stops_starting_rows_and_resume_runs_the_rest() {
    let sim = Sim::start();
    let each = people_csv(&sim, 50, |i, c| {
        if i == 3 {
            c[3] = "broken".into();
        }
    });
    let report_path = sim.dir.path().join("report.jsonl");
    let out = bulk(
        &sim,
        &each,
        &[
            "--jobs",
            "1",
            "--fail-fast",
            "--report",
            report_path.to_str().unwrap(),
        ],
    );
    assert_eq!(out.code, 1);
    let (_, rows) = report(&report_path);
    assert_eq!(rows.len(), 3, "rows after the failure were not started");
    assert!(
        out.stderr.contains("the rest did not run"),
        "{}",
        out.stderr
    );
    let fixed = people_csv(&sim, 50, |_, _| {});
    let out = bulk(&sim, &fixed, &["--resume", report_path.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(count_users(&sim, "cyberark", "user"), 50);
}

#[test]
fn a_failing_row_is_rolled_back_alone() {
    let sim = Sim::start();
    // user4 already has an Applications Manager account: its row fails at the last call.
    let (_, body) = sim.send(
        "POST",
        "/AppManager/json/Users/create",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        "apikey=d1b6c9a0e3f54a7e8c2b9f10a4d6e8c3&userName=user4&role=USER&password=x&email=u%40example.com",
    );
    assert!(body.contains("4000"), "{body}");
    let each = people_csv(&sim, 6, |_, _| {});
    let report_path = sim.dir.path().join("report.jsonl");
    let out = bulk(
        &sim,
        &each,
        &[
            "--rollback-on-error",
            "--report",
            report_path.to_str().unwrap(),
        ],
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("row 4 (line 5): appmanager::create_user failed (already_exists"),
        "{}",
        out.stderr
    );
    assert!(!sim.has_user("cyberark", "user4") && !sim.has_user("pam360", "user4-api"));
    assert_eq!(
        count_users(&sim, "cyberark", "user"),
        5,
        "the other rows keep their accounts"
    );
    let (_, rows) = report(&report_path);
    let r4 = rows.iter().find(|r| r["row"] == 4).unwrap();
    let rolled: Vec<&str> = r4["rollback"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["vendor"].as_str().unwrap())
        .collect();
    assert_eq!(rolled, ["pam360", "cyberark"]);
}

#[test]
fn a_column_the_script_reads_but_the_file_lacks_stops_before_anything_is_sent() {
    let sim = Sim::start();
    let each = sim.dir.path().join("p.csv");
    std::fs::write(&each, "user_name,email\na,a@example.com\n").unwrap();
    let out = sim.run(SCRIPT, &["--each", each.to_str().unwrap()]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("the script reads row.username, but"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("did you mean `user_name`?"),
        "{}",
        out.stderr
    );
    assert!(sim.log().is_empty());
    let check = output(
        onboard()
            .arg("check")
            .arg(sim.script(SCRIPT))
            .arg("--each")
            .arg(&each),
    );
    assert_eq!(check.code, 2);
    let no_each = output(onboard().arg("check").arg(sim.script(SCRIPT)));
    assert!(
        no_each
            .stderr
            .contains("runs once per row with --each FILE"),
        "{}",
        no_each.stderr
    );
}

#[test]
fn per_vendor_caps_hold_across_workers() {
    // Each answer takes 100 ms. Ten rows on ten workers would take about 0.1 s; with at most
    // one PAM360 request in flight they cannot take less than a second.
    let sim = Sim::with(&["--latency-ms", "100"]);
    let config = sim.config_with(|t| {
        t.replace(
            "[profiles.sim.pam360]\n",
            "[profiles.sim.pam360]\nmax_concurrent = 1\n",
        )
    });
    let each = people_csv(&sim, 10, |_, _| {});
    let script = sim.script(
        r#"pam360::create_user(#{ username: row.username, first_name: "F", last_name: "L", email: row.email });"#,
    );
    let run = |config: &PathBuf| {
        let started = Instant::now();
        let out = output(
            onboard()
                .env("ONBOARD_JOURNAL", sim.journal())
                .arg("--config")
                .arg(config)
                .arg("run")
                .arg(&script)
                .arg("--each")
                .arg(&each)
                .args(["--jobs", "10", "--quiet"]),
        );
        assert_eq!(out.code, 0, "{}", out.stderr);
        started.elapsed()
    };
    assert!(run(&config) >= Duration::from_millis(1000));
    sim.raw(
        "POST /__sim/reset HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    );
    // 600 a minute: a request every 100 ms, so ten take at least 0.9 s.
    let paced = sim.config_with(|t| {
        t.replace(
            "[profiles.sim.pam360]\n",
            "[profiles.sim.pam360]\nmax_per_minute = 600\n",
        )
    });
    assert!(run(&paced) >= Duration::from_millis(900));
}

#[test]
fn json_summary_and_quiet() {
    let sim = Sim::start();
    let each = people_csv(&sim, 5, |_, _| {});
    let out = bulk(&sim, &each, &["--json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let doc: Json = serde_json::from_str(&out.stdout[out.stdout.find('{').unwrap()..]).unwrap();
    assert_eq!(doc["rows"], 5);
    assert_eq!(doc["ok"], 5);
    assert_eq!(doc["vendors"]["cyberark"]["created"], 5);
    sim.raw(
        "POST /__sim/reset HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    );
    let out = bulk(&sim, &each, &["--quiet"]);
    assert_eq!(out.code, 0);
    assert_eq!(out.stderr, "", "quiet means quiet");
}

/// Rows wait for vendors side by side on a few threads: each keeps its own memory budget across
/// its waits, so a row that grows past the limit after a call is stopped, and the rows waiting
/// beside it are not.
#[test]
fn a_row_that_outgrows_its_memory_after_a_call_is_stopped_and_only_it() {
    let sim = Sim::start();
    let each = people_csv(&sim, 12, |_, _| {});
    let config = sim.config_with(|t| format!("{t}\n[limits]\nmax_memory_mb = 8\n"));
    let script = r#"
        appmanager::create_user(#{ username: row.username, role: "OPERATOR",
            password: random_password(16), email: row.email });
        if row.username == "user5" {
            let a = [1];
            for i in 0..22 { a += a; }
        }
        appmanager::get_user(row.username);
    "#;
    let (out, rows) = each_reported(&sim, &config, script, &each, &["--jobs", "6"]);
    assert_eq!(out.code, 1, "{}", out.all());
    let failed: Vec<&Json> = rows.iter().filter(|r| r["ok"] == false).collect();
    assert_eq!(failed.len(), 1, "{rows:?}");
    assert_eq!(failed[0]["key"]["username"], "user5");
    let message = failed[0]["error"]["message"].as_str().unwrap();
    assert!(message.contains("limit of 8 MiB"), "{message}");
    assert_eq!(count_users(&sim, "appmanager", "user"), 12);
}

/// A run with nothing left to fix removes the list of failed rows an earlier run left beside
/// the same report, so that it is never mistaken for this run's.
#[test]
fn a_run_with_no_failed_rows_removes_an_older_failed_rows_file() {
    let sim = Sim::start();
    let report_path = sim.dir.path().join("report.jsonl");
    let failed = sim.dir.path().join("report.jsonl.failed.csv");
    let bad = people_csv(&sim, 3, |i, cols| {
        if i == 2 {
            cols[3] = "not-an-email".into();
        }
    });
    let out = bulk(&sim, &bad, &["--report", report_path.to_str().unwrap()]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(failed.exists(), "{}", out.all());
    let good = sim.dir.path().join("good.csv");
    std::fs::write(
        &good,
        "username,first_name,last_name,email,department\nnew1,New,One,new1@example.com,Finance\n",
    )
    .unwrap();
    let out = bulk(&sim, &good, &["--report", report_path.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(!failed.exists());
}

/// Rows share a thread as coroutines: one that computes for long steps aside now and then, so
/// the rows beside it read their answers as they come instead of after it.
#[test]
fn a_row_computing_for_long_does_not_hold_up_the_rows_beside_it() {
    let sim = Sim::with(&["--latency-ms", "100"]);
    let csv = sim.people("p", 8);
    let script = r#"
        appmanager::user_exists(row.username);
        // Only when the row runs, not when it is checked offline (where nobody exists).
        if row.username == "p1" && appmanager::user_exists("alex.leaver") {
            let t = timestamp();
            while t.elapsed < 2.0 { }
        } else {
            appmanager::user_exists(row.username);
            appmanager::user_exists(row.username);
        }
    "#;
    let extra = ["--jobs", "8", "--max-operations", "0"];
    let (out, rows) = each_reported(&sim, &sim.config(), script, &csv, &extra);
    assert_eq!(out.code, 0, "{}", out.all());
    for row in rows.iter().filter(|r| r["key"]["username"] != "p1") {
        let ms = row["duration_ms"].as_u64().unwrap();
        assert!(ms < 1500, "{row}");
    }
}

/// `script` once per row of `each` with `config`, writing a report: the output and the
/// report's rows.
fn each_reported(
    sim: &Sim,
    config: &Path,
    script: &str,
    each: &Path,
    extra: &[&str],
) -> (Output, Vec<Json>) {
    let report_path = sim.dir.path().join("report.jsonl");
    let mut args = vec![
        "--each",
        each.to_str().unwrap(),
        "--report",
        report_path.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let out = sim.run_with_config(config, script, &args);
    let (_, rows) = report(&report_path);
    (out, rows)
}
