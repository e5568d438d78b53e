//! Imports: where modules are found, errors inside them, calls they lack.

use std::path::PathBuf;

use serde_json::Value as Json;

use crate::common::{Output, onboard, output, write};

/// A project: `main.rhai` beside `util.rhai`, a config library folder, an ONBOARD_PATH folder,
/// each with its own `team/util.rhai` saying where it is.
struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    fn new() -> Project {
        let p = Project {
            dir: tempfile::tempdir().expect("temp dir"),
        };
        for (folder, name) in [
            ("app", "script folder"),
            ("configured", "config"),
            ("envpath", "ONBOARD_PATH"),
        ] {
            write(
                &p.path(folder).join("team/util.rhai"),
                &format!("fn whence() {{ \"{name}\" }}\n"),
            );
        }
        write(
            &p.path("onboard.toml"),
            "[modules]\npaths = [\"configured\"]\n",
        );
        p
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn run(&self, script: &str) -> Output {
        let main = self.path("app/main.rhai");
        write(&main, script);
        output(
            onboard()
                .current_dir(self.dir.path())
                .env("ONBOARD_PATH", self.path("envpath"))
                .arg("--config")
                .arg(self.path("onboard.toml"))
                .args(["run", "app/main.rhai", "--sim"]),
        )
    }
}

#[test]
fn imports_resolve_in_order_script_folder_config_onboard_path_stdlib() {
    let p = Project::new();
    let script = "import \"team/util\" as u;\nprint(u::whence());\n";
    let out = p.run(script);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(out.stdout.trim(), "script folder");

    std::fs::remove_dir_all(p.path("app/team")).expect("remove");
    let out = p.run(script);
    assert_eq!(out.stdout.trim(), "config", "{}", out.all());

    std::fs::remove_dir_all(p.path("configured/team")).expect("remove");
    let out = p.run(script);
    assert_eq!(out.stdout.trim(), "ONBOARD_PATH", "{}", out.all());

    // The standard library comes last: a team's own std/naming wins over it.
    let out = p.run("import \"std/naming\" as n;\nprint(n::username(\"Zoë\", \"Ångström\"));\n");
    assert_eq!(out.stdout.trim(), "zoe.angstrom", "{}", out.all());
    write(
        &p.path("envpath/std/naming.rhai"),
        "fn username(a, b) { \"shadowed\" }\n",
    );
    let out = p.run("import \"std/naming\" as n;\nprint(n::username(\"Zoë\", \"Ångström\"));\n");
    assert_eq!(out.stdout.trim(), "shadowed", "{}", out.all());
}

#[test]
fn a_module_that_is_not_found_lists_every_place_searched() {
    let p = Project::new();
    let out = p.run("let x = 1;\nimport \"team/nothere\" as u;\n");
    assert_eq!(out.code, 2, "{}", out.all());
    for place in [
        "app/team/nothere.rhai (beside the importing script)",
        "configured/team/nothere.rhai ([modules] paths in",
        "envpath/team/nothere.rhai (ONBOARD_PATH)",
    ] {
        assert!(out.stderr.contains(place), "{place}:\n{}", out.stderr);
    }
    assert!(out.stderr.contains("app/main.rhai:2:1"), "{}", out.stderr);
}

#[test]
fn errors_inside_a_module_point_at_the_module_file_and_line() {
    let p = Project::new();
    // A typo'd field is caught before anything runs, in the module's own file.
    write(
        &p.path("app/team/make.rhai"),
        "// helpers\nfn make(name) {\n    cyberark::create_user(#{ username: name, frist_name: \"A\" })\n}\n",
    );
    let out = p.run("cyberark::create_user(#{ username: \"first\", initial_password: \"Pw-12345678\" });\nimport \"team/make\" as m;\nm::make(\"x\");\n");
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr.contains("did you mean `first_name`?"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("team/make.rhai:3:46"), "{}", out.stderr);
    assert!(
        !out.stderr.contains("created"),
        "nothing ran: {}",
        out.stderr
    );

    // A run-time error inside a module function shows the module's line and the call.
    write(
        &p.path("app/team/boom.rhai"),
        "fn boom() {\n    let x = 1;\n    throw \"boom inside\";\n}\n",
    );
    let out = p.run("import \"team/boom\" as b;\nb::boom();\n");
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.stderr.contains("team/boom.rhai:3:5"), "{}", out.stderr);
    assert!(
        out.stderr.contains("3 |     throw \"boom inside\";"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("app/main.rhai:2:"), "{}", out.stderr);
}

