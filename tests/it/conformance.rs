//! The same lifecycle for every registered vendor: a vendor added to the registry is tested here
//! without a line of this file changing. Each request comes from the vendor's own `example`.

use onboard::vendors::{ALL, VendorSpec};
use serde_json::Value as Json;

use crate::common::{Sim, sim_secrets};

/// A script that makes `name`'s request from the vendor's example, then runs `body`, in which
/// `V::` is the vendor's namespace.
fn script(v: &VendorSpec, name: &str, body: &str) -> String {
    format!(
        "let name = \"{name}\";\nlet req = {};\n{}",
        v.example,
        body.replace("V::", &format!("{}::", v.name))
    )
}

fn lines(out: &str) -> Vec<&str> {
    out.lines().collect()
}

#[test]
fn every_vendor_creates_gets_ensures_twice_catches_a_duplicate_and_deletes() {
    let sim = Sim::start();
    for v in ALL {
        let body = r#"
let u = V::create_user(req);
// A vendor whose logins carry a suffix (Identity's `@tenant`) adds it to the name.
let named = |n| n == name || n.starts_with(name + "@");
print(`created|${u.created}|${named.call(u.username)}|${u.vendor}|${u.dry_run}`);
print(`get|${named.call(V::get_user(name).username)}|${V::get_user(name).id == u.id}`);
print(`exists|${V::user_exists(name)}`);
let e1 = V::ensure_user(req);
let e2 = V::ensure_user(req);
print(`ensure|${e1.created}|${e2.created}|${e1.id == u.id}`);
try { V::create_user(req); print("duplicate|none"); } catch (e) { print(`duplicate|${e.kind}`); }
V::delete_user(name);
print(`after|${V::user_exists(name)}|${V::get_user(name) == ()}`);
"#;
        let out = sim.run(&script(v, "conf_life", body), &[]);
        assert_eq!(out.code, 0, "{}: {}", v.name, out.all());
        assert_eq!(
            lines(&out.stdout),
            vec![
                format!("created|true|true|{}|false", v.name).as_str(),
                "get|true|true",
                "exists|true",
                "ensure|false|false|true",
                "duplicate|already_exists",
                "after|false|true",
            ],
            "{}",
            v.name
        );
        assert!(!sim.has_user(v.name, "conf_life"), "{}", v.name);
        let created = sim.journal_records().iter().any(|r| {
            r["type"] == "outcome"
                && r["vendor"] == v.name
                && r["operation"] == "create_user"
                && r["outcome"] == "created"
        });
        assert!(created, "{}: the create is in the journal", v.name);
    }
}

#[test]
fn a_wrong_credential_is_an_auth_error_for_every_vendor() {
    let sim = Sim::start();
    let config = sim.config_with(|mut text| {
        for secret in sim_secrets() {
            text = text.replace(&format!("\"{secret}\""), "\"wrong-credential-value\"");
        }
        text
    });
    for v in ALL {
        let body = r#"
try { V::user_exists("someone"); print("no error"); } catch (e) { print(`${e.kind}|${e.vendor}`); }
"#;
        let out = sim.run_with_config(&config, &script(v, "x", body), &[]);
        assert_eq!(out.code, 0, "{}: {}", v.name, out.all());
        assert_eq!(out.stdout, format!("auth|{}\n", v.name), "{}", out.all());
        assert!(
            !out.all().contains("wrong-credential-value"),
            "{}",
            out.all()
        );
    }
}

#[test]
fn a_dry_run_changes_nothing_on_any_vendor() {
    let sim = Sim::start();
    let before: Vec<Vec<Json>> = ALL.iter().map(|v| sim.users(v.name)).collect();
    for v in ALL {
        // A vendor whose logins carry a suffix (Identity) adds it, in a dry run too.
        let body =
            r#"let u = V::create_user(req); print(`${u.dry_run}|${u.username.split("@")[0]}`);"#;
        let out = sim.run(&script(v, "conf_dry", body), &["--dry-run"]);
        assert_eq!(out.code, 0, "{}: {}", v.name, out.all());
        assert_eq!(out.stdout, "true|conf_dry\n", "{}", v.name);
        assert!(
            out.stderr.contains("dry run: nothing was sent"),
            "{}",
            out.all()
        );
    }
    let after: Vec<Vec<Json>> = ALL.iter().map(|v| sim.users(v.name)).collect();
    assert_eq!(before, after);
    assert!(
        !std::fs::read_to_string(sim.journal()).is_ok_and(|j| j.contains("conf_dry")),
        "a dry run leaves nothing in the journal"
    );
}

