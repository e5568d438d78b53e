//! The async runtime vendor calls run on, started by the first thing that needs it, and the Ctrl-C watch that comes with it.

use std::cell::{Cell, OnceCell};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use tokio::runtime::Runtime;

use crate::runtime::session::Cancel;
use crate::util::error::Exit;

/// A tokio runtime on two threads: enough for hundreds of requests in flight, and small.
pub fn runtime() -> Result<Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .thread_name("onboard-io")
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))
}

thread_local! {
    /// The runtime a thread drives its own vendor calls on.
    static HERE: OnceCell<Result<Runtime, String>> = const { OnceCell::new() };
    /// While a coroutine runs on this thread: how it hands a call to the thread and waits.
    static SUSPEND: Cell<Option<*const Suspend<'static>>> = const { Cell::new(None) };
    /// When the coroutine running on this thread last started or came back.
    static RESUMED: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// How long a coroutine computes before it lets the others on its thread read their answers.
const SHARE_AFTER: Duration = Duration::from_millis(20);

/// A vendor call handed over to be waited for; `None` when the run was interrupted first.
pub type Pending = Pin<Box<dyn Future<Output = Option<()>> + Send>>;

/// How a coroutine waits for a call: it hands the call over and is resumed with its end.
pub type Suspend<'a> = dyn Fn(Pending) -> Option<()> + 'a;

/// Run `body` as the coroutine whose calls wait through `suspend` (`run::fibers`).
pub fn suspending<R>(suspend: &Suspend<'_>, body: impl FnOnce() -> R) -> R {
    struct Unset;
    impl Drop for Unset {
        fn drop(&mut self) {
            SUSPEND.with(|s| s.set(None));
            RESUMED.with(|r| r.set(None));
        }
    }
    // SAFETY: only the lifetime is erased. The pointer is on this thread only while `body`
    // runs (`Unset` clears it however `body` ends), and `suspend` lives longer than that.
    let erased: *const Suspend<'static> =
        unsafe { std::mem::transmute::<*const Suspend<'_>, *const Suspend<'static>>(suspend) };
    SUSPEND.with(|s| s.set(Some(erased)));
    RESUMED.with(|r| r.set(Some(Instant::now())));
    let _unset = Unset;
    body()
}

/// Wait for `call` as the coroutine running on this thread; `Err` with the call when none is.
pub fn suspend(call: Pending) -> Result<Option<()>, Pending> {
    // Cleared while the coroutine is away, so that whatever runs on the thread meanwhile
    // cannot suspend it; it sets it back when it is resumed.
    let Some(current) = SUSPEND.with(Cell::take) else {
        return Err(call);
    };
    // SAFETY: set by `suspending`, whose `suspend` outlives the `body` this runs within.
    let out = unsafe { (*current)(call) };
    SUSPEND.with(|s| s.set(Some(current)));
    RESUMED.with(|r| r.set(Some(Instant::now())));
    Ok(out)
}

/// In a coroutine that has computed for a while without waiting, step aside once so that the
/// other rows of its thread read the answers that came meanwhile (a long computation would
/// otherwise hold them, and their vendors' sessions, waiting); how long it was away.
pub fn share_thread() -> Option<Duration> {
    let resumed = RESUMED.with(Cell::get)?;
    if resumed.elapsed() < SHARE_AFTER {
        return None;
    }
    let away = Instant::now();
    let turn: Pending = Box::pin(async {
        tokio::task::yield_now().await;
        Some(())
    });
    suspend(turn).ok()?;
    Some(away.elapsed())
}

/// Run `future` to its end on this thread, on a runtime of the thread's own. Not for a thread
/// `inside_runtime`, which may not block.
///
/// A script waits for each vendor call it makes. Sending the call to a shared runtime and
/// parking until it answers costs two thread wake-ups per call, which at zero latency is most
/// of a bulk run's CPU; driven here, the request, its connection and its answer stay on the
/// thread that waits for them, and the only wait is for the socket.
pub fn drive<F: Future>(future: F) -> Result<F::Output, String> {
    HERE.with(|here| {
        let rt = here
            .get_or_init(|| {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| format!("cannot start the async runtime: {e}"))
            })
            .as_ref()
            .map_err(Clone::clone)?;
        Ok(rt.block_on(future))
    })
}

/// Whether this thread is running a runtime's tasks (or inside `block_on`).
pub fn inside_runtime() -> bool {
    tokio::runtime::Handle::try_current().is_ok()
}

/// The runtime of one run. A script that calls no vendor never starts it (its threads are most
/// of the start-up time of a short script); until it starts, Ctrl-C ends the process at once,
/// which is right when nothing has been sent.
pub struct Io {
    pub cancel: Arc<Cancel>,
    runtime: OnceLock<Result<Runtime, String>>,
    /// The REPL: Ctrl-C stops the statement, not the program.
    interactive: bool,
}

impl Io {
    pub fn new() -> Arc<Io> {
        Io::with(false)
    }

    /// For the REPL, where an interrupt returns to the prompt.
    pub fn interactive() -> Arc<Io> {
        Io::with(true)
    }

    fn with(interactive: bool) -> Arc<Io> {
        Arc::new(Io {
            cancel: Arc::new(Cancel::default()),
            runtime: OnceLock::new(),
            interactive,
        })
    }

    /// The runtime, started (with the Ctrl-C watch) on first use.
    pub fn runtime(&self) -> Result<&Runtime, String> {
        self.runtime
            .get_or_init(|| {
                let rt = runtime()?;
                watch_signals(&rt, self.cancel.clone(), self.interactive);
                Ok(rt)
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// The runtime if something has started it.
    pub fn started(&self) -> Option<&Runtime> {
        self.runtime.get().and_then(|r| r.as_ref().ok())
    }
}

/// The first Ctrl-C (or SIGTERM) cancels the run: calls in flight stop waiting, the script stops
/// at its next operation, and the run winds down (journal, rollback, logoff). A second one exits
/// at once.
fn watch_signals(runtime: &Runtime, cancel: Arc<Cancel>, interactive: bool) {
    runtime.spawn(async move {
        #[cfg(unix)]
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        loop {
            #[cfg(unix)]
            let got = tokio::select! {
                r = tokio::signal::ctrl_c() => r.is_ok(),
                _ = async {
                    match term.as_mut() {
                        Some(t) => { t.recv().await; }
                        None => std::future::pending::<()>().await,
                    }
                } => true,
            };
            #[cfg(not(unix))]
            let got = tokio::signal::ctrl_c().await.is_ok();
            if !got {
                return;
            }
            if cancel.is_cancelled() {
                eprintln!("\nonboard: interrupted again; exiting now");
                std::process::exit(i32::from(Exit::Interrupted.code()));
            }
            if interactive {
                eprintln!("\nonboard: interrupted (Ctrl-C again quits onboard at once)");
            } else {
                eprintln!("\nonboard: interrupted; stopping now (Ctrl-C again to quit at once)");
            }
            cancel.cancel();
        }
    });
}
