//! `onboard repl`: statements from a pipe, and a real pseudo-terminal for completion, Ctrl-C and
//! history.

use std::path::Path;
use std::time::{Duration, Instant};

use rexpect::session::PtySession;

use crate::common::{Output, Sim, onboard, onboard_std, output};

/// The REPL fed `input` on stdin.
fn piped(args: &[&str], input: &str) -> Output {
    output(
        onboard()
            .arg("repl")
            .args(args)
            .write_stdin(input.to_string()),
    )
}

#[test]
fn piped_statements_keep_their_scope_and_functions() {
    let out = piped(
        &[],
        "fn greet(name) {\n    `hello ${name}`\n}\nlet who = \"ops\";\ngreet(who)\n\
         #{ team: \"NOC\", ids: [1, 2, 3] }\n",
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("\"hello ops\""), "{}", out.stdout);
    assert!(
        out.stdout.contains("#{ids: [1, 2, 3], team: \"NOC\"}"),
        "{}",
        out.stdout
    );
}

#[test]
fn a_failing_line_does_not_end_the_session() {
    let out = piped(
        &[],
        "let total = nosuch + 1;\nthrow \"boom\";\nlet total = 40 + 2;\ntotal\n:vars\n",
    );
    // A statement failed, so the exit code says so; every later line still ran.
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stderr.contains("variable `nosuch` is not defined"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("in[1]:1:13"), "{}", out.stderr);
    assert!(
        out.stderr.contains("the script threw: boom"),
        "{}",
        out.stderr
    );
    assert!(out.stdout.contains("42"), "{}", out.stdout);
    assert!(out.stdout.contains("let total = 42"), "{}", out.stdout);
}

#[test]
fn help_commands_and_their_mistakes() {
    let out = piped(
        &[],
        ":help\n:help cyberark::create_user\n:fns\n:hlep\n:help cyberark::craete_user\n",
    );
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.stdout.contains(":journal"), "{}", out.stdout);
    assert!(out.stdout.contains("cyberark::"), "{}", out.stdout);
    assert!(out.stdout.contains("personal_details"), "{}", out.stdout);
    assert!(
        out.stdout.contains("personal_details.first_name"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("no functions yet"), "{}", out.stdout);
    assert!(
        out.stderr
            .contains("unknown command `:hlep`; did you mean `:help`?"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("did you mean `cyberark::create_user`?"),
        "{}",
        out.stderr
    );
}

#[test]
fn on_the_simulator_the_journal_lists_what_the_session_created() {
    let out = piped(
        &["--sim"],
        "let u = cyberark::create_user(#{ username: \"jdoe\", initial_password: random_password(20),\n\
         \x20   first_name: \"Jane\", last_name: \"Doe\" });\nu.id\n\
         cyberark::create_user(#{ username: \"x\", frist_name: \"A\" })\n:journal\n",
    );
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.stdout.contains("100"), "{}", out.stdout);
    assert!(
        out.stderr.contains("did you mean `first_name`?"),
        "{}",
        out.stderr
    );
    let journal = out
        .stdout
        .split("what this session changed:")
        .nth(1)
        .unwrap_or_default();
    assert!(
        journal.contains("created cyberark   jdoe"),
        "{}",
        out.stdout
    );
    assert!(!journal.contains(" x "), "{}", out.stdout);
}

