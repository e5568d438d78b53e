//! Running a script once: config and profile, compile and check, run, roll back, log off, report.

use std::path::Path;
use std::sync::Arc;

use rhai::{Dynamic, Engine, EvalAltResult, Scope};
use serde_json::{Value as Json, json};

use crate::config::{self, ProfileChoice, choose_profile};
use crate::journal::{self, Outcome, RunInfo};
use crate::run::Options;
use crate::run::summary::summary;
pub use crate::run::summary::{account_lines, plan_text};
use crate::runtime::io::Io;
use crate::runtime::session::{Mode, Session};
use crate::runtime::undo;
use crate::script::compile::{Checked, compile_checked, parse_vars, script_dir, unread_vars};
use crate::script::diagnostics::{self, Diagnostic, Failure, Sources};
use crate::script::engine::{self, Limits};
use crate::script::print::PrintTo;
use crate::sim;
use crate::util::error::{Error, Exit, eprint};
use crate::vendors::error::VendorError;
use crate::vendors::values;

/// Scripts run on a large stack of their own: deep (but bounded) recursion in a debug build must
/// hit the call-depth limit, not overflow the stack.
pub const SCRIPT_STACK: usize = 16 * 1024 * 1024;

/// Everything a run needs before its first statement: the script compiled and checked against
/// the profile, the session, the engine.
pub struct Prepared {
    pub io: Arc<Io>,
    /// The in-process simulator of `--sim`; dropping it stops it.
    pub simulator: Option<sim::Simulator>,
    pub session: Arc<Session>,
    pub engine: Engine,
    pub checked: Checked,
    /// `--var` values (and `row`, for `--each`).
    pub scope: Scope<'static>,
    pub sources: Sources,
    /// The script's text, for the threads of `--each` to compile again.
    pub source: String,
    pub file: String,
    pub limits: Limits,
    pub options: engine::Options,
    pub rollback_on_error: bool,
    /// The profile's `jobs`, for `--each`.
    pub jobs: Option<usize>,
}

/// How preparing a run ended early.
pub enum Early {
    Failed(Error),
    /// A report to finish (for `--json`) with this error.
    Report(Report, Arc<Session>, Error),
}

impl From<Error> for Early {
    fn from(e: Error) -> Early {
        Early::Failed(e)
    }
}

/// Config and profile, journal, session, engine; compile and check the script; make sure every
/// vendor it calls is usable. Nothing is sent.
pub fn prepare(
    config_path: Option<&Path>,
    journal_path: Option<&Path>,
    args: &Options,
) -> Result<Prepared, Early> {
    let file = args.script.display().to_string();
    let source = std::fs::read_to_string(&args.script)
        .map_err(|e| Error::input(format!("cannot read {file}: {e}")))?;
    let vars = parse_vars(&args.vars, true).map_err(Error::input)?;
    let io = Io::new();
    let (simulator, choice, configured) = profile_for(&io, config_path, args)?;
    let (profile, unusable) = choice.split();
    let mode = Mode {
        dry_run: args.dry_run,
        offline: args.offline,
    };
    let rollback_on_error =
        args.rollback_on_error || profile.as_ref().is_some_and(|p| p.rollback_on_error);
    let jobs = profile.as_ref().and_then(|p| p.jobs);
    // A dry run changes nothing, so it leaves nothing in the journal.
    let info = RunInfo {
        command: "run",
        script: Some(file.clone()),
        profile: None,
        simulated: args.sim,
        undo_of: None,
    };
    let session = Session::open(io.clone(), profile, journal_path, info, mode)
        .map_err(|e| Error::from(e).context_after("; nothing was run"))?;
    let limits = Limits::from_settings(configured, args.max_operations);
    let options = engine::Options {
        limits: limits.clone(),
        print_to: if args.json {
            PrintTo::Stderr
        } else {
            PrintTo::Stdout
        },
        script_dir: script_dir(&args.script),
        vars: vars.clone(),
        module_path: module_path(config_path, args.sim)?,
    };
    let mut engine = engine::build(&session, &options);
    let scope = scope_of(&vars, args.each.is_some());
    let mut sources = Sources::default();
    sources.add(&file, &source);

    let checked = compile_checked(&mut engine, &source, &file, &scope, None).and_then(|c| {
        let unread = unread_vars(&vars, &c.analysis, &file);
        if unread.is_empty() {
            Ok(c)
        } else {
            Err(unread)
        }
    });
    let checked = match checked {
        Ok(c) => c,
        Err(diags) => {
            let problems = diags.iter().map(|d| d.problem(&mut sources)).collect();
            return Err(Early::Report(
                Report::failed_before_run(&diags),
                session,
                Error::many(Exit::Input, problems),
            ));
        }
    };

    // Every vendor the script calls must be usable before anything is sent.
    if !(args.dry_run && args.offline)
        && let Err(p) = vendors_usable(&session, &checked, unusable.as_deref())
    {
        return Err(Early::Report(Report::message(&p), session, Error::input(p)));
    }
    Ok(Prepared {
        io,
        simulator,
        session,
        engine,
        checked,
        scope,
        sources,
        source,
        file,
        limits,
        options,
        rollback_on_error,
        jobs,
    })
}

