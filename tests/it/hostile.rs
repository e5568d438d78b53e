//! Hostile and broken input: each gets a clear message, exit code, and changes nothing.

use std::time::{Duration, Instant};

use crate::common::{Sim, onboard, output};

fn run_script(text: &str, extra: &[&str]) -> crate::common::Output {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("s.rhai");
    std::fs::write(&script, text).unwrap();
    output(
        onboard()
            .current_dir(dir.path())
            .arg("run")
            .arg(&script)
            .args(extra),
    )
}

#[test]
fn an_endless_loop_stops_at_the_operation_limit_with_a_clear_message() {
    let started = Instant::now();
    let out = run_script(
        "let i = 0;\nloop { i += 1; }\n",
        &["--max-operations", "200000"],
    );
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stderr
            .contains("ran past its limit of 200000 operations; is there an endless loop?"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("s.rhai:2:"), "{}", out.stderr);
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn the_operation_limit_comes_from_the_config_too() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("onboard.toml"),
        "[limits]\nmax_operations = 1000\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("s.rhai"),
        "let i = 0; while i < 100000 { i += 1; }",
    )
    .unwrap();
    let out = output(onboard().current_dir(dir.path()).args(["run", "s.rhai"]));
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stderr.contains("limit of 1000 operations"),
        "{}",
        out.stderr
    );
}

/// `text` run with `[limits]` set in the working folder's onboard.toml.
fn run_with_limits(text: &str, limits: &str) -> crate::common::Output {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("s.rhai"), text).unwrap();
    std::fs::write(
        dir.path().join("onboard.toml"),
        format!("[limits]\n{limits}\n"),
    )
    .unwrap();
    output(onboard().current_dir(dir.path()).args(["run", "s.rhai"]))
}

#[test]
fn runaway_strings_arrays_and_maps_hit_their_limits() {
    let memory = "the script's values grew past its limit of";
    for (script, limits, message) in [
        ("let s = \"x\"; loop { s += s; }", "", memory),
        ("let a = [1]; loop { a += a; }", "", memory),
        (
            "let m = #{}; let i = 0; loop { m[`k${i}`] = i; i += 1; }",
            "max_memory_mb = 8",
            "limit of 8 MiB",
        ),
        (
            "let a = []; loop { a.push(1); }",
            "max_operations = 1000000",
            "ran past its limit of 1000000 operations",
        ),
        // A map one level deeper on every pass is copied whole each time.
        (
            "let m = #{}; loop { m = #{ inner: m }; }",
            "max_operations = 2000000",
            "copied more than 400 MB of values",
        ),
        // Moved rather than copied, it is still walked whole by every assignment.
        (
            "let m = #{}; loop { m = #{ inner: take(m) }; }",
            "max_seconds = 2",
            "computed for more than 2 s",
        ),
    ] {
        let started = Instant::now();
        let out = run_with_limits(script, limits);
        assert_eq!(out.code, 1, "{script}: {}", out.all());
        assert!(out.stderr.contains(message), "{script}: {}", out.stderr);
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{script} took {:?}",
            started.elapsed()
        );
    }
}

#[test]
fn a_large_array_or_map_built_at_a_normal_pace_is_fine() {
    let out = run_with_limits(
        "let a = []; for i in 0..200000 { a.push(i); } let m = #{}; for i in 0..20000 { m[`k${i}`] = i; } print(a.len() + m.len());",
        "",
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(out.stdout, "220000\n");
}

#[test]
fn helpers_read_files_only_under_the_script_folder_or_the_working_directory() {
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("secret.json");
    std::fs::write(&secret, "{\"k\": 1}").unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("people.json"), "[{\"n\": 1}]").unwrap();
    let script = dir.path().join("s.rhai");
    std::fs::write(
        &script,
        format!(
            "print(read_json(\"people.json\")[0].n);\nread_json(\"{}\");\n",
            secret.display()
        ),
    )
    .unwrap();
    let out = output(onboard().current_dir(dir.path()).arg("run").arg(&script));
    assert_eq!(out.code, 1, "{}", out.all());
    assert_eq!(out.stdout, "1\n");
    assert!(
        out.stderr
            .contains("is outside the script's folder and the working directory"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("s.rhai:2:"), "{}", out.stderr);

    std::fs::write(&script, "read_csv(\"../../../../etc/passwd\");").unwrap();
    let out = output(onboard().current_dir(dir.path()).arg("run").arg(&script));
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("outside the script's folder"),
        "{}",
        out.stderr
    );
}

