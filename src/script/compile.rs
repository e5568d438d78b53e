//! Compiling scripts and checking every vendor call before anything runs; `onboard check`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rhai::{AST, Dynamic, Engine, OptimizationLevel, Scope};

use crate::cli::args::CheckArgs;
use crate::cli::{EXIT_INPUT, EXIT_OK};
use crate::runtime::session::Session;
use crate::script::analyze::{self, Analysis};
use crate::script::diagnostics::{self, Diagnostic, Sources};
use crate::script::engine;

fn eprint(text: &str) {
    crate::run::once::eprint(text);
}

fn error(message: impl std::fmt::Display) {
    crate::run::once::error(message);
}

/// A compiled script that passed every check, and what the checks learned.
pub struct Checked {
    pub ast: AST,
    pub analysis: Analysis,
}

/// Compile `source` and check its vendor calls. Every problem found is returned, not just the first.
pub fn compile_checked(
    engine: &mut Engine,
    source: &str,
    file: &str,
    scope: &Scope,
    before: Option<&AST>,
) -> Result<Checked, Vec<Diagnostic>> {
    // Analyse the unoptimised tree: optimising folds constant maps and loses where keys are.
    engine.set_optimization_level(OptimizationLevel::None);
    let compiled = engine.compile_with_scope(scope, source);
    engine.set_optimization_level(OptimizationLevel::Simple);
    let mut ast = compiled.map_err(|e| vec![diagnostics::from_parse_error(&e, file)])?;
    let analysis = analyze::analyze(&ast, Some(&analyze::Callables { engine, before }));
    if !analysis.findings.is_empty() {
        return Err(analysis
            .findings
            .iter()
            .map(|f| Diagnostic::new(f.message.clone(), file, f.pos))
            .collect());
    }
    ast = engine.optimize_ast(scope, ast, OptimizationLevel::Simple);
    ast.set_source(file);
    // Every module it imports must load and pass the same checks before anything runs.
    crate::script::modules::preflight(engine, &ast, Some(file))
        .map_err(|e| vec![diagnostics::from_eval_error(&e, file, &engine::Limits::default()).0])?;
    Ok(Checked { ast, analysis })
}

/// `--var KEY=VALUE` as a typed value: canonical integers and numbers, true and false; anything
/// else (including `007`) stays a string.
pub fn parse_vars(raw: &[String], need_value: bool) -> Result<Vec<(String, Dynamic)>, String> {
    let probe = Engine::new_raw();
    raw.iter()
        .map(|r| {
            let (key, value) = match r.split_once('=') {
                Some((k, v)) => (k.trim(), Some(v)),
                None if !need_value => (r.trim(), None),
                None => return Err(format!("--var {r}: write it as KEY=VALUE")),
            };
            let valid = !key.is_empty()
                && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !key.starts_with(|c: char| c.is_ascii_digit())
                && probe.compile(format!("let {key} = 0;")).is_ok();
            if !valid {
                return Err(format!(
                    "--var {r}: `{key}` is not a usable variable name (letters, digits and _, \
                     not starting with a digit, not a reserved word)"
                ));
            }
            Ok((key.to_string(), value.map_or(Dynamic::UNIT, typed_value)))
        })
        .collect()
}

fn typed_value(v: &str) -> Dynamic {
    match v {
        "true" => return true.into(),
        "false" => return false.into(),
        _ => {}
    }
    if let Ok(i) = v.parse::<i64>()
        && i.to_string() == v
    {
        return Dynamic::from_int(i);
    }
    if v.contains('.')
        && let Ok(f) = v.parse::<f64>()
        && f.is_finite()
        && f.to_string() == v
    {
        return Dynamic::from_float(f);
    }
    v.to_string().into()
}

