//! `--each`'s rows as coroutines: a few threads, each running many rows, switching between them while they wait for vendors.
//!
//! A script is synchronous: it waits for every vendor call it makes. With a thread per row in
//! flight, every call put its thread to sleep and woke it again, and 16 threads on 2 cores
//! spent more CPU switching than the calls cost. Here each row's script runs on a stack of its
//! own (a coroutine); a call hands its future to the thread and the coroutine steps aside, the
//! thread drives every waiting call at once on its runtime, and resumes each row as its answer
//! comes. What is per thread (the row being run, its memory and time budget, the modules it is
//! importing) is set aside and put back with the coroutine.

use corosensei::stack::DefaultStack;
use corosensei::{CoroutineResult, ScopedCoroutine, ScopedCoroutineRef, Yielder};
use futures_util::FutureExt;
use futures_util::stream::{FuturesUnordered, StreamExt};

use crate::journal::{current_row, set_current_row};
use crate::runtime::io::{self, Pending};
use crate::script::modules;
use crate::util::budget;

/// A row's coroutine: resumed with how its call ended, it hands over its next call.
type Fiber<'a> = ScopedCoroutine<'a, Option<()>, Pending, (), DefaultStack>;
type FiberRef<'s> = ScopedCoroutineRef<'s, Option<()>, Pending, (), DefaultStack>;

/// Run `fibers` copies of `body` on this thread until each returns; `body` runs rows until
/// none are left. `before_waiting` runs each time the rows have handed over their calls and
/// before any of those calls is polled (the journal writes what they announced). An error when
/// a coroutine's stack or the thread's runtime cannot be had.
pub fn run(
    fibers: usize,
    stack: usize,
    body: &dyn Fn(),
    before_waiting: &dyn Fn(),
) -> Result<(), String> {
    let mut all = Vec::with_capacity(fibers);
    for _ in 0..fibers {
        let stack = DefaultStack::new(stack)
            .map_err(|e| format!("cannot make a stack for a row's script: {e}"))?;
        all.push(Fiber::with_stack(stack, move |yielder, _| {
            let suspend = |call: Pending| wait_aside(yielder, call);
            io::suspending(&suspend, body)
        }));
    }
    enter(all, Vec::new(), before_waiting)
}

/// Run `f` on a stack of its own of `size` bytes, on this thread: a script's deep (but bounded)
/// recursion must hit the call-depth limit, not overflow the thread's stack. `Err` when the
/// stack cannot be had; a panic in `f` comes back as the inner `Err`.
pub fn on_own_stack<R>(
    size: usize,
    f: impl FnOnce() -> R,
) -> Result<std::thread::Result<R>, String> {
    let stack =
        DefaultStack::new(size).map_err(|e| format!("cannot make a stack for the script: {e}"))?;
    Ok(corosensei::on_stack(stack, || {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
    }))
}

/// Step aside until `call` has ended, keeping what this thread holds for the row.
fn wait_aside(yielder: &Yielder<Option<()>, Pending>, call: Pending) -> Option<()> {
    let row = current_row();
    let kept = budget::take();
    let loading = modules::take_loading();
    let ended = yielder.suspend(call);
    modules::put_loading(loading);
    budget::put(kept);
    set_current_row(row);
    ended
}

/// Each coroutine can only be resumed within its own scope: enter them one inside the other,
/// then schedule them all.
fn enter<'a>(
    mut rest: Vec<Fiber<'a>>,
    entered: Vec<FiberRef<'_>>,
    before_waiting: &dyn Fn(),
) -> Result<(), String> {
    match rest.pop() {
        None => schedule(entered, before_waiting),
        Some(fiber) => fiber.scope(|inner| {
            let mut entered: Vec<FiberRef<'_>> = entered.into_iter().collect();
            entered.push(inner);
            enter(rest, entered, before_waiting)
        }),
    }
}

/// Resume every coroutine until it hands over a call, drive the calls on this thread's
/// runtime, and resume each coroutine whose call ended, until all have returned.
fn schedule(mut fibers: Vec<FiberRef<'_>>, before_waiting: &dyn Fn()) -> Result<(), String> {
    io::drive(async move {
        let mut waiting = FuturesUnordered::new();
        let mut ready: Vec<(usize, Option<()>)> = (0..fibers.len()).map(|i| (i, None)).collect();
        loop {
            for (i, ended) in ready.drain(..) {
                if let CoroutineResult::Yield(call) = fibers[i].as_mut().resume(ended) {
                    waiting.push(call.map(move |ended| (i, ended)));
                }
            }
            // Nothing handed over is polled (sent) before this.
            before_waiting();
            let Some(first) = waiting.next().await else {
                return;
            };
            ready.push(first);
            // Every call that has ended by now, before the rows run on (no call is new here).
            while let Some(Some(next)) = waiting.next().now_or_never() {
                ready.push(next);
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    /// Calls in flight now, and the most at once (a call's future must be `'static`).
    static INFLIGHT: AtomicUsize = AtomicUsize::new(0);
    static MOST: AtomicUsize = AtomicUsize::new(0);

    #[test]
    fn rows_on_one_thread_wait_at_once_and_keep_their_row() {
        let left = AtomicUsize::new(6);
        let seen = std::sync::Mutex::new(Vec::new());
        let body = || {
            while let Ok(n) =
                left.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            {
                set_current_row(Some(n as u64));
                let call: Pending = Box::pin(async {
                    let now = INFLIGHT.fetch_add(1, Ordering::SeqCst) + 1;
                    MOST.fetch_max(now, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    INFLIGHT.fetch_sub(1, Ordering::SeqCst);
                    Some(())
                });
                assert_eq!(io::suspend(call).ok(), Some(Some(())));
                seen.lock().unwrap().push((n as u64, current_row()));
            }
        };
        run(3, 256 * 1024, &body, &|| {}).unwrap();
        // Three rows waited at once on the one thread.
        assert_eq!(MOST.load(Ordering::SeqCst), 3);
        let seen = seen.into_inner().unwrap();
        assert_eq!(seen.len(), 6);
        assert!(seen.iter().all(|(n, row)| Some(*n) == *row));
    }

    #[test]
    fn outside_a_coroutine_a_call_is_given_back() {
        let call: Pending = Box::pin(async { Some(()) });
        assert!(io::suspend(call).is_err());
    }
}