/// The variables a script starts with: its `--var`s, and `row` for `--each`.
pub fn scope_of(vars: &[engine::Var], each: bool) -> Scope<'static> {
    let mut scope = Scope::new();
    for v in vars {
        scope.push_dynamic(v.name.clone(), v.dynamic());
    }
    if each {
        scope.push_dynamic("row", Dynamic::from_map(rhai::Map::new()));
    }
    scope
}

/// The profile of the run: the in-process simulator's (`--sim`), or the config's; and the
/// config's `[limits]`.
fn profile_for(
    io: &Io,
    config_path: Option<&Path>,
    args: &Options,
) -> Result<(Option<sim::Simulator>, ProfileChoice, config::LimitSettings), Error> {
    if !args.sim {
        let (choice, limits) = choose_profile(config_path, args.profile.as_deref())?;
        return Ok((None, choice, limits));
    }
    let s = io
        .runtime()
        .map_err(Error::runtime)?
        .block_on(sim::start(&sim::Options::default()))
        .map_err(|e| Error::runtime(format!("cannot start the simulator: {e}")))?;
    let profile = s.profile().map_err(|e| Error::runtime(e.to_string()))?;
    Ok((
        Some(s),
        ProfileChoice::Ready(profile),
        config::LimitSettings::default(),
    ))
}

/// Whether every vendor the script calls has what it needs in the profile.
fn vendors_usable(
    session: &Session,
    checked: &Checked,
    unusable: Option<&str>,
) -> Result<(), String> {
    for vendor in &checked.analysis.vendors {
        match unusable {
            Some(why) => return Err(format!("the script calls {vendor}:: but {why}")),
            None => session.settings(vendor)?,
        };
    }
    Ok(())
}

/// The library folders of the config and `ONBOARD_PATH`. With `--sim` a config that cannot be
/// read is passed over, as it is for profiles.
pub fn module_path(
    config_path: Option<&Path>,
    sim: bool,
) -> Result<Vec<crate::script::modules::SearchDir>, Error> {
    match crate::script::library::search_dirs(config_path) {
        Ok(d) => Ok(d),
        Err(_) if sim => Ok(crate::script::modules::search_dirs(&[], None)),
        Err(e) => Err(e.into()),
    }
}

/// `--report` must not overwrite anything the run reads: refused before anything runs.
fn check_report(
    config_path: Option<&Path>,
    journal_path: Option<&Path>,
    args: &Options,
) -> Result<(), Error> {
    let Some(report) = &args.report else {
        return Ok(());
    };
    let journal = journal::choose_path(journal_path).ok();
    let refused = crate::run::report::refuse_over_inputs(
        report,
        &[
            (Some(args.script.as_path()), "the script"),
            (args.each.as_deref(), "the --each file"),
            (args.resume.as_deref(), "the --resume report"),
            (config_path, "the config"),
            (journal.as_deref(), "the journal"),
        ],
    );
    Ok(refused?)
}

/// `onboard run SCRIPT`, once or (with `--each`) once per row.
pub fn run(
    config_path: Option<&Path>,
    journal_path: Option<&Path>,
    args: &Options,
) -> Result<(), Error> {
    check_report(config_path, journal_path, args)?;
    let rows = match &args.each {
        Some(path) => {
            Some(crate::run::rows::Rows::open(path).map_err(|e| Error::from(e).context("--each"))?)
        }
        None => None,
    };
    let prepared = match prepare(config_path, journal_path, args) {
        Ok(p) => p,
        Err(Early::Failed(e)) => return Err(e),
        Err(Early::Report(report, session, e)) => return report.finish(args, &session, Err(e)),
    };
    match rows {
        Some(rows) => crate::run::each::run_each(prepared, args, rows),
        None => run_once(prepared, args),
    }
}

