//! Removing what a run created: `rollback()` and `--rollback-on-error` during a run, `onboard undo`
//! after it; and `onboard journal`, which shows what each run left behind.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use rhai::{Array, Dynamic, Engine, FuncRegistration, Map};
use serde::Serialize;
use serde_json::json;

use crate::app::{EXIT_INPUT, EXIT_OK, EXIT_RUNTIME};
use crate::cli::{JournalArgs, UndoArgs};
use crate::config::{self, Config};
use crate::journal::{self, Event, Journal, Outcome, RunInfo, RunSummary, State};
use crate::session::{CallError, Mode, Session};
use crate::vendors::{self, Ops};

/// An account to remove.
pub struct Target {
    pub vendor: &'static str,
    pub username: String,
    /// The id it was created with; a user of that name with another id is not ours.
    pub id: Option<i64>,
    pub ops: Result<Arc<dyn Ops>, String>,
}

/// What removing one account came to.
#[derive(Clone, Debug, Serialize)]
pub struct Step {
    pub vendor: &'static str,
    pub username: String,
    pub id: Option<i64>,
    /// `deleted`, `already_gone`, `not_ours`, `would_delete`, `failed`, `interrupted`.
    pub result: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl Step {
    fn failed(&self) -> bool {
        matches!(self.result, "failed" | "interrupted")
    }

    fn line(&self) -> String {
        let id = self.id.map(|i| format!("id {i}")).unwrap_or_default();
        let what = self.result.replace('_', " ");
        let msg = self
            .message
            .as_ref()
            .map(|m| format!(": {m}"))
            .unwrap_or_default();
        format!(
            "  {what:<13} {:<10} {:<24} {id}{msg}",
            self.vendor, self.username
        )
    }

    fn to_map(&self) -> Map {
        let mut m = Map::new();
        m.insert("vendor".into(), self.vendor.into());
        m.insert("username".into(), self.username.clone().into());
        m.insert(
            "id".into(),
            self.id.map_or(Dynamic::UNIT, Dynamic::from_int),
        );
        m.insert("result".into(), self.result.into());
        m.insert(
            "message".into(),
            self.message.clone().map_or(Dynamic::UNIT, Dynamic::from),
        );
        m
    }
}

/// Remove accounts in the order given (newest first), each looked up first: one already gone
/// counts as removed, one whose name now belongs to another id is left alone.
pub fn remove(session: &Session, operation: &'static str, targets: Vec<Target>) -> Vec<Step> {
    let mut steps = Vec::new();
    for t in targets {
        let mut step = Step {
            vendor: t.vendor,
            username: t.username.clone(),
            id: t.id,
            result: "failed",
            message: None,
        };
        if session.cancel.is_cancelled() {
            step.result = "interrupted";
            steps.push(step);
            continue;
        }
        let ops = match t.ops {
            Ok(ops) => ops,
            Err(e) => {
                step.message = Some(e);
                steps.push(step);
                continue;
            }
        };
        let found = if session.mode.dry_run && session.mode.offline {
            Ok(t.id)
        } else {
            session.retrying(t.vendor, operation, &t.username, None, || {
                let (ops, name) = (ops.clone(), t.username.clone());
                async move { ops.find(&name).await }
            })
        };
        match found {
            Err(e) => step.message = Some(call_message(e)),
            Ok(None) => {
                step.result = "already_gone";
                if !session.mode.dry_run {
                    session.journal.outcome(
                        None,
                        with_id(
                            Event::new(t.vendor, operation, &t.username, Outcome::Deleted),
                            t.id,
                        )
                        .note("already gone"),
                    );
                }
            }
            Ok(Some(found)) if t.id.is_some_and(|id| id != found) => {
                step.result = "not_ours";
                step.message = Some(format!(
                    "a user of that name now has id {found}; it was left alone"
                ));
            }
            Ok(Some(found)) if session.mode.dry_run => {
                step.id = Some(found);
                step.result = "would_delete";
            }
            Ok(Some(found)) => {
                step.id = Some(found);
                match session.journalled_delete(t.vendor, operation, found, &t.username, || {
                    let (ops, name) = (ops.clone(), t.username.clone());
                    async move { ops.delete(found, &name).await }
                }) {
                    Ok(()) => step.result = "deleted",
                    Err(CallError::Interrupted) => step.result = "interrupted",
                    Err(e) => step.message = Some(call_message(e)),
                }
            }
        }
        steps.push(step);
    }
    steps
}

fn with_id(event: Event, id: Option<i64>) -> Event {
    match id {
        Some(i) => event.id(i),
        None => event,
    }
}

fn call_message(e: CallError) -> String {
    match e {
        CallError::Vendor(v) => v.to_string(),
        CallError::Interrupted => "interrupted".into(),
        CallError::Setup(m) => m,
    }
}

/// Delete everything this run created and has not deleted, newest first.
pub fn rollback(session: &Session) -> Vec<Step> {
    let targets = session
        .take_created()
        .into_iter()
        .rev()
        .map(|a| Target {
            vendor: a.vendor,
            username: a.username,
            id: Some(a.id),
            ops: Ok(a.ops),
        })
        .collect();
    remove(session, "rollback", targets)
}

/// Print rollback steps on stderr.
pub fn report(title: &str, steps: &[Step]) {
    let mut out = format!("{title}\n");
    for s in steps {
        out.push_str(&s.line());
        out.push('\n');
    }
    let _ = write!(std::io::stderr().lock(), "{out}");
}

/// `rollback()`, for a script's `catch`.
pub fn register(engine: &mut Engine, session: &Arc<Session>) {
    let session = session.clone();
    FuncRegistration::new("rollback")
        .with_volatility(true)
        .with_params_info(["Array"])
        .with_comments([
            "/// Delete every account this run has created so far, newest first, and return what\n\
             /// happened to each: an array of #{ vendor, username, id, result, message }, where\n\
             /// result is deleted, already_gone, not_ours, would_delete (dry run) or failed.",
        ])
        .register_into_engine(engine, move || -> Array {
            let steps = rollback(&session);
            report("onboard: rollback", &steps);
            steps
                .iter()
                .map(|s| Dynamic::from_map(s.to_map()))
                .collect()
        });
}

fn eprint_error(message: impl std::fmt::Display) {
    let _ = writeln!(std::io::stderr().lock(), "error: {message}");
}

fn load_runs(journal_path: Option<&Path>) -> Result<(std::path::PathBuf, Vec<RunSummary>), String> {
    let path = journal::choose_path(journal_path)?;
    let records = journal::read(&path)?;
    Ok((path, journal::summarize(&records)))
}

/// `onboard undo RUN_ID`.
pub fn undo(config_path: Option<&Path>, journal_path: Option<&Path>, args: &UndoArgs) -> u8 {
    let (path, runs) = match load_runs(journal_path) {
        Ok(r) => r,
        Err(e) => {
            eprint_error(e);
            return EXIT_INPUT;
        }
    };
    let run = match journal::find_run(&runs, &args.run) {
        Ok(r) => r.clone(),
        Err(e) => {
            eprint_error(format!("{e} (journal: {})", path.display()));
            return EXIT_INPUT;
        }
    };
    if run.command != "run" {
        eprint_error(format!(
            "{} is an undo, not a run; give the run it undid",
            run.run
        ));
        return EXIT_INPUT;
    }
    let pending: Vec<_> = run
        .accounts
        .iter()
        .rev()
        .filter(|a| matches!(a.state, State::Exists | State::InFlight))
        .cloned()
        .collect();
    if run.simulated {
        println!(
            "run {} was made against the built-in simulator (--sim), which kept nothing after it ended: nothing to undo",
            run.run
        );
        return EXIT_OK;
    }
    if pending.is_empty() {
        println!("nothing to undo: run {} left no account behind", run.run);
        return EXIT_OK;
    }
    let profile_name = args.profile.clone().or(run.profile.clone());
    let profile = match config::locate(config_path)
        .and_then(|p| {
            p.ok_or_else(|| config::ConfigError {
                at: None,
                message: format!(
                    "no onboard.toml was found (looked in {})",
                    config::searched_places()
                ),
            })
        })
        .and_then(|p| Config::load(&p))
        .and_then(|c| c.select(profile_name.as_deref()).cloned())
    {
        Ok(p) => p,
        Err(e) => {
            eprint_error(format!("undo needs the profile run {} used: {e}", run.run));
            return EXIT_INPUT;
        }
    };
    let io = crate::io::Io::new();
    if let Err(e) = io.runtime() {
        eprint_error(e);
        return EXIT_RUNTIME;
    }
    let journal = if args.dry_run {
        Journal::memory()
    } else {
        match Journal::open(
            &path,
            RunInfo {
                command: "undo",
                script: run.script.clone(),
                profile: Some(profile.name.clone()),
                simulated: false,
                undo_of: Some(run.run.clone()),
            },
        ) {
            Ok(j) => j,
            Err(e) => {
                eprint_error(e);
                return EXIT_INPUT;
            }
        }
    };
    let mode = Mode {
        dry_run: args.dry_run,
        offline: false,
    };
    let session = Session::new(Some(io), Some(profile), journal, mode);
    let targets = pending
        .into_iter()
        .map(|a| {
            let vendor = vendors::find(&a.vendor);
            Target {
                vendor: vendor.map_or("?", |v| v.name),
                username: a.username,
                id: a.id,
                ops: match vendor {
                    Some(v) => session.ops(v.name).map_err(call_message),
                    None => Err(format!("unknown vendor {}", a.vendor)),
                },
            }
        })
        .collect();
    let steps = remove(&session, "undo", targets);
    session.close();
    let title = format!(
        "{} run {} ({}, profile {}):",
        if args.dry_run {
            "undo --dry-run of"
        } else {
            "undo of"
        },
        run.run,
        run.script.as_deref().unwrap_or("?"),
        session.profile().map_or("?", |p| p.name.as_str()),
    );
    let mut out = format!("{title}\n");
    for s in &steps {
        out.push_str(&s.line());
        out.push('\n');
    }
    let count = |r: &str| steps.iter().filter(|s| s.result == r).count();
    let failed = steps.iter().filter(|s| s.failed()).count();
    out.push_str(&format!(
        "{} deleted, {} already gone, {} not ours, {} would be deleted, {failed} failed\n",
        count("deleted"),
        count("already_gone"),
        count("not_ours"),
        count("would_delete"),
    ));
    print!("{out}");
    let code = if failed > 0 { EXIT_RUNTIME } else { EXIT_OK };
    session.journal.end(code);
    code
}

/// `onboard journal [RUN_ID]`.
pub fn show(journal_path: Option<&Path>, args: &JournalArgs) -> u8 {
    let (path, runs) = match load_runs(journal_path) {
        Ok(r) => r,
        Err(e) => {
            eprint_error(e);
            return EXIT_INPUT;
        }
    };
    let Some(wanted) = &args.run else {
        if args.json {
            println!(
                "{}",
                serde_json::to_string_pretty(&runs).unwrap_or_default()
            );
            return EXIT_OK;
        }
        if runs.is_empty() {
            println!("the journal {} has no runs yet", path.display());
            return EXIT_OK;
        }
        let shown = if args.all {
            runs.len()
        } else {
            runs.len().min(20)
        };
        println!(
            "{:<22} {:<20} {:<7} {:<28} {:<10} {:>7} {:>7} {:>8} {:>6}",
            "RUN",
            "STARTED (UTC)",
            "COMMAND",
            "SCRIPT",
            "PROFILE",
            "EXISTS",
            "REMOVED",
            "INFLIGHT",
            "EXIT"
        );
        for r in &runs[runs.len() - shown..] {
            let count = |f: fn(&State) -> bool| r.accounts.iter().filter(|a| f(&a.state)).count();
            let profile = match (&r.profile, r.simulated) {
                (_, true) => "--sim".to_string(),
                (Some(p), _) => p.clone(),
                (None, _) => "-".into(),
            };
            let what = match &r.undo_of {
                Some(of) => format!("undo {of}"),
                None => r.script.clone().unwrap_or_default(),
            };
            println!(
                "{:<22} {:<20} {:<7} {:<28} {:<10} {:>7} {:>7} {:>8} {:>6}",
                r.run,
                r.time.replace('T', " ").trim_end_matches('Z'),
                r.command,
                shorten(&what, 28),
                shorten(&profile, 10),
                count(|s| *s == State::Exists),
                count(|s| matches!(s, State::Removed { .. })),
                count(|s| *s == State::InFlight),
                r.exit_code.map_or("-".to_string(), |c| c.to_string()),
            );
        }
        if shown < runs.len() {
            println!("({} older runs; --all shows them)", runs.len() - shown);
        }
        return EXIT_OK;
    };
    let run = match journal::find_run(&runs, wanted) {
        Ok(r) => r,
        Err(e) => {
            eprint_error(format!("{e} (journal: {})", path.display()));
            return EXIT_INPUT;
        }
    };
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&json!(run)).unwrap_or_default()
        );
        return EXIT_OK;
    }
    println!("run      {}", run.run);
    println!("started  {}", run.time);
    println!("command  {}", run.command);
    if let Some(s) = &run.script {
        println!("script   {s}");
    }
    println!(
        "profile  {}",
        if run.simulated {
            "built-in simulator (--sim)"
        } else {
            run.profile.as_deref().unwrap_or("-")
        }
    );
    match run.exit_code {
        Some(c) => println!("exit     {c}"),
        None => println!("exit     - (the run did not finish: it was killed or is still running)"),
    }
    if run.retries > 0 || run.failed > 0 {
        println!("retries  {}, failed calls {}", run.retries, run.failed);
    }
    if run.accounts.is_empty() {
        println!("\nit created no account");
        return EXIT_OK;
    }
    println!("\naccounts it created:");
    for a in &run.accounts {
        let id =
            a.id.map(|i| format!("id {i}"))
                .unwrap_or_else(|| "id ?".into());
        let state = match &a.state {
            State::Exists => "exists".to_string(),
            State::Removed { by } => format!("removed by {by}"),
            State::InFlight => "in flight when the run stopped: it may exist".to_string(),
        };
        println!("  {:<10} {:<24} {:<10} {state}", a.vendor, a.username, id);
    }
    let left = run
        .accounts
        .iter()
        .filter(|a| matches!(a.state, State::Exists | State::InFlight))
        .count();
    if left > 0 && !run.simulated {
        println!("\nonboard undo {} removes the {left} left", run.run);
    }
    EXIT_OK
}

fn shorten(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        return s.to_string();
    }
    let tail: String = s
        .chars()
        .rev()
        .take(n - 1)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("…{tail}")
}
