//! The journal: every vendor call that changes something, written before it is sent and after it
//! returns, as JSON lines appended whole; and reading it back.
//!
//! A kill at any moment leaves every finished record on disk: an intent without an outcome is a
//! call whose result nobody saw. The journal never holds a secret. A thread that runs many rows
//! at once (`run::fibers`) holds its records back and writes them in one go before it lets any
//! call go out (`deferring`, `flush`): still before the request, with one write for many.

use std::borrow::Cow;
use std::cell::Cell;
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use crate::util::dates;
use crate::vendors::error::VendorError;

mod history;
mod index;
mod read;
mod record;
mod write;

use write::{line, now};

pub use crate::vendors::Sent;
pub use history::{Account, Altered, Change, ChangeState, History, RunSummary, State, find_run};
pub use index::{load, run, runs};
pub use record::{
    AccessChange, Event, FieldsChange, IntentRecord, Outcome, OutcomeRecord, Proof, Record,
};

/// Where the journal is unless `--journal` or `$ONBOARD_JOURNAL` says otherwise: the user's
/// state folder (`~/.local/state/onboard/journal.jsonl` on Linux).
pub fn default_path() -> Option<PathBuf> {
    dirs::state_dir()
        .or_else(dirs::data_local_dir)
        .map(|d| d.join("onboard").join("journal.jsonl"))
}

/// `--journal`, else `$ONBOARD_JOURNAL`, else the default.
pub fn choose_path(explicit: Option<&Path>) -> Result<PathBuf, JournalError> {
    if let Some(p) = explicit {
        return Ok(p.to_path_buf());
    }
    if let Some(p) = std::env::var_os("ONBOARD_JOURNAL").filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    default_path().ok_or(JournalError::NoPlace)
}

/// A new run's id: when it started, and a random part (`20261123-101500-3f9a`).
pub fn new_run_id() -> String {
    let now = dates::format_rfc3339(dates::now());
    let compact: String = now.chars().filter(|c| c.is_ascii_digit()).collect();
    let suffix = crate::util::secret::random_hex(2).to_lowercase();
    format!("{}-{}-{suffix}", &compact[..8], &compact[8..14])
}

thread_local! {
    /// The row of `--each` this thread is running, if any.
    static ROW: Cell<Option<u64>> = const { Cell::new(None) };
}

/// Mark the row this thread runs (for journal records, rollback and printing).
pub fn set_current_row(row: Option<u64>) {
    ROW.with(|r| r.set(row));
}

/// The row this thread runs, if any.
pub fn current_row() -> Option<u64> {
    ROW.with(Cell::get)
}

/// What can go wrong with the journal.
#[derive(Debug, Clone, thiserror::Error)]
pub enum JournalError {
    #[error(
        "there is no state folder for the journal on this system; choose a file with --journal PATH"
    )]
    NoPlace,
    #[error("cannot create the journal folder {0}: {1}")]
    Folder(String, String),
    #[error("cannot open the journal {0}: {1}")]
    Open(String, String),
    #[error("cannot read the journal {0}: {1}")]
    Read(String, String),
    #[error("cannot write the journal {0}: {1}")]
    Write(String, String),
    #[error("cannot encode a journal record: {0}")]
    Encode(String),
    #[error("the journal's index is damaged ({0}); delete it to rebuild")]
    Index(String),
    /// A run asked for by id that is not there, or not only one.
    #[error("{0}")]
    NoSuchRun(String),
}

impl JournalError {
    pub(crate) fn read(path: &Path, e: impl std::fmt::Display) -> JournalError {
        JournalError::Read(path.display().to_string(), e.to_string())
    }
}

impl From<JournalError> for crate::util::error::Error {
    fn from(e: JournalError) -> Self {
        crate::util::error::Error::input(e.to_string())
    }
}

/// What an intent carries besides who and what: one of these, for the call it announces.
#[derive(Default)]
struct Carried {
    sent: Option<Sent>,
    access: Option<AccessChange>,
    update: Option<FieldsChange>,
    irreversible: Option<String>,
}

