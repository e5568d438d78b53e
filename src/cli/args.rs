//! The command line, as clap sees it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Parser, Debug)]
#[command(
    name = "onboard",
    version,
    about = "Script user onboarding across CyberArk, PAM360 and Applications Manager",
    long_about = "Script user onboarding across CyberArk, ManageEngine PAM360 and ManageEngine \
                  Applications Manager with Rhai.\n\nTry it with no vendor system at all:\n  \
                  onboard run scripts/new_hire.rhai --sim",
    after_help = "Exit codes: 0 success, 1 the script failed while running, 2 bad input before \
                  anything ran (usage, config, syntax), 130 interrupted."
)]
pub struct Cli {
    /// The config file (default: $ONBOARD_CONFIG, ./onboard.toml, then the user's config folder).
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// The journal file (default: $ONBOARD_JOURNAL, then the user's state folder).
    #[arg(long, global = true, value_name = "PATH")]
    pub journal: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

// Each subcommand's arguments are built only when it is the one run (a fifth of start-up's
// instructions went to building every subcommand's).
#[derive(Subcommand, Debug)]
#[command(defer = true)]
pub enum Command {
    /// Run a script.
    Run(RunArgs),
    /// Parse scripts and check every vendor call they make, without running them or sending anything.
    Check(CheckArgs),
    /// Serve the built-in simulator of all three vendors on 127.0.0.1.
    Sim(SimArgs),
    /// List every function a script can call, with its help and, for vendor calls, every field.
    Docs(DocsArgs),
    /// Show the runs in the journal, or what one run created and what became of it.
    Journal(JournalArgs),
    /// Delete the accounts a run created that are still there, newest first. Safe to repeat.
    Undo(UndoArgs),
    /// An interactive shell: run statements one at a time, explore vendors with Tab and :help.
    Repl(ReplArgs),
    /// Team script libraries: list those found, scaffold one, check one.
    Lib(LibArgs),
    /// Write Rhai definition files (.d.rhai) for editors: vendor, helper and library functions.
    Definitions(DefinitionsArgs),
    /// Write a commented onboard.toml with one profile and every vendor's section, to fill in.
    Init(InitArgs),
    /// Check a profile against its vendors without changing anything: secrets, network, TLS,
    /// logon, the service account's rights, the vendor's version and the clock.
    Doctor(DoctorArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    Completions(CompletionsArgs),
    /// Write the man pages (onboard.1 and one per subcommand) to a folder, or onboard.1 to stdout.
    Man(ManArgs),
}

#[derive(Args, Debug)]
pub struct InitArgs {
    /// The profile's name.
    #[arg(long, short, default_value = "prod")]
    pub profile: String,
    /// Where to write it (default: ./onboard.toml).
    #[arg(long, value_name = "FILE", default_value = "onboard.toml")]
    pub path: PathBuf,
    /// Overwrite a file that is already there.
    #[arg(long)]
    pub force: bool,
}

#[derive(Args, Debug)]
pub struct DoctorArgs {
    /// The profile to check (default: $ONBOARD_PROFILE, then default_profile).
    #[arg(long, short)]
    pub profile: Option<String>,
    /// Also read this CSV (checking each row offline against --script when given) and
    /// estimate how long a run over it takes.
    #[arg(long, value_name = "FILE")]
    pub each: Option<PathBuf>,
    /// The script the rows of --each are for (default: scripts/new_hire.rhai when it exists).
    #[arg(long, value_name = "SCRIPT")]
    pub script: Option<PathBuf>,
    /// Print the findings as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct CompletionsArgs {
    /// The shell.
    pub shell: clap_complete::Shell,
}

#[derive(Args, Debug)]
pub struct ManArgs {
    /// The folder to write the pages to; without it, onboard.1 goes to stdout.
    pub dir: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct LibArgs {
    #[command(subcommand)]
    pub command: LibCommand,
}

#[derive(Subcommand, Debug)]
#[command(defer = true)]
pub enum LibCommand {
    /// The libraries found in [modules] paths and ONBOARD_PATH, and the standard library.
    List,
    /// Make a new library: a manifest, a module with doc comments, a test.
    New {
        /// The library's name (its folder's name, and the first part of its imports).
        name: String,
        /// The folder to make it in.
        #[arg(long, default_value = ".")]
        dir: PathBuf,
    },
    /// Compile every module of a library and run its tests/*.rhai on the simulator.
    Check {
        /// The library's folder.
        path: PathBuf,
    },
}

#[derive(Args, Debug)]
pub struct DefinitionsArgs {
    /// The folder to write the .d.rhai files to.
    pub dir: PathBuf,
}

// The flags of both commands that run scripts against a profile (`run` and `repl`). Not a doc
// comment: with deferred subcommands a flattened struct's doc would replace the command's about.
#[derive(Args, Debug, Clone)]
pub struct SessionArgs {
    /// The profile of onboard.toml to use (default: $ONBOARD_PROFILE, then default_profile).
    #[arg(long, short)]
    pub profile: Option<String>,
    /// Use the built-in simulator for every vendor: no config and no vendor system needed.
    #[arg(long)]
    pub sim: bool,
    /// Check every call as a real run would, send nothing that changes anything, print the
    /// plan (in the REPL, `:dry-run off` leaves it).
    #[arg(long)]
    pub dry_run: bool,
    /// Stop the script (in the REPL, a statement) after this many operations (default 10
    /// million; 0: no limit).
    #[arg(long, value_name = "N")]
    pub max_operations: Option<u64>,
}

#[derive(Args, Debug)]
pub struct ReplArgs {
    #[command(flatten)]
    pub session: SessionArgs,
}

#[derive(Args, Debug)]
pub struct RunArgs {
    /// The script to run.
    pub script: PathBuf,
    #[command(flatten)]
    pub session: SessionArgs,
    /// A variable in scope for the script; numbers and true/false are typed (repeatable).
    #[arg(long = "var", value_name = "KEY=VALUE")]
    pub vars: Vec<String>,
    /// Print the script's result and the accounts it touched as JSON on stdout (prints go to stderr).
    #[arg(long)]
    pub json: bool,
    /// Print only what the script prints: no summary of accounts.
    #[arg(long, short)]
    pub quiet: bool,
    /// With --dry-run: send nothing at all, not even lookups (no profile needed).
    #[arg(long, requires = "dry_run")]
    pub offline: bool,
    /// When the script ends in an uncaught error, delete what this run created, newest first.
    #[arg(long)]
    pub rollback_on_error: bool,
    /// Run the script once per row of this CSV (with a header row) or JSON-lines file, with the
    /// row in scope as `row`.
    #[arg(long, value_name = "FILE")]
    pub each: Option<PathBuf>,
    /// Rows run at once, 1 to 256 (default: the profile's `jobs`, else 8).
    #[arg(long, short, requires = "each", value_name = "N", value_parser = jobs)]
    pub jobs: Option<usize>,
    /// Write what became of each row to this file, one JSON line per row.
    #[arg(long, requires = "each", value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Start no new row once one has failed.
    #[arg(long, requires = "each")]
    pub fail_fast: bool,
    /// Only these rows: `10-20,25,40-` (data rows, counted from 1).
    #[arg(
        long,
        requires = "each",
        conflicts_with = "resume",
        value_name = "LIST"
    )]
    pub rows: Option<String>,
    /// Only the rows a previous report has not got as done: the failed ones and those not reached.
    #[arg(long, requires = "each", value_name = "REPORT")]
    pub resume: Option<PathBuf>,
}

/// `--jobs`: at least one row at a time, and not more threads than anyone needs.
fn jobs(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n @ 1..=256) => Ok(n),
        Ok(0) => Err("at least 1 row must run at a time".into()),
        Ok(_) => Err("at most 256 rows run at a time".into()),
        Err(_) => Err(format!("`{text}` is not a number of rows")),
    }
}

