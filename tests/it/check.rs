//! `onboard check` is as strict as `run`: every row checked as a run checks it, every function
//! a script calls found before anything is sent.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value as Json;

use crate::common::{Output, Sim, onboard, output, script_in};

const SCRIPT: &str = r#"
appmanager::create_user(#{ username: row.username, role: "USER", password: random_password(16), email: row.email });
"#;

fn check(script: &Path, each: &Path) -> Output {
    output(onboard().arg("check").arg(script).arg("--each").arg(each))
}

/// The lines of `each` that a check names as refused.
fn refused_lines(out: &Output, each: &Path) -> BTreeSet<u64> {
    let prefix = format!("error: {}:", each.display());
    out.stderr
        .lines()
        .filter_map(|l| l.strip_prefix(&prefix))
        .filter_map(|l| l.split(':').next()?.parse().ok())
        .collect()
}

#[test]
fn check_each_refuses_exactly_the_rows_a_run_refuses() {
    let sim = Sim::start();
    let csv = sim.dir.path().join("people.csv");
    let mut bytes = b"username,email\n".to_vec();
    bytes.extend_from_slice(b"ok1,ok1@example.com\n"); // line 2
    bytes.extend_from_slice(b"bad-mail,not-an-email\n"); // 3
    bytes.extend_from_slice(b"ragged,r@example.com,extra\n"); // 4
    bytes.extend_from_slice(b"\"two\nlines\",t@example.com\n"); // 5-6
    bytes.extend_from_slice(b"nul\0name,n@example.com\n"); // 7
    bytes.extend_from_slice(b"bad\xffutf8,u@example.com\n"); // 8
    bytes.extend_from_slice(b"ok2,ok2@example.com\n"); // 9
    std::fs::write(&csv, &bytes).unwrap();
    let script = sim.script(SCRIPT);

    let checked = check(&script, &csv);
    assert_eq!(checked.code, 2, "{}", checked.all());
    let by_check = refused_lines(&checked, &csv);
    assert_eq!(
        by_check,
        BTreeSet::from([3, 4, 5, 7, 8]),
        "{}",
        checked.stderr
    );
    assert!(
        checked.stderr.contains("not an email address"),
        "{}",
        checked.stderr
    );

    let report = sim.dir.path().join("report.jsonl");
    let ran = sim.run(
        SCRIPT,
        &[
            "--each",
            csv.to_str().unwrap(),
            "--report",
            report.to_str().unwrap(),
        ],
    );
    assert_eq!(ran.code, 1, "{}", ran.all());
    let by_run: BTreeSet<u64> = std::fs::read_to_string(&report)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| serde_json::from_str::<Json>(l).unwrap())
        .filter(|r| r["error"]["nothing_sent"] == true)
        .map(|r| r["line"].as_u64().unwrap())
        .collect();
    assert_eq!(by_check, by_run);
    assert!(sim.has_user("appmanager", "ok1") && sim.has_user("appmanager", "ok2"));
}

#[test]
fn check_each_reads_json_lines_as_a_run_does() {
    let dir = tempfile::tempdir().unwrap();
    let each = dir.path().join("people.jsonl");
    std::fs::write(
        &each,
        "{\"username\":\"a\",\"email\":\"a@example.com\"}\n{\"username\":\"b\",\n{\"username\":\"c\"}\n",
    )
    .unwrap();
    let script = dir.path().join("s.rhai");
    std::fs::write(&script, SCRIPT).unwrap();
    let out = check(&script, &each);
    assert_eq!(out.code, 2, "{}", out.all());
    assert_eq!(
        refused_lines(&out, &each),
        BTreeSet::from([2, 3]),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("not valid JSON"), "{}", out.stderr);
    assert!(out.stderr.contains("it has no `email`"), "{}", out.stderr);
}

#[test]
fn a_typo_in_a_helper_or_an_undefined_function_stops_check_and_run_before_anything_is_sent() {
    let sim = Sim::start();
    let typo = r#"
cyberark::create_user(#{ username: "h1", initial_password: random_password(20) });
appmanager::create_user(#{ username: "h1", role: "USER", password: random_pasword(16), email: "h@example.com" });
"#;
    let undefined = r#"
cyberark::create_user(#{ username: "h2", initial_password: random_password(20) });
notify_manager("h2");
"#;
    for (script, expected) in [
        (
            typo,
            "there is no function `random_pasword`; did you mean `random_password`?",
        ),
        (undefined, "there is no function `notify_manager`"),
    ] {
        let path = sim.script(script);
        let checked = output(onboard().arg("check").arg(&path));
        assert_eq!(checked.code, 2, "{}", checked.all());
        assert!(checked.stderr.contains(expected), "{}", checked.stderr);
        let ran = sim.run(script, &[]);
        assert_eq!(ran.code, 2, "{}", ran.all());
        assert!(ran.stderr.contains(expected), "{}", ran.stderr);
    }
    let wrong_count = sim.run(r#"let p = random_password(16, 2);"#, &[]);
    assert_eq!(wrong_count.code, 2, "{}", wrong_count.all());
    assert!(
        wrong_count
            .stderr
            .contains("`random_password` is given 2 arguments, but it takes 1"),
        "{}",
        wrong_count.stderr
    );
    assert!(sim.log().is_empty(), "something was sent: {:?}", sim.log());
}

#[test]
fn functions_the_script_defines_and_methods_pass() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("s.rhai");
    std::fs::write(
        &script,
        r#"
fn greet(name) { `hi ${name}` }
fn shout() { this.to_upper() }
let names = ["a", "b"];
names.push("c");
let s = "x";
print(greet(s) + s.shout() + names.len() + type_of(s));
let f = |x| x + 1;
print(f.call(1));
if is_def_fn("greet", 1) { print(parse_int("7")); }
"#,
    )
    .unwrap();
    let out = output(onboard().arg("check").arg(&script));
    assert_eq!(out.code, 0, "{}", out.all());
}

#[test]
fn a_csv_with_a_repeated_column_or_an_unclosed_quote_is_refused_with_its_place() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("s.rhai");
    std::fs::write(&script, SCRIPT).unwrap();
    let repeated = dir.path().join("repeated.csv");
    std::fs::write(&repeated, "username,email,username\na,a@example.com,b\n").unwrap();
    let out = check(&script, &repeated);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr
            .contains("column `username` appears twice in the header row (columns 1 and 3)"),
        "{}",
        out.stderr
    );
    let open = dir.path().join("open.csv");
    std::fs::write(
        &open,
        "username,email\na,a@example.com\n\"b,b@example.com\nc,c@example.com\n",
    )
    .unwrap();
    let out = check(&script, &open);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr
            .contains("line 3: a quoted value starts here and is never closed"),
        "{}",
        out.stderr
    );
    let run = output(
        onboard()
            .arg("run")
            .arg(&script)
            .args(["--sim", "--each"])
            .arg(&open),
    );
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.stderr.contains("line 3: a quoted value starts here"),
        "{}",
        run.stderr
    );
}

#[test]
fn check_reports_syntax_errors_in_every_script() {
    let dir = tempfile::tempdir().unwrap();
    let a = script_in(&dir, "a.rhai", "let x = ;");
    let b = script_in(&dir, "b.rhai", "print(\"fine\");");
    let c = script_in(&dir, "c.rhai", "fn f( { }");
    let out = output(onboard().arg("check").args([&a, &b, &c]));
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("a.rhai:1:9"), "{}", out.stderr);
    assert!(out.stderr.contains("c.rhai:1:"), "{}", out.stderr);
    assert!(out.stdout.contains("b.rhai: ok"), "{}", out.stdout);
}