/// `onboard check`: compile and check every script; exit 2 if any has a problem.
pub fn check(config_path: Option<&Path>, args: &CheckArgs) -> u8 {
    let module_path = match crate::script::library::search_dirs(config_path) {
        Ok(d) => d,
        Err(e) => {
            error(e);
            return EXIT_INPUT;
        }
    };
    let vars = match parse_vars(&args.vars, false) {
        Ok(v) => v,
        Err(e) => {
            error(e);
            return EXIT_INPUT;
        }
    };
    let session = Session::offline();
    let mut worst = EXIT_OK;
    for script in &args.scripts {
        let options = engine::Options {
            script_dir: script_dir(script),
            vars: vars.clone(),
            module_path: module_path.clone(),
            ..engine::Options::default()
        };
        if !check_one(&session, &options, script, args.each.as_deref()) {
            worst = EXIT_INPUT;
        }
    }
    worst
}

/// One script checked (with every row of `each`, as a run would): whether it passed.
fn check_one(
    session: &Arc<Session>,
    options: &engine::Options,
    script: &Path,
    each: Option<&Path>,
) -> bool {
    let file = script.display().to_string();
    let source = match std::fs::read_to_string(script) {
        Ok(s) => s,
        Err(e) => {
            error(format!("cannot read {file}: {e}"));
            return false;
        }
    };
    let mut engine = engine::build(session, options);
    let mut scope = Scope::new();
    for (k, v) in &options.vars {
        scope.push_dynamic(k.clone(), v.clone());
    }
    if each.is_some() {
        scope.push_dynamic("row", Dynamic::from_map(rhai::Map::new()));
    }
    let mut sources = Sources::default();
    sources.add(&file, &source);
    let checked = compile_checked(&mut engine, &source, &file, &scope, None).and_then(|c| {
        let Some(each) = each else {
            return Ok((c, None));
        };
        let rows = crate::run::rows::Rows::open(each).map_err(|e| {
            vec![Diagnostic::new(
                format!("--each: {e}"),
                &file,
                rhai::Position::NONE,
            )]
        })?;
        let missing = crate::run::each::missing_columns(&rows, &c.analysis, &file, each);
        if missing.is_empty() {
            Ok((c, Some((rows, each))))
        } else {
            Err(missing)
        }
    });
    match checked {
        Ok((_, None)) => crate::outln!("{file}: ok"),
        Ok((c, Some((rows, each)))) => {
            if !check_rows(&c, &rows, each, options, &scope, &file) {
                return false;
            }
            crate::outln!(
                "{file}: ok ({} rows of {} checked)",
                rows.total,
                each.display()
            );
        }
        Err(diags) => {
            for d in diags {
                eprint(&d.render(&mut sources));
            }
            return false;
        }
    }
    true
}

/// How many refused rows `check --each` lists before it only counts them.
const ROWS_SHOWN: usize = 50;

/// Every row checked as `run --each` checks it before sending anything; each one refused is
/// printed with its line. Whether all passed.
fn check_rows(
    c: &Checked,
    rows: &crate::run::rows::Rows,
    each: &Path,
    options: &engine::Options,
    scope: &Scope<'static>,
    file: &str,
) -> bool {
    let required = c
        .analysis
        .row_columns
        .iter()
        .map(|(n, _)| n.clone())
        .collect();
    let limits = engine::Limits::default();
    let check =
        crate::run::row_check::RowCheck::new(options, None, &c.ast, scope, file, &limits, required);
    let iter = match rows.iter() {
        Ok(i) => i,
        Err(e) => {
            error(e);
            return false;
        }
    };
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
            let mut text = format!(
                "{}:{line}: row {number} would be refused: {message}",
                each.display()
            );
            if let Some(at) = &why.location {
                text.push_str(&format!("\n  --> {at}"));
            }
            error(text);
        }
    }
    if refused > ROWS_SHOWN {
        error(format!(
            "… and {} more rows of {} would be refused",
            refused - ROWS_SHOWN,
            each.display()
        ));
    }
    refused == 0
}

/// The folder a script's helpers read files from.
pub fn script_dir(script: &Path) -> PathBuf {
    match script.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}
