//! A change the vendor carried out but answered badly (cut short, empty, an HTML page, a 500,
//! an error echoing the request) is an unknown outcome, settled by lookup: the journal, the
//! report and the vendor agree, and undo leaves no orphan.

use std::collections::BTreeSet;

use serde_json::Value as Json;

use crate::common::{Sim, onboard, output};
use crate::common::{journal_outcomes, many_people_script, sim_people};

const PEOPLE: usize = 4;

/// What the journal says exists (created, or maybe: in flight) after the runs so far.
fn journal_says(sim: &Sim) -> BTreeSet<(String, String)> {
    let shown = output(
        onboard()
            .arg("--journal")
            .arg(sim.journal())
            .args(["journal", "last", "--json"]),
    );
    let run: Json = serde_json::from_str(&shown.stdout).expect("journal JSON");
    run["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["state"] == "exists" || a["state"] == "in_flight")
        .map(|a| {
            (
                a["vendor"].as_str().unwrap().to_string(),
                a["username"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn every_bad_answer_to_a_change_that_was_made_is_settled_and_undone() {
    for kind in ["truncated", "empty", "html", "500", "echo"] {
        let sim = Sim::with(&["--botch-every", "2", "--botch", kind]);
        let out = sim.run(&many_people_script(PEOPLE), &[]);
        assert_eq!(out.code, 0, "{kind}: {}", out.all());
        assert!(
            sim.log().iter().filter(|e| e["fault"] == "botch").count() >= PEOPLE,
            "{kind}: too few bad answers"
        );
        // Every create was made, and the script was told so: none reported failed.
        assert!(!out.stdout.contains("failed"), "{kind}: {}", out.all());
        let made = sim_people(&sim);
        assert_eq!(made.len(), PEOPLE * 3, "{kind}: {made:?}");
        assert_eq!(
            journal_says(&sim),
            made,
            "{kind}: the journal differs from the vendor"
        );
        assert!(journal_outcomes(&sim, "failed").is_empty(), "{kind}");

        // Undo removes what it can prove; PAM360 reports nothing to prove a lookup by, so the
        // accounts whose answers went astray there are left and named until forced.
        let first = sim.undo("last", &[]);
        assert_eq!(first.code, 0, "{kind}: {}", first.all());
        let unproven = first
            .stdout
            .lines()
            .filter(|l| l.trim_start().starts_with("not provably ours pam360"))
            .count();
        assert!(
            first
                .stdout
                .contains(&format!("{unproven} not provably ours")),
            "{kind}: {}",
            first.stdout
        );
        let left: BTreeSet<_> = sim_people(&sim);
        assert!(left.iter().all(|(v, _)| v == "pam360"), "{kind}: {left:?}");
        assert_eq!(left.len(), unproven, "{kind}: {}", first.stdout);
        let forced = sim.undo("last", &["--force"]);
        assert_eq!(forced.code, 0, "{kind}: {}", forced.all());
        assert!(
            sim_people(&sim).is_empty(),
            "{kind}: orphans after undo: {}",
            forced.stdout
        );
    }
}

#[test]
fn a_bulk_run_with_bad_answers_reports_what_the_vendor_has() {
    let sim = Sim::with(&["--botch-every", "3", "--botch", "truncated"]);
    let csv = sim.people("p", 9);
    let report = sim.dir.path().join("report.jsonl");
    let out = sim.run(
        r#"
cyberark::create_user(#{ username: row.username, initial_password: random_password(20), email: row.email });
appmanager::create_user(#{ username: row.username, role: "USER", password: random_password(16), email: row.email });
"#,
        &["--each", csv.to_str().unwrap(), "--report", report.to_str().unwrap()],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    let reported: BTreeSet<(String, String)> = std::fs::read_to_string(&report)
        .unwrap()
        .lines()
        .skip(1)
        .flat_map(|l| {
            let row: Json = serde_json::from_str(l).unwrap();
            row["accounts"].as_array().unwrap().clone()
        })
        .filter(|a| a["outcome"] == "created")
        .map(|a| {
            (
                a["vendor"].as_str().unwrap().to_string(),
                a["username"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let made = sim_people(&sim);
    assert_eq!(made.len(), 18);
    assert_eq!(reported, made);
    assert_eq!(journal_says(&sim), made);
    let gone = sim.undo("last", &[]);
    assert!(gone.stdout.contains("18 deleted"), "{}", gone.all());
    assert!(sim_people(&sim).is_empty());
}

#[test]
fn bulk_rollback_retries_server_errors_and_names_every_step_it_could_not_do() {
    let script = r#"
cyberark::create_user(#{ username: row.username, initial_password: random_password(20), email: row.email });
pam360::create_user(#{ username: row.username, first_name: "R", last_name: "B", email: row.email });
throw "this row fails after its creates";
"#;
    let rows = |sim: &Sim| sim.people("p", 10);
    // Server errors on lookups and deletes are retried: every account is rolled back.
    let sim = Sim::with(&["--fail-every", "4"]);
    let csv = rows(&sim);
    let patient = sim.config_with(|t| {
        format!("{t}\n[profiles.sim.retry]\nattempts = 8\nbase_delay_ms = 20\nmax_delay_ms = 100\n")
    });
    let out = sim.run_with_config(
        &patient,
        script,
        &[
            "--each",
            csv.to_str().unwrap(),
            "--rollback-on-error",
            "--jobs",
            "2",
        ],
    );
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        sim_people(&sim).is_empty(),
        "left behind: {:?}\n{}",
        sim_people(&sim),
        out.stderr
    );
    assert!(!out.stderr.contains("rollback could not"), "{}", out.stderr);

    // With no retries allowed, what rollback could not do is named, one line per account.
    let sim = Sim::with(&["--fail-every", "4"]);
    let csv = rows(&sim);
    let report = sim.dir.path().join("report.jsonl");
    let config = sim.config_with(|t| format!("{t}\n[profiles.sim.retry]\nattempts = 1\n"));
    let out = sim.run_with_config(
        &config,
        script,
        &[
            "--each",
            csv.to_str().unwrap(),
            "--rollback-on-error",
            "--report",
            report.to_str().unwrap(),
        ],
    );
    assert_eq!(out.code, 1, "{}", out.all());
    let failed_steps: usize = std::fs::read_to_string(&report)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| serde_json::from_str::<Json>(l).unwrap())
        .map(|r| {
            r["rollback"]
                .as_array()
                .map_or(0, |s| s.iter().filter(|s| s["result"] == "failed").count())
        })
        .sum();
    let named = out
        .stderr
        .lines()
        .filter(|l| l.contains("error: rollback could not delete"))
        .count();
    assert!(
        named > 0,
        "no rollback step failed, the test shows nothing: {}",
        out.stderr
    );
    assert_eq!(named, failed_steps, "{}", out.stderr);
}
