//! Imports, team libraries, the standard library, docs and editor definitions.

use std::path::{Path, PathBuf};

use serde_json::Value as Json;

use crate::common::{Output, onboard, output};

fn write(path: &Path, text: &str) {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).expect("make folder");
    }
    std::fs::write(path, text).expect("write file");
}

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
fn lib_new_then_lib_check_passes_and_a_library_too_new_fails() {
    let dir = tempfile::tempdir().expect("temp dir");
    let new = output(
        onboard()
            .args(["lib", "new", "acme", "--dir"])
            .arg(dir.path()),
    );
    assert_eq!(new.code, 0, "{}", new.all());
    let lib = dir.path().join("acme");
    for f in ["onboard-lib.toml", "users.rhai", "tests/users.rhai"] {
        assert!(lib.join(f).is_file(), "{f}");
    }
    let users = std::fs::read_to_string(lib.join("users.rhai")).expect("module");
    assert!(
        users.contains("///"),
        "the module has doc comments: {users}"
    );
    let check = output(onboard().args(["lib", "check"]).arg(&lib));
    assert_eq!(check.code, 0, "{}", check.all());
    assert!(
        check.stdout.contains("module acme/users: ok"),
        "{}",
        check.stdout
    );
    assert!(
        check.stdout.contains("tests/users.rhai: ok"),
        "{}",
        check.stdout
    );

    // Again: the folder exists, nothing is overwritten.
    let again = output(
        onboard()
            .args(["lib", "new", "acme", "--dir"])
            .arg(dir.path()),
    );
    assert_eq!(again.code, 2, "{}", again.all());

    // A failing test fails the check.
    let test = lib.join("tests/users.rhai");
    let text = std::fs::read_to_string(&test).expect("test")
        + "t::assert_eq(1, 2, \"deliberately wrong\");\n";
    write(&test, &text);
    let check = output(onboard().args(["lib", "check"]).arg(&lib));
    assert_eq!(check.code, 1, "{}", check.all());
    assert!(
        check.stderr.contains("deliberately wrong"),
        "{}",
        check.stderr
    );

    // A library for a future onboard is refused, by check and by import.
    let manifest = lib.join("onboard-lib.toml");
    let text = std::fs::read_to_string(&manifest).expect("manifest");
    let future = text
        .lines()
        .map(|l| {
            if l.starts_with("onboard =") {
                "onboard = \"99.0\""
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    write(&manifest, &future);
    let check = output(onboard().args(["lib", "check"]).arg(&lib));
    assert_eq!(check.code, 2, "{}", check.all());
    assert!(
        check
            .stderr
            .contains("library `acme` needs onboard 99.0 or newer; this is onboard"),
        "{}",
        check.stderr
    );
    let script = dir.path().join("use.rhai");
    write(&script, "import \"acme/users\" as users;\n");
    let run = output(
        onboard()
            .env("ONBOARD_PATH", dir.path())
            .arg("run")
            .arg(&script),
    );
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(run.stderr.contains("needs onboard 99.0"), "{}", run.stderr);
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
fn lib_list_shows_the_libraries_on_the_path() {
    let dir = tempfile::tempdir().expect("temp dir");
    write(
        &dir.path().join("acme/onboard-lib.toml"),
        "name = \"acme\"\nversion = \"2.3.0\"\ndescription = \"ACME conventions\"\n",
    );
    let out = output(
        onboard()
            .env("ONBOARD_PATH", dir.path())
            .args(["lib", "list"]),
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("std/naming"), "{}", out.stdout);
    let line = out
        .stdout
        .lines()
        .find(|l| l.starts_with("acme"))
        .unwrap_or_default();
    assert!(
        line.contains("2.3.0") && line.contains("ACME conventions"),
        "{}",
        out.stdout
    );
}

#[test]
fn the_standard_library_passes_its_own_tests() {
    let root = env!("CARGO_MANIFEST_DIR");
    let out = output(onboard().args(["lib", "check", &format!("{root}/stdlib")]));
    assert_eq!(out.code, 0, "{}", out.all());
    for m in ["checks", "naming", "onboarding", "people"] {
        assert!(
            out.stdout.contains(&format!("module std/{m}: ok")),
            "{}",
            out.stdout
        );
        assert!(
            out.stdout.contains(&format!("tests/{m}.rhai: ok")),
            "{}",
            out.stdout
        );
    }
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

#[test]
fn the_example_team_library_and_its_script() {
    let root = env!("CARGO_MANIFEST_DIR");
    let check = output(onboard().args(["lib", "check", &format!("{root}/scripts/lib/acme")]));
    assert_eq!(check.code, 0, "{}", check.all());
    let out = output(onboard().args([
        "run",
        &format!("{root}/scripts/acme_new_hires.rhai"),
        "--each",
        &format!("{root}/scripts/new_hires.csv"),
        "--sim",
    ]));
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout.contains("jane.doe@example.com: jdoe"),
        "{}",
        out.stdout
    );
    assert!(out.stderr.contains("5 ok, 0 failed"), "{}", out.stderr);
}

#[test]
fn docs_json_has_every_vendor_function_and_field_and_the_libraries() {
    let dir = tempfile::tempdir().expect("temp dir");
    write(
        &dir.path().join("acme/onboard-lib.toml"),
        "name = \"acme\"\nversion = \"1.0.0\"\n",
    );
    write(
        &dir.path().join("acme/names.rhai"),
        "//! ACME names.\n\n/// The ACME login of a person.\nfn login(person) { person.first_name }\n",
    );
    let out = output(
        onboard()
            .env("ONBOARD_PATH", dir.path())
            .args(["docs", "--format", "json"]),
    );
    assert_eq!(out.code, 0, "{}", out.all());
    let doc: Json = serde_json::from_str(&out.stdout).expect("JSON");
    let fns: Vec<(String, String)> = doc["functions"]
        .as_array()
        .expect("functions")
        .iter()
        .map(|f| {
            (
                f["namespace"].as_str().unwrap_or_default().to_string(),
                f["name"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    for vendor in ["cyberark", "pam360", "appmanager"] {
        for f in [
            "create_user",
            "get_user",
            "user_exists",
            "delete_user",
            "ensure_user",
        ] {
            assert!(fns.contains(&(vendor.into(), f.into())), "{vendor}::{f}");
        }
    }
    for (ns, f) in [
        ("std/naming", "username"),
        ("std/onboarding", "new_hire"),
        ("std/checks", "assert_eq"),
        ("acme/names", "login"),
    ] {
        assert!(fns.contains(&(ns.into(), f.into())), "{ns}::{f}");
    }
    let login = doc["functions"]
        .as_array()
        .and_then(|a| a.iter().find(|f| f["name"] == "login"))
        .expect("login");
    assert_eq!(login["doc"], "The ACME login of a person.");
    let cyberark = doc["vendors"]
        .as_array()
        .and_then(|v| v.iter().find(|v| v["name"] == "cyberark"))
        .expect("cyberark");
    let keys: Vec<&str> = cyberark["request"]["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .filter_map(|f| f["key"].as_str())
        .collect();
    for k in [
        "username",
        "initial_password",
        "personal_details",
        "personal_details.first_name",
        "email",
    ] {
        assert!(keys.contains(&k), "{k}: {keys:?}");
    }
}

#[test]
fn definitions_are_written_and_parse() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = output(onboard().arg("definitions").arg(dir.path()));
    assert_eq!(out.code, 0, "{}", out.all());
    let mut seen = Vec::new();
    for entry in std::fs::read_dir(dir.path()).expect("definitions folder") {
        let path = entry.expect("entry").path();
        let text = std::fs::read_to_string(&path).expect("read");
        if let Err(e) = definitions::parse(&text) {
            panic!("{}: {e}", path.display());
        }
        seen.push(
            path.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
        );
    }
    for f in [
        "cyberark.d.rhai",
        "pam360.d.rhai",
        "appmanager.d.rhai",
        "std_naming.d.rhai",
        "__static__.d.rhai",
    ] {
        assert!(seen.iter().any(|s| s == f), "{f}: {seen:?}");
    }
    let cyberark = std::fs::read_to_string(dir.path().join("cyberark.d.rhai")).expect("read");
    assert!(
        cyberark.contains("fn create_user(request: map) -> CyberArkUser;"),
        "{cyberark}"
    );
    let naming = std::fs::read_to_string(dir.path().join("std_naming.d.rhai")).expect("read");
    assert!(naming.contains("module \"std/naming\";"), "{naming}");
    assert!(
        naming.contains("fn username(first: ?, last: ?, style: ?) -> ?;"),
        "{naming}"
    );
}

/// A checker for the definition-file grammar of the Rhai language server (rhai-lsp's `RhaiDef`):
/// `module NAME;` then `fn`, `op`, `const`, `let`, `import` and `type` items with typed parameters.
mod definitions {
    #[derive(Debug, Clone, PartialEq)]
    enum Tok {
        Ident(String),
        Str,
        Num,
        Punct(String),
    }

    fn lex(text: &str) -> Result<Vec<Tok>, String> {
        let mut out = Vec::new();
        let b: Vec<char> = text.chars().collect();
        let mut i = 0;
        while i < b.len() {
            let c = b[i];
            if c.is_whitespace() {
                i += 1;
            } else if c == '/' && b.get(i + 1) == Some(&'/') {
                while i < b.len() && b[i] != '\n' {
                    i += 1;
                }
            } else if c == '/' && b.get(i + 1) == Some(&'*') {
                while i + 1 < b.len() && !(b[i] == '*' && b[i + 1] == '/') {
                    i += 1;
                }
                i += 2;
            } else if c.is_alphabetic() || c == '_' {
                let s = i;
                while i < b.len() && (b[i].is_alphanumeric() || b[i] == '_') {
                    i += 1;
                }
                out.push(Tok::Ident(b[s..i].iter().collect()));
            } else if c.is_ascii_digit() {
                while i < b.len() && (b[i].is_ascii_digit() || b[i] == '.') {
                    i += 1;
                }
                out.push(Tok::Num);
            } else if c == '"' {
                i += 1;
                while i < b.len() && b[i] != '"' {
                    i += if b[i] == '\\' { 2 } else { 1 };
                }
                i += 1;
                out.push(Tok::Str);
            } else {
                const MULTI: [&str; 25] = [
                    "...", "..=", "**=", "<<=", ">>=", "..", "->", "#{", "**", "==", "!=", "<=",
                    ">=", "&&", "||", "<<", ">>", "+=", "-=", "*=", "/=", "%=", "|=", "&=", "^=",
                ];
                let rest: String = b[i..b.len().min(i + 3)].iter().collect();
                let p = MULTI
                    .iter()
                    .find(|m| rest.starts_with(**m))
                    .map_or_else(|| c.to_string(), |m| m.to_string());
                i += p.chars().count();
                out.push(Tok::Punct(p));
            }
        }
        Ok(out)
    }

    struct P {
        t: Vec<Tok>,
        i: usize,
    }

    impl P {
        fn peek(&self) -> Option<&Tok> {
            self.t.get(self.i)
        }
        fn next(&mut self) -> Result<Tok, String> {
            let t = self.t.get(self.i).cloned().ok_or("unexpected end")?;
            self.i += 1;
            Ok(t)
        }
        fn punct(&mut self, p: &str) -> Result<(), String> {
            match self.next()? {
                Tok::Punct(q) if q == p => Ok(()),
                t => Err(format!("expected `{p}`, found {t:?} at token {}", self.i)),
            }
        }
        fn is(&self, p: &str) -> bool {
            matches!(self.peek(), Some(Tok::Punct(q)) if q == p)
        }
        fn ident(&mut self) -> Result<String, String> {
            match self.next()? {
                Tok::Ident(s) => Ok(s),
                t => Err(format!("expected a name, found {t:?} at token {}", self.i)),
            }
        }
        fn ty(&mut self) -> Result<(), String> {
            match self.next()? {
                Tok::Punct(p) if p == "?" => Ok(()),
                Tok::Punct(p) if p == "(" => self.list(")", |s| s.ty()),
                Tok::Punct(p) if p == "[" => self.list("]", |s| s.ty()),
                Tok::Punct(p) if p == "#{" => self.list("}", |s| {
                    s.next()?;
                    s.punct(":")?;
                    s.ty()
                }),
                Tok::Ident(name) => {
                    // Rhai writes an inclusive range's type as `range=`.
                    if name == "range" && self.is("=") {
                        self.next()?;
                    }
                    if self.is("<") {
                        self.next()?;
                        self.list(">", |s| s.ty())?;
                    }
                    Ok(())
                }
                Tok::Str | Tok::Num => Ok(()),
                t => Err(format!("expected a type, found {t:?} at token {}", self.i)),
            }
        }
        fn list(
            &mut self,
            close: &str,
            item: impl Fn(&mut P) -> Result<(), String>,
        ) -> Result<(), String> {
            while !self.is(close) {
                item(self)?;
                if !self.is(close) {
                    self.punct(",")?;
                }
            }
            self.punct(close)
        }
    }

    pub fn parse(text: &str) -> Result<(), String> {
        let mut p = P {
            t: lex(text)?,
            i: 0,
        };
        match p.next()? {
            Tok::Ident(m) if m == "module" => {}
            t => return Err(format!("a definition file starts with `module`, not {t:?}")),
        }
        if !p.is(";") {
            p.next()?;
        }
        p.punct(";")?;
        while p.peek().is_some() {
            if p.is(";") {
                p.next()?;
                continue;
            }
            match p.ident()?.as_str() {
                "fn" => {
                    let first = p.ident()?;
                    let _ = first;
                    if !p.is("(") {
                        p.ident()?;
                    }
                    p.punct("(")?;
                    p.list(")", |s| {
                        if s.is("...") {
                            s.next()?;
                        }
                        s.ident()?;
                        s.punct(":")?;
                        s.ty()
                    })?;
                    if p.is("->") {
                        p.next()?;
                        p.ty()?;
                    }
                }
                "op" => {
                    p.next()?;
                    p.punct("(")?;
                    p.list(")", |s| s.ty())?;
                    if p.is("->") {
                        p.next()?;
                        p.ty()?;
                    }
                }
                "const" | "let" => {
                    p.ident()?;
                    if p.is(":") {
                        p.next()?;
                        p.ty()?;
                    }
                }
                "type" => {
                    p.ident()?;
                    p.punct("=")?;
                    if p.is("...") {
                        p.next()?;
                    } else {
                        p.ty()?;
                    }
                }
                "module" => {
                    p.ident()?;
                    p.punct("{")?;
                    let mut depth = 1;
                    while depth > 0 {
                        match p.next()? {
                            Tok::Punct(x) if x == "{" || x == "#{" => depth += 1,
                            Tok::Punct(x) if x == "}" => depth -= 1,
                            _ => {}
                        }
                    }
                    continue;
                }
                other => return Err(format!("unexpected `{other}` at token {}", p.i)),
            }
            p.punct(";")?;
        }
        Ok(())
    }
}
