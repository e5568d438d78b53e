//! Small edges of the command line and the vendor calls: each a clear error with its place, or
//! the right behaviour, and nothing sent that should not be.

use std::io::{BufRead, BufReader};
use std::process::{Command as StdCommand, Stdio};

use crate::common::{Sim, onboard, output};

const ROW: &str = r#"appmanager::create_user(#{ username: row.username, role: "USER", password: random_password(16), email: row.email });"#;

#[test]
fn rows_past_the_end_and_zero_jobs_are_refused() {
    let sim = Sim::start();
    let csv = sim.people("e", 3);
    let out = sim.run(ROW, &["--each", csv.to_str().unwrap(), "--rows", "99"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr.contains("has 3 rows, so there is no row 99"),
        "{}",
        out.stderr
    );
    for (jobs, why) in [("0", "at least 1 row"), ("1000", "at most 256")] {
        let out = sim.run(ROW, &["--each", csv.to_str().unwrap(), "--jobs", jobs]);
        assert_eq!(out.code, 2, "{}", out.all());
        assert!(out.stderr.contains(why), "{}", out.stderr);
    }
    assert!(sim.log().is_empty());
}

#[test]
fn a_vendor_function_given_the_wrong_type_says_what_it_takes() {
    let sim = Sim::start();
    let literal = sim.run(r#"cyberark::get_user(42);"#, &[]);
    assert_eq!(literal.code, 2, "{}", literal.all());
    assert!(
        literal
            .stderr
            .contains("cyberark::get_user takes a user name (a string), not an integer"),
        "{}",
        literal.stderr
    );
    let map = sim.run(r#"pam360::create_user("jdoe");"#, &[]);
    assert_eq!(map.code, 2, "{}", map.all());
    assert!(
        map.stderr
            .contains("takes a request map (#{ … }), not a string"),
        "{}",
        map.stderr
    );
    // Known only when the call is made: the same words, not Rhai's type names.
    let late = sim.run(r#"let n = 4.5; appmanager::user_exists(n);"#, &[]);
    assert_eq!(late.code, 1, "{}", late.all());
    assert!(
        late.stderr
            .contains("appmanager::user_exists takes a user name (a string), not a number"),
        "{}",
        late.stderr
    );
    assert!(!late.stderr.contains("f64"), "{}", late.stderr);
}

#[test]
fn a_name_with_an_invisible_character_is_refused_and_nothing_is_sent() {
    let sim = Sim::start();
    let out = sim.run(
        "cyberark::create_user(#{ username: \"adm\u{202e}nimda\", initial_password: random_password(20) });",
        &[],
    );
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr.contains("invisible character U+202E"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("\\u{202e}"),
        "the line is shown escaped: {}",
        out.stderr
    );
    assert!(sim.log().is_empty());
}

#[test]
fn ensure_user_racing_another_run_finds_the_user_the_other_made() {
    // Every answer takes a second: both runs look the user up (none), then both create it.
    let sim = Sim::with(&["--latency-ms", "1000"]);
    let script = sim.script(
        r#"let u = pam360::ensure_user(#{ username: "racer", first_name: "R", last_name: "C", email: "r@example.com" });
           print(`created ${u.created}`);"#,
    );
    let spawn = || {
        sim.run_command(&script)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    let said: Vec<String> = [&a, &b]
        .iter()
        .map(|o| {
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            String::from_utf8_lossy(&o.stdout).trim().to_string()
        })
        .collect();
    let mut said_sorted = said.clone();
    said_sorted.sort();
    assert_eq!(said_sorted, ["created false", "created true"], "{said:?}");
    let users = sim
        .users("pam360")
        .iter()
        .filter(|u| u["USERNAME"] == "racer")
        .count();
    assert_eq!(users, 1);
    // The one that lost the race tried to create, was told it exists, and looked again.
    let records = sim.journal_records();
    assert!(
        records
            .iter()
            .any(|r| r["outcome"] == "failed" && r["error_kind"] == "already_exists")
    );
    assert!(records.iter().any(|r| r["outcome"] == "existed"));
}

#[test]
fn a_reader_that_goes_away_ends_the_command_quietly() {
    let sim = Sim::start();
    let out = sim.run(
        ROW.replace("row.username", "\"p1\"")
            .replace("row.email", "\"p1@example.com\"")
            .as_str(),
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    for args in [&["docs"][..], &["journal", "last"]] {
        let mut child = StdCommand::new(assert_cmd::cargo::cargo_bin("onboard"))
            .arg("--journal")
            .arg(sim.journal())
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Read one line, then close the pipe, as `| head -1` does.
        let stdout = child.stdout.take().unwrap();
        let mut first = String::new();
        BufReader::new(stdout).read_line(&mut first).unwrap();
        let done = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&done.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(
            done.status.success(),
            "{args:?}: {:?} {stderr}",
            done.status
        );
    }
    let _ = output(onboard().arg("--version"));
}