#[test]
fn dry_run_and_switching_modes() {
    let out = piped(
        &["--sim", "--dry-run"],
        "let u = appmanager::create_user(#{ username: \"planned\", role: \"OPERATOR\", \
         password: random_password(16), email: \"p@example.com\" });\nu.dry_run\n:journal\n\
         :dry-run off\nappmanager::create_user(#{ username: \"real\", role: \"OPERATOR\", \
         password: random_password(16), email: \"r@example.com\" }).created\n:journal\n:sim maybe\n",
    );
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.stdout.contains("true\n"), "{}", out.stdout);
    assert!(
        out.stdout.contains("create  appmanager planned"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("now on the built-in simulator"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("created appmanager real"),
        "{}",
        out.stdout
    );
    assert!(
        out.stderr.contains(":sim takes `on` or `off`"),
        "{}",
        out.stderr
    );
}

#[test]
fn load_runs_a_file_into_the_session_and_errors_point_into_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let lib = dir.path().join("lib.rhai");
    std::fs::write(&lib, "fn double(x) { x * 2 }\nlet loaded = true;\n").expect("write");
    let bad = dir.path().join("bad.rhai");
    std::fs::write(&bad, "let a = 1;\nlet b = a +;\n").expect("write");
    let out = piped(
        &[],
        &format!(
            ":load {}\ndouble(21)\nloaded\n:load {}\n:load {}\n",
            lib.display(),
            bad.display(),
            dir.path().join("missing.rhai").display()
        ),
    );
    assert!(out.stdout.contains("42\ntrue"), "{}", out.all());
    assert!(
        out.stderr.contains(&format!("{}:2:", bad.display())),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("cannot read"), "{}", out.stderr);
}

#[test]
fn without_a_profile_a_vendor_call_says_what_to_do() {
    let out = piped(
        &[],
        "cyberark::get_user(\"jdoe\")\n:sim on\ncyberark::user_exists(\"jdoe\")\n",
    );
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.stderr.contains(":sim on"), "{}", out.stderr);
    assert!(out.stdout.contains("false"), "{}", out.stdout);
}

#[test]
fn an_unfinished_statement_at_the_end_of_input_is_an_error() {
    let out = piped(&[], "let x = 1;\nfn broken() {\n  x\n");
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stderr
            .contains("ended inside the statement that starts on line 2"),
        "{}",
        out.stderr
    );
}

/// Type at the terminal (rexpect buffers what is sent until a flush).
fn keys(p: &mut PtySession, text: &str) {
    p.send(text).expect("send to the pty");
    p.flush().expect("flush to the pty");
}

/// The REPL in a pseudo-terminal, as a person at a keyboard has it.
fn terminal(args: &[&str], state: &Path) -> PtySession {
    let mut cmd = onboard_std();
    cmd.env("TERM", "xterm")
        .env("XDG_STATE_HOME", state)
        .arg("repl")
        .args(args);
    rexpect::session::spawn_command(cmd, Some(15_000)).expect("the REPL starts in a pty")
}

#[test]
fn tab_completes_namespaces_functions_and_request_keys() {
    let state = tempfile::tempdir().expect("temp dir");
    let mut p = terminal(&["--sim"], state.path());
    p.exp_string("onboard (sim)> ").expect("prompt");
    keys(&mut p, "cya\t");
    p.exp_string("cyberark::").expect("the namespace completes");
    keys(&mut p, "cr\t");
    p.exp_string("create_user(")
        .expect("the function completes");
    keys(&mut p, "#{ pers\t");
    p.exp_string("personal_details")
        .expect("the request key completes");
    p.send_control('u').expect("clear the line");
    keys(&mut p, "appmanager::create_user(#{ role: \"OP\t");
    p.exp_string("OPERATOR\"")
        .expect("the enum value completes");
    p.send_control('u').expect("clear the line");
    keys(&mut p, ":he\t");
    p.exp_string(":help").expect("commands complete");
    p.send_control('u').expect("clear the line");
    p.send_control('d').expect("Ctrl-D");
    p.exp_eof().expect("Ctrl-D quits");
}

