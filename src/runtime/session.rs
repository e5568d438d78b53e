//! What one run shares between its vendor calls: the runtime, the profile, open clients, the
//! journal, the retry rules, the interrupt signal, and what the run created or plans to.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::config::{Profile, VendorSettings};
use crate::journal::{Event, Journal, JournalError, Outcome, RunInfo};
use crate::runtime::io::Io;
use crate::util::error::{Error, Exit, Problem};
use crate::vendors::error::{ErrorKind, VendorError};
use crate::vendors::retry::RetryPolicy;
use crate::vendors::{self, Ops};

mod made;
mod wait;

pub use made::{ChangeMade, CreatedAccount, Planned};

/// Ctrl-C or SIGTERM, seen by every waiting vendor call and between script operations.
pub struct Cancel {
    /// Read between every two script operations: one atomic load.
    flag: AtomicBool,
    /// Wakes waiting calls.
    tx: watch::Sender<bool>,
}

impl Default for Cancel {
    fn default() -> Self {
        Cancel {
            flag: AtomicBool::new(false),
            tx: watch::channel(false).0,
        }
    }
}

/// Whether the run was interrupted. Any `Cancel` in this process sets it, in a static the
/// engine reads between every two operations (see `budget::stop_asked`).
#[inline]
pub fn interrupted() -> bool {
    crate::util::budget::interrupted()
}

impl Cancel {
    pub fn cancel(&self) {
        self.flag.store(true, Ordering::Relaxed);
        crate::util::budget::set_interrupted(true);
        self.tx.send_replace(true);
    }

    /// Ready for the next statement: the REPL goes on after an interrupt, where a run ends.
    pub fn reset(&self) {
        self.flag.store(false, Ordering::Relaxed);
        crate::util::budget::set_interrupted(false);
        self.tx.send_replace(false);
    }

    pub fn is_cancelled(&self) -> bool {
        self.flag.load(Ordering::Relaxed)
    }

    pub async fn cancelled(&self) {
        let mut rx = self.tx.subscribe();
        let _ = rx.wait_for(|c| *c).await;
    }
}

/// Why a vendor call did not finish.
#[derive(Debug)]
pub enum CallError {
    Vendor(VendorError),
    /// Ctrl-C or SIGTERM.
    Interrupted,
    /// No profile, no runtime, no journal: the call could not be made at all.
    Setup(String),
}

impl From<VendorError> for CallError {
    fn from(e: VendorError) -> Self {
        CallError::Vendor(e)
    }
}

/// How a run treats vendors.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Mode {
    /// Send nothing that changes anything; plan instead.
    pub dry_run: bool,
    /// With `dry_run`: send nothing at all, not even lookups.
    pub offline: bool,
}

/// The shared state of one run (or one REPL session).
pub struct Session {
    /// `None`: this session cannot call vendors (`check`, `docs`, the bulk preflight).
    io: Option<Arc<Io>>,
    profile: Option<Profile>,
    settings: Mutex<HashMap<&'static str, Arc<VendorSettings>>>,
    clients: Mutex<Vec<(&'static str, Arc<dyn Ops>)>>,
    pub journal: Journal,
    pub cancel: Arc<Cancel>,
    pub mode: Mode,
    pub retry: RetryPolicy,
    created: Mutex<Vec<CreatedAccount>>,
    changes: Mutex<Vec<ChangeMade>>,
    plan: Mutex<Vec<Planned>>,
    placeholder: AtomicI64,
    /// The journal file the history of earlier runs is read from (a dry run reads it too,
    /// though it writes nothing there).
    history: Option<std::path::PathBuf>,
}

impl Session {
    /// The session of a command that changes things, on `io`, with its journal. A dry run
    /// changes nothing, so it keeps its journal in memory and leaves nothing in the file.
    pub fn open(
        io: Arc<Io>,
        profile: Option<Profile>,
        journal_path: Option<&std::path::Path>,
        mut info: RunInfo,
        mode: Mode,
    ) -> Result<Arc<Session>, JournalError> {
        let (journal, history) = if mode.dry_run {
            (
                Journal::memory(),
                crate::journal::choose_path(journal_path).ok(),
            )
        } else {
            info.profile = profile.as_ref().map(|p| p.name.clone());
            let path = crate::journal::choose_path(journal_path)?;
            (Journal::open(&path, info)?, Some(path))
        };
        Ok(Session::build(Some(io), profile, journal, mode, history))
    }

    /// End the run's journal with the command's result; a journal that could not record
    /// everything turns success into a failure that says so.
    pub fn finish(&self, result: Result<(), Error>) -> Result<(), Error> {
        let exit = result.as_ref().err().map_or(Exit::Ok, |e| e.exit);
        self.journal.end(exit.code());
        let Some(broken) = self.journal.broken() else {
            return result;
        };
        let problem = Problem {
            message: format!("{broken}; every change after that was refused"),
            detail: String::new(),
            hints: vec![
                "a change whose outcome the journal lacks shows as unknown in `onboard journal`; \
                 `onboard undo` looks it up before deleting it"
                    .into(),
            ],
        };
        let mut err = result.err().unwrap_or_else(|| Error::silent(Exit::Runtime));
        err.exit = err.exit.worst(Exit::Runtime);
        err.problems.push(problem);
        Err(err)
    }

