//! `onboard run`'s command line: exit codes, located script errors, --var, --json, --sim.

use crate::common::{Sim, onboard, output, script_in};

#[test]
fn a_syntax_error_exits_2_with_file_line_col_and_a_caret() {
    let dir = tempfile::tempdir().unwrap();
    let s = script_in(&dir, "bad.rhai", "let a = 1;\nlet b = (a + ;\n");
    let out = output(onboard().arg("run").arg(&s).arg("--sim"));
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr.contains(&format!("{}:2:14", s.display())),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("2 | let b = (a + ;"), "{}", out.stderr);
    assert!(out.stderr.contains("|              ^"), "{}", out.stderr);
}

#[test]
fn a_reserved_word_is_explained() {
    let dir = tempfile::tempdir().unwrap();
    let s = script_in(&dir, "r.rhai", "let go = 1;");
    let out = output(onboard().arg("run").arg(&s));
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("reserved"), "{}", out.stderr);
}

#[test]
fn an_uncaught_vendor_error_exits_1_and_names_vendor_operation_status_and_code() {
    let sim = Sim::start();
    let out = sim.run(
        "let r = #{ username: \"dup\", initial_password: random_password(20) };\ncyberark::create_user(r);\ncyberark::create_user(r);\n",
        &[],
    );
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stderr
            .contains("error: cyberark::create_user failed (already_exists, HTTP 409, PASWS027E)"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains(":3:"), "{}", out.stderr);
}

#[test]
fn a_throw_exits_1_with_its_message_and_place() {
    let dir = tempfile::tempdir().unwrap();
    let s = script_in(
        &dir,
        "t.rhai",
        "fn check(x) {\n  if x < 0 { throw \"negative: \" + x; }\n}\ncheck(-5);\n",
    );
    let out = output(onboard().arg("run").arg(&s));
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stderr.contains("the script threw: negative: -5"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("t.rhai:2:"), "{}", out.stderr);
    assert!(
        out.stderr.contains("in a call to `check`"),
        "{}",
        out.stderr
    );
}

#[test]
fn vars_are_typed() {
    let dir = tempfile::tempdir().unwrap();
    let s = script_in(
        &dir,
        "v.rhai",
        "print(type_of(n)); print(type_of(f)); print(type_of(b)); print(type_of(id)); print(name); print(n + 1);",
    );
    let out = output(onboard().arg("run").arg(&s).args([
        "--var",
        "n=41",
        "--var",
        "f=1.5",
        "--var",
        "b=true",
        "--var",
        "id=007",
        "--var",
        "name=Jane Doe",
    ]));
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(out.stdout, "i64\nf64\nbool\nstring\nJane Doe\n42\n");
}

#[test]
fn a_bad_var_name_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let s = script_in(&dir, "v.rhai", "print(1);");
    let out = output(onboard().arg("run").arg(&s).args(["--var", "1x=3"]));
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("not a usable variable name"),
        "{}",
        out.stderr
    );
    let out = output(onboard().arg("run").arg(&s).args(["--var", "novalue"]));
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("KEY=VALUE"), "{}", out.stderr);
}

#[test]
fn json_output_has_the_value_and_the_accounts() {
    let sim = Sim::start();
    let out = sim.run(
        r#"
print("this goes to stderr");
let u = appmanager::create_user(#{ username: "j1", role: "USER", password: random_password(16), email: "j1@example.com" });
#{ id: u.id, user: u }
"#,
        &["--json"],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stderr.contains("this goes to stderr"));
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).expect("stdout is JSON");
    assert_eq!(doc["ok"], true);
    assert_eq!(doc["value"]["id"], 6);
    assert_eq!(doc["value"]["user"]["role"], "USER");
    assert_eq!(doc["accounts"][0]["vendor"], "appmanager");
    assert_eq!(doc["accounts"][0]["outcome"], "created");
}

#[test]
fn json_output_describes_a_failure() {
    let sim = Sim::start();
    let out = sim.run(r#"pam360::delete_user("ghost");"#, &["--json"]);
    assert_eq!(out.code, 1);
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).expect("stdout is JSON");
    assert_eq!(doc["ok"], false);
    assert_eq!(doc["error"]["kind"], "not_found");
    assert_eq!(doc["error"]["vendor"], "pam360");
}

#[test]
fn sim_flag_needs_no_config_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let s = script_in(
        &dir,
        "s.rhai",
        r#"print(cyberark::create_user(#{ username: "a", initial_password: random_password(20) }).username);"#,
    );
    let out = output(
        onboard()
            .current_dir(dir.path())
            .arg("run")
            .arg(&s)
            .arg("--sim"),
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(out.stdout, "a\n");
}

#[test]
fn deep_recursion_stops_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let s = script_in(&dir, "r.rhai", "fn down(n) { down(n + 1) }\ndown(0);");
    let out = output(onboard().arg("run").arg(&s));
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stderr.contains("nested deeper than 64 levels"),
        "{}",
        out.stderr
    );
}

#[test]
fn eval_is_disabled() {
    let dir = tempfile::tempdir().unwrap();
    let s = script_in(&dir, "e.rhai", "eval(\"1\");");
    let out = output(onboard().arg("run").arg(&s));
    assert_eq!(out.code, 2, "{}", out.all());
}

