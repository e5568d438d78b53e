//! `onboard journal`: the runs in the journal, or what one run created and what became of it.

use std::path::Path;

use serde_json::json;

use crate::cli::args::JournalArgs;
use crate::journal::{self, Account, Altered, Change, ChangeState, Proof, RunSummary, State};
use crate::util::error::{self, Error};
use crate::vendors::access::Direction;

/// Lines of the journal that could not be read, said once on stderr.
fn note_torn(torn: usize, path: &Path) {
    if torn > 0 {
        error::note(format!(
            "{torn} line(s) of the journal {} could not be read (cut short when a run was killed) and were skipped",
            path.display()
        ));
    }
}

/// `onboard journal [RUN_ID]`.
pub fn show(journal_path: Option<&Path>, args: &JournalArgs) -> Result<(), Error> {
    let path = journal::choose_path(journal_path)?;
    let Some(wanted) = &args.run else {
        let (runs, torn) = journal::runs(&path)?;
        note_torn(torn, &path);
        list(&runs, &path, args);
        return Ok(());
    };
    let (run, torn) = journal::run(&path, wanted)
        .map_err(|e| Error::from(e).context_after(format!(" (journal: {})", path.display())))?;
    note_torn(torn, &path);
    if args.json {
        crate::outln!(
            "{}",
            serde_json::to_string_pretty(&json!(run)).unwrap_or_default()
        );
    } else {
        crate::out!("{}", one_run(&run));
    }
    Ok(())
}

fn list(runs: &[RunSummary], path: &Path, args: &JournalArgs) {
    if args.json {
        crate::outln!(
            "{}",
            serde_json::to_string_pretty(&runs).unwrap_or_default()
        );
        return;
    }
    if runs.is_empty() {
        crate::outln!("the journal {} has no runs yet", path.display());
        return;
    }
    let shown = if args.all {
        runs.len()
    } else {
        runs.len().min(20)
    };
    let mut out = format!(
        "{:<22} {:<20} {:<7} {:<28} {:<10} {:>7} {:>7} {:>8} {:>6}\n",
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
        let profile = match (&r.profile, r.simulated) {
            (_, true) => "--sim".to_string(),
            (Some(p), _) => p.clone(),
            (None, _) => "-".into(),
        };
        let what = match &r.undo_of {
            Some(of) => format!("undo {of}"),
            None => r.script.clone().unwrap_or_default(),
        };
        out.push_str(&format!(
            "{:<22} {:<20} {:<7} {:<28} {:<10} {:>7} {:>7} {:>8} {:>6}\n",
            r.run,
            r.time.replace('T', " ").trim_end_matches('Z'),
            r.command,
            shorten(&what, 28),
            shorten(&profile, 10),
            r.counts.exists,
            r.counts.removed,
            r.counts.in_flight,
            r.exit_code.map_or("-".to_string(), |c| c.to_string()),
        ));
    }
    if shown < runs.len() {
        out.push_str(&format!(
            "({} older runs; --all shows them)\n",
            runs.len() - shown
        ));
    }
    crate::out!("{out}");
}

fn one_run(run: &RunSummary) -> String {
    let mut out = format!(
        "run      {}\nstarted  {}\ncommand  {}\n",
        run.run, run.time, run.command
    );
    if let Some(s) = &run.script {
        out.push_str(&format!("script   {s}\n"));
    }
    let profile = if run.simulated {
        "built-in simulator (--sim)"
    } else {
        run.profile.as_deref().unwrap_or("-")
    };
    out.push_str(&format!("profile  {profile}\n"));
    match run.exit_code {
        Some(c) => out.push_str(&format!("exit     {c}\n")),
        None => {
            out.push_str("exit     - (the run did not finish: it was killed or is still running)\n")
        }
    }
    if run.retries > 0 || run.failed > 0 {
        out.push_str(&format!(
            "retries  {}, failed calls {}\n",
            run.retries, run.failed
        ));
    }
    if run.accounts.is_empty() {
        out.push_str("\nit created no account\n");
    } else {
        out.push_str("\naccounts it created:\n");
        for a in &run.accounts {
            out.push_str(&account_line(a));
        }
    }
    if !run.found.is_empty() {
        out.push_str(&format!(
            "\nand {} it found already there (ensure_user)\n",
            run.found.len()
        ));
    }
    if !run.changes.is_empty() {
        out.push_str("\nchanges it made to users:\n");
        for c in &run.changes {
            out.push_str(&change_line(c));
        }
    }
    let left = run.left().count();
    if left > 0 && !run.simulated {
        out.push_str(&format!(
            "\nonboard undo {} removes the {left} left that the journal proves are its own\n",
            run.run
        ));
    }
    let changed = run.changes_left().count();
    if changed > 0 && !run.simulated {
        out.push_str(&format!(
            "onboard undo {} reverses the {changed} change(s) to users still in force\n",
            run.run
        ));
    }
    out
}

fn change_line(c: &Change) -> String {
    let state = match &c.state {
        ChangeState::Applied => "in force".to_string(),
        ChangeState::Unknown => "UNKNOWN: the run never saw the answer".to_string(),
        ChangeState::Undone { by } => format!("reversed by {by}"),
    };
    let (what, detail) = match &c.what {
        Altered::Access(a) => {
            let what = match a.direction {
                Direction::Grant => "granted",
                Direction::Revoke => "revoked",
            };
            (what, format!("{} {}", a.kind, a.target))
        }
        Altered::Update(u) => {
            let fields: Vec<&str> = u.fields.iter().map(|f| f.field.as_str()).collect();
            ("updated", fields.join(", "))
        }
        Altered::Irreversible(what) => ("changed", format!("{what} (not undoable)")),
    };
    format!(
        "  {what} {:<10} {:<24} {detail:<26} {state}\n",
        c.vendor, c.username
    )
}

fn account_line(a: &Account) -> String {
    let id = a.id.map_or_else(|| "id ?".into(), |i| format!("id {i}"));
    let state = match &a.state {
        State::Exists if a.proof == Some(Proof::Name) => {
            "exists; found by name after a lost answer, so not provably this run's".to_string()
        }
        State::Exists => "exists".to_string(),
        State::Removed { by } => format!("removed by {by}"),
        State::InFlight if a.answered => format!(
            "unknown: {}; it may exist (undo checks it against what was sent)",
            a.note
                .as_deref()
                .unwrap_or("the vendor's answer went astray")
        ),
        State::InFlight => {
            "in flight when the run stopped: it may exist (undo checks it against what was sent)"
                .to_string()
        }
        State::Failed => "failed".to_string(),
    };
    format!("  {:<10} {:<24} {:<10} {state}\n", a.vendor, a.username, id)
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
