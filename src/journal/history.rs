//! The journal read back: every run, and what became of each account it created, built one
//! record at a time in time linear in the journal's length.

use crate::journal::JournalError;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

mod changes;

pub use changes::{Altered, Change, ChangeState};

use serde::{Deserialize, Serialize};

use super::{Outcome, OutcomeRecord, Proof, Record, Sent};

/// What became of one account a run created (or may have created).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Created, and nothing since removed it.
    Exists,
    /// Removed later: by the run itself, its rollback, or an undo.
    Removed { by: String },
    /// The run stopped (or lost the answer and could not look the user up) before it knew
    /// whether the vendor made the account: it may exist.
    InFlight,
    /// The create failed: nothing was made. Kept only until the history is compacted.
    Failed,
}

/// An account a run created, may have created, or found already there.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Account {
    pub vendor: String,
    pub username: String,
    /// The vendor's id: an account's identity (its name alone may later belong to another).
    pub id: Option<i64>,
    pub seq: u64,
    pub state: State,
    /// How the run knows the account is the one it sent (created accounts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proof: Option<Proof>,
    /// What the create sent that identifies the account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent: Option<Sent>,
    /// Where in the journal the create was announced, and where the vendor's id became known:
    /// the order of events across runs.
    pub at: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub known_at: Option<u64>,
    /// Whether any outcome was recorded (an intent without one: the run was killed).
    #[serde(default)]
    pub answered: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// How many of a run's accounts are in each state.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
pub struct Counts {
    pub exists: usize,
    pub removed: usize,
    pub in_flight: usize,
}

/// One run as the journal tells it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunSummary {
    pub run: String,
    pub time: String,
    pub command: String,
    pub script: Option<String>,
    pub profile: Option<String>,
    pub simulated: bool,
    pub undo_of: Option<String>,
    pub exit_code: Option<u8>,
    pub failed: usize,
    pub retries: usize,
    /// Filled in when the run's accounts are (see `counts`).
    #[serde(default)]
    pub counts: Counts,
    /// The accounts it created (or may have), in the order it announced them.
    #[serde(default)]
    pub accounts: Vec<Account>,
    /// Accounts `ensure_user` found already there: not this run's, and not another's either.
    #[serde(default)]
    pub found: Vec<Account>,
    /// The access it changed (group memberships…), in the order it announced them.
    #[serde(default)]
    pub changes: Vec<Change>,
}

impl RunSummary {
    /// The run without its accounts (counts only), as a listing shows it.
    pub fn head(&self) -> RunSummary {
        RunSummary {
            run: self.run.clone(),
            time: self.time.clone(),
            command: self.command.clone(),
            script: self.script.clone(),
            profile: self.profile.clone(),
            simulated: self.simulated,
            undo_of: self.undo_of.clone(),
            exit_code: self.exit_code,
            failed: self.failed,
            retries: self.retries,
            counts: self.counts,
            accounts: Vec::new(),
            found: Vec::new(),
            changes: Vec::new(),
        }
    }

    fn recount(&mut self) {
        let mut c = Counts::default();
        for a in &self.accounts {
            match a.state {
                State::Exists => c.exists += 1,
                State::Removed { .. } => c.removed += 1,
                State::InFlight => c.in_flight += 1,
                State::Failed => {}
            }
        }
        self.counts = c;
    }

    /// The accounts that may still be there, newest first.
    pub fn left(&self) -> impl Iterator<Item = &Account> {
        self.accounts
            .iter()
            .rev()
            .filter(|a| matches!(a.state, State::Exists | State::InFlight))
    }
}

