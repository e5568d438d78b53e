//! Compiling scripts and checking every vendor call before anything runs; `onboard check`.

use std::path::{Path, PathBuf};

use rhai::{AST, Engine, OptimizationLevel, Scope};

use crate::script::analyze::{self, Analysis};
use crate::script::diagnostics::{self, Diagnostic};
use crate::script::engine::{self, Var, VarValue};

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
    let ast = unoptimised(engine, source, scope)
        .map_err(|e| vec![diagnostics::from_parse_error(&e, file)])?;
    let mut analysis = analyze::analyze(&ast, Some(&analyze::Callables { engine, before }));
    if !analysis.findings.is_empty() {
        return Err(analysis
            .findings
            .iter()
            .map(|f| Diagnostic::new(f.message.clone(), file, f.pos))
            .collect());
    }
    let ast = optimised(engine, scope, ast, file);
    // Every module it imports must load and pass the same checks before anything runs.
    let module_reads = crate::script::modules::preflight(engine, &ast, Some(file))
        .map_err(|e| vec![diagnostics::from_eval_error(&e, file, &engine::Limits::default()).0])?;
    analysis.vars.merge(module_reads);
    Ok(Checked { ast, analysis })
}

/// The AST `compile_checked` made of `source`, compiled again by another thread's engine (Rhai's
/// trees are not shared between threads); its checks passed already.
pub fn recompile(
    engine: &mut Engine,
    source: &str,
    file: &str,
    scope: &Scope,
) -> Result<AST, String> {
    let ast = unoptimised(engine, source, scope).map_err(|e| format!("{file}: {e}"))?;
    Ok(optimised(engine, scope, ast, file))
}

fn unoptimised(engine: &mut Engine, source: &str, scope: &Scope) -> Result<AST, rhai::ParseError> {
    engine.set_optimization_level(OptimizationLevel::None);
    let compiled = engine.compile_with_scope(scope, source);
    engine.set_optimization_level(OptimizationLevel::Simple);
    compiled
}

fn optimised(engine: &Engine, scope: &Scope, ast: AST, file: &str) -> AST {
    let mut ast = engine.optimize_ast(scope, ast, OptimizationLevel::Simple);
    ast.set_source(file);
    ast
}

/// A `--var` the script never reads is a typo or a leftover, and running anyway would onboard
/// whoever the defaults name: refused, with the nearest name it (or a module it imports) does
/// read. Not checked when a name, or a module's path, is only known at run time.
pub fn unread_vars(vars: &[Var], analysis: &Analysis, file: &str) -> Vec<Diagnostic> {
    let reads = &analysis.vars;
    if reads.open {
        return Vec::new();
    }
    vars.iter()
        .filter(|v| !reads.names.contains(&v.name))
        .map(|v| {
            let near =
                crate::util::suggest::did_you_mean(&v.name, reads.names.iter().map(String::as_str));
            Diagnostic::new(
                format!(
                    "--var {}: the script never reads it (with var_or(\"{}\", …) or as the \
                     variable {}){near}",
                    v.name, v.name, v.name
                ),
                file,
                rhai::Position::NONE,
            )
        })
        .collect()
}

/// `--var KEY=VALUE` as a typed value: canonical integers and numbers, true and false; anything
/// else (including `007`) stays a string.
pub fn parse_vars(raw: &[String], need_value: bool) -> Result<Vec<Var>, String> {
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
            Ok(Var {
                name: key.to_string(),
                value: value.map_or(VarValue::Unit, typed_value),
            })
        })
        .collect()
}

fn typed_value(v: &str) -> VarValue {
    match v {
        "true" => return VarValue::Bool(true),
        "false" => return VarValue::Bool(false),
        _ => {}
    }
    if let Ok(i) = v.parse::<i64>()
        && i.to_string() == v
    {
        return VarValue::Int(i);
    }
    if v.contains('.')
        && let Ok(f) = v.parse::<f64>()
        && f.is_finite()
        && f.to_string() == v
    {
        return VarValue::Float(f);
    }
    VarValue::Text(v.to_string())
}

/// The folder a script's helpers read files from.
pub fn script_dir(script: &Path) -> PathBuf {
    match script.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}
