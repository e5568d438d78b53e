//! Reading the journal back: every run, and what became of each account it created.

use std::collections::HashMap;
use std::path::Path;

use serde::Serialize;

use super::{Outcome, Record};

/// Every record of a journal file. A last line cut short by a crash is skipped.
pub fn read(path: &Path) -> Result<Vec<Record<'static>>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("cannot read the journal {}: {e}", path.display())),
    };
    Ok(text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect())
}

/// What became of one account a run created (or may have created).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Created, and nothing since removed it.
    Exists,
    /// Removed later: by the run itself, its rollback, or an undo.
    Removed { by: String },
    /// The run stopped before the vendor answered: it may exist.
    InFlight,
}

#[derive(Clone, Debug, Serialize)]
pub struct Account {
    pub vendor: String,
    pub username: String,
    pub id: Option<i64>,
    pub seq: u64,
    pub state: State,
}

/// One run as the journal tells it.
#[derive(Clone, Debug, Serialize)]
pub struct RunSummary {
    pub run: String,
    pub time: String,
    pub command: String,
    pub script: Option<String>,
    pub profile: Option<String>,
    pub simulated: bool,
    pub undo_of: Option<String>,
    pub exit_code: Option<u8>,
    pub accounts: Vec<Account>,
    pub failed: usize,
    pub retries: usize,
}

fn is_create(operation: &str) -> bool {
    matches!(operation, "create_user" | "ensure_user")
}

/// Every run in the journal, oldest first, with what became of the accounts each created.
/// One pass in record order: a deletion applies to the latest creation of that account.
pub fn summarize(records: &[Record<'_>]) -> Vec<RunSummary> {
    let mut runs: Vec<RunSummary> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    // (vendor, user name) -> where its latest creation is: (run, account).
    let mut live: HashMap<(String, String), (usize, usize)> = HashMap::new();
    // Accounts whose create failed or found the user there: dropped at the end.
    let mut dropped: Vec<(usize, usize)> = Vec::new();
    for r in records {
        if let Record::Run {
            run,
            time,
            command,
            script,
            profile,
            simulated,
            undo_of,
            ..
        } = r
        {
            index.insert(run.to_string(), runs.len());
            runs.push(RunSummary {
                run: run.to_string(),
                time: time.to_string(),
                command: command.to_string(),
                script: script.as_deref().map(str::to_string),
                profile: profile.as_deref().map(str::to_string),
                simulated: *simulated,
                undo_of: undo_of.as_deref().map(str::to_string),
                exit_code: None,
                accounts: Vec::new(),
                failed: 0,
                retries: 0,
            });
            continue;
        }
        let Some(&ri) = index.get(r.run_id()) else {
            continue;
        };
        match r {
            Record::Intent {
                seq,
                vendor,
                operation,
                username,
                ..
            } if is_create(operation) => {
                let accounts = &mut runs[ri].accounts;
                accounts.push(Account {
                    vendor: vendor.to_string(),
                    username: username.to_string(),
                    id: None,
                    seq: *seq,
                    state: State::InFlight,
                });
                live.insert(
                    (vendor.to_string(), username.to_string()),
                    (ri, accounts.len() - 1),
                );
            }
            Record::Outcome {
                seq,
                vendor,
                operation,
                username,
                id,
                outcome,
                ..
            } => {
                let key = (vendor.to_string(), username.to_string());
                let found = runs[ri].accounts.iter().position(|a| a.seq == *seq);
                match outcome {
                    Outcome::Created => {
                        let ai = found.unwrap_or_else(|| {
                            runs[ri].accounts.push(Account {
                                vendor: vendor.to_string(),
                                username: username.to_string(),
                                id: None,
                                seq: *seq,
                                state: State::InFlight,
                            });
                            runs[ri].accounts.len() - 1
                        });
                        let a = &mut runs[ri].accounts[ai];
                        a.id = *id;
                        a.state = State::Exists;
                        live.insert(key, (ri, ai));
                    }
                    Outcome::Failed | Outcome::Existed if is_create(operation) => {
                        if *outcome == Outcome::Failed {
                            runs[ri].failed += 1;
                        }
                        if let Some(ai) = found {
                            dropped.push((ri, ai));
                            if live.get(&key) == Some(&(ri, ai)) {
                                live.remove(&key);
                            }
                        }
                    }
                    Outcome::Failed => runs[ri].failed += 1,
                    Outcome::Deleted => {
                        let by = match (runs[ri].command.as_str(), operation.as_ref()) {
                            ("undo", _) => format!("undo {}", runs[ri].run),
                            (_, "rollback") => "rollback".to_string(),
                            _ => format!("the script of {}", runs[ri].run),
                        };
                        if let Some((cr, ca)) = live.remove(&key) {
                            runs[cr].accounts[ca].state = State::Removed { by };
                        }
                    }
                    _ => {}
                }
            }
            Record::Retry { .. } => runs[ri].retries += 1,
            Record::End { exit_code, .. } => runs[ri].exit_code = Some(*exit_code),
            _ => {}
        }
    }
    dropped.sort_unstable();
    for (ri, ai) in dropped.into_iter().rev() {
        runs[ri].accounts.remove(ai);
    }
    runs
}

/// A run by id, a unique prefix of one, or `last`.
pub fn find_run<'a>(runs: &'a [RunSummary], wanted: &str) -> Result<&'a RunSummary, String> {
    if wanted == "last" {
        return runs
            .iter()
            .rev()
            .find(|r| r.command == "run")
            .ok_or_else(|| "the journal has no runs yet".to_string());
    }
    let matches: Vec<&RunSummary> = runs.iter().filter(|r| r.run.starts_with(wanted)).collect();
    match matches.as_slice() {
        [one] => Ok(one),
        [] => Err(format!(
            "no run `{wanted}` in the journal (`onboard journal` lists them)"
        )),
        many => Err(format!(
            "`{wanted}` matches {} runs ({}); give more of the id",
            many.len(),
            many.iter()
                .map(|r| r.run.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}