/// FNV-1a: the lookup maps hold a key per account of a year of runs, where SipHash's
/// protection against chosen keys buys nothing and costs a third of a read.
#[derive(Default)]
struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for b in bytes {
            h = (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

type Map<K, V> = HashMap<K, V, BuildHasherDefault<Fnv>>;

/// Every run in the journal, oldest first, built one record at a time.
#[derive(Default)]
pub struct History {
    pub runs: Vec<RunSummary>,
    /// Lines that could not be read as records.
    pub torn: usize,
    /// Records of runs this history does not have (their header is elsewhere), and deletions
    /// it found no account for: a history of part of a journal is whole only when both are 0.
    pub foreign: usize,
    index: Map<String, usize>,
    /// Whether `pending` and `live` describe `runs` (they are built when first needed).
    mapped: bool,
    /// (run, seq) of creates announced and not yet answered -> the account.
    pending: Map<(usize, u64), usize>,
    /// (vendor, user name) -> accounts of that name that exist or may, oldest first: a
    /// deletion applies to the newest one it can be.
    live: Map<(String, String), Vec<(usize, usize)>>,
}

fn is_create(operation: &str) -> bool {
    matches!(operation, "create_user" | "ensure_user")
}

impl History {
    /// A history whose runs came from elsewhere (the index): the lookup maps are rebuilt.
    pub fn from_runs(runs: Vec<RunSummary>, torn: usize) -> History {
        let mut h = History {
            runs,
            torn,
            ..History::default()
        };
        for (ri, run) in h.runs.iter().enumerate() {
            h.index.insert(run.run.clone(), ri);
        }
        h
    }

    /// Build the lookup maps of the accounts, once, when a record needs them.
    fn map(&mut self) {
        if self.mapped {
            return;
        }
        self.mapped = true;
        for (ri, run) in self.runs.iter().enumerate() {
            for (ai, a) in run.accounts.iter().enumerate() {
                if matches!(a.state, State::Exists | State::InFlight) {
                    self.live
                        .entry((a.vendor.clone(), a.username.clone()))
                        .or_default()
                        .push((ri, ai));
                }
                if !a.answered {
                    self.pending.insert((ri, a.seq), ai);
                }
            }
        }
    }

    /// Take one record, found at byte `at` of the journal, into account.
    pub fn apply(&mut self, at: u64, record: &Record<'_>) {
        if let Record::Run {
            run,
            time,
            command,
            script,
            profile,
            simulated,
            undo_of,
            ..
        } = record
        {
            self.index.insert(run.to_string(), self.runs.len());
            self.runs.push(RunSummary {
                run: run.to_string(),
                time: time.to_string(),
                command: command.to_string(),
                script: script.as_deref().map(str::to_string),
                profile: profile.as_deref().map(str::to_string),
                simulated: *simulated,
                undo_of: undo_of.as_deref().map(str::to_string),
                exit_code: None,
                failed: 0,
                retries: 0,
                counts: Counts::default(),
                accounts: Vec::new(),
                found: Vec::new(),
                changes: Vec::new(),
            });
            return;
        }
        let Some(&ri) = self.index.get(record.run_id()) else {
            self.foreign += 1;
            return;
        };
        self.map();
        match record {
            Record::Intent(i)
                if i.access.is_some() || i.update.is_some() || i.irreversible.is_some() =>
            {
                if let Some(what) = Altered::of(&i.access, &i.update, &i.irreversible) {
                    self.change_announced(ri, at, i, what);
                }
            }
            Record::Outcome(o)
                if o.access.is_some() || o.update.is_some() || o.irreversible.is_some() =>
            {
                if let Some(what) = Altered::of(&o.access, &o.update, &o.irreversible) {
                    self.change_ended(ri, at, o, what);
                }
            }
            Record::Intent(i) if is_create(&i.operation) => {
                let accounts = &mut self.runs[ri].accounts;
                accounts.push(Account {
                    vendor: i.vendor.to_string(),
                    username: i.username.to_string(),
                    id: None,
                    seq: i.seq,
                    state: State::InFlight,
                    proof: None,
                    sent: i.sent.clone(),
                    at,
                    known_at: None,
                    answered: false,
                    note: None,
                });
                let ai = accounts.len() - 1;
                self.pending.insert((ri, i.seq), ai);
                self.live
                    .entry((i.vendor.to_string(), i.username.to_string()))
                    .or_default()
                    .push((ri, ai));
            }
            Record::Outcome(o) => self.outcome(ri, at, o),
            Record::Retry { .. } => self.runs[ri].retries += 1,
            Record::End { exit_code, .. } => self.runs[ri].exit_code = Some(*exit_code),
            _ => {}
        }
    }

    fn outcome(&mut self, ri: usize, at: u64, o: &OutcomeRecord<'_>) {
        let key = (o.vendor.to_string(), o.username.to_string());
        let announced = self.pending.remove(&(ri, o.seq));
        match o.outcome {
            Outcome::Created => {
                let ai = match announced {
                    Some(ai) => ai,
                    None => {
                        // A create with no intent on record (an older journal): take it as it is.
                        let accounts = &mut self.runs[ri].accounts;
                        accounts.push(blank(&key, o.seq, at));
                        self.live
                            .entry(key.clone())
                            .or_default()
                            .push((ri, accounts.len() - 1));
                        accounts.len() - 1
                    }
                };
                let a = &mut self.runs[ri].accounts[ai];
                a.id = o.id;
                a.state = State::Exists;
                a.answered = true;
                a.known_at = Some(at);
                a.proof = o.proof.or_else(|| Some(older_proof(o.note.as_deref())));
            }
            Outcome::Unknown if is_create(&o.operation) => {
                if let Some(ai) = announced {
                    let a = &mut self.runs[ri].accounts[ai];
                    a.answered = true;
                    a.id = a.id.or(o.id);
                    a.note = o.note.as_deref().map(str::to_string);
                }
            }
            Outcome::Failed if is_create(&o.operation) => {
                self.runs[ri].failed += 1;
                if let Some(ai) = announced {
                    self.runs[ri].accounts[ai].state = State::Failed;
                    self.runs[ri].accounts[ai].answered = true;
                    if let Some(stack) = self.live.get_mut(&key) {
                        stack.retain(|e| *e != (ri, ai));
                    }
                }
            }
            Outcome::Existed => {
                let mut a = blank(&key, o.seq, at);
                a.id = o.id;
                a.state = State::Exists;
                a.answered = true;
                a.known_at = Some(at);
                self.runs[ri].found.push(a);
            }
            Outcome::Failed => self.runs[ri].failed += 1,
            Outcome::Deleted => self.deleted(ri, &key, o),
            _ => {}
        }
    }

    /// A deletion removes the newest account of that name it can be: the one with its id, or
    /// one whose id nobody saw.
    fn deleted(&mut self, ri: usize, key: &(String, String), o: &OutcomeRecord<'_>) {
        let by = match (self.runs[ri].command.as_str(), o.operation.as_ref()) {
            ("undo", _) => format!("undo {}", self.runs[ri].run),
            (_, "rollback") => "rollback".to_string(),
            _ => format!("the script of {}", self.runs[ri].run),
        };
        let Some(stack) = self.live.get_mut(key) else {
            self.foreign += 1;
            return;
        };
        let runs = &self.runs;
        let hit = stack.iter().rposition(|&(r, a)| {
            let id = runs[r].accounts[a].id;
            o.id.is_none() || id.is_none() || id == o.id
        });
        match hit {
            Some(i) => {
                let (r, a) = stack.remove(i);
                self.runs[r].accounts[a].state = State::Removed { by };
            }
            None => self.foreign += 1,
        }
    }

    /// Drop the records of creates that failed and count what is left, run by run.
    pub fn compact(&mut self) {
        for run in &mut self.runs {
            run.accounts.retain(|a| a.state != State::Failed);
            run.recount();
        }
        // Positions moved: the lookup maps are rebuilt from what is left, when needed.
        self.mapped = false;
        self.pending.clear();
        self.live.clear();
    }

    /// Which runs know which accounts, for telling whose an account is.
    pub fn claims(&self) -> Claims {
        let mut by_id: Map<(String, i64), Vec<Claim>> = Map::default();
        let mut known: Map<String, Vec<(u64, i64)>> = Map::default();
        for (ri, run) in self.runs.iter().enumerate() {
            let created = run.accounts.iter().map(|a| (a, true));
            for (a, made) in created.chain(run.found.iter().map(|a| (a, false))) {
                if let (Some(id), Some(k)) = (a.id, a.known_at) {
                    by_id
                        .entry((a.vendor.clone(), id))
                        .or_default()
                        .push(Claim {
                            run: ri,
                            made,
                            at: k,
                        });
                    known.entry(a.vendor.clone()).or_default().push((k, id));
                }
            }
        }
        // Sorted by when each id became known, with the highest id so far beside it.
        for list in known.values_mut() {
            list.sort_unstable();
            let mut high = i64::MIN;
            for (_, id) in list.iter_mut() {
                high = high.max(*id);
                *id = high;
            }
        }
        Claims { by_id, known }
    }
}

/// A run that knows an account: it made it, or found it already there, at a place in the journal.
struct Claim {
    run: usize,
    made: bool,
    at: u64,
}

/// Which runs know which accounts (by vendor id), and which ids existed by when.
pub struct Claims {
    by_id: Map<(String, i64), Vec<Claim>>,
    /// vendor -> (where an id became known, the highest id known by then), in journal order.
    known: Map<String, Vec<(u64, i64)>>,
}

impl Claims {
    /// Another run than `not_run` that made the account with this id, or found it already
    /// there before byte `before` (a run finding it later does not make it that run's).
    pub fn claimant<'h>(
        &self,
        history: &'h History,
        vendor: &str,
        id: i64,
        not_run: &str,
        before: u64,
    ) -> Option<&'h RunSummary> {
        self.by_id
            .get(&(vendor.to_string(), id))?
            .iter()
            .filter(|c| c.made || c.at < before)
            .map(|c| &history.runs[c.run])
            .find(|r| r.run != not_run)
    }

    /// The highest id of `vendor` the journal knew to exist before byte `before`: vendors hand
    /// out ids in increasing order, so an account with an id at or below it was made earlier.
    pub fn highest_before(&self, vendor: &str, before: u64) -> Option<i64> {
        let list = self.known.get(vendor)?;
        let n = list.partition_point(|(k, _)| *k < before);
        n.checked_sub(1).map(|i| list[i].1)
    }
}

