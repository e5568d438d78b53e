//! `onboard journal`: the runs listed and shown, whatever a killed run left in the file.

use crate::common::{Sim, onboard, output};

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

    let out = sim.undo("last", &[]);
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
    let out = sim.undo("last", &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("1 deleted"), "{}", out.stdout);
}

/// A journal that cannot be written sends nothing: the create it would have recorded is
/// refused, so is every later one (even after the script catches the first), and the run ends
/// in an error that says so.
#[cfg(target_os = "linux")]
#[test]
fn a_journal_that_cannot_be_written_stops_every_create_and_the_run_says_so() {
    let sim = Sim::start();
    let script = sim.script(
        r#"
try { cyberark::create_user(#{ username: "jfull1", initial_password: random_password(20) }); }
catch (e) { print(`caught: ${e}`); }
pam360::create_user(#{ username: "jfull2", first_name: "J", last_name: "F",
                       email: "j@example.com", password: random_password(16) });
"#,
    );
    let out = output(
        onboard()
            .arg("--config")
            .arg(sim.config())
            .args(["--journal", "/dev/full", "run"])
            .arg(&script),
    );
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stdout
            .contains("caught: cannot write the journal /dev/full"),
        "{}",
        out.all()
    );
    assert!(
        out.stderr.contains("every change after that was refused"),
        "{}",
        out.all()
    );
    assert!(!sim.has_user("cyberark", "jfull1"));
    assert!(!sim.has_user("pam360", "jfull2"));
    let changes = sim
        .log()
        .iter()
        .filter(|r| r["method"] == "POST" && !r["path"].as_str().unwrap_or("").contains("Logon"))
        .count();
    assert_eq!(changes, 0, "{:?}", sim.log());
}
