//! From a parsed command line to an exit code: one file per subcommand, and the one place a
//! command's error is printed.

pub(crate) mod args;
mod check;
mod docs;
mod doctor;
mod init;
mod journal;
mod lib;
mod manual;
mod run;
mod undo;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::args::{Cli, Command};
use crate::util::error::{self, Error};

pub fn main() -> ExitCode {
    // reqwest is built without a default crypto provider (no aws-lc); ring must be installed
    // before any TLS client or server is made.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = Cli::parse();
    match dispatch(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            error::print(&e);
            ExitCode::from(e.exit.code())
        }
    }
}

fn dispatch(cli: &Cli) -> Result<(), Error> {
    let (config, journal) = (cli.config.as_deref(), cli.journal.as_deref());
    match &cli.command {
        Command::Run(args) => run::run(config, journal, args),
        Command::Check(args) => check::check(config, args),
        Command::Sim(args) => crate::sim::serve_forever(&args.options),
        Command::Docs(args) => docs::print(config, args),
        Command::Journal(args) => journal::show(journal, args),
        Command::Undo(args) => undo::undo(config, journal, args),
        Command::Repl(args) => crate::repl::run(config, journal, &run::repl_options(args)),
        Command::Lib(args) => lib::command(config, args),
        Command::Definitions(args) => docs::definitions(config, args),
        Command::Init(args) => init::init(args),
        Command::Doctor(args) => doctor::doctor(config, args),
        Command::Completions(args) => manual::completions(args),
        Command::Man(args) => manual::man(args),
    }
}