fn blank(key: &(String, String), seq: u64, at: u64) -> Account {
    Account {
        vendor: key.0.clone(),
        username: key.1.clone(),
        id: None,
        seq,
        state: State::InFlight,
        proof: None,
        sent: None,
        at,
        known_at: None,
        answered: false,
        note: None,
    }
}

/// Journals written before proofs were recorded: a create taken from a lookup said so in its note.
fn older_proof(note: Option<&str>) -> Proof {
    match note {
        Some(n) if n.contains("found by lookup") => Proof::Lookup,
        _ => Proof::Answer,
    }
}

/// A run by id, a unique prefix of one, or `last`.
pub fn find_run<'a>(runs: &'a [RunSummary], wanted: &str) -> Result<&'a RunSummary, JournalError> {
    if wanted == "last" {
        return runs
            .iter()
            .rev()
            .find(|r| r.command == "run")
            .ok_or_else(|| JournalError::NoSuchRun("the journal has no runs yet".into()));
    }
    let matches: Vec<&RunSummary> = runs.iter().filter(|r| r.run.starts_with(wanted)).collect();
    match matches.as_slice() {
        [one] => Ok(one),
        [] => Err(JournalError::NoSuchRun(format!(
            "no run `{wanted}` in the journal (`onboard journal` lists them)"
        ))),
        many => Err(JournalError::NoSuchRun(format!(
            "`{wanted}` matches {} runs ({}); give more of the id",
            many.len(),
            many.iter()
                .map(|r| r.run.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

#[cfg(test)]
mod tests;