    /// The journal file earlier runs are read from, if there is one.
    pub fn history_path(&self) -> Option<&std::path::Path> {
        self.history.as_deref()
    }

    /// A session that cannot reach any vendor: for `check`, `docs` and scripts without vendors.
    pub fn offline() -> Arc<Session> {
        Session::new(None, None, Journal::memory(), Mode::default())
    }

    pub fn new(
        io: Option<Arc<Io>>,
        profile: Option<Profile>,
        journal: Journal,
        mode: Mode,
    ) -> Arc<Session> {
        Session::build(io, profile, journal, mode, None)
    }

    fn build(
        io: Option<Arc<Io>>,
        profile: Option<Profile>,
        journal: Journal,
        mode: Mode,
        history: Option<std::path::PathBuf>,
    ) -> Arc<Session> {
        let retry = profile
            .as_ref()
            .map(|p| p.retry.clone())
            .unwrap_or_default();
        let cancel = io
            .as_ref()
            .map_or_else(|| Arc::new(Cancel::default()), |io| io.cancel.clone());
        Arc::new(Session {
            io,
            profile,
            settings: Mutex::default(),
            clients: Mutex::default(),
            journal,
            cancel,
            mode,
            retry,
            created: Mutex::default(),
            changes: Mutex::default(),
            plan: Mutex::default(),
            placeholder: AtomicI64::new(0),
            history,
        })
    }

    pub fn profile(&self) -> Option<&Profile> {
        self.profile.as_ref()
    }

    /// A vendor's settings, with secrets read on first use. Prints the `insecure` warning once.
    pub fn settings(&self, vendor: &'static str) -> Result<Arc<VendorSettings>, String> {
        if let Some(s) = self
            .settings
            .lock()
            .ok()
            .and_then(|m| m.get(vendor).cloned())
        {
            return Ok(s);
        }
        let profile = self.profile.as_ref().ok_or_else(|| {
            format!(
                "{vendor}:: needs a profile: no onboard.toml was found ({}); \
                 run with --sim to use the built-in simulator",
                crate::config::searched_places()
            )
        })?;
        if !profile.has(vendor) {
            return Err(format!(
                "profile `{0}` has no [profiles.{0}.{vendor}] section, so {vendor}:: cannot be used",
                profile.name
            ));
        }
        let settings = Arc::new(profile.resolve(vendor).map_err(|e| e.to_string())?);
        if settings.insecure {
            crate::util::error::warn(format!(
                "TLS certificate checks are off for {vendor} in profile `{}` \
                 (insecure = true at {}); use this only with a test system",
                settings.profile, settings.at
            ));
        }
        if let Ok(mut m) = self.settings.lock() {
            m.insert(vendor, settings.clone());
        }
        Ok(settings)
    }

    /// The run's one client of `vendor`, connected on first use and closed with the session.
    /// Every engine of a run (one per `--each` worker) and rollback share it: one logon, and
    /// one pace for the vendor's rate cap.
    pub fn ops(&self, vendor: &'static str) -> Result<Arc<dyn Ops>, CallError> {
        // Held while connecting, which is quick and sends nothing, so two workers asking at
        // once get the same client.
        let mut clients = self
            .clients
            .lock()
            .map_err(|_| CallError::Setup("the run's clients are unusable after a crash".into()))?;
        if let Some((_, ops)) = clients.iter().find(|(v, _)| *v == vendor) {
            return Ok(ops.clone());
        }
        let settings = self.settings(vendor).map_err(CallError::Setup)?;
        let ops = vendors::connect_ops(vendor, &settings)
            .ok_or_else(|| CallError::Setup(format!("unknown vendor {vendor}")))??;
        clients.push((vendor, ops.clone()));
        Ok(ops)
    }

    /// Run `attempt`, a call that is safe to repeat, until it succeeds or the retry rules say
    /// stop; each retry is journalled.
    pub fn retrying<T, Fut>(
        &self,
        vendor: &'static str,
        operation: &'static str,
        username: &str,
        seq: Option<u64>,
        mut attempt: impl FnMut() -> Fut,
    ) -> Result<T, CallError>
    where
        Fut: Future<Output = Result<T, VendorError>> + Send + 'static,
        T: Send + 'static,
    {
        let started = Instant::now();
        let mut n = 1;
        loop {
            let err = match self.wait(attempt())? {
                Ok(v) => return Ok(v),
                Err(e) => e.during(operation),
            };
            match self
                .retry
                .next_delay_idempotent(&err, n + 1, started.elapsed())
            {
                Some(wait) => {
                    self.journal
                        .retry(seq, vendor, operation, username, n + 1, &err, wait);
                    self.sleep(wait)?;
                    n += 1;
                }
                None => return Err(CallError::Vendor(err)),
            }
        }
    }

