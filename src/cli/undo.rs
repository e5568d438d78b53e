//! `onboard undo RUN`: the accounts a run left, each checked against the whole journal, removed
//! in the session of the profile the run used.

use std::path::Path;
use std::sync::Arc;

use crate::cli::args::UndoArgs;
use crate::config::{self, Config};
use crate::journal::{self, History, Proof, RunInfo, RunSummary, State};
use crate::runtime::session::{Mode, Session};
use crate::runtime::undo::{Check, Reverse, Step, Target, call_message, describe, remove, reverse};
use crate::util::error::{Error, Exit, Problem};
use crate::vendors;

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

/// The access changes a run made that may still hold, newest first.
fn reversals(session: &Session, run: &RunSummary) -> Vec<Reverse> {
    run.changes_left()
        .chain(run.irreversible())
        .map(|c| {
            let vendor = vendors::find(&c.vendor);
            Reverse {
                vendor: vendor.map_or("?", |v| v.name),
                username: c.username.clone(),
                what: c.what.clone(),
                ops: match vendor {
                    Some(v) => session.ops(v.name).map_err(call_message),
                    None => Err(format!("unknown vendor {}", c.vendor)),
                },
            }
        })
        .collect()
}

/// `onboard undo RUN_ID`.
pub fn undo(
    config_path: Option<&Path>,
    journal_path: Option<&Path>,
    args: &UndoArgs,
) -> Result<(), Error> {
    let path = journal::choose_path(journal_path)?;
    let history = journal::load(&path)?.history;
    let run = journal::find_run(&history.runs, &args.run)
        .map_err(|e| Error::from(e).context_after(format!(" (journal: {})", path.display())))?
        .clone();
    if run.command != "run" {
        return Err(Error::input(format!(
            "{} is an undo, not a run; give the run it undid",
            run.run
        )));
    }
    if run.simulated {
        crate::outln!(
            "run {} was made against the built-in simulator (--sim), which kept nothing after it ended: nothing to undo",
            run.run
        );
        return Ok(());
    }
    if run.left().next().is_none() && run.changes_left().next().is_none() {
        crate::outln!(
            "nothing to undo: run {} left no account or access behind",
            run.run
        );
        for c in run.irreversible() {
            crate::outln!(
                "  not undoable: {} {} {}",
                c.vendor,
                c.username,
                describe(&c.what)
            );
        }
        return Ok(());
    }
    let session = undo_session(config_path, &path, &run, args)?;
    let claims = history.claims();
    let claimant = |vendor: &str, id: i64, before: u64| {
        claims
            .claimant(&history, vendor, id, &run.run, before)
            .map(|r| format!("run {}", r.run))
    };
    // Access first, newest first: revoking from an account about to be deleted still works,
    // deleting it first would leave nothing to revoke from.
    let mut steps = reverse(&session, "undo", reversals(&session, &run));
    steps.extend(remove(
        &session,
        "undo",
        targets(&session, &history, &run),
        Some(&claimant),
        args.force,
    ));
    session.close();
    let result = print_undo(&session, &run, &steps, args);
    session.finish(result)
}

/// The session an undo runs in: the profile the run used (or `--profile`), and the journal.
fn undo_session(
    config_path: Option<&Path>,
    path: &Path,
    run: &RunSummary,
    args: &UndoArgs,
) -> Result<Arc<Session>, Error> {
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
        .map_err(|e| Error::input(format!("undo needs the profile run {} used: {e}", run.run)))?;
    let io = crate::runtime::io::Io::new();
    io.runtime().map_err(Error::runtime)?;
    let info = RunInfo {
        command: "undo",
        script: run.script.clone(),
        profile: None,
        simulated: false,
        undo_of: Some(run.run.clone()),
    };
    let mode = Mode {
        dry_run: args.dry_run,
        offline: false,
    };
    Ok(Session::open(io, Some(profile), Some(path), info, mode)?)
}

fn print_undo(
    session: &Session,
    run: &RunSummary,
    steps: &[Step],
    args: &UndoArgs,
) -> Result<(), Error> {
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
    if steps.iter().any(|s| s.target.is_some()) {
        out.push_str(&format!(
            "{} changes to users reversed, {} already reversed, {} would be reversed, {} not undoable\n",
            count("reversed"),
            count("already_reversed"),
            count("would_reverse"),
            count("not_undoable"),
        ));
    }
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
    let problems: Vec<Problem> = steps
        .iter()
        .filter(|s| s.failed())
        .map(|s| Problem::new(format!("undo could not delete {}", s.describe())))
        .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::many(Exit::Runtime, problems))
    }
}
