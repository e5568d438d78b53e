//! `onboard lib list|new|check`, the standard library's own tests and the example team library.

use crate::common::{onboard, output, write};

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
