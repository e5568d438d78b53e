//! The report of `--each` never destroys input, and a chain of resumes keeps every finished row.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::Value as Json;

use crate::common::{Sim, onboard, output};

const SCRIPT: &str = r#"
if row.username in var_or("fail", "").split(",") { throw "not yet"; }
appmanager::create_user(#{ username: row.username, role: "USER", password: random_password(16), email: row.email });
"#;

fn rows_done(report: &PathBuf) -> Vec<u64> {
    let text = std::fs::read_to_string(report).unwrap();
    let mut done: Vec<u64> = text
        .lines()
        .skip(1)
        .map(|l| serde_json::from_str::<Json>(l).unwrap())
        .filter(|r| r["ok"] == true)
        .map(|r| r["row"].as_u64().unwrap())
        .collect();
    done.sort_unstable();
    done
}

#[test]
fn a_report_over_an_input_is_refused_and_the_input_is_unchanged() {
    let sim = Sim::start();
    let csv = sim.people("r", 3);
    let before = std::fs::read(&csv).unwrap();
    let script = sim.script(SCRIPT);
    for extra in [&["--dry-run"][..], &[]] {
        let out = sim.run(
            SCRIPT,
            &[
                &[
                    "--each",
                    csv.to_str().unwrap(),
                    "--report",
                    csv.to_str().unwrap(),
                ],
                extra,
            ]
            .concat(),
        );
        assert_eq!(out.code, 2, "{}", out.all());
        assert!(out.stderr.contains("is the --each file"), "{}", out.stderr);
        assert!(!out.stderr.contains("--resume"), "{}", out.stderr);
    }
    assert_eq!(
        std::fs::read(&csv).unwrap(),
        before,
        "the input was changed"
    );
    assert!(sim.log().is_empty(), "something was sent");

    // Nor over the script, nor over the report being resumed from.
    let report = sim.dir.path().join("r1.jsonl");
    let first = sim.run(
        SCRIPT,
        &[
            "--each",
            csv.to_str().unwrap(),
            "--report",
            report.to_str().unwrap(),
            "--var",
            "fail=r2",
        ],
    );
    assert_eq!(first.code, 1, "{}", first.all());
    let kept = std::fs::read(&report).unwrap();
    let again = sim.run(
        SCRIPT,
        &[
            "--each",
            csv.to_str().unwrap(),
            "--resume",
            report.to_str().unwrap(),
            "--report",
            report.to_str().unwrap(),
        ],
    );
    assert_eq!(again.code, 2, "{}", again.all());
    assert!(
        again.stderr.contains("is the --resume report"),
        "{}",
        again.stderr
    );
    assert_eq!(std::fs::read(&report).unwrap(), kept);
    let over_script = output(
        onboard()
            .env("ONBOARD_JOURNAL", sim.journal())
            .arg("--config")
            .arg(sim.config())
            .arg("run")
            .arg(&script)
            .args(["--each", csv.to_str().unwrap(), "--report"])
            .arg(&script),
    );
    assert_eq!(over_script.code, 2, "{}", over_script.all());
    assert!(
        over_script.stderr.contains("is the script"),
        "{}",
        over_script.stderr
    );
    assert_eq!(std::fs::read_to_string(&script).unwrap(), SCRIPT);
}

#[test]
fn a_three_step_resume_chain_sends_no_finished_row_twice() {
    let sim = Sim::start();
    let csv = sim.people("r", 6);
    let r1 = sim.dir.path().join("r1.jsonl");
    let r2 = sim.dir.path().join("r2.jsonl");
    let r3 = sim.dir.path().join("r3.jsonl");
    let each = csv.to_str().unwrap();
    let first = sim.run(
        SCRIPT,
        &[
            "--each",
            each,
            "--report",
            r1.to_str().unwrap(),
            "--var",
            "fail=r2,r3,r5",
        ],
    );
    assert_eq!(first.code, 1, "{}", first.all());
    assert_eq!(rows_done(&r1), [1, 4, 6]);
    let second = sim.run(
        SCRIPT,
        &[
            "--each",
            each,
            "--resume",
            r1.to_str().unwrap(),
            "--report",
            r2.to_str().unwrap(),
            "--var",
            "fail=r3,r5",
        ],
    );
    assert_eq!(second.code, 1, "{}", second.all());
    assert_eq!(
        rows_done(&r2),
        [1, 2, 4, 6],
        "the second report keeps the first's done rows"
    );
    let third = sim.run(
        SCRIPT,
        &[
            "--each",
            each,
            "--resume",
            r2.to_str().unwrap(),
            "--report",
            r3.to_str().unwrap(),
        ],
    );
    assert_eq!(third.code, 0, "{}", third.all());
    assert_eq!(rows_done(&r3), [1, 2, 3, 4, 5, 6]);

    // Each person's create was sent once in all.
    let mut creates: BTreeMap<String, usize> = BTreeMap::new();
    for e in sim.log() {
        if e["method"] == "POST" && e["path"].as_str().unwrap().ends_with("/Users/create") {
            *creates.entry(e["path"].to_string()).or_default() += 1;
        }
    }
    assert_eq!(creates.values().sum::<usize>(), 6, "{creates:?}");
    // Five built-in users and the leaver the simulator starts with.
    assert_eq!(sim.users("appmanager").len(), 6 + 6);
    // Nothing left behind but the reports.
    assert!(!sim.dir.path().join("r3.jsonl.partial").exists());
}

#[test]
fn a_run_killed_midway_leaves_the_old_report_whole() {
    let sim = Sim::with(&["--latency-ms", "300"]);
    let csv = sim.people("r", 8);
    let report = sim.dir.path().join("report.jsonl");
    std::fs::write(&report, "an earlier, good report\n").unwrap();
    let script = sim.script(SCRIPT);
    let mut child = sim
        .run_command(&script)
        .args([
            "--each",
            csv.to_str().unwrap(),
            "--jobs",
            "1",
            "--quiet",
            "--report",
        ])
        .arg(&report)
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(
        std::fs::read_to_string(&report).unwrap(),
        "an earlier, good report\n"
    );
    // What the killed run finished is in the partial report, whole lines only, ready to resume.
    let partial = std::fs::read_to_string(sim.dir.path().join("report.jsonl.partial")).unwrap();
    assert!(partial.lines().count() >= 2, "{partial}");
    assert!(partial.ends_with('\n'));
}
