//! From a parsed command line to an exit code: one function per subcommand.

use std::process::ExitCode;

use clap::Parser;

pub mod args;
pub mod journal;
pub mod undo;

use crate::cli::args::{Cli, Command};
use crate::repl;
use crate::run::once as run;
use crate::script::{compile, docs, library};
use crate::sim;

/// Exit codes (DESIGN.md): 0 ok, 1 failed at run time, 2 bad input before anything ran, 130 interrupted.
pub const EXIT_OK: u8 = 0;
pub const EXIT_RUNTIME: u8 = 1;
pub const EXIT_INPUT: u8 = 2;
pub const EXIT_INTERRUPTED: u8 = 130;

pub fn main() -> ExitCode {
    // reqwest is built without a default crypto provider (no aws-lc); ring must be installed
    // before any TLS client or server is made.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = Cli::parse();
    let code = match &cli.command {
        Command::Run(args) => run::run(cli.config.as_deref(), cli.journal.as_deref(), args),
        Command::Check(args) => compile::check(cli.config.as_deref(), args),
        Command::Sim(args) => sim::serve_forever(args),
        Command::Docs(args) => docs::print(cli.config.as_deref(), args),
        Command::Journal(args) => journal::show(cli.journal.as_deref(), args),
        Command::Undo(args) => undo::undo(cli.config.as_deref(), cli.journal.as_deref(), args),
        Command::Repl(args) => repl::run(cli.config.as_deref(), cli.journal.as_deref(), args),
        Command::Lib(args) => library::command(cli.config.as_deref(), args),
        Command::Definitions(args) => docs::definitions(cli.config.as_deref(), args),
    };
    ExitCode::from(code)
}