#[test]
fn an_error_raised_inside_the_standard_library_points_at_the_scripts_call() {
    let p = Project::new();
    let out = p
        .run("import \"std/checks\" as t;\nlet total = 1 + 1;\nt::assert_eq(total, 3, \"sum\");\n");
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stderr.contains("sum: expected 3 (i64), got 2 (i64)"),
        "{}",
        out.stderr
    );
    // The script's line is the place; where in std/ it was raised is a note.
    assert!(out.stderr.contains("app/main.rhai:3:"), "{}", out.stderr);
    assert!(
        out.stderr.contains("3 | t::assert_eq(total, 3, \"sum\");"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("note: raised at std/checks:"),
        "{}",
        out.stderr
    );

    // A thrown error map reads as its message, through two std modules.
    let out = p.run(
        "import \"std/onboarding\" as ob;\nob::new_hire(#{ first_name: \"Ann\", last_name: \"Lee\", email: \"nope\" }, #{});\n",
    );
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stderr.contains(
            "the script threw a validation error: not a usable person record: email \"nope\" is not an email address"
        ),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("app/main.rhai:2:"), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("after a call to `require` at std/onboarding:"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_call_to_a_function_a_module_lacks_stops_the_run_before_anything_is_sent() {
    let p = Project::new();
    let out = p.run(
        "import \"std/checks\" as t;\ncyberark::create_user(#{ username: \"early\", initial_password: \"Pw-12345678\" });\nt::asert_eq(1, 1);\n",
    );
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr.contains(
            "std/checks (imported as `t`) has no function `asert_eq`; did you mean `t::assert_eq`?"
        ),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("app/main.rhai:3:"), "{}", out.stderr);
    assert!(
        !out.stderr.contains("created"),
        "nothing ran: {}",
        out.stderr
    );

    // The right name with the wrong number of arguments, inside a function of a module.
    write(
        &p.path("app/team/helpers.rhai"),
        "import \"std/checks\" as t;\nfn check_it() {\n    t::assert_eq(1, 1, \"m\", 4)\n}\n",
    );
    let out = p.run("import \"team/helpers\" as h;\nh::check_it();\n");
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr.contains(
            "`t::assert_eq` is given 4 arguments, but std/checks's `assert_eq` takes 2 or 3"
        ),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("team/helpers.rhai:3:"),
        "{}",
        out.stderr
    );
}

#[test]
fn relative_imports_inside_a_library_resolve_against_the_library() {
    let p = Project::new();
    write(
        &p.path("configured/acme/onboard-lib.toml"),
        "name = \"acme\"\nversion = \"1.0.0\"\n",
    );
    write(&p.path("configured/acme/inner.rhai"), "fn value() { 42 }\n");
    write(
        &p.path("configured/acme/outer.rhai"),
        "import \"inner\" as inner;\nfn value() { inner::value() + 1 }\n",
    );
    let out = p.run("import \"acme/outer\" as o;\nprint(o::value());\n");
    assert_eq!(out.stdout.trim(), "43", "{}", out.all());
}

#[test]
fn a_missing_dependency_or_a_bad_manifest_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    write(
        &dir.path().join("acme/onboard-lib.toml"),
        "name = \"acme\"\nversion = \"1.0.0\"\ndependencies = [\"acme-base\"]\n",
    );
    write(&dir.path().join("acme/x.rhai"), "fn x() { 1 }\n");
    let check = output(
        onboard()
            .args(["lib", "check"])
            .arg(dir.path().join("acme")),
    );
    assert_eq!(check.code, 2, "{}", check.all());
    assert!(
        check
            .stderr
            .contains("needs library `acme-base`, which was not found"),
        "{}",
        check.stderr
    );
    write(
        &dir.path().join("acme/onboard-lib.toml"),
        "name = \"acme\"\nversoin = \"1.0.0\"\n",
    );
    let check = output(
        onboard()
            .args(["lib", "check"])
            .arg(dir.path().join("acme")),
    );
    assert_eq!(check.code, 2, "{}", check.all());
    assert!(
        check.stderr.contains("onboard-lib.toml:2"),
        "{}",
        check.stderr
    );
    assert!(check.stderr.contains("versoin"), "{}", check.stderr);
}

#[test]
fn new_hire_creates_three_accounts_and_its_options_skip_vendors() {
    let dir = tempfile::tempdir().expect("temp dir");
    let script = dir.path().join("hire.rhai");
    write(
        &script,
        "import \"std/onboarding\" as o;\n\
         o::new_hire(#{ first_name: \"Jane\", last_name: \"Doe\", email: \"j@example.com\", department: \"NOC\" },\n\
         \x20   #{ api_teams: [\"NOC\"] });\n\
         o::new_hire(#{ first_name: \"Al\", last_name: \"Bo\", email: \"a@example.com\" }, #{ cyberark: false, appmanager: false, pam360: true });\n",
    );
    let out = output(onboard().arg("run").arg(&script).args(["--sim", "--json"]));
    assert_eq!(out.code, 0, "{}", out.all());
    let doc: Json = serde_json::from_str(&out.stdout).expect("JSON");
    let accounts: Vec<(String, String)> = doc["accounts"]
        .as_array()
        .expect("accounts")
        .iter()
        .map(|a| {
            (
                a["vendor"].as_str().unwrap_or_default().to_string(),
                a["username"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let want = [
        ("cyberark", "jane.doe"),
        ("pam360", "jane.doe-api"),
        ("appmanager", "jane.doe"),
        ("pam360", "al.bo-api"),
    ];
    assert_eq!(accounts.len(), want.len(), "{accounts:?}");
    for (v, u) in want {
        assert!(
            accounts.contains(&(v.to_string(), u.to_string())),
            "{v} {u}: {accounts:?}"
        );
    }
}
