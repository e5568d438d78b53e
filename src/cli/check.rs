//! `onboard check`: every script compiled and every vendor call checked, and with `--each` every
//! row checked as a run would check it; nothing is sent.

use std::path::Path;
use std::sync::Arc;

use rhai::{Dynamic, Scope};

use crate::cli::args::CheckArgs;
use crate::run::each::missing_columns;
use crate::run::row_check::RowCheck;
use crate::run::rows::Rows;
use crate::runtime::session::Session;
use crate::script::compile::{Checked, compile_checked, parse_vars, script_dir, unread_vars};
use crate::script::diagnostics::{Diagnostic, Sources};
use crate::script::engine;
use crate::script::library::search_dirs;
use crate::util::error::{Error, Exit, Problem};

/// `onboard check`: compile and check every script; exit 2 if any has a problem.
pub fn check(config_path: Option<&Path>, args: &CheckArgs) -> Result<(), Error> {
    let module_path = search_dirs(config_path)?;
    let vars = parse_vars(&args.vars, false).map_err(Error::input)?;
    let session = Session::offline();
    let mut problems = Vec::new();
    for script in &args.scripts {
        let options = engine::Options {
            script_dir: script_dir(script),
            vars: vars.clone(),
            module_path: module_path.clone(),
            ..engine::Options::default()
        };
        problems.extend(check_one(
            &session,
            &options,
            script,
            args.each.as_deref(),
            true,
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::many(Exit::Input, problems))
    }
}

/// `doctor --each`: the problems of `script` over the rows of `each`, one line each.
pub(super) fn doctor_rows(
    config_path: Option<&Path>,
    script: &Path,
    each: &Path,
) -> Result<Vec<String>, Error> {
    let options = engine::Options {
        script_dir: script_dir(script),
        module_path: search_dirs(config_path)?,
        ..engine::Options::default()
    };
    let problems = check_one(&Session::offline(), &options, script, Some(each), false);
    Ok(problems.into_iter().map(|p| p.message).collect())
}

/// One script checked (with every row of `each`, as a run would): what is wrong with it.
fn check_one(
    session: &Arc<Session>,
    options: &engine::Options,
    script: &Path,
    each: Option<&Path>,
    say_ok: bool,
) -> Vec<Problem> {
    let file = script.display().to_string();
    let source = match std::fs::read_to_string(script) {
        Ok(s) => s,
        Err(e) => return vec![Problem::new(format!("cannot read {file}: {e}"))],
    };
    let mut engine = engine::build(session, options);
    let mut scope = Scope::new();
    for v in &options.vars {
        scope.push_dynamic(v.name.clone(), v.dynamic());
    }
    if each.is_some() {
        scope.push_dynamic("row", Dynamic::from_map(rhai::Map::new()));
    }
    let mut sources = Sources::default();
    sources.add(&file, &source);
    let checked = compile_checked(&mut engine, &source, &file, &scope, None).and_then(|c| {
        let unread = unread_vars(&options.vars, &c.analysis, &file);
        if !unread.is_empty() {
            return Err(unread);
        }
        let Some(each) = each else {
            return Ok((c, None));
        };
        let rows = Rows::open(each).map_err(|e| {
            vec![Diagnostic::new(
                format!("--each: {e}"),
                &file,
                rhai::Position::NONE,
            )]
        })?;
        let missing = missing_columns(&rows, &c.analysis, &file, each);
        if missing.is_empty() {
            Ok((c, Some((rows, each))))
        } else {
            Err(missing)
        }
    });
    match checked {
        Ok((_, None)) if say_ok => crate::outln!("{file}: ok"),
        Ok((_, None)) => {}
        Ok((c, Some((rows, each)))) => {
            let refused = check_rows(&c, &rows, each, options, &scope, &file);
            if !refused.is_empty() {
                return refused;
            }
            if !say_ok {
                return Vec::new();
            }
            crate::outln!(
                "{file}: ok ({} rows of {} checked)",
                rows.total,
                each.display()
            );
        }
        Err(diags) => return diags.iter().map(|d| d.problem(&mut sources)).collect(),
    }
    Vec::new()
}

/// How many refused rows `check --each` lists before it only counts them.
const ROWS_SHOWN: usize = 50;

/// Every row checked as `run --each` checks it before sending anything: each one refused, with
/// its line.
fn check_rows(
    c: &Checked,
    rows: &Rows,
    each: &Path,
    options: &engine::Options,
    scope: &Scope<'static>,
    file: &str,
) -> Vec<Problem> {
    let required = c
        .analysis
        .row_columns
        .iter()
        .map(|(n, _)| n.clone())
        .collect();
    let limits = engine::Limits::default();
    let check = RowCheck::new(options, None, &c.ast, scope, file, &limits, required);
    let iter = match rows.iter() {
        Ok(i) => i,
        Err(e) => return vec![Problem::new(e.to_string())],
    };
    let mut problems = Vec::new();
    let mut refused = 0;
    for row in iter {
        let (number, line) = (row.number, row.line);
        let Err(why) = check.check(row) else {
            continue;
        };
        refused += 1;
        if refused <= ROWS_SHOWN {
            let message = why
                .message
                .strip_prefix(&format!("line {line}: "))
                .unwrap_or(&why.message);
            problems.push(Problem {
                message: format!(
                    "{}:{line}: row {number} would be refused: {message}",
                    each.display()
                ),
                detail: why
                    .location
                    .map(|at| format!("  --> {at}\n"))
                    .unwrap_or_default(),
                hints: Vec::new(),
            });
        }
    }
    if refused > ROWS_SHOWN {
        problems.push(Problem::new(format!(
            "… and {} more rows of {} would be refused",
            refused - ROWS_SHOWN,
            each.display()
        )));
    }
    problems
}