fn run_once(p: Prepared, args: &Options) -> Result<(), Error> {
    let Prepared {
        simulator: _simulator,
        session,
        engine,
        checked,
        mut scope,
        mut sources,
        file,
        limits,
        rollback_on_error,
        ..
    } = p;
    let outcome = crate::run::fibers::on_own_stack(SCRIPT_STACK, || {
        engine::eval(&engine, &limits, &mut scope, &checked.ast)
    });

    let (mut report, result) = match outcome {
        Ok(Ok(Ok(value))) => (Report::succeeded(value), Ok(())),
        Ok(Ok(Err(err))) => {
            let (diag, failure) = diagnostics::from_eval_error(&err, &file, &limits);
            let exit = match failure {
                Failure::Interrupted => Exit::Interrupted,
                Failure::Runtime => Exit::Runtime,
            };
            let error = Error::many(exit, vec![diag.problem(&mut sources)]);
            (Report::failed(&err, &diag), Err(error))
        }
        Ok(Err(_)) => (
            Report::message("the script crashed"),
            Err(Error::runtime(
                "the script crashed; this is a bug in onboard",
            )),
        ),
        Err(e) => (Report::message(&e), Err(Error::runtime(e))),
    };
    let failed = matches!(&result, Err(e) if e.exit == Exit::Runtime);
    if failed && rollback_on_error {
        let steps = undo::rollback(&session);
        if !steps.is_empty() {
            if !args.json {
                undo::report(
                    "onboard: rolling back what this run created (--rollback-on-error)",
                    &steps,
                );
            }
            report.rollback = steps;
        }
    }
    // Log off whatever happened.
    session.close();
    let result = session.finish(result);
    let result = report.finish(args, &session, result);
    // The process ends here: tearing the engine down would cost more than building it.
    std::mem::forget(engine);
    std::mem::forget(checked);
    result
}

/// The end of a run, for people (a summary on stderr) or machines (`--json` on stdout).
pub struct Report {
    value: Option<Dynamic>,
    error: Option<Json>,
    rollback: Vec<undo::Step>,
}

impl Report {
    fn new(value: Option<Dynamic>, error: Option<Json>) -> Self {
        Report {
            value,
            error,
            rollback: Vec::new(),
        }
    }

    fn succeeded(value: Dynamic) -> Self {
        Report::new(Some(value), None)
    }

    fn message(message: &str) -> Self {
        Report::new(None, Some(json!({ "kind": "input", "message": message })))
    }

    fn failed_before_run(diags: &[Diagnostic]) -> Self {
        let errors: Vec<Json> = diags
            .iter()
            .map(|d| json!({ "message": d.message, "location": d.location() }))
            .collect();
        Report::new(
            None,
            Some(json!({
                "kind": "input",
                "message": diags.first().map(|d| d.message.clone()).unwrap_or_default(),
                "location": diags.first().map(Diagnostic::location),
                "all": errors,
            })),
        )
    }

    fn failed(err: &EvalAltResult, diag: &Diagnostic) -> Self {
        let mut e =
            json!({ "kind": "script", "message": diag.message, "location": diag.location() });
        let inner = diagnostics::innermost(err);
        if let EvalAltResult::ErrorTerminated(token, _) = inner {
            e["kind"] = if token.to_string() == "interrupted" {
                json!("interrupted")
            } else {
                json!("limit")
            };
        }
        if let EvalAltResult::ErrorRuntime(value, _) = inner
            && VendorError::describe_thrown(value).is_some()
            && let Json::Object(fields) = values::to_json(value)
            && let Json::Object(obj) = &mut e
        {
            obj.extend(fields);
        }
        Report::new(None, Some(e))
    }

    fn finish(
        self,
        args: &Options,
        session: &Arc<Session>,
        result: Result<(), Error>,
    ) -> Result<(), Error> {
        let code = result.as_ref().err().map_or(0, |e| e.exit.code());
        let events = session.journal.events();
        let plan = session.planned();
        let run = session.journal.run_id().to_string();
        let journal_path = session.journal.path().map(|p| p.display().to_string());
        if args.json {
            let plan: Vec<Json> = plan
                .iter()
                .map(|p| json!({ "vendor": p.vendor, "action": p.action, "username": p.username, "target": p.target, "fields": p.fields() }))
                .collect();
            let doc = json!({
                "ok": code == 0,
                "exit_code": code,
                "run": if args.dry_run { Json::Null } else { json!(run) },
                "journal": journal_path,
                "dry_run": args.dry_run,
                "value": self.value.as_ref().map_or(Json::Null, values::to_json),
                "accounts": events,
                "plan": plan,
                "rollback": self.rollback,
                "error": self.error,
            });
            let text = crate::util::secret::scrubbed(
                serde_json::to_string_pretty(&doc).unwrap_or_default(),
            );
            crate::outln!("{text}");
        } else if !args.quiet {
            let mut out = String::new();
            if args.dry_run {
                out.push_str(&plan_text(&plan));
            }
            if !events.is_empty() && !args.dry_run {
                out.push_str(&summary(&events, &run));
                let left = events
                    .iter()
                    .any(|e| matches!(e.outcome, Outcome::Created | Outcome::Unknown));
                let changed = events.iter().any(|e| {
                    matches!(
                        e.outcome,
                        Outcome::Granted | Outcome::Revoked | Outcome::Updated
                    )
                });
                if let Some(path) = &journal_path
                    && (left || changed)
                    && !args.sim
                {
                    let undoes = if changed {
                        "reverses what it changed and removes what it created"
                    } else {
                        "removes what it created"
                    };
                    out.push_str(&format!(
                        "journal: {path}\n  onboard journal {run}   shows it again; onboard undo {run}   {undoes}\n"
                    ));
                }
            }
            eprint(&out);
        }
        result
    }
}
