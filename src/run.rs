//! Running a script once, and checking scripts: config and profile, compile and check, run, log off, report.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rhai::{AST, Dynamic, Engine, EvalAltResult, OptimizationLevel, Scope};
use serde_json::{Value as Json, json};

use crate::analyze::{self, Analysis};
use crate::app::{EXIT_INPUT, EXIT_INTERRUPTED, EXIT_OK, EXIT_RUNTIME};
use crate::cli::{CheckArgs, RunArgs, SimArgs};
use crate::config::{self, Config, ConfigError, Profile};
use crate::diagnostics::{self, Diagnostic, Failure, Sources};
use crate::engine::{self, Limits, PrintTo};
use crate::journal::{Event, Outcome};
use crate::session::Session;
use crate::sim;
use crate::values;
use crate::vendors::error::VendorError;

/// Scripts run on their own thread with a large stack: deep (but bounded) recursion in a debug
/// build must hit the call-depth limit, not overflow the stack.
const SCRIPT_STACK: usize = 16 * 1024 * 1024;

fn eprint(text: &str) {
    let _ = write!(std::io::stderr().lock(), "{text}");
}

fn error(message: impl std::fmt::Display) {
    let _ = writeln!(std::io::stderr().lock(), "error: {message}");
}

/// The tokio runtime vendor calls run on (and the in-process simulator, with `--sim`).
pub fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .thread_name("onboard-io")
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))
}

/// Which profile the run uses, or why it has none.
enum ProfileChoice {
    Ready(Profile),
    /// No config file anywhere: fine unless the script calls a vendor.
    NoConfig,
    /// The config is fine but no profile was chosen (several, no default): an error only if
    /// the script calls a vendor.
    Unchosen(ConfigError),
}

fn choose_profile(
    config_path: Option<&Path>,
    name: Option<&str>,
) -> Result<ProfileChoice, ConfigError> {
    let Some(path) = config::locate(config_path)? else {
        if let Some(name) = name {
            return Err(ConfigError {
                at: None,
                message: format!(
                    "--profile {name}: no onboard.toml was found (looked in {})",
                    config::searched_places()
                ),
            });
        }
        return Ok(ProfileChoice::NoConfig);
    };
    let config = Config::load(&path)?;
    match config.select(name) {
        Ok(p) => Ok(ProfileChoice::Ready(p.clone())),
        Err(e) if name.is_some() => Err(e),
        Err(e) => Ok(ProfileChoice::Unchosen(e)),
    }
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
) -> Result<Checked, Vec<Diagnostic>> {
    // Analyse the unoptimised tree: optimising folds constant maps and loses where keys are.
    engine.set_optimization_level(OptimizationLevel::None);
    let compiled = engine.compile_with_scope(scope, source);
    engine.set_optimization_level(OptimizationLevel::Simple);
    let mut ast = compiled.map_err(|e| vec![diagnostics::from_parse_error(&e, file)])?;
    let analysis = analyze::analyze(&ast);
    if !analysis.findings.is_empty() {
        return Err(analysis
            .findings
            .iter()
            .map(|f| Diagnostic::new(f.message.clone(), file, f.pos))
            .collect());
    }
    ast = engine.optimize_ast(scope, ast, OptimizationLevel::Simple);
    ast.set_source(file);
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
pub fn check(args: &CheckArgs) -> u8 {
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
        let file = script.display().to_string();
        let source = match std::fs::read_to_string(script) {
            Ok(s) => s,
            Err(e) => {
                error(format!("cannot read {file}: {e}"));
                worst = EXIT_INPUT;
                continue;
            }
        };
        let options = engine::Options {
            script_dir: script_dir(script),
            vars: vars.clone(),
            ..engine::Options::default()
        };
        let mut engine = engine::build(&session, &options);
        let mut scope = Scope::new();
        for (k, v) in &vars {
            scope.push_dynamic(k.clone(), v.clone());
        }
        let mut sources = Sources::default();
        sources.add(&file, &source);
        match compile_checked(&mut engine, &source, &file, &scope) {
            Ok(_) => println!("{file}: ok"),
            Err(diags) => {
                for d in diags {
                    eprint(&d.render(&mut sources));
                }
                worst = EXIT_INPUT;
            }
        }
    }
    worst
}