#[test]
fn bad_csv_rows_name_their_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("ok.csv"),
        "name,email\n\"Doe, Jane\",jane@example.com\nÅsa Öberg,asa@example.com\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("short.csv"),
        "name,email\na,a@example.com\nb\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("binary.csv"), b"name,email\n\xff\xfe,x\n").unwrap();
    let script = dir.path().join("s.rhai");
    std::fs::write(
        &script,
        r#"
let rows = read_csv("ok.csv");
print(rows[0].name); print(rows[1].name);
for f in ["short.csv", "binary.csv"] {
    try { read_csv(f); } catch (e) { print(e); }
}
"#,
    )
    .unwrap();
    let out = output(onboard().current_dir(dir.path()).arg("run").arg(&script));
    assert_eq!(out.code, 0, "{}", out.all());
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines[0], "Doe, Jane");
    assert_eq!(lines[1], "Åsa Öberg");
    assert!(
        lines[2].contains("read_csv(\"short.csv\"): line 3 has 1 fields but the header has 2"),
        "{}",
        lines[2]
    );
    assert!(
        lines[3].contains("read_csv(\"binary.csv\"): line 2 is not UTF-8"),
        "{}",
        lines[3]
    );
}

#[test]
fn a_nul_or_line_break_in_a_user_name_is_a_validation_error_and_nothing_is_sent() {
    let sim = Sim::start();
    let out = sim.run(
        r#"
for name in ["a\x00b", "a\r\nX-Injected: 1", "a\nb"] {
    try { appmanager::create_user(#{ username: name, role: "USER", password: "Passw0rd!", email: "a@example.com" }); }
    catch (e) { print(`${e.kind}: ${e.message}`); }
    try { cyberark::user_exists(name); } catch (e) { print(`${e.kind}`); }
}
"#,
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 6, "{}", out.stdout);
    assert!(
        lines.iter().all(|l| l.starts_with("validation")),
        "{}",
        out.stdout
    );
    assert!(lines[0].contains("control character"), "{}", lines[0]);
    assert!(lines[2].contains("line break"), "{}", lines[2]);
    assert!(sim.log().is_empty(), "{:?}", sim.log());
}

#[test]
fn every_kind_of_garbage_answer_is_a_clear_error_and_never_a_crash() {
    for (kind, expect) in [
        ("html", "an HTML page: `<html>"),
        (
            "truncated",
            "an unexpected answer: `{\"operation\":{\"result\":{\"status\":\"Succ`",
        ),
        ("binary", "the answer is not UTF-8 text"),
        ("huge", "the answer is larger than 8 MiB"),
        ("empty", "an unexpected answer: `(empty)`"),
    ] {
        let sim = Sim::with(&["--garbage-every", "1", "--garbage", kind]);
        let out = sim.run(
            r#"
try { pam360::create_user(#{ username: "g", first_name: "G", last_name: "G", email: "g@example.com" }); }
catch (e) { print(`${e.kind}|${e.retryable}|${e.message}`); }
try { appmanager::user_exists("g"); } catch (e) { print(`${e.kind}`); }
try { cyberark::user_exists("g"); } catch (e) { print(`${e.kind}`); }
"#,
            &[],
        );
        assert_eq!(out.code, 0, "{kind}: {}", out.all());
        let lines: Vec<&str> = out.stdout.lines().collect();
        assert!(
            lines[0].starts_with("protocol|false|"),
            "{kind}: {}",
            out.stdout
        );
        assert!(lines[0].contains(expect), "{kind}: {}", lines[0]);
        assert!(
            lines[0].len() < 400,
            "{kind}: the excerpt is short: {}",
            lines[0].len()
        );
        assert_eq!(
            &lines[1..],
            ["protocol", "protocol"],
            "{kind}: {}",
            out.stdout
        );
        assert!(!sim.has_user("pam360", "g"));
    }
}