#[derive(Args, Debug)]
pub struct JournalArgs {
    /// A run id (or a unique start of one, or `last`); without it, the runs are listed.
    pub run: Option<String>,
    /// As JSON.
    #[arg(long)]
    pub json: bool,
    /// Every run, not only the last 20.
    #[arg(long)]
    pub all: bool,
}

#[derive(Args, Debug)]
pub struct UndoArgs {
    /// The run whose accounts to delete (an id, a unique start of one, or `last`).
    pub run: String,
    /// Show what would be deleted; delete nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Use this profile instead of the one the run used.
    #[arg(long, short)]
    pub profile: Option<String>,
    /// Also delete accounts the journal cannot prove the run made (found by name only after a
    /// lost answer): check them first. Another run's accounts are never deleted.
    #[arg(long)]
    pub force: bool,
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// The scripts to check.
    #[arg(required = true)]
    pub scripts: Vec<PathBuf>,
    /// Variables the scripts expect from --var (only the names matter here).
    #[arg(long = "var", value_name = "KEY[=VALUE]")]
    pub vars: Vec<String>,
    /// The scripts are for `run --each FILE`: `row` is in scope, and FILE must have every
    /// column they read as `row.NAME`.
    #[arg(long, value_name = "FILE")]
    pub each: Option<PathBuf>,
}

// `onboard sim`: the simulator's own options (not a doc comment, as `SessionArgs`).
#[derive(Args, Debug, Clone)]
pub struct SimArgs {
    #[command(flatten)]
    pub options: crate::sim::Options,
}

#[derive(Args, Debug)]
pub struct DocsArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = DocsFormat::Text)]
    pub format: DocsFormat,
    /// Only this function or namespace (`cyberark`, `cyberark::create_user`, `random_password`).
    pub name: Option<String>,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum DocsFormat {
    Text,
    Markdown,
    Json,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// Every flag is declared once and the definition holds together (clap's own checks, which
    /// otherwise run only when a subcommand is used).
    #[test]
    fn the_command_line_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
