//! onboard: a command-line host that embeds Rhai to script user onboarding across vendors.

/// The one list of vendors. Each is a client in `src/vendors/NAME.rs` and a simulator in
/// `src/sim/NAME.rs`; adding a vendor means writing those two files and adding its name here.
#[macro_export]
macro_rules! with_vendors {
    ($then:ident) => {
        $then!(cyberark, pam360, appmanager);
    };
}

pub mod analyze;
pub mod app;
pub mod budget;
pub mod bulk;
pub mod cli;
pub mod compile;
pub mod config;
pub mod dates;
pub mod diagnostics;
pub mod docs;
pub mod engine;
pub mod handoff;
pub mod helpers;
pub mod io;
pub mod journal;
pub mod lenient;
pub mod library;
pub mod modules;
pub mod output;
pub mod progress;
pub mod repl;
pub mod report;
pub mod retry;
pub mod row_check;
pub mod rows;
pub mod run;
pub mod secret;
pub mod session;
pub mod show;
pub mod sim;
pub mod stdlib;
pub mod suggest;
pub mod undo;
pub mod values;
pub mod vendors;
