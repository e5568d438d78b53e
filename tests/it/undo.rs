//! Undo removes only what the journal proves a run made, and is safe to repeat.

use std::time::Duration;

use crate::common::interrupt;
use crate::common::{Sim, onboard, output};
use crate::reliability::THREE;

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

    let out = sim.undo(&runs[1], &[]);
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
    let out = sim.undo(&runs[0], &[]);
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
    let out = sim.undo(&run, &[]);
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
    let out = sim.undo(&run, &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("1 not provably ours"), "{}", out.stdout);
    assert!(out.stdout.contains("--force"), "{}", out.stdout);
    assert!(sim.has_user("pam360", "late"));

    let forced = sim.undo(&run, &["--force"]);
    assert_eq!(forced.code, 0, "{}", forced.all());
    assert!(forced.stdout.contains("1 deleted"), "{}", forced.stdout);
    assert!(!sim.has_user("pam360", "late"));
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
    let out = sim.undo(&runs[0], &[]);
    assert!(out.stdout.contains("1 deleted"), "{}", out.all());
    assert!(!sim.has_user("appmanager", "kept"));
}

#[test]
fn a_run_killed_at_any_moment_is_undone_exactly() {
    use crate::common::sim_people;
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
        let out = sim.undo("last", &[]);
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

#[test]
fn undo_removes_a_finished_runs_accounts_and_is_safe_to_repeat() {
    let sim = Sim::start();
    let out = sim.run(THREE, &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    let run = sim.journal_records()[0]["run"]
        .as_str()
        .unwrap()
        .to_string();

    let preview = sim.undo(&run, &["--dry-run"]);
    assert_eq!(preview.code, 0, "{}", preview.stderr);
    assert_eq!(
        preview.stdout.matches("would delete").count(),
        3,
        "{}",
        preview.stdout
    );
    assert!(
        sim.has_user("appmanager", "rb"),
        "a dry run deletes nothing"
    );

    // One account is already gone by hand: it counts as undone.
    let (status, _) = sim.send(
        "POST",
        "/AppManager/json/Users/delete",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        "apikey=d1b6c9a0e3f54a7e8c2b9f10a4d6e8c3&userName=rb",
    );
    assert_eq!(status, 200);
    let first = sim.undo(&run[..12], &[]);
    assert_eq!(first.code, 0, "{}\n{}", first.stdout, first.stderr);
    assert!(
        first.stdout.contains("2 deleted, 1 already gone"),
        "{}",
        first.stdout
    );
    for v in ["cyberark", "pam360", "appmanager"] {
        assert!(!sim.has_user(v, "rb"), "{v}");
    }
    let again = sim.undo(&run, &[]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(again.stdout.contains("nothing to undo"), "{}", again.stdout);

    let shown = output(
        onboard()
            .arg("--journal")
            .arg(sim.journal())
            .args(["journal", &run]),
    );
    assert_eq!(
        shown.stdout.matches("removed by undo").count(),
        3,
        "{}",
        shown.stdout
    );
    let list = output(onboard().arg("--journal").arg(sim.journal()).arg("journal"));
    assert!(
        list.stdout.contains(&format!("undo {run}")),
        "{}",
        list.stdout
    );
}

#[test]
fn undo_leaves_alone_a_user_that_is_no_longer_ours() {
    let sim = Sim::start();
    let out = sim.run(r#"pam360::create_user(#{ username: "mine", first_name: "M", last_name: "M", email: "m@example.com" });"#, &[]);
    assert_eq!(out.code, 0);
    // Behind onboard's back: the user is deleted and someone else's of the same name appears.
    let token = ("AUTHTOKEN", "5F0A8B2C-51A0-4E1D-9C3A-0B0A2D5E7C11");
    let (_, body) = sim.send("DELETE", "/restapi/json/v1/user/603", &[token], "");
    assert!(body.contains("deleted"), "{body}");
    let input = r#"{"operation":{"Details":{"USERNAME":"mine","FIRSTNAME":"N","LASTNAME":"N","EMAIL":"n@example.com"}}}"#;
    let form: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("INPUT_DATA", input)
        .finish();
    let (_, body) = sim.send(
        "POST",
        "/restapi/json/v1/user",
        &[token, ("Content-Type", "application/x-www-form-urlencoded")],
        &form,
    );
    assert!(body.contains("\"604\""), "{body}");
    let run = sim.journal_records()[0]["run"]
        .as_str()
        .unwrap()
        .to_string();
    let out = sim.undo(&run, &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("not ours"), "{}", out.stdout);
    assert!(out.stdout.contains("now has id 604"), "{}", out.stdout);
    assert!(sim.has_user("pam360", "mine"));
}
