//! How the script's thread waits for a vendor call: as a coroutine of `--each`, on its own
//! runtime, or (inside a runtime) on the run's.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{CallError, Session};
use crate::runtime::handoff;

impl Session {
    /// Wait for a vendor call from the script's thread, unless the run is interrupted first.
    pub fn wait<F>(&self, future: F) -> Result<F::Output, CallError>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        // The answer comes back through a slot, so that what waits is one function for every
        // kind of call (a generic one, with the runtime's machinery, was a tenth of the
        // build's machine code).
        let slot = Arc::new(Mutex::new(None));
        let answer = slot.clone();
        self.wait_for(Box::pin(async move {
            let out = future.await;
            if let Ok(mut a) = answer.lock() {
                *a = Some(out);
            }
        }))?;
        let out = slot.lock().ok().and_then(|mut a| a.take());
        out.ok_or_else(no_answer)
    }

    /// Wait for a call to end: handed to its thread when this is a row of `--each` (a
    /// coroutine, `run::fibers`), else driven here (`drive`).
    fn wait_for(&self, call: Pin<Box<dyn Future<Output = ()> + Send>>) -> Result<(), CallError> {
        let Some(io) = &self.io else {
            return Err(CallError::Setup(
                "vendor calls are not available here (no profile is loaded)".into(),
            ));
        };
        // The run's runtime also watches for Ctrl-C.
        let rt = io.runtime().map_err(CallError::Setup)?;
        if self.cancel.is_cancelled() {
            return Err(CallError::Interrupted);
        }
        let cancel = self.cancel.clone();
        let gate = self.journal.gate();
        let call = async move {
            // What announced this call may have failed to reach the disk since (`journal`).
            if gate.is_some_and(|g| g.check().is_err()) {
                return None;
            }
            tokio::select! {
                biased;
                _ = cancel.cancelled() => None,
                () = call => Some(()),
            }
        };
        let started = Instant::now();
        let call: crate::runtime::io::Pending = Box::pin(call);
        let answered = match crate::runtime::io::suspend(call) {
            // A row of `--each`: other rows run on this thread while it waits.
            Ok(ended) => Some(ended),
            Err(call) => {
                self.journal.flush();
                self.drive(rt, call)?
            }
        };
        crate::util::budget::waited(started.elapsed());
        match answered {
            Some(Some(())) => Ok(()),
            Some(None) => match self.journal.broken() {
                Some(e) if !self.cancel.is_cancelled() => {
                    Err(CallError::Setup(format!("{e}; nothing was sent")))
                }
                _ => Err(CallError::Interrupted),
            },
            None => Err(no_answer()),
        }
    }

    /// A call run to its end on this thread's runtime, or on the run's from inside a runtime.
    fn drive(
        &self,
        rt: &tokio::runtime::Runtime,
        call: crate::runtime::io::Pending,
    ) -> Result<Option<Option<()>>, CallError> {
        Ok(if crate::runtime::io::inside_runtime() {
            // Never a script's thread: the call goes to the run's runtime.
            let (answer, waiting) = handoff::to_current_thread();
            rt.spawn(async move { answer.send(call.await) });
            waiting.wait()
        } else {
            Some(crate::runtime::io::drive(call).map_err(CallError::Setup)?)
        })
    }

    pub fn sleep(&self, wait: Duration) -> Result<(), CallError> {
        // The timer must be made inside the runtime, so inside the future.
        self.wait(async move { tokio::time::sleep(wait).await })
    }
}

/// A call that ended without giving its answer (it panicked, or its runtime shut down).
fn no_answer() -> CallError {
    CallError::Setup("a vendor call failed inside onboard (it ended without an answer)".into())
}