#[test]
fn ctrl_c_cancels_a_slow_call_and_returns_to_the_prompt() {
    let sim = Sim::with(&["--latency-ms", "5000"]);
    let config = sim.config();
    let state = tempfile::tempdir().expect("temp dir");
    let config = config.display().to_string();
    let journal = sim.journal().display().to_string();
    let mut p = terminal(&["--config", &config, "--journal", &journal], state.path());
    p.exp_string("onboard (sim)> ").expect("prompt");
    // Ctrl-C at the prompt drops what was typed.
    keys(&mut p, "half typed");
    p.send_control('c').expect("Ctrl-C");
    p.exp_string("onboard (sim)> ").expect("a fresh prompt");
    p.send_line("cyberark::get_user(\"slow\")").expect("send");
    std::thread::sleep(Duration::from_millis(700));
    let pressed = Instant::now();
    p.send_control('c').expect("Ctrl-C");
    p.exp_string("interrupted")
        .expect("the call is interrupted");
    p.exp_string("onboard (sim)> ").expect("back at the prompt");
    let took = pressed.elapsed();
    assert!(took < Duration::from_secs(2), "took {took:?}");
    // The session goes on.
    p.send_line("6 * 7").expect("send");
    p.exp_string("42").expect("the next statement runs");
    p.send_control('d').expect("Ctrl-D");
    p.exp_eof().expect("Ctrl-D quits");
}

#[test]
fn history_is_shared_and_keeps_secrets_out() {
    let state = tempfile::tempdir().expect("temp dir");
    let mut p = terminal(&[], state.path());
    p.exp_string("onboard> ").expect("prompt");
    // Each line ends with a sum, so its answer shows when the line has run.
    p.send_line("let kept_line = 1; 1000 + 1").expect("send");
    p.exp_string("1001").expect("ran");
    p.send_line("let hidden = secret(\"Zq-Hist-Secret-1\"); 1000 + 2")
        .expect("send");
    p.exp_string("1002").expect("ran");
    p.send_line("let api_key = \"Zq-Hist-Secret-2\"; 1000 + 3")
        .expect("send");
    p.exp_string("1003").expect("ran");
    for (n, line) in [
        "let pw = \"Zq-Hist-Secret-3\";",
        "let m = #{}; m[\"password\"] = \"Zq-Hist-Secret-4\";",
        "let t = #{ pass: (\"Zq-Hist-Secret-5\") };",
        "let pin = \"Zq-Hist-Secret-6\";",
        "let bearer = \"Zq-Hist-Secret-7\";",
        "let auth = \"Zq-Hist-Secret-8\";",
        "let passphrase = \"Zq-Hist-Secret-9\";",
        "let x = \"Zq-Hist-Secret-10\"; let req = #{ initial_password: x };",
    ]
    .iter()
    .enumerate()
    {
        // The answer is not in the line typed, so it shows only once the line has run.
        keys(&mut p, &format!("{line} 2000 + {n}\r"));
        p.exp_string(&format!("\n{}", 2000 + n)).expect("ran");
    }
    p.send_control('d').expect("Ctrl-D");
    p.exp_eof().expect("Ctrl-D quits");
    let history = std::fs::read_to_string(state.path().join("onboard/repl_history"))
        .expect("the history file is written");
    assert!(history.contains("let kept_line = 1; 1000 + 1"), "{history}");
    assert!(!history.contains("Zq-Hist-Secret"), "{history}");
    // A second session sees the first one's history: Up brings the line back.
    let mut p = terminal(&[], state.path());
    p.exp_string("onboard> ").expect("prompt");
    keys(&mut p, "\x1b[A");
    p.exp_string("let kept_line = 1; 1000 + 1")
        .expect("history from the last session");
    p.send_control('u').expect("clear");
    p.send_control('d').expect("Ctrl-D");
    p.exp_eof().expect("Ctrl-D quits");
}

#[test]
fn imports_stay_in_force_until_clear() {
    let out = piped(
        &[],
        "import \"std/naming\" as naming;\nnaming::username(\"Zoë\", \"Ng\")\n:clear\nnaming::username(\"A\", \"B\")\n",
    );
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.stdout.contains("\"zoe.ng\""), "{}", out.all());
    assert!(out.stderr.contains("in[3]:1:1"), "{}", out.stderr);
}
