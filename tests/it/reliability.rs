//! Nothing lost, nothing duplicated: faults, lost answers, rollback, dry runs, Ctrl-C.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::Value as Json;

use crate::common::{
    Sim, fast, interrupt, journal_outcomes, kill, many_people_script, onboard, output, sim_people,
    spawn_run,
};

const PEOPLE: usize = 24;

#[test]
fn many_creates_under_faults_end_created_once_or_reported_failed() {
    let sim = Sim::with(&[
        "--fail-every",
        "13",
        "--drop-every",
        "5",
        "--stall-every",
        "17",
        "--stall-ms",
        "1500",
        "--garbage-every",
        "29",
    ]);
    let config = sim.config_with(fast);
    let out = sim.run_with_config(&config, &many_people_script(PEOPLE), &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    // A stalled request is logged when its late answer goes out.
    std::thread::sleep(Duration::from_millis(1600));

    let in_sim = sim_people(&sim);
    let created = journal_outcomes(&sim, "created");
    let failed = journal_outcomes(&sim, "failed");
    let unknown = journal_outcomes(&sim, "unknown");
    let reported: BTreeSet<(String, String)> = out
        .stdout
        .lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace().skip(1);
            Some((w.next()?.to_string(), w.next()?.to_string()))
        })
        .collect();
    // Every account the journal says was created exists, once; nothing exists that the
    // journal does not know of; every failure was reported to the script and left nothing.
    assert!(
        created.is_subset(&in_sim),
        "created but missing: {:?}",
        created.difference(&in_sim).collect::<Vec<_>>()
    );
    let known: BTreeSet<_> = created.union(&unknown).cloned().collect();
    assert!(
        in_sim.is_subset(&known),
        "orphans: {:?}",
        in_sim.difference(&known).collect::<Vec<_>>()
    );
    assert!(
        failed.is_disjoint(&in_sim),
        "reported failed but exists: {:?}",
        failed.intersection(&in_sim).collect::<Vec<_>>()
    );
    assert_eq!(
        failed.union(&unknown).cloned().collect::<BTreeSet<_>>(),
        reported,
        "{}",
        out.stdout
    );
    assert_eq!(created.len() + failed.len() + unknown.len(), PEOPLE * 3);
    // The faults happened, and the lost answers were reconciled rather than re-sent.
    let log = sim.log();
    for fault in ["drop", "stall", "fail", "garbage"] {
        assert!(
            log.iter().any(|e| e["fault"] == fault),
            "no {fault} was injected"
        );
    }
    assert!(sim.journal_records().iter().any(|r| {
        r["note"]
            .as_str()
            .is_some_and(|n| n.contains("found by lookup"))
    }));
    assert!(
        created.len() >= PEOPLE * 3 * 3 / 4,
        "too few created: {}",
        created.len()
    );
}

