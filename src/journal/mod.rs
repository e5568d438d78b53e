//! The journal: every vendor call that changes something, written before it is sent and after it
//! returns, as JSON lines appended whole; and reading it back.
//!
//! A kill at any moment leaves every finished record on disk: an intent without an outcome is a
//! call whose result nobody saw. The journal never holds a secret. A thread that runs many rows
//! at once (`run::fibers`) holds its records back and writes them in one go before it lets any
//! call go out (`deferring`, `flush`): still before the request, with one write for many.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
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
    /// Whether this thread's records wait for the next `flush` (see `deferring`).
    static DEFER: Cell<bool> = const { Cell::new(false) };
    /// This thread's records held back, in the order they were made: each thread writes its
    /// own, so that no thread waits on another's lock or write.
    static HELD: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
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

/// What a call checks as it starts: whether the records made before it are on disk. A call
/// made after an intent that could not be written is refused here, before it sends anything.
#[derive(Clone)]
pub struct Gate(Arc<OnceLock<JournalError>>);

impl Gate {
    pub fn check(&self) -> Result<(), JournalError> {
        self.0.get().map_or(Ok(()), |e| Err(e.clone()))
    }
}

/// Who is writing a run, for its first record.
pub struct RunInfo {
    pub command: &'static str,
    pub script: Option<String>,
    pub profile: Option<String>,
    pub simulated: bool,
    pub undo_of: Option<String>,
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

    fn write(&self, record: &Record<'_>) -> Result<(), JournalError> {
        if self.file.is_none() {
            return Ok(());
        }
        if let Some(e) = self.broken.get() {
            return Err(e.clone());
        }
        // Every other thread waits here until the header is out, so nothing comes before it.
        let header = self.header_written.get_or_init(|| match &self.header {
            Some(h) => self.append_header(h),
            None => Ok(()),
        });
        if let Err(e) = header {
            let e = e.clone();
            self.break_with(&e);
            return Err(e);
        }
        if DEFER.with(Cell::get) {
            // Made straight into the thread's held records.
            return HELD.with(|h| {
                let mut held = h.borrow_mut();
                let start = held.len();
                match serde_json::to_writer(&mut *held, record) {
                    Ok(()) => {
                        held.push(b'\n');
                        Ok(())
                    }
                    Err(e) => {
                        held.truncate(start);
                        Err(JournalError::Encode(e.to_string()))
                    }
                }
            });
        }
        let line = line(record)?;
        self.append(&line).inspect_err(|e| self.break_with(e))
    }

    fn break_with(&self, e: &JournalError) {
        let _ = self.broken.set(e.clone());
    }

    /// Break the journal as a failed write would (for tests of what must then be refused).
    #[cfg(test)]
    pub(crate) fn break_for_test(&self) {
        self.break_with(&JournalError::Write("the test".into(), "no room".into()));
    }

    /// The first write that failed, if one did: the run must end by saying so.
    pub fn broken(&self) -> Option<&JournalError> {
        self.broken.get()
    }

    /// What a call must pass before it sends: see `Gate`.
    pub fn gate(&self) -> Gate {
        Gate(self.broken.clone())
    }

    /// Run `f` with this thread's records held back until `flush`: for a thread that runs
    /// many rows, which must call `flush` before it lets any of their calls go out.
    pub fn deferring<R>(&self, f: impl FnOnce() -> R) -> R {
        let was = DEFER.with(|d| d.replace(true));
        let out = f();
        DEFER.with(|d| d.set(was));
        self.flush();
        out
    }

    /// Write every record this thread held back, in one write. A failure breaks the journal:
    /// the calls those records announce are refused by their `Gate`.
    pub fn flush(&self) {
        // A journal in memory (a row's offline check) holds nothing: what is held is the
        // file's, for the file's own flush.
        if self.file.is_none() {
            return;
        }
        let held = HELD.with(|h| std::mem::take(&mut *h.borrow_mut()));
        if held.is_empty() {
            return;
        }
        if let Err(e) = self.append(&held) {
            self.break_with(&e);
        }
        // The buffer's room, kept for the next round.
        let mut spare = held;
        spare.clear();
        HELD.with(|h| {
            let mut h = h.borrow_mut();
            if h.is_empty() {
                *h = spare;
            }
        });
    }

    /// The run's first record. A run killed in the middle of a write leaves its last line
    /// unfinished: the header starts on a line of its own rather than glued onto that one.
    fn append_header(&self, header: &[u8]) -> Result<(), JournalError> {
        let torn = match self.file.as_ref() {
            Some(f) => ends_unterminated(f).unwrap_or(false),
            None => false,
        };
        if !torn {
            return self.append(header);
        }
        let mut line = Vec::with_capacity(header.len() + 1);
        line.push(b'\n');
        line.extend_from_slice(header);
        self.append(&line)
    }