    /// Delete a user with a journal record before and after. A delete whose answer was lost and
    /// that finds the user gone on the retry went through.
    pub fn journalled_delete<Fut>(
        &self,
        vendor: &'static str,
        operation: &'static str,
        id: i64,
        username: &str,
        mut delete: impl FnMut() -> Fut,
    ) -> Result<(), CallError>
    where
        Fut: Future<Output = Result<(), VendorError>> + Send + 'static,
    {
        let seq = self
            .journal
            .intent(vendor, operation, username, None)
            .map_err(|e| CallError::Setup(format!("{e}; nothing was sent")))?;
        let started = Instant::now();
        let lost = Arc::new(AtomicBool::new(false));
        let result = self.retrying(vendor, operation, username, Some(seq), || {
            let attempt = delete();
            let lost = lost.clone();
            async move {
                match attempt.await {
                    Err(e) if e.kind == ErrorKind::NotFound && lost.load(Ordering::Relaxed) => {
                        Ok(())
                    }
                    Err(e) => {
                        if e.may_have_applied() {
                            lost.store(true, Ordering::Relaxed);
                        }
                        Err(e)
                    }
                    ok => ok,
                }
            }
        });
        let mut event = Event::new(vendor, operation, username, Outcome::Deleted)
            .id(id)
            .took(started.elapsed());
        match &result {
            Ok(()) => self.forget_created(vendor, id),
            Err(CallError::Vendor(e)) => {
                event = event.error(e);
                event.outcome = Outcome::Failed;
            }
            Err(_) => {
                event = event.note("interrupted while waiting for the vendor's answer");
                event.outcome = Outcome::Unknown;
            }
        }
        self.journal.outcome(Some(seq), event);
        result
    }

    /// Ids for dry-run results: -1, -2, … so they can never be mistaken for real ones.
    pub fn placeholder_id(&self) -> i64 {
        -(self.placeholder.fetch_add(1, Ordering::SeqCst) + 1)
    }

    /// End every vendor session opened by this run (CyberArk logoff). Bounded in time, and
    /// short after an interrupt, so Ctrl-C is not held up by a slow server.
    pub fn close(&self) {
        let clients: Vec<_> = self
            .clients
            .lock()
            .map(|mut c| std::mem::take(&mut *c))
            .unwrap_or_default();
        // Clients are made on the runtime: none were if it never started.
        let Some(rt) = self.io.as_ref().and_then(|io| io.started()) else {
            return;
        };
        let limit = if self.cancel.is_cancelled() {
            Duration::from_millis(700)
        } else {
            Duration::from_secs(15)
        };
        for (vendor, c) in clients {
            let logoff = async { tokio::time::timeout(limit, c.close()).await };
            // On this thread's runtime, where its calls were driven (see `Session::wait`).
            let done = if crate::runtime::io::inside_runtime() {
                Ok(rt.block_on(logoff))
            } else {
                crate::runtime::io::drive(logoff)
            };
            if !matches!(done, Ok(Ok(_))) {
                crate::util::error::warn(format!("{vendor} logoff did not finish in time"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info() -> RunInfo {
        RunInfo::for_test()
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_run_whose_journal_broke_ends_in_an_error_that_says_so() {
        let info = info();
        let journal = Journal::open(std::path::Path::new("/dev/full"), info).expect("opens");
        assert!(
            journal
                .intent("cyberark", "create_user", "a", None)
                .is_err()
        );
        let session = Session::new(None, None, journal, Mode::default());
        let err = session
            .finish(Ok(()))
            .expect_err("a broken journal fails the run");
        assert_eq!(err.exit, Exit::Runtime);
        assert!(
            err.render().contains("cannot write the journal /dev/full"),
            "{}",
            err.render()
        );
        assert!(err.render().contains("hint: "), "{}", err.render());
    }

    /// A call announced by a record that was held back and then failed to be written is not
    /// started: its gate refuses it, and the error says why and that nothing was sent.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_call_after_a_lost_record_is_refused_before_it_starts() {
        let dir = tempfile::tempdir().expect("temp dir");
        let info = info();
        let journal = Journal::open(&dir.path().join("j.jsonl"), info).expect("opens");
        let session = Session::new(Some(Io::new()), None, journal, Mode::default());
        let started = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let ran = started.clone();
        let call = async move { ran.store(true, std::sync::atomic::Ordering::SeqCst) };
        // The journal breaks (as a failed `flush` breaks it) after the intent was accepted.
        session.journal.break_for_test();
        let err = session
            .journal
            .deferring(|| session.wait(call))
            .expect_err("refused");
        assert!(
            !started.load(std::sync::atomic::Ordering::SeqCst),
            "the call ran"
        );
        let CallError::Setup(message) = err else {
            panic!("not a setup error: {err:?}");
        };
        assert!(message.ends_with("; nothing was sent"), "{message}");
    }

    #[test]
    fn a_run_with_a_sound_journal_ends_as_it_ran() {
        let session = Session::new(None, None, Journal::memory(), Mode::default());
        assert!(session.finish(Ok(())).is_ok());
        let err = session.finish(Err(Error::input("bad"))).expect_err("kept");
        assert_eq!(err.exit, Exit::Input);
    }
}
