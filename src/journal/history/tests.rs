//! The run summary the journal's records build.

use super::*;
use crate::journal::read::parse_line;

/// The history of journal lines, as `onboard journal` and `onboard undo` read them.
fn history(lines: &[&str]) -> History {
    let mut h = History::default();
    let mut at = 0;
    for line in lines {
        match parse_line(line.as_bytes()) {
            Some(record) => h.apply(at, &record),
            None => h.torn += 1,
        }
        at += line.len() as u64 + 1;
    }
    h.compact();
    h
}

const RUN: &str =
    r#"{"type":"run","run":"r1","time":"t","command":"run","script":"s.rhai","pid":1}"#;

#[test]
fn a_run_summary_counts_what_became_of_each_account() {
    let h = history(&[
        RUN,
        r#"{"type":"intent","run":"r1","seq":1,"time":"t","vendor":"cyberark","operation":"create_user","username":"a","sent":{"email":"a@x.io"}}"#,
        r#"{"type":"outcome","run":"r1","seq":1,"time":"t","vendor":"cyberark","operation":"create_user","username":"a","id":7,"outcome":"created","proof":"answer"}"#,
        r#"{"type":"intent","run":"r1","seq":2,"time":"t","vendor":"pam360","operation":"create_user","username":"b"}"#,
        r#"{"type":"retry","run":"r1","seq":2,"time":"t","vendor":"pam360","operation":"create_user","username":"b","attempt":2,"error_kind":"server","wait_ms":10}"#,
        r#"{"type":"intent","run":"r1","seq":3,"time":"t","vendor":"pam360","operation":"create_user","username":"c"}"#,
        r#"{"type":"outcome","run":"r1","seq":3,"time":"t","vendor":"pam360","operation":"create_user","username":"c","outcome":"failed","error_kind":"validation"}"#,
        r#"{"type":"end","run":"r1","time":"t","exit_code":1}"#,
    ]);
    assert_eq!(h.runs.len(), 1);
    let run = &h.runs[0];
    assert_eq!(run.exit_code, Some(1));
    assert_eq!((run.retries, run.failed), (1, 1));
    // The failed create made nothing: it is not an account of the run.
    let names: Vec<&str> = run.accounts.iter().map(|a| a.username.as_str()).collect();
    assert_eq!(names, ["a", "b"]);
    assert_eq!(run.accounts[0].state, State::Exists);
    assert_eq!(run.accounts[0].id, Some(7));
    assert_eq!(run.accounts[0].proof, Some(Proof::Answer));
    // An intent without an outcome: the run never learned whether the vendor made it.
    assert_eq!(run.accounts[1].state, State::InFlight);
    assert_eq!(
        (run.counts.exists, run.counts.in_flight, run.counts.removed),
        (1, 1, 0)
    );
    // What is left, newest first, for undo.
    let left: Vec<&str> = run.left().map(|a| a.username.as_str()).collect();
    assert_eq!(left, ["b", "a"]);
}

#[test]
fn a_later_delete_removes_the_account_and_a_torn_line_is_counted() {
    let h = history(&[
        RUN,
        r#"{"type":"intent","run":"r1","seq":1,"time":"t","vendor":"cyberark","operation":"create_user","username":"a"}"#,
        r#"{"type":"outcome","run":"r1","seq":1,"time":"t","vendor":"cyberark","operation":"create_user","username":"a","id":7,"outcome":"created","proof":"answer"}"#,
        r#"{"type":"outcome","run":"r1","seq":2,"ti"#,
        r#"{"type":"run","run":"u1","time":"t","command":"undo","undo_of":"r1","pid":2}"#,
        r#"{"type":"outcome","run":"u1","seq":1,"time":"t","vendor":"cyberark","operation":"delete_user","username":"a","id":7,"outcome":"deleted"}"#,
    ]);
    assert_eq!(h.torn, 1);
    let run = &h.runs[0];
    assert_eq!(
        run.accounts[0].state,
        State::Removed {
            by: "undo u1".into()
        }
    );
    assert_eq!(run.left().count(), 0);
    assert_eq!(h.runs[1].undo_of.as_deref(), Some("r1"));
    assert!(find_run(&h.runs, "last").is_ok_and(|r| r.run == "r1"));
    assert!(find_run(&h.runs, "zz").is_err());
}