    /// One record as one `write` on the append-mode file: it lands whole, after everything
    /// already there, whatever else is writing. (Only a full disk cuts a write short.)
    fn append(&self, line: &[u8]) -> Result<(), JournalError> {
        let Some(mut file) = self.file.as_ref() else {
            return Ok(());
        };
        file.write_all(line).map_err(|e| {
            let where_ = self
                .path
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default();
            JournalError::Write(where_, e.to_string())
        })
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

/// Whether the file's last byte is something other than a line end (a torn last record).
fn ends_unterminated(mut file: &File) -> std::io::Result<bool> {
    let len = file.seek(SeekFrom::End(0))?;
    if len == 0 {
        return Ok(false);
    }
    file.seek(SeekFrom::Start(len - 1))?;
    let mut last = [0u8; 1];
    file.read_exact(&mut last)?;
    Ok(last[0] != b'\n')
}

/// A record as a JSON line.
fn line(record: &Record<'_>) -> Result<Vec<u8>, JournalError> {
    let mut line = Vec::with_capacity(256);
    serde_json::to_writer(&mut line, record).map_err(|e| JournalError::Encode(e.to_string()))?;
    line.push(b'\n');
    Ok(line)
}

/// The time for a record: made once a second per thread (every record has one).
fn now() -> String {
    thread_local! {
        static LAST: RefCell<(i64, String)> = const { RefCell::new((i64::MIN, String::new())) };
    }
    let secs = dates::now();
    LAST.with(|last| {
        let mut last = last.borrow_mut();
        if last.0 != secs {
            *last = (secs, dates::format_rfc3339(secs));
        }
        last.1.clone()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info() -> RunInfo {
        RunInfo {
            command: "run",
            script: None,
            profile: None,
            simulated: false,
            undo_of: None,
        }
    }

    /// An outcome that cannot be written (the disk filled up after the create was sent) is
    /// kept, not printed: every later change is refused, and the run ends by saying so.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_failed_write_refuses_every_later_change() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut journal = Journal::open(&dir.path().join("journal.jsonl"), info()).expect("open");
        let seq = journal
            .intent("cyberark", "create_user", "a", None)
            .expect("intent");
        journal.file = OpenOptions::new().append(true).open("/dev/full").ok();
        assert!(journal.file.is_some(), "/dev/full opens");
        journal.outcome(
            Some(seq),
            Event::new("cyberark", "create_user", "a", Outcome::Created),
        );
        let broken = journal.broken().map(ToString::to_string);
        assert!(
            broken
                .as_deref()
                .is_some_and(|b| b.starts_with("cannot write the journal")),
            "{broken:?}"
        );
        assert!(
            journal
                .intent("cyberark", "create_user", "b", None)
                .is_err()
        );
        // The run still knows what it did, for its summary.
        assert_eq!(journal.events().len(), 1);
    }

    /// Held-back records are written by `flush`, in order, in one go; when that write fails,
    /// the calls they announce are refused at their gate, before they send anything.
    #[cfg(target_os = "linux")]
    #[test]
    fn deferred_records_wait_for_flush_and_a_failed_flush_shuts_the_gate() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("journal.jsonl");
        let journal = Journal::open(&path, info()).expect("open");
        let lines = || {
            std::fs::read_to_string(&path)
                .unwrap_or_default()
                .lines()
                .count()
        };
        journal.deferring(|| {
            journal
                .intent("pam360", "create_user", "a", None)
                .expect("a");
            journal
                .intent("pam360", "create_user", "b", None)
                .expect("b");
            // The header is out; the intents are held.
            assert_eq!(lines(), 1);
            journal.flush();
            assert_eq!(lines(), 3);
        });
        assert!(journal.gate().check().is_ok());

        let mut journal = Journal::open(&path, info()).expect("open again");
        journal
            .intent("pam360", "create_user", "c", None)
            .expect("c");
        journal.file = OpenOptions::new().append(true).open("/dev/full").ok();
        let gate = journal.gate();
        journal.deferring(|| {
            journal
                .intent("pam360", "create_user", "d", None)
                .expect("held");
            assert!(gate.check().is_ok());
            journal.flush();
        });
        assert!(
            gate.check().is_err(),
            "the call announced by a lost intent is refused"
        );
        assert!(journal.intent("pam360", "create_user", "e", None).is_err());
    }

    #[test]
    fn a_journal_in_memory_writes_nothing_and_never_breaks() {
        let journal = Journal::memory();
        assert!(journal.intent("pam360", "create_user", "a", None).is_ok());
        assert!(journal.broken().is_none());
        assert!(journal.path().is_none());
    }
}