fn script_dir(script: &Path) -> PathBuf {
    match script.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// `onboard run SCRIPT`.
pub fn run(config_path: Option<&Path>, args: &RunArgs) -> u8 {
    let file = args.script.display().to_string();
    let source = match std::fs::read_to_string(&args.script) {
        Ok(s) => s,
        Err(e) => {
            error(format!("cannot read {file}: {e}"));
            return EXIT_INPUT;
        }
    };
    let vars = match parse_vars(&args.vars, true) {
        Ok(v) => v,
        Err(e) => {
            error(e);
            return EXIT_INPUT;
        }
    };
    let runtime = match runtime() {
        Ok(r) => r,
        Err(e) => {
            error(e);
            return EXIT_RUNTIME;
        }
    };

    // The simulator lives as long as this function: dropping it stops it.
    let mut _simulator = None;
    let choice = if args.sim {
        match runtime.block_on(sim::start(&SimArgs::default())) {
            Ok(s) => {
                let profile = s.profile();
                _simulator = Some(s);
                match profile {
                    Ok(p) => ProfileChoice::Ready(p),
                    Err(e) => {
                        error(e);
                        return EXIT_RUNTIME;
                    }
                }
            }
            Err(e) => {
                error(format!("cannot start the simulator: {e}"));
                return EXIT_RUNTIME;
            }
        }
    } else {
        match choose_profile(config_path, args.profile.as_deref()) {
            Ok(c) => c,
            Err(e) => {
                error(e);
                return EXIT_INPUT;
            }
        }
    };

    let (profile, unusable) = match choice {
        ProfileChoice::Ready(p) => (Some(p), None),
        ProfileChoice::NoConfig => (
            None,
            Some(format!(
                "no onboard.toml was found (looked in {}); run with --sim to try the built-in simulator",
                config::searched_places()
            )),
        ),
        ProfileChoice::Unchosen(e) => (None, Some(e.to_string())),
    };
    let session = Session::new(runtime.handle().clone(), profile);
    let limits = Limits::default();
    let options = engine::Options {
        limits: limits.clone(),
        print_to: if args.json {
            PrintTo::Stderr
        } else {
            PrintTo::Stdout
        },
        script_dir: script_dir(&args.script),
        vars: vars.clone(),
    };
    let mut engine = engine::build(&session, &options);
    let mut scope = Scope::new();
    for (k, v) in vars {
        scope.push_dynamic(k, v);
    }
    let mut sources = Sources::default();
    sources.add(&file, &source);

    let checked = match compile_checked(&mut engine, &source, &file, &scope) {
        Ok(c) => c,
        Err(diags) => {
            let report = Report::failed_before_run(&diags);
            for d in &diags {
                eprint(&d.render(&mut sources));
            }
            return report.finish(args, &session, EXIT_INPUT);
        }
    };

    // Every vendor the script calls must be usable before anything is sent.
    for vendor in &checked.analysis.vendors {
        let problem = match &unusable {
            Some(why) => Some(format!("the script calls {vendor}:: but {why}")),
            None => session.settings(vendor).err(),
        };
        if let Some(p) = problem {
            error(&p);
            return Report::message(&p).finish(args, &session, EXIT_INPUT);
        }
    }

    let engine = engine;
    let outcome = std::thread::scope(|s| {
        std::thread::Builder::new()
            .name("script".into())
            .stack_size(SCRIPT_STACK)
            .spawn_scoped(s, || {
                engine.eval_ast_with_scope::<Dynamic>(&mut scope, &checked.ast)
            })
            .map(|h| h.join())
    });
    // Log off whatever happened.
    session.close();

    match outcome {
        Ok(Ok(Ok(value))) => Report::succeeded(value).finish(args, &session, EXIT_OK),
        Ok(Ok(Err(err))) => {
            let (diag, failure) = diagnostics::from_eval_error(&err, &file, &limits);
            eprint(&diag.render(&mut sources));
            let code = match failure {
                Failure::Interrupted => EXIT_INTERRUPTED,
                Failure::Runtime => EXIT_RUNTIME,
            };
            Report::failed(&err, &diag).finish(args, &session, code)
        }
        Ok(Err(_)) => {
            error("the script thread crashed; this is a bug in onboard");
            EXIT_RUNTIME
        }
        Err(e) => {
            error(format!("cannot start the script thread: {e}"));
            EXIT_RUNTIME
        }
    }
}

/// The end of a run, for people (a summary on stderr) or machines (`--json` on stdout).
struct Report {
    value: Option<Dynamic>,
    error: Option<Json>,
}

impl Report {
    fn succeeded(value: Dynamic) -> Self {
        Report {
            value: Some(value),
            error: None,
        }
    }

    fn message(message: &str) -> Self {
        Report {
            value: None,
            error: Some(json!({ "kind": "input", "message": message })),
        }
    }

    fn failed_before_run(diags: &[Diagnostic]) -> Self {
        let errors: Vec<Json> = diags
            .iter()
            .map(|d| json!({ "message": d.message, "location": d.location() }))
            .collect();
        Report {
            value: None,
            error: Some(json!({
                "kind": "input",
                "message": diags.first().map(|d| d.message.clone()).unwrap_or_default(),
                "location": diags.first().map(Diagnostic::location),
                "all": errors,
            })),
        }
    }

    fn failed(err: &EvalAltResult, diag: &Diagnostic) -> Self {
        let mut e =
            json!({ "kind": "script", "message": diag.message, "location": diag.location() });
        let mut inner = err;
        while let EvalAltResult::ErrorInFunctionCall(_, _, i, _)
        | EvalAltResult::ErrorInModule(_, i, _) = inner
        {
            inner = i;
        }
        if let EvalAltResult::ErrorRuntime(value, _) = inner
            && VendorError::describe_thrown(value).is_some()
            && let Json::Object(fields) = values::to_json(value)
            && let Json::Object(obj) = &mut e
        {
            obj.extend(fields);
        }
        Report {
            value: None,
            error: Some(e),
        }
    }

    fn finish(self, args: &RunArgs, session: &Arc<Session>, code: u8) -> u8 {
        let events = session.journal.events();
        if args.json {
            let doc = json!({
                "ok": code == EXIT_OK,
                "exit_code": code,
                "value": self.value.as_ref().map_or(Json::Null, values::to_json),
                "accounts": events,
                "error": self.error,
            });
            let text = serde_json::to_string_pretty(&doc).unwrap_or_default();
            let _ = writeln!(std::io::stdout().lock(), "{text}");
        } else if !args.quiet && !events.is_empty() {
            eprint(&summary(&events));
        }
        code
    }
}

fn summary(events: &[Event]) -> String {
    let mut out = String::from("\nonboard: what this run changed\n");
    for e in events {
        let what = match e.outcome {
            Outcome::Created => "created",
            Outcome::Existed => "existed",
            Outcome::Deleted => "deleted",
            Outcome::Failed => "FAILED ",
        };
        let id = e.id.map(|i| format!("id {i}")).unwrap_or_default();
        let why = e
            .error_kind
            .map(|k| format!("({k} in {})", e.operation))
            .unwrap_or_default();
        out.push_str(&format!(
            "  {what} {:<10} {:<24} {id}{why}\n",
            e.vendor, e.username
        ));
    }
    out
}
