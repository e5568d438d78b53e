//! Undo removes only what the journal proves a run made, and the journal survives torn lines.

use std::time::Duration;

use crate::common::{Sim, onboard, output};
use crate::reliability::{interrupt, undo};

fn run_ids(sim: &Sim) -> Vec<String> {
    sim.journal_records()
        .iter()
        .filter(|r| r["type"] == "run")
        .map(|r| r["run"].as_str().unwrap().to_string())
        .collect()
}

const ALICE: &str = r#"
try {
    cyberark::create_user(#{ username: "alice", initial_password: random_password(20),
                             email: "alice@example.com", first_name: "Alice", last_name: "A" });
} catch (err) {
    if err.kind != "already_exists" { throw err; }
}
"#;

#[test]
fn an_interrupted_rerun_then_undo_keeps_the_other_runs_account() {
    // Run A: logon, create, logoff (requests 1-3). Run B: logon (4), then its create of the
    // same person (5) stalls, and B is interrupted while it waits.
    let sim = Sim::with(&["--stall-every", "5", "--stall-ms", "3000"]);
    let first = sim.run(ALICE, &[]);
    assert_eq!(first.code, 0, "{}", first.all());
    let (code, _, stderr) = interrupt(&sim, ALICE, "-INT", Duration::from_millis(1200));
    assert_eq!(code, 130, "{stderr}");
    let runs = run_ids(&sim);
    assert_eq!(runs.len(), 2);

    let out = undo(&sim, &runs[1], &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("not ours"), "{}", out.stdout);
    assert!(
        out.stdout.contains(&format!("run {}", runs[0])),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("0 deleted"), "{}", out.stdout);
    assert!(
        sim.has_user("cyberark", "alice"),
        "run A's account was deleted"
    );

    // Undoing run A itself still works.
    let out = undo(&sim, &runs[0], &[]);
    assert!(out.stdout.contains("1 deleted"), "{}", out.all());
    assert!(!sim.has_user("cyberark", "alice"));
}

#[test]
fn an_account_created_while_the_run_was_interrupted_is_matched_and_deleted_by_undo() {
    // The simulator creates the user at once but answers late; Ctrl-C comes before the answer.
    let sim = Sim::with(&["--stall-every", "1", "--stall-ms", "1500"]);
    let (code, took, stderr) = interrupt(
        &sim,
        r#"appmanager::create_user(#{ username: "late", role: "USER", password: random_password(16), email: "late@example.com" });"#,
        "-INT",
        Duration::from_millis(500),
    );
    assert_eq!(code, 130, "{stderr}");
    assert!(took < Duration::from_secs(1), "took {took:?}");
    assert!(sim.has_user("appmanager", "late"));
    let run = run_ids(&sim).remove(0);
    let shown = output(
        onboard()
            .arg("--journal")
            .arg(sim.journal())
            .args(["journal", &run]),
    );
    assert!(
        shown
            .stdout
            .contains("unknown: interrupted while waiting for the vendor's answer; it may exist"),
        "{}",
        shown.stdout
    );
    // The intent says what was sent, and the user found matches it.
    let intent = sim
        .journal_records()
        .into_iter()
        .find(|r| r["type"] == "intent")
        .unwrap();
    assert_eq!(intent["sent"]["email"], "late@example.com");
    assert_eq!(intent["sent"]["role"], "USER");
    let out = undo(&sim, &run, &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("1 deleted"), "{}", out.stdout);
    assert!(!sim.has_user("appmanager", "late"));
}

#[test]
fn a_user_found_by_name_only_is_left_unless_forced() {
    // PAM360 looks users up by name and answers with an id alone: nothing to match.
    let sim = Sim::with(&["--stall-every", "1", "--stall-ms", "1500"]);
    let (code, _, stderr) = interrupt(
        &sim,
        r#"pam360::create_user(#{ username: "late", first_name: "L", last_name: "L", email: "l@example.com" });"#,
        "-INT",
        Duration::from_millis(500),
    );
    assert_eq!(code, 130, "{stderr}");
    let run = run_ids(&sim).remove(0);
    let out = undo(&sim, &run, &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("1 not provably ours"), "{}", out.stdout);
    assert!(out.stdout.contains("--force"), "{}", out.stdout);
    assert!(sim.has_user("pam360", "late"));

    let forced = undo(&sim, &run, &["--force"]);
    assert_eq!(forced.code, 0, "{}", forced.all());
    assert!(forced.stdout.contains("1 deleted"), "{}", forced.stdout);
    assert!(!sim.has_user("pam360", "late"));
}