#[test]
fn undo_removes_what_a_run_created_on_every_vendor() {
    let sim = Sim::start();
    for v in ALL {
        let out = sim.run(&script(v, "conf_undo", "V::create_user(req);"), &[]);
        assert_eq!(out.code, 0, "{}: {}", v.name, out.all());
        assert!(sim.has_user(v.name, "conf_undo"), "{}", v.name);
        let out = sim.undo("last", &[]);
        assert_eq!(out.code, 0, "{}: {}", v.name, out.all());
        assert!(
            out.stdout.contains("1 deleted"),
            "{}: {}",
            v.name,
            out.all()
        );
        assert!(!sim.has_user(v.name, "conf_undo"), "{}", v.name);
        // Safe to repeat: the second undo finds it gone.
        let again = sim.undo("last", &[]);
        assert_eq!(again.code, 0, "{}", again.all());
        assert!(!again.stdout.contains("1 deleted"), "{}", again.all());
    }
}

#[test]
fn the_standard_library_asks_every_vendor_by_its_registered_name() {
    let sim = Sim::start();
    for v in ALL {
        let body = r#"
import "std/naming" as naming;
V::create_user(req);
print(naming::taken(name, [VENDOR]));
print(naming::unique_username(name, vendors()));
print(vendors().contains(VENDOR));
"#
        .replace("VENDOR", &format!("\"{}\"", v.name));
        let out = sim.run(&script(v, &format!("conf_{}", v.name), &body), &[]);
        assert_eq!(out.code, 0, "{}: {}", v.name, out.all());
        assert_eq!(
            out.stdout,
            format!("true\nconf_{}2\ntrue\n", v.name),
            "{}",
            v.name
        );
    }
    let out = sim.run(r#"print(user_exists_in("cyberak", "x"));"#, &[]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stderr
            .contains("unknown vendor \"cyberak\"; did you mean \"cyberark\"?"),
        "{}",
        out.all()
    );
}

#[test]
fn every_vendor_grants_reads_and_revokes_each_kind_of_access_it_declares() {
    let sim = Sim::start();
    for v in ALL {
        for (kind, access) in v.access_example {
            let Some(k) = v.access.iter().find(|k| k.key == *kind) else {
                panic!(
                    "{}: access_example names an undeclared kind `{kind}`",
                    v.name
                );
            };
            // Whether the user holds it, read the way the kind reads it.
            let holds = if k.list_fn.is_empty() {
                "true".to_string()
            } else if k.lists_members {
                let parts: Vec<String> = k.target.iter().map(|t| format!("a.{t}")).collect();
                format!(
                    "V::{}({}).map(|m| m.name).contains(u.username)",
                    k.list_fn,
                    parts.join(", ")
                )
            } else {
                format!(
                    "V::{}(u).map(|g| g.name).contains(a.{})",
                    k.list_fn,
                    k.data_key()
                )
            };
            let gone = if k.list_fn.is_empty() {
                "false".to_string()
            } else {
                holds.clone()
            };
            let body = format!(
                r#"
let a = {access};
let u = V::create_user(req);
print(V::grant(u, a).changed);
print({holds});
print(V::grant(u, a).changed);
print(V::revoke(u, a).changed);
print({gone});
"#
            );
            let name = format!("conf_{}_{kind}", v.name);
            let out = sim.run(&script(v, &name, &body), &[]);
            assert_eq!(out.code, 0, "{} {kind}: {}", v.name, out.all());
            // A vendor that cannot read the access (no list function) sends every grant.
            let again = k.list_fn.is_empty();
            assert_eq!(
                out.stdout,
                format!("true\ntrue\n{again}\ntrue\nfalse\n"),
                "{} {kind}",
                v.name
            );
            let undo = sim.undo("last", &[]);
            assert_eq!(undo.code, 0, "{}", undo.all());
            assert!(!sim.has_user(v.name, &name), "{}", undo.all());
        }
    }
}

#[test]
fn every_vendor_switches_each_state_it_declares_off_and_on_once() {
    let sim = Sim::start();
    for v in ALL {
        for state in v.states {
            let body = format!(
                r#"
let u = V::create_user(req);
print(V::{off}(u).changed);
print(V::{off}(u).changed);
print(V::{on}(u).changed);
print(V::{on}(u).changed);
"#,
                off = state.revoke_fn,
                on = state.grant_fn,
            );
            let name = format!("conf_{}_{}", v.name, state.key);
            let out = sim.run(&script(v, &name, &body), &[]);
            assert_eq!(out.code, 0, "{} {}: {}", v.name, state.key, out.all());
            assert_eq!(
                out.stdout, "true\nfalse\ntrue\nfalse\n",
                "{} {}",
                v.name, state.key
            );
            let undo = sim.undo("last", &[]);
            assert_eq!(undo.code, 0, "{}", undo.all());
            assert!(!sim.has_user(v.name, &name), "{}", undo.all());
        }
    }
}