/// What one run writes.
pub struct Journal {
    run: String,
    path: Option<PathBuf>,
    /// Opened for appending: each record is one `write`, which the system appends whole, so
    /// the run's threads (and other runs) write without a lock between them.
    file: Option<File>,
    /// The run's first record (which says its script and profile, for every record after it),
    /// written before the first thing the run records: a run that changes nothing leaves
    /// nothing in the journal.
    header: Option<Vec<u8>>,
    header_written: OnceLock<Result<(), JournalError>>,
    /// The first record that could not be written: every change after it is refused, and the
    /// run ends by saying so. Shared with the calls in flight (`gate`).
    broken: Arc<OnceLock<JournalError>>,
    seq: AtomicU64,
    events: Mutex<Vec<Event>>,
}

/// Who is writing a run, for its first record.
pub struct RunInfo {
    pub command: &'static str,
    pub script: Option<String>,
    pub profile: Option<String>,
    pub simulated: bool,
    pub undo_of: Option<String>,
}

impl RunInfo {
    /// A plain `run` with nothing else said, for tests.
    #[cfg(test)]
    pub(crate) fn for_test() -> RunInfo {
        RunInfo {
            command: "run",
            script: None,
            profile: None,
            simulated: false,
            undo_of: None,
        }
    }
}

impl Journal {
    /// A journal kept only in memory: `check`, `docs`, dry runs.
    pub fn memory() -> Journal {
        Journal {
            run: new_run_id(),
            path: None,
            file: None,
            header: None,
            header_written: OnceLock::new(),
            broken: Arc::default(),
            seq: AtomicU64::new(0),
            events: Mutex::default(),
        }
    }

