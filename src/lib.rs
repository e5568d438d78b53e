//! onboard: a command-line host that embeds Rhai to script user onboarding across vendors.
//!
//! The folders are the layers, top to bottom (ARCHITECTURE.md): `cli`, `repl`, `run`, `sim`,
//! `script`, `runtime`, `config`, `journal`, `vendors`, `util`. A module uses only its own layer
//! and the layers below it; `tests/it/architecture.rs` checks this.

/// The one list of vendors. Each is a client in `src/vendors/NAME.rs` and a simulator in
/// `src/sim/NAME.rs`; adding a vendor means writing those two files and adding its name here.
#[macro_export]
macro_rules! with_vendors {
    ($then:ident) => {
        $then!(cyberark, pam360, appmanager, identity);
    };
}

pub mod cli;
pub(crate) mod config;
pub(crate) mod journal;
pub(crate) mod repl;
pub(crate) mod run;
pub(crate) mod runtime;
pub(crate) mod script;
pub mod sim;
pub mod util;
pub mod vendors;
