//! `onboard run` and `onboard repl`: their flags as the runners' own options.

use std::path::Path;

use crate::cli::args::{ReplArgs, RunArgs};
use crate::util::error::Error;

/// `onboard run SCRIPT`, once or (with `--each`) once per row.
pub fn run(
    config_path: Option<&Path>,
    journal_path: Option<&Path>,
    args: &RunArgs,
) -> Result<(), Error> {
    let options = crate::run::Options {
        script: args.script.clone(),
        profile: args.session.profile.clone(),
        sim: args.session.sim,
        vars: args.vars.clone(),
        json: args.json,
        quiet: args.quiet,
        dry_run: args.session.dry_run,
        offline: args.offline,
        rollback_on_error: args.rollback_on_error,
        max_operations: args.session.max_operations,
        each: args.each.clone(),
        jobs: args.jobs,
        report: args.report.clone(),
        fail_fast: args.fail_fast,
        rows: args.rows.clone(),
        resume: args.resume.clone(),
    };
    crate::run::once::run(config_path, journal_path, &options)
}

pub fn repl_options(args: &ReplArgs) -> crate::repl::Options {
    crate::repl::Options {
        profile: args.session.profile.clone(),
        sim: args.session.sim,
        dry_run: args.session.dry_run,
        max_operations: args.session.max_operations,
    }
}