    /// Open (or create) the journal file now, so a journal that cannot be written stops the run
    /// before anything is sent.
    pub fn open(path: &Path, info: RunInfo) -> Result<Journal, JournalError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| JournalError::Folder(dir.display().to_string(), e.to_string()))?;
        }
        let mut options = OpenOptions::new();
        options.create(true).append(true).read(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options
            .open(path)
            .map_err(|e| JournalError::Open(path.display().to_string(), e.to_string()))?;
        let run = new_run_id();
        let header = Record::Run {
            run: run.clone().into(),
            time: now().into(),
            command: info.command.into(),
            script: info.script.map(Cow::Owned),
            profile: info.profile.map(Cow::Owned),
            simulated: info.simulated,
            undo_of: info.undo_of.map(Cow::Owned),
            pid: std::process::id(),
        };
        let header = line(&header)?;
        Ok(Journal {
            run,
            path: Some(path.to_path_buf()),
            file: Some(file),
            header: Some(header),
            header_written: OnceLock::new(),
            broken: Arc::default(),
            seq: AtomicU64::new(0),
            events: Mutex::default(),
        })
    }

    pub fn run_id(&self) -> &str {
        &self.run
    }

    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Record that a change is about to be sent, with what identifies the account it makes.
    /// If this fails, the change must not be sent.
    pub fn intent(
        &self,
        vendor: &str,
        operation: &str,
        username: &str,
        sent: Option<Sent>,
    ) -> Result<u64, JournalError> {
        self.intent_of(
            vendor,
            operation,
            username,
            Carried {
                sent,
                ..Carried::default()
            },
        )
    }

    /// Record that an access change is about to be sent, with what undoes it.
    pub fn intent_access(
        &self,
        vendor: &str,
        operation: &str,
        username: &str,
        access: AccessChange,
    ) -> Result<u64, JournalError> {
        self.intent_of(
            vendor,
            operation,
            username,
            Carried {
                access: Some(access),
                ..Carried::default()
            },
        )
    }

    /// Record that an update is about to be sent, with the values it replaces.
    pub fn intent_update(
        &self,
        vendor: &str,
        operation: &str,
        username: &str,
        update: FieldsChange,
    ) -> Result<u64, JournalError> {
        self.intent_of(
            vendor,
            operation,
            username,
            Carried {
                update: Some(update),
                ..Carried::default()
            },
        )
    }

    /// Record that a change nothing can undo is about to be sent, and what it is.
    pub fn intent_irreversible(
        &self,
        vendor: &str,
        operation: &str,
        username: &str,
        what: &str,
    ) -> Result<u64, JournalError> {
        let carried = Carried {
            irreversible: Some(what.to_string()),
            ..Carried::default()
        };
        self.intent_of(vendor, operation, username, carried)
    }

    fn intent_of(
        &self,
        vendor: &str,
        operation: &str,
        username: &str,
        carried: Carried,
    ) -> Result<u64, JournalError> {
        let seq = self.seq.fetch_add(1, Ordering::SeqCst) + 1;
        self.write(&Record::Intent(IntentRecord {
            run: Cow::Borrowed(&self.run),
            seq,
            time: now().into(),
            row: current_row(),
            vendor: vendor.into(),
            operation: operation.into(),
            username: username.into(),
            sent: carried.sent,
            access: carried.access,
            update: carried.update,
            irreversible: carried.irreversible,
        }))?;
        Ok(seq)
    }

    /// Record how a call ended (`seq` from its intent, or `None` for a call with no intent).
    pub fn outcome(&self, seq: Option<u64>, event: Event) {
        let seq = seq.unwrap_or_else(|| self.seq.fetch_add(1, Ordering::SeqCst) + 1);
        let record = Record::Outcome(OutcomeRecord {
            run: Cow::Borrowed(&self.run),
            seq,
            time: now().into(),
            row: event.row,
            vendor: event.vendor.into(),
            operation: event.operation.into(),
            username: Cow::Borrowed(&event.username),
            id: event.id,
            outcome: event.outcome,
            proof: event.proof,
            status: event.status,
            duration_ms: event.duration_ms,
            error_kind: event.error_kind.map(Cow::Borrowed),
            note: event.note.as_deref().map(crate::util::secret::scrub),
            message: event.message.as_deref().map(crate::util::secret::scrub),
            access: event.access.clone(),
            update: event.update.clone(),
            irreversible: event.irreversible.clone(),
        });
        // A failure is kept in `broken`: later changes are refused and the run says so.
        let _ = self.write(&record);
        if let Ok(mut events) = self.events.lock() {
            events.push(event);
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub fn retry(
        &self,
        seq: Option<u64>,
        vendor: &str,
        operation: &str,
        username: &str,
        attempt: u32,
        err: &VendorError,
        wait: Duration,
    ) {
        let record = Record::Retry {
            run: Cow::Borrowed(&self.run),
            seq,
            time: now().into(),
            vendor: vendor.into(),
            operation: operation.into(),
            username: username.into(),
            attempt,
            error_kind: err.kind.as_str().into(),
            status: err.status,
            wait_ms: wait.as_millis() as u64,
        };
        // A failure is kept in `broken`: later changes are refused and the run says so.
        let _ = self.write(&record);
    }

    /// The run's last record, if it recorded anything at all.
    pub fn end(&self, exit_code: u8) {
        if self.header_written.get().is_none() {
            return;
        }
        let record = Record::End {
            run: Cow::Borrowed(&self.run),
            time: now().into(),
            exit_code,
        };
        // A failure is kept in `broken`: later changes are refused and the run says so.
        let _ = self.write(&record);
    }

    /// The outcomes of one row, taken off the run's list (so a long `--each` run stays small).
    pub fn take_row(&self, row: u64) -> Vec<Event> {
        let Ok(mut events) = self.events.lock() else {
            return Vec::new();
        };
        // Taken out in place, in order: the others (rows still running) stay where they are.
        let mut mine = Vec::new();
        let mut i = 0;
        while i < events.len() {
            if events[i].row == Some(row) {
                mine.push(events.remove(i));
            } else {
                i += 1;
            }
        }
        mine
    }

    /// The outcomes of this run so far.
    pub fn events(&self) -> Vec<Event> {
        self.events.lock().map(|e| e.clone()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests;
