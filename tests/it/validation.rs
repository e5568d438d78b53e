//! Bad requests are refused before anything is sent: by `run`'s checks (exit 2) or at the call (catchable).

use crate::common::{Sim, onboard, output};

/// A script whose third call has a problem: nothing may be sent, not even the first two.
fn refused_before_anything(bad_call: &str, expect: &[&str]) {
    let sim = Sim::start();
    let script = format!(
        r#"
cyberark::create_user(#{{ username: "jdoe", initial_password: random_password(20) }});
pam360::create_user(#{{ username: "jdoe", first_name: "J", last_name: "D", email: "j@example.com" }});
{bad_call}
"#
    );
    let out = sim.run(&script, &[]);
    assert_eq!(out.code, 2, "{}", out.all());
    for e in expect {
        assert!(out.stderr.contains(e), "missing {e:?} in:\n{}", out.stderr);
    }
    assert!(sim.log().is_empty(), "requests were sent: {:?}", sim.log());
}

#[test]
fn unknown_key_names_the_closest_one_and_points_at_it() {
    refused_before_anything(
        "cyberark::create_user(#{\n    username: \"x\",\n    frist_name: \"Jane\",\n    initial_password: random_password(20) });",
        &[
            "unknown field `frist_name` for cyberark::create_user; did you mean `first_name`?",
            ":6:5",
            "frist_name: \"Jane\"",
        ],
    );
}

#[test]
fn a_key_that_belongs_in_a_nested_map_is_suggested_there() {
    refused_before_anything(
        r#"cyberark::create_user(#{ username: "x", initial_password: "Abcdefg1", business_emial: "a@b.co" });"#,
        &["did you mean `internet.business_email`?"],
    );
}

#[test]
fn missing_required_field() {
    refused_before_anything(
        r#"appmanager::create_user(#{ username: "x", role: "OPERATOR", password: "pw" });"#,
        &["missing required field `email` for appmanager::create_user"],
    );
}

#[test]
fn bad_enum_lists_the_allowed_values() {
    refused_before_anything(
        r#"appmanager::create_user(#{ username: "x", role: "OPERATR", password: "pw", email: "x@example.com" });"#,
        &[
            "must be one of OPERATOR, MANAGER, ADMIN, USER, DELEGATEDADMIN, not \"OPERATR\"; did you mean `OPERATOR`?",
        ],
    );
}

#[test]
fn bad_email() {
    refused_before_anything(
        r#"appmanager::create_user(#{ username: "x", role: "USER", password: "pw", email: "jane.doe@" });"#,
        &["field `email` of appmanager::create_user is not an email address"],
    );
}

#[test]
fn wrong_type() {
    refused_before_anything(
        r#"pam360::create_user(#{ username: "x", first_name: "a", last_name: "b", email: "x@example.com", token_validity_days: "90" });"#,
        &[
            "field `token_validity_days` of pam360::create_user must be an integer, not the string \"90\"",
        ],
    );
}

#[test]
fn past_expiry_date() {
    refused_before_anything(
        r#"pam360::create_user(#{ username: "x", first_name: "a", last_name: "b", email: "x@example.com", expiry_date: "2024-10-30" });"#,
        &["field `expiry_date` of pam360::create_user is in the past (2024-10-30)"],
    );
}

#[test]
fn conflicting_shortcut() {
    refused_before_anything(
        r#"cyberark::create_user(#{ username: "x", initial_password: "Abcdefg1", email: "a@b.co", internet: #{ business_email: "c@d.co" } });"#,
        &[
            "`email` and `internet.business_email` of cyberark::create_user are both given, with different values",
        ],
    );
}

#[test]
fn line_break_in_a_user_name_is_refused() {
    refused_before_anything(
        "cyberark::get_user(\"jdoe\\r\\nX-Evil: 1\");",
        &["contains a line break"],
    );
}

#[test]
fn unknown_vendor_function() {
    refused_before_anything(
        r#"pam360::creat_user(#{});"#,
        &["pam360 has no function `creat_user`; did you mean `pam360::create_user`?"],
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let sim = Sim::start();
    let out = sim.run(
        r#"appmanager::create_user(#{ usernme: "x", role: "BOSS", password: "pw", email: "nope" });"#,
        &[],
    );
    assert_eq!(out.code, 2);
    assert_eq!(out.stderr.matches("error:").count(), 3, "{}", out.stderr);
}

#[test]
fn a_map_built_at_run_time_is_checked_at_the_call_and_catchable() {
    let sim = Sim::start();
    let out = sim.run(
        r#"
let req = #{ username: "x", role: "OPERATOR", password: random_password(16) };
req.emial = "x@example.com";
try {
    appmanager::create_user(req);
} catch (e) {
    print(`${e.kind}|${e.vendor}|${e.operation}|${e.status}|${e.retryable}|${e.message}`);
}
"#,
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout.starts_with("validation|appmanager|create_user||false|unknown field `emial` for appmanager::create_user; did you mean `email`?"),
        "{}",
        out.stdout
    );
    assert!(sim.log().is_empty(), "{:?}", sim.log());
}

#[test]
fn an_uncaught_validation_error_at_run_time_exits_1_and_says_where() {
    let sim = Sim::start();
    let out = sim.run(
        "let r = #{ username: \"x\" };\npam360::create_user(r);\n",
        &[],
    );
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stderr
            .contains("pam360::create_user failed (validation)"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains(":2:"), "{}", out.stderr);
    assert!(sim.log().is_empty());
}

#[test]
fn check_sends_nothing_even_for_a_script_full_of_vendor_calls() {
    let sim = Sim::start();
    let config = sim.config();
    let script = sim.script(
        r#"
let v = cyberark::create_user(#{ username: "jdoe", initial_password: random_password(20) });
pam360::ensure_user(#{ username: "jdoe", first_name: "J", last_name: "D", email: "j@example.com" });
appmanager::create_user(#{ username: "jdoe", role: "ADMIN", password: "Passw0rd!", email: "j@example.com" });
cyberark::delete_user("jdoe");
if cyberark::user_exists("jdoe") { print("still there"); }
"#,
    );
    let out = output(
        onboard()
            .arg("--config")
            .arg(&config)
            .arg("check")
            .arg(&script),
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains(": ok"));
    assert!(sim.log().is_empty(), "{:?}", sim.log());
}