#[test]
fn a_torn_journal_line_keeps_the_next_run_listed_and_undoable() {
    let sim = Sim::start();
    let first = sim.run(
        r#"appmanager::create_user(#{ username: "t1", role: "USER", password: random_password(16), email: "t1@example.com" });"#,
        &[],
    );
    assert_eq!(first.code, 0, "{}", first.all());
    // A run killed in the middle of writing leaves half a line.
    let mut text = std::fs::read_to_string(sim.journal()).unwrap();
    text.push_str(r#"{"type":"intent","run":"20260101-000000-dead","seq":1,"ti"#);
    std::fs::write(sim.journal(), &text).unwrap();

    let second = sim.run(
        r#"appmanager::create_user(#{ username: "t2", role: "USER", password: random_password(16), email: "t2@example.com" });"#,
        &[],
    );
    assert_eq!(second.code, 0, "{}", second.all());
    let listed = output(onboard().arg("--journal").arg(sim.journal()).arg("journal"));
    let runs: Vec<&str> = listed
        .stdout
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(runs.len(), 2, "{}", listed.all());
    assert!(
        listed.stderr.contains("1 line(s) of the journal"),
        "{}",
        listed.stderr
    );

    let out = undo(&sim, "last", &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("1 deleted"), "{}", out.stdout);
    assert!(!sim.has_user("appmanager", "t2"));
    assert!(sim.has_user("appmanager", "t1"));
}

#[test]
fn a_journal_whose_records_were_glued_onto_a_torn_line_still_reads() {
    // Journals written before onboard ended torn lines: the next run's header follows the torn
    // part on the same line.
    let sim = Sim::start();
    let out = sim.run(
        r#"appmanager::create_user(#{ username: "g1", role: "USER", password: random_password(16), email: "g1@example.com" });"#,
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    let text = std::fs::read_to_string(sim.journal()).unwrap();
    let glued = format!(r#"{{"type":"intent","run":"x","se{text}"#);
    std::fs::write(sim.journal(), glued).unwrap();
    let out = undo(&sim, "last", &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("1 deleted"), "{}", out.stdout);
}

#[test]
fn a_later_run_finding_the_account_does_not_take_it_from_the_run_that_made_it() {
    let sim = Sim::start();
    let made = sim.run(
        r#"appmanager::create_user(#{ username: "kept", role: "USER", password: random_password(16), email: "k@example.com" });"#,
        &[],
    );
    assert_eq!(made.code, 0, "{}", made.all());
    let found = sim.run(
        r#"let u = appmanager::ensure_user(#{ username: "kept", role: "USER", password: random_password(16), email: "k@example.com" }); print(u.created);"#,
        &[],
    );
    assert_eq!(found.stdout, "false\n", "{}", found.all());
    let runs = run_ids(&sim);
    let out = undo(&sim, &runs[0], &[]);
    assert!(out.stdout.contains("1 deleted"), "{}", out.all());
    assert!(!sim.has_user("appmanager", "kept"));
}

#[test]
fn a_run_killed_at_any_moment_is_undone_exactly() {
    use crate::reliability::sim_people;
    for after_ms in [500, 1100] {
        let sim = Sim::with(&["--latency-ms", "100"]);
        let csv = sim.people("p", 20);
        let script = sim.script(
            r#"
cyberark::create_user(#{ username: row.username, initial_password: random_password(20), email: row.email });
appmanager::create_user(#{ username: row.username, role: "USER", password: random_password(16), email: row.email });
"#,
        );
        let mut child = sim
            .run_command(&script)
            .args(["--each", csv.to_str().unwrap(), "--jobs", "4", "--quiet"])
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(after_ms));
        child.kill().unwrap(); // SIGKILL: no chance to write anything more
        child.wait().unwrap();
        // Answers the killed run never read are still on their way: let them land.
        std::thread::sleep(Duration::from_millis(300));
        let made = sim_people(&sim);
        assert!(
            !made.is_empty(),
            "killed before anything was made ({after_ms} ms)"
        );
        let out = undo(&sim, "last", &[]);
        assert_eq!(out.code, 0, "{after_ms} ms: {}", out.all());
        assert!(
            out.stdout.contains(" 0 not ours, 0 not provably ours"),
            "{}",
            out.stdout
        );
        assert!(
            sim_people(&sim).is_empty(),
            "{after_ms} ms: left {:?}\n{}",
            sim_people(&sim),
            out.stdout
        );
    }
}
