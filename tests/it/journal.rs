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
