//! A vendor call's answer, handed from the runtime's threads to the script thread waiting for it.
//!
//! Waiting on a tokio `JoinHandle` from outside the runtime takes a mutex and a condition
//! variable on each side; a bulk run does it for every call of every row. Here the waiting thread
//! parks and the answer unparks it: one atomic store and one wake.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, Thread};

struct Slot<T> {
    answer: Mutex<Option<T>>,
    /// Set last, after the answer (or after the sender is dropped without one).
    finished: AtomicBool,
}

/// The runtime's end: gives the answer, or on drop (a panic in the call, the runtime shutting
/// down) lets the waiting thread go with none.
pub struct Sender<T> {
    slot: Arc<Slot<T>>,
    waiter: Thread,
}

/// The script thread's end.
pub struct Receiver<T> {
    slot: Arc<Slot<T>>,
}

/// A handoff to the current thread.
pub fn to_current_thread<T>() -> (Sender<T>, Receiver<T>) {
    let slot = Arc::new(Slot {
        answer: Mutex::new(None),
        finished: AtomicBool::new(false),
    });
    (
        Sender {
            slot: slot.clone(),
            waiter: thread::current(),
        },
        Receiver { slot },
    )
}

impl<T> Sender<T> {
    pub fn send(self, answer: T) {
        if let Ok(mut a) = self.slot.answer.lock() {
            *a = Some(answer);
        }
        // Drop marks the slot finished and wakes the waiter.
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        self.slot.finished.store(true, Ordering::Release);
        self.waiter.unpark();
    }
}

impl<T> Receiver<T> {
    /// Park until the sender answers or is dropped; `None` if it was dropped without answering.
    /// Must be called on the thread the handoff was made for.
    pub fn wait(self) -> Option<T> {
        // A park can end early (a stray unpark, or none needed): the flag decides.
        while !self.slot.finished.load(Ordering::Acquire) {
            thread::park();
        }
        self.slot.answer.lock().ok().and_then(|mut a| a.take())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_answer_arrives_from_another_thread() {
        let (tx, rx) = to_current_thread();
        let t = thread::spawn(move || tx.send(42));
        assert_eq!(rx.wait(), Some(42));
        t.join().unwrap();
    }

    #[test]
    fn a_sender_dropped_without_answering_releases_the_waiter() {
        let (tx, rx) = to_current_thread::<u8>();
        let t = thread::spawn(move || {
            let _tx = tx;
            panic!("the call failed inside");
        });
        assert_eq!(rx.wait(), None);
        assert!(t.join().is_err());
    }
}