#[test]
fn a_missing_script_file_is_exit_2() {
    let out = output(onboard().args(["run", "/nonexistent/script.rhai", "--sim"]));
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("cannot read /nonexistent/script.rhai"),
        "{}",
        out.stderr
    );
}

/// Each command's help opens with the summary `onboard --help` gives it, and takes the global
/// flags, though its arguments are only built when it is the one run.
#[test]
fn every_command_help_opens_with_its_summary() {
    let top = output(onboard().arg("--help"));
    let commands: Vec<(String, String)> = top
        .stdout
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        // A summary too long for one line goes on indented further.
        .filter(|l| !l.starts_with("   "))
        .filter_map(|l| {
            let (name, summary) = l.trim().split_once(' ')?;
            Some((name.to_string(), summary.trim().to_string()))
        })
        .filter(|(name, _)| name != "help")
        .collect();
    assert!(commands.len() >= 8, "{}", top.stdout);
    for (command, summary) in commands {
        let out = output(onboard().args([&command, "--help"]));
        assert_eq!(out.code, 0, "{command}: {}", out.stderr);
        let opening: String = summary.chars().take(20).collect();
        assert!(
            out.stdout.starts_with(&opening),
            "{command}: {}",
            out.stdout
        );
        assert!(
            out.stdout.contains("--journal <PATH>"),
            "{command}: {}",
            out.stdout
        );
    }
}

/// `onboard COMMAND SCRIPT ARGS…`, as the tests below run it.
fn run_as(command: &str, script: &std::path::Path, args: &[&str]) -> crate::common::Output {
    output(onboard().arg(command).arg(script).args(args))
}

/// A result's properties read as before; a typo'd one is named, with the nearest and the list.
#[test]
fn a_typoed_result_property_says_what_there_is() {
    let dir = tempfile::tempdir().unwrap();
    let s = script_in(
        &dir,
        "s.rhai",
        "let u = pam360::create_user(#{ username: \"a\", first_name: \"A\", last_name: \"B\",\n\
         email: \"a@example.com\" });\nprint(`${u.username} ${u.id > 0} ${u[\"created\"]}`);\nprint(u.usernme);\n",
    );
    let out = run_as("run", &s, &["--sim"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert_eq!(out.stdout, "a true true\n", "{}", out.all());
    assert!(
        out.stderr.contains(
            "`Pam360User` has no property `usernme`; did you mean `username`? (it has vendor, id,"
        ),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("s.rhai:4:"), "{}", out.stderr);
}

/// A `--var` the script never reads is refused before anything is sent (it would have onboarded
/// whoever the defaults name), with the nearest name it does read; `check` refuses it too.
#[test]
fn a_var_the_script_never_reads_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let s = script_in(
        &dir,
        "s.rhai",
        "let name = var_or(\"username\", \"jdoe\");\n\
         print(cyberark::create_user(#{ username: name, initial_password: random_password(20) }).username);",
    );
    let out = run_as("run", &s, &["--sim", "--var", "usernme=asmith"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert_eq!(out.stdout, "", "nothing may run: {}", out.all());
    assert!(
        out.stderr
            .contains("--var usernme: the script never reads it")
            && out.stderr.contains("did you mean `username`?"),
        "{}",
        out.stderr
    );
    let out = run_as("check", &s, &["--var", "usernme=asmith"]);
    assert_eq!(out.code, 2, "{}", out.all());
    let out = run_as("run", &s, &["--sim", "--var", "username=asmith"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(out.stdout, "asmith\n");
}

/// What counts as reading a var: `var_or` inside a function, the variable itself, and (unknowable
/// before the run) a name computed at run time.
#[test]
fn vars_read_in_any_way_are_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let s = script_in(
        &dir,
        "s.rhai",
        "fn team() { var_or(\"team\", \"NOC\") }\nprint(team()); print(site);",
    );
    let out = run_as("run", &s, &["--var", "team=SRE", "--var", "site=lon"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(out.stdout, "SRE\nlon\n");
    let s = script_in(
        &dir,
        "c.rhai",
        "let k = \"te\" + \"am\";\nprint(var_or(k, \"NOC\"));",
    );
    let out = run_as("run", &s, &["--var", "team=SRE"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(out.stdout, "SRE\n");
}

/// A module's `var_or` counts as the script reading that var: a library's var is accepted, a
/// typo of it refused with the library's name as the nearest.
#[test]
fn vars_read_by_an_imported_module_count() {
    let dir = tempfile::tempdir().unwrap();
    script_in(
        &dir,
        "teams.rhai",
        "fn team() { var_or(\"team\", \"NOC\") }\n",
    );
    let s = script_in(
        &dir,
        "s.rhai",
        "import \"teams\" as t;\nprint(t::team());\n",
    );
    let out = run_as("run", &s, &["--var", "team=SRE"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(out.stdout, "SRE\n");
    let out = run_as("run", &s, &["--var", "tem=SRE"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr.contains("did you mean `team`?"),
        "{}",
        out.stderr
    );
}