#[test]
fn a_timeout_after_the_server_created_the_user_is_reconciled_without_a_duplicate() {
    let sim = Sim::with(&["--stall-every", "2", "--stall-ms", "1500"]);
    let config = sim.config_with(fast);
    let out = sim.run_with_config(
        &config,
        r#"for i in 1..4 { pam360::create_user(#{ username: `t${i}`, first_name: "T", last_name: "T", email: "t@example.com" }); }"#,
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    std::thread::sleep(Duration::from_millis(1600));
    let names: Vec<String> = sim
        .users("pam360")
        .iter()
        .map(|u| u["USERNAME"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        names.iter().filter(|n| n.starts_with('t')).count(),
        3,
        "{names:?}"
    );
    let log = sim.log();
    let creates = log.iter().filter(|e| e["method"] == "POST").count();
    assert_eq!(creates, 3, "a create was sent twice: {log:?}");
    // PAM360 looks users up by name and answers with the id alone: nothing to match.
    assert!(
        out.stderr.contains(
            "answer lost (timeout); a user of that name exists, but pam360 reports nothing to match"
        ),
        "{}",
        out.stderr
    );
}

#[test]
fn a_delete_whose_answer_was_lost_counts_as_deleted() {
    // Requests: 1 create, 2 lookup, 3 DELETE (carried out, then cut), 4 DELETE again: not found.
    let sim = Sim::with(&["--drop-every", "3"]);
    let out = sim.run(
        r#"pam360::create_user(#{ username: "d1", first_name: "D", last_name: "D", email: "d@example.com" });
           pam360::delete_user("d1");
           print(pam360::user_exists("d1"));"#,
        &[],
    );
    assert_eq!(out.stdout, "false\n", "{}", out.all());
    assert!(
        sim.log()
            .iter()
            .any(|e| e["fault"] == "drop" && e["method"] == "DELETE")
    );
    assert_eq!(journal_outcomes(&sim, "deleted").len(), 1);
}

pub const THREE: &str = r#"
cyberark::create_user(#{ username: "rb", initial_password: random_password(20) });
pam360::create_user(#{ username: "rb", first_name: "R", last_name: "B", email: "rb@example.com" });
appmanager::create_user(#{ username: "rb", role: "USER", password: random_password(16), email: "rb@example.com" });
"#;

fn bad_apikey(t: String) -> String {
    t.replace("d1b6c9a0e3f54a7e8c2b9f10a4d6e8c3", "wrong-key-000000")
}

#[test]
fn rollback_on_error_deletes_what_the_run_created_newest_first() {
    let sim = Sim::start();
    let config = sim.config_with(bad_apikey);
    let out = sim.run_with_config(&config, THREE, &["--rollback-on-error"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stderr.contains("appmanager::create_user failed (auth"),
        "{}",
        out.stderr
    );
    assert!(!sim.has_user("cyberark", "rb"));
    assert!(!sim.has_user("pam360", "rb"));
    let deleted: Vec<String> = sim
        .journal_records()
        .into_iter()
        .filter(|r| {
            r["type"] == "outcome" && r["operation"] == "rollback" && r["outcome"] == "deleted"
        })
        .map(|r| r["vendor"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(deleted, ["pam360", "cyberark"], "newest first");
    let deleted_lines: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.trim_start().starts_with("deleted ") && l.contains(" rb "))
        .map(|l| l.split_whitespace().nth(1).unwrap_or_default())
        .collect();
    assert_eq!(deleted_lines[..2], ["pam360", "cyberark"], "{}", out.stderr);
    // The journal says nothing is left.
    let shown = output(
        onboard()
            .args(["--journal"])
            .arg(sim.journal())
            .args(["journal", "last"]),
    );
    assert!(
        shown.stdout.contains("removed by rollback"),
        "{}",
        shown.stdout
    );
    assert!(!shown.stdout.contains("onboard undo"), "{}", shown.stdout);
}

#[test]
fn without_rollback_an_error_leaves_the_accounts_and_says_how_to_undo() {
    let sim = Sim::start();
    let config = sim.config_with(bad_apikey);
    let out = sim.run_with_config(&config, THREE, &[]);
    assert_eq!(out.code, 1);
    assert!(sim.has_user("cyberark", "rb") && sim.has_user("pam360", "rb"));
    assert!(out.stderr.contains("onboard undo "), "{}", out.stderr);
}

#[test]
fn rollback_on_error_can_be_the_profiles_default() {
    let sim = Sim::start();
    let config = sim.config_with(|t| {
        format!(
            "{}\n[profiles.sim]\nrollback_on_error = true\n",
            bad_apikey(t)
        )
    });
    let out = sim.run_with_config(&config, THREE, &[]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(!sim.has_user("cyberark", "rb") && !sim.has_user("pam360", "rb"));
}

#[test]
fn a_script_can_roll_back_itself_in_a_catch() {
    let sim = Sim::start();
    let config = sim.config_with(bad_apikey);
    let out = sim.run_with_config(
        &config,
        &format!(
            r#"try {{ {THREE} }} catch (e) {{
                let steps = rollback();
                for s in steps {{ print(`${{s.result}} ${{s.vendor}} ${{s.username}}`); }}
                print(rollback().len());
            }}"#
        ),
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(out.stdout, "deleted pam360 rb\ndeleted cyberark rb\n0\n");
}

#[test]
fn dry_run_sends_no_change_and_prints_the_plan() {
    let sim = Sim::start();
    let script = format!(
        "{THREE}\nlet again = pam360::get_user(\"rb\");\nprint(`${{again.dry_run}} ${{again.id}}`);\ncyberark::delete_user(\"rb\");"
    );
    let out = sim.run(&script, &["--dry-run"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(out.stdout, "true -2\n");
    let log = sim.log();
    for e in &log {
        let path = e["path"].as_str().unwrap();
        let read_only =
            e["method"] == "GET" || path.ends_with("/Logon") || path.ends_with("/Logoff");
        assert!(read_only, "a state-changing request was sent: {e}");
    }
    assert!(
        out.stderr.contains("dry run: nothing was sent. The plan:"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("create  cyberark   rb"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("\"initial_password\":\"********\""),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("delete  cyberark   rb"),
        "{}",
        out.stderr
    );
    assert!(!sim.has_user("pam360", "rb"));
    assert!(
        sim.journal_records().is_empty(),
        "a dry run leaves nothing in the journal"
    );
}

#[test]
fn offline_dry_run_sends_nothing_at_all_and_needs_no_config() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("s.rhai");
    std::fs::write(
        &script,
        format!("{THREE}\nprint(cyberark::user_exists(\"rb\"));"),
    )
    .unwrap();
    let out = output(
        onboard()
            .current_dir(dir.path())
            .arg("run")
            .arg(&script)
            .args(["--dry-run", "--offline", "--json"]),
    );
    assert_eq!(out.code, 0, "{}", out.all());
    let doc: Json = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(doc["plan"].as_array().unwrap().len(), 3);
    assert_eq!(doc["plan"][2]["fields"]["password"], "********");
    assert!(
        out.stderr.contains("true"),
        "planned users exist for later lookups: {}",
        out.stderr
    );
}

#[test]
fn ctrl_c_during_a_slow_call_exits_130_within_a_second_with_a_complete_journal() {
    let sim = Sim::with(&["--latency-ms", "4000"]);
    let (code, took, stderr) = interrupt(
        &sim,
        r#"pam360::create_user(#{ username: "slow", first_name: "S", last_name: "L", email: "s@example.com" }); print("never");"#,
        "-INT",
        Duration::from_millis(600),
    );
    assert_eq!(code, 130, "{stderr}");
    assert!(took < Duration::from_secs(1), "took {took:?}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    let records = sim.journal_records();
    let kinds: Vec<&str> = records
        .iter()
        .map(|r| r["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["run", "intent", "outcome", "end"], "{records:?}");
    assert_eq!(records[2]["outcome"], "unknown");
    assert_eq!(records[3]["exit_code"], 130);

    // The request never got past the simulator's latency: undo finds nothing, which counts.
    let run = records[0]["run"].as_str().unwrap().to_string();
    let out = sim.undo(&run, &[]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("1 already gone"), "{}", out.stdout);
}

#[test]
fn sigterm_stops_an_endless_loop_and_cyberark_is_logged_off() {
    let sim = Sim::start();
    let (code, took, stderr) = interrupt(
        &sim,
        r#"cyberark::user_exists("a"); let i = 0; loop { i += 1; }"#,
        "-TERM",
        Duration::from_millis(800),
    );
    assert_eq!(code, 130, "{stderr}");
    assert!(took < Duration::from_secs(1), "took {took:?}");
    let log = sim.log();
    assert!(
        log.last().unwrap()["path"]
            .as_str()
            .unwrap()
            .ends_with("/Auth/Logoff"),
        "{log:?}"
    );
}

#[test]
fn a_second_ctrl_c_exits_at_once() {
    // Every answer takes 4 s, so after the first Ctrl-C the logoff is still waiting when the
    // second one comes.
    let sim = Sim::with(&["--latency-ms", "4000"]);
    let child = spawn_run(&sim, r#"cyberark::user_exists("a");"#);
    // After 4.5 s the logon is done and the lookup is waiting; interrupting it makes onboard
    // log off, which waits on the slow simulator when the second Ctrl-C comes.
    std::thread::sleep(Duration::from_millis(4500));
    for _ in 0..2 {
        kill(&child, "-INT");
        std::thread::sleep(Duration::from_millis(150));
    }
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains("interrupted again; exiting now"),
        "{stderr}"
    );
}

#[test]
fn a_create_answered_500_is_looked_up_first_and_retried_only_when_it_did_not_happen() {
    // Every create carried out then answered with the vendor's bare 500, as IIS does under load.
    let applied = Sim::with(&["--botch-every", "1", "--botch", "500"]);
    let config = applied.config_with(fast);
    let out = applied.run_with_config(
        &config,
        r#"print(cyberark::create_user(#{ username: "iis", initial_password: random_password(20) }).created);"#,
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(out.stdout, "true\n");
    let posts = |sim: &Sim| {
        sim.log()
            .iter()
            .filter(|r| r["method"] == "POST" && r["path"] == "/PasswordVault/API/Users")
            .count()
    };
    assert_eq!(posts(&applied), 1, "found by lookup, not sent again");
    // A 500 that changed nothing (every third request fails: the create, after a lookup):
    // looked up, not there, tried again.
    const CREATE: &str = r#"cyberark::user_exists("iis");
print(cyberark::create_user(#{ username: "iis", initial_password: random_password(20) }).created);"#;
    let refused = Sim::with(&["--fail-every", "3"]);
    let config = refused.config_with(fast);
    let out = refused.run_with_config(&config, CREATE, &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(refused.has_user("cyberark", "iis"));
    assert_eq!(posts(&refused), 2, "{:#?}", refused.log());
    let retries = refused
        .journal_records()
        .into_iter()
        .filter(|r| r["type"] == "retry")
        .count();
    assert_eq!(retries, 1, "each attempt is journaled");
    // A profile that retries only 503 leaves a 500 alone.
    let only_503 = Sim::with(&["--fail-every", "3"]);
    let config = only_503.config_with(|t| {
        fast(t).replace("max_delay_ms = 200", "max_delay_ms = 200\nstatuses = [503]")
    });
    let out = only_503.run_with_config(&config, CREATE, &[]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.stderr.contains("server, HTTP 500"), "{}", out.all());
    assert_eq!(posts(&only_503), 1);
}

#[test]
fn after_a_429_the_run_keeps_to_the_rate_the_vendor_took() {
    // 300 creates against a limit of 100 a second, 8 at a time. Sending at will, each second's
    // window would refuse every job's next request (about 8 a second, 20 or more in all). Paced
    // at what the vendor took, only the requests in flight at the first 429 are refused.
    let sim = Sim::with(&["--rate-limit", "100"]);
    let people = sim.people("paced", 300);
    let out = sim.run(
        r#"pam360::create_user(#{ username: row.username, first_name: "P", last_name: "Aced", email: row.email });"#,
        &["--each", people.to_str().unwrap(), "--jobs", "8", "--quiet"],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    let made = sim
        .users("pam360")
        .iter()
        .filter(|u| u.to_string().contains("paced"))
        .count();
    assert_eq!(made, 300, "{}", out.all());
    let refused = sim
        .log()
        .iter()
        .filter(|e| e["fault"] == "rate_limit")
        .count();
    assert!(refused <= 8 + 2, "{refused} requests refused with 429");
}

/// A bulk run's rows wait for their calls side by side on a few threads: Ctrl-C ends every wait
/// at once, each row in flight is journaled with an unknown outcome, and no row starts after.
#[test]
fn ctrl_c_during_a_bulk_run_ends_every_waiting_row_within_a_second() {
    let sim = Sim::with(&["--latency-ms", "4000"]);
    let csv = sim.people("p", 12);
    let script = sim.script(
        r#"pam360::create_user(#{ username: row.username, first_name: "S", last_name: "L", email: row.email });"#,
    );
    let child = sim
        .run_command(&script)
        .args(["--each", csv.to_str().unwrap(), "--jobs", "4", "--quiet"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(800));
    let sent = std::time::Instant::now();
    crate::common::kill(&child, "-INT");
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(
        sent.elapsed() < Duration::from_secs(1),
        "took {:?}",
        sent.elapsed()
    );
    let records = sim.journal_records();
    let intents = records.iter().filter(|r| r["type"] == "intent").count();
    let unknown = records
        .iter()
        .filter(|r| r["type"] == "outcome" && r["outcome"] == "unknown")
        .count();
    assert_eq!((intents, unknown), (4, 4), "{records:?}");
}
