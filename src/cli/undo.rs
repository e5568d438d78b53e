//! `onboard undo RUN`: the accounts a run left, each checked against the whole journal, removed
//! in the session of the profile the run used.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use crate::cli::args::UndoArgs;
use crate::cli::{EXIT_INPUT, EXIT_OK, EXIT_RUNTIME};
use crate::config::{self, Config};
use crate::journal::{self, History, Journal, Proof, RunInfo, RunSummary, State};
use crate::runtime::session::{Mode, Session};
use crate::runtime::undo::{Check, Step, Target, call_message, remove};
use crate::vendors;

fn eprint_error(message: impl std::fmt::Display) {
    crate::run::once::error(message);
}

/// The accounts a run left, newest first, as targets checked against the whole journal.
fn targets(session: &Session, history: &History, run: &RunSummary) -> Vec<Target> {
    let claims = history.claims();
    run.left()
        .map(|a| {
            let vendor = vendors::find(&a.vendor);
            Target {
                vendor: vendor.map_or("?", |v| v.name),
                username: a.username.clone(),
                ops: match vendor {
                    Some(v) => session.ops(v.name).map_err(call_message),
                    None => Err(format!("unknown vendor {}", a.vendor)),
                },
                check: Check {
                    id: (a.state == State::Exists).then_some(a.id).flatten(),
                    name_only: a.proof == Some(Proof::Name),
                    sent: a.sent.clone(),
                    older_than: claims.highest_before(&a.vendor, a.at),
                    answered: a.state == State::Exists && a.proof == Some(Proof::Answer),
                    at: a.at,
                },
            }
        })
        .collect()
}

/// `onboard undo RUN_ID`.
pub fn undo(config_path: Option<&Path>, journal_path: Option<&Path>, args: &UndoArgs) -> u8 {
    let loaded = journal::choose_path(journal_path)
        .and_then(|path| journal::load(&path).map(|l| (path, l.history)));
    let (path, history) = match loaded {
        Ok(l) => l,
        Err(e) => {
            eprint_error(e);
            return EXIT_INPUT;
        }
    };
    let run = match journal::find_run(&history.runs, &args.run) {
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
    if run.simulated {
        crate::outln!(
            "run {} was made against the built-in simulator (--sim), which kept nothing after it ended: nothing to undo",
            run.run
        );
        return EXIT_OK;
    }
    if run.left().next().is_none() {
        crate::outln!("nothing to undo: run {} left no account behind", run.run);
        return EXIT_OK;
    }
    let session = match undo_session(config_path, &path, &run, args) {
        Ok(s) => s,
        Err((message, code)) => {
            eprint_error(message);
            return code;
        }
    };
    let claims = history.claims();
    let claimant = |vendor: &str, id: i64, before: u64| {
        claims
            .claimant(&history, vendor, id, &run.run, before)
            .map(|r| format!("run {}", r.run))
    };
    let steps = remove(
        &session,
        "undo",
        targets(&session, &history, &run),
        Some(&claimant),
        args.force,
    );
    session.close();
    let code = print_undo(&session, &run, &steps, args);
    session.journal.end(code);
    code
}

/// The session an undo runs in: the profile the run used (or `--profile`), and the journal.
fn undo_session(
    config_path: Option<&Path>,
    path: &Path,
    run: &RunSummary,
    args: &UndoArgs,
) -> Result<Arc<Session>, (String, u8)> {
    let profile_name = args.profile.clone().or(run.profile.clone());
    let profile = config::locate(config_path)
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
        .map_err(|e| {
            (
                format!("undo needs the profile run {} used: {e}", run.run),
                EXIT_INPUT,
            )
        })?;
    let io = crate::runtime::io::Io::new();
    io.runtime().map_err(|e| (e, EXIT_RUNTIME))?;
    let journal = if args.dry_run {
        Journal::memory()
    } else {
        Journal::open(
            path,
            RunInfo {
                command: "undo",
                script: run.script.clone(),
                profile: Some(profile.name.clone()),
                simulated: false,
                undo_of: Some(run.run.clone()),
            },
        )
        .map_err(|e| (e, EXIT_INPUT))?
    };
    let mode = Mode {
        dry_run: args.dry_run,
        offline: false,
    };
    Ok(Session::new(Some(io), Some(profile), journal, mode))
}

fn print_undo(session: &Session, run: &RunSummary, steps: &[Step], args: &UndoArgs) -> u8 {
    let mut out = format!(
        "{} run {} ({}, profile {}):\n",
        if args.dry_run {
            "undo --dry-run of"
        } else {
            "undo of"
        },
        run.run,
        run.script.as_deref().unwrap_or("?"),
        session.profile().map_or("?", |p| p.name.as_str()),
    );
    for s in steps {
        out.push_str(&s.line());
        out.push('\n');
    }
    let count = |r: &str| steps.iter().filter(|s| s.result == r).count();
    let failed = steps.iter().filter(|s| s.failed()).count();
    out.push_str(&format!(
        "{} deleted, {} already gone, {} not ours, {} not provably ours, {} would be deleted, {failed} failed\n",
        count("deleted"),
        count("already_gone"),
        count("not_ours"),
        count("not_provably_ours"),
        count("would_delete"),
    ));
    let unproven = count("not_provably_ours");
    if unproven > 0 {
        out.push_str(&format!(
            "the {unproven} not provably ours were left: check them, then `onboard undo {} --force` deletes them too\n",
            run.run
        ));
    }
    crate::out!("{out}");
    let mut err = std::io::stderr().lock();
    for s in steps.iter().filter(|s| s.failed()) {
        let _ = writeln!(err, "error: undo could not delete {}", s.describe());
    }
    if failed > 0 { EXIT_RUNTIME } else { EXIT_OK }
}
