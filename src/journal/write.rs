//! How records reach the file: each in one `write` on the append-mode file, or, on a thread
//! that runs many rows, held back and written together before any of their calls goes out.

use std::cell::{Cell, RefCell};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::sync::{Arc, OnceLock};

use super::{Journal, JournalError, Record};
use crate::util::dates;

thread_local! {
    /// Whether this thread's records wait for the next `flush` (see `deferring`).
    static DEFER: Cell<bool> = const { Cell::new(false) };
    /// This thread's records held back, in the order they were made: each thread writes its
    /// own, so that no thread waits on another's lock or write.
    static HELD: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
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

impl Journal {
    pub(super) fn write(&self, record: &Record<'_>) -> Result<(), JournalError> {
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

    /// What a call must pass before it sends: see `Gate`. Only a thread that holds its
    /// records back needs one: elsewhere a record that cannot be written fails at once, before
    /// its call is made.
    pub fn gate(&self) -> Option<Gate> {
        DEFER.with(Cell::get).then(|| Gate(self.broken.clone()))
    }

    /// Run `f` with this thread's records held back until `flush`: for a thread that runs
    /// many rows, which must call `flush` before it lets any of their calls go out.
    pub fn deferring<R>(&self, f: impl FnOnce() -> R) -> R {
        /// Writes what is held however `f` ends, a panic included.
        struct Done<'j>(&'j Journal, bool);
        impl Drop for Done<'_> {
            fn drop(&mut self) {
                DEFER.with(|d| d.set(self.1));
                self.0.flush();
            }
        }
        let _done = Done(self, DEFER.with(|d| d.replace(true)));
        f()
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
pub(super) fn line(record: &Record<'_>) -> Result<Vec<u8>, JournalError> {
    let mut line = Vec::with_capacity(256);
    serde_json::to_writer(&mut line, record).map_err(|e| JournalError::Encode(e.to_string()))?;
    line.push(b'\n');
    Ok(line)
}

/// The time for a record: made once a second per thread (every record has one).
pub(super) fn now() -> String {
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
