//! The one way script output is printed: it says which row printed it, and steps around the
//! progress bar of `--each` so it never tears it.

use std::io::Write;
use std::sync::Mutex;

use indicatif::ProgressBar;

use crate::journal::current_row;

/// Where `print` goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PrintTo {
    Stdout,
    /// With `--json`, stdout carries only the JSON document.
    Stderr,
}

/// The bar being drawn, if any, for `emit` to step around.
static BAR: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// Print a line of script output; in `--each` runs it says which row printed it.
pub fn emit(to: PrintTo, text: &str) {
    let line = match current_row() {
        Some(row) => format!("[row {row}] {text}"),
        None => text.to_string(),
    };
    let write = || {
        // A closed pipe (`onboard run x | head`) must not panic, nor end the run as `outln!`
        // would: the script goes on (its creates, rollback and journal) without its output.
        let _ = match to {
            PrintTo::Stdout => writeln!(std::io::stdout().lock(), "{line}"),
            PrintTo::Stderr => writeln!(std::io::stderr().lock(), "{line}"),
        };
    };
    let bar = BAR.lock().ok().and_then(|b| b.clone());
    match bar {
        Some(bar) => bar.suspend(write),
        None => write(),
    }
}

/// The bar `emit` steps around from now on (`None` when it is gone).
pub fn step_around(bar: Option<ProgressBar>) {
    if let Ok(mut slot) = BAR.lock() {
        *slot = bar;
    }
}
