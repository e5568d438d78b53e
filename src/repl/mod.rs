//! `onboard repl`: statements one at a time over one session, with completion, help and history.

mod commands;
mod complete;
mod editor;
mod input;
mod lines;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use rhai::{AST, Engine, EvalAltResult, Expr, Module, Scope, Shared, Stmt};

use crate::config::{self, Config};
use crate::config::{ProfileChoice, choose_profile};
use crate::journal::{Event, RunInfo};
use crate::run::once::SCRIPT_STACK;
use crate::runtime::io::Io;
use crate::runtime::session::{Mode, Planned, Session};
use crate::script::compile::compile_checked;
use crate::script::diagnostics::{self, Failure, Sources};
use crate::script::docs;
use crate::script::engine::{self, Limits};
use crate::script::print::PrintTo;
use crate::sim;
use crate::util::error::{self, Error, Exit, eprint};
use crate::vendors::values;

use complete::Names;

/// Results wider than this are spread over lines.
const WIDTH: usize = 88;

/// What the session is connected to; changed by `:profile`, `:sim` and `:dry-run`.
#[derive(Clone, Debug, Default)]
struct Target {
    profile: Option<String>,
    sim: bool,
    dry_run: bool,
}

/// How one input ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Done {
    Ok,
    Failed,
    Interrupted,
    Quit,
}

/// The REPL's state: one session (and engine) at a time, the variables and functions defined
/// so far, and what earlier sessions of this REPL changed.
pub struct Shell {
    io: Arc<Io>,
    config_path: Option<PathBuf>,
    journal_path: Option<PathBuf>,
    target: Target,
    simulator: Option<sim::Simulator>,
    session: Arc<Session>,
    engine: Engine,
    scope: Scope<'static>,
    /// Every function defined so far; statements are dropped after each input.
    fns: AST,
    sources: Sources,
    inputs: usize,
    limits: Limits,
    /// Accounts and plans of the sessions before the current one.
    past_events: Vec<Event>,
    past_plan: Vec<Planned>,
    names: Arc<RwLock<Names>>,
    /// The library folders imports look in (for `:help` of library functions).
    module_path: Vec<crate::script::modules::SearchDir>,
    /// `import "…" as name;` of earlier inputs: they stay in force, as a script's imports do.
    imports: Vec<(String, Shared<Module>)>,
    /// How the current engine was built, to build it again without its imports (`:clear`).
    options: engine::Options,
}

/// What `onboard repl` was asked for, whatever parsed it.
#[derive(Clone, Debug, Default)]
pub struct Options {
    pub profile: Option<String>,
    pub sim: bool,
    pub dry_run: bool,
    pub max_operations: Option<u64>,
}

/// A statement's error, said at the prompt (the REPL's loop is its own entry point).
fn say(err: Error) {
    error::print(&err);
}

/// `onboard repl`.
pub fn run(
    config_path: Option<&Path>,
    journal_path: Option<&Path>,
    args: &Options,
) -> Result<(), Error> {
    let io = Io::interactive();
    // The REPL is for calling vendors: start the runtime, and with it the Ctrl-C watch, now.
    io.runtime().map_err(Error::runtime)?;
    let limits = Limits::from_settings(Default::default(), args.max_operations);
    let target = Target {
        profile: args.profile.clone(),
        sim: args.sim,
        dry_run: args.dry_run,
    };
    let offline = Session::offline();
    let mut shell = Shell {
        engine: engine::build(&offline, &engine::Options::default()),
        session: offline,
        io,
        config_path: config_path.map(Path::to_path_buf),
        journal_path: journal_path.map(Path::to_path_buf),
        target: Target::default(),
        simulator: None,
        scope: Scope::new(),
        fns: AST::empty(),
        sources: Sources::default(),
        inputs: 0,
        limits,
        past_events: Vec::new(),
        past_plan: Vec::new(),
        names: Arc::default(),
        module_path: Vec::new(),
        imports: Vec::new(),
        options: engine::Options::default(),
    };
    shell.connect(target).map_err(Error::input)?;
    let exit = if std::io::stdin().is_terminal() {
        shell.interactive()
    } else {
        shell.piped()
    };
    shell.close();
    if !shell.past_events.is_empty() {
        let hint = if shell.target.sim {
            ""
        } else {
            "`onboard journal` lists this session's runs; `onboard undo RUN` removes what one created\n"
        };
        eprint(&format!(
            "\nonboard: what this session changed\n{}{hint}",
            crate::run::once::account_lines(&shell.past_events)
        ));
    }
    match exit {
        Exit::Ok => Ok(()),
        _ => Err(Error::silent(exit)),
    }
}

impl Shell {
    /// Switch to `target`: a new session and engine, the old session logged off. On an error
    /// the current session stays.
    fn connect(&mut self, target: Target) -> Result<(), String> {
        let profile = if target.sim {
            if self.simulator.is_none() {
                let rt = self.io.runtime()?;
                let s = rt
                    .block_on(sim::start(&sim::Options::default()))
                    .map_err(|e| format!("cannot start the simulator: {e}"))?;
                self.simulator = Some(s);
            }
            match &self.simulator {
                Some(s) => Some(s.profile().map_err(|e| e.to_string())?),
                None => None,
            }
        } else {
            match choose_profile(self.config_path.as_deref(), target.profile.as_deref())
                .map_err(|e| e.to_string())?
                .0
            {
                ProfileChoice::Ready(p) => Some(p),
                ProfileChoice::NoConfig => None,
                ProfileChoice::Unchosen(e) => {
                    error::note(format!("{e}; choose one with :profile NAME"));
                    None
                }
            }
        };
        let info = RunInfo {
            command: "repl",
            script: None,
            profile: None,
            simulated: target.sim,
            undo_of: None,
        };
        let mode = Mode {
            dry_run: target.dry_run,
            offline: false,
        };
        let session = Session::open(
            self.io.clone(),
            profile,
            self.journal_path.as_deref(),
            info,
            mode,
        )
        .map_err(|e| e.to_string())?;
        let options = engine::Options {
            limits: self.limits.clone(),
            print_to: PrintTo::Stdout,
            script_dir: std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
            vars: Vec::new(),
            module_path: crate::run::once::module_path(self.config_path.as_deref(), target.sim)
                .map_err(|e| e.to_string())?,
        };
        let mut engine = engine::build(&session, &options);
        for (alias, module) in &self.imports {
            engine.register_static_module(alias.as_str(), module.clone());
        }
        self.module_path = options.module_path.clone();
        self.options = options;
        let old = std::mem::replace(&mut self.session, session);
        self.end_session(&old);
        self.engine = engine;
        self.target = target;
        self.refresh_names();
        Ok(())
    }

    /// A fresh engine on the same session: no imports (`:clear`).
    fn rebuild_engine(&mut self) {
        self.imports.clear();
        self.engine = engine::build(&self.session, &self.options);
    }

    /// Keep the named imports of an input that ran, so later inputs can use them.
    fn keep_imports(&mut self, ast: &AST, source: &str) {
        for stmt in ast.statements() {
            let Stmt::Import(x, pos) = stmt else {
                continue;
            };
            let (Expr::StringConstant(path, _), alias) = (&x.0, &x.1) else {
                continue;
            };
            if alias.name.is_empty() {
                continue;
            }
            let resolved =
                self.engine
                    .module_resolver()
                    .resolve(&self.engine, Some(source), path, *pos);
            if let Ok(module) = resolved {
                let alias = alias.name.to_string();
                self.engine
                    .register_static_module(alias.as_str(), module.clone());
                self.imports.retain(|(a, _)| *a != alias);
                self.imports.push((alias, module));
            }
        }
    }

    /// Log a session off and keep what it did for `:journal`.
    fn end_session(&mut self, old: &Session) {
        old.close();
        let events = old.journal.events();
        old.journal.end(Exit::Ok.code());
        self.past_events.extend(events);
        self.past_plan.extend(old.planned());
    }

    fn close(&mut self) {
        let current = std::mem::replace(&mut self.session, Session::offline());
        self.end_session(&current);
    }

    /// `onboard (staging, DRY-RUN)> `.
    fn prompt(&self) -> String {
        let mut tags = Vec::new();
        if let Some(p) = self.session.profile() {
            tags.push(p.name.clone());
        }
        if self.target.dry_run {
            tags.push("DRY-RUN".into());
        }
        if tags.is_empty() {
            "onboard> ".into()
        } else {
            format!("onboard ({})> ", tags.join(", "))
        }
    }

    /// What completion offers: the engine's functions, the session's variables and functions,
    /// the config's profiles.
    fn refresh_names(&self) {
        let functions = docs::functions(&self.engine);
        let mut namespaces: Vec<String> = functions
            .iter()
            .filter(|f| !f.namespace.is_empty())
            .map(|f| f.namespace.clone())
            .collect();
        namespaces.dedup();
        let mut functions: Vec<(String, String)> = functions
            .into_iter()
            .map(|f| (f.namespace, f.name))
            .collect();
        for (alias, module) in &self.imports {
            if !namespaces.contains(alias) {
                namespaces.push(alias.clone());
            }
            for (_, access, name, ..) in module.iter_script_fn_info() {
                if access != rhai::FnAccess::Private && !name.contains('$') {
                    functions.push((alias.clone(), name.to_string()));
                }
            }
        }
        functions.dedup();
        let profiles = config::locate(self.config_path.as_deref())
            .ok()
            .flatten()
            .and_then(|p| Config::load(&p).ok())
            .map(|c| c.profiles.keys().cloned().collect())
            .unwrap_or_default();
        let names = Names {
            namespaces,
            functions,
            variables: self.scope.iter().map(|(n, ..)| n.to_string()).collect(),
            script_fns: self
                .fns
                .iter_functions()
                .map(|f| f.name.to_string())
                .collect(),
            profiles,
        };
        if let Ok(mut slot) = self.names.write() {
            *slot = names;
        }
    }

    /// One input: a `:command` or statements.
    fn input(&mut self, text: &str) -> Done {
        let trimmed = text.trim();
        if trimmed.starts_with(':') && !trimmed.contains('\n') {
            return self.command(trimmed);
        }
        self.inputs += 1;
        let name = format!("in[{}]", self.inputs);
        self.eval(text, &name)
    }

    /// Compile, check and run `text` with the session's variables and functions.
    fn eval(&mut self, text: &str, name: &str) -> Done {
        let text = text.trim_end().trim_end_matches('\\');
        self.sources.add(name, text);
        let checked =
            match compile_checked(&mut self.engine, text, name, &self.scope, Some(&self.fns)) {
                Ok(c) => c,
                Err(diags) => {
                    let problems = diags.iter().map(|d| d.problem(&mut self.sources)).collect();
                    say(Error::many(Exit::Input, problems));
                    return Done::Failed;
                }
            };
        for vendor in &checked.analysis.vendors {
            if let Err(why) = self.session.settings(vendor) {
                say(Error::input(why).hint(
                    "`:sim on` uses the built-in simulator; `:profile NAME` picks a profile",
                ));
                return Done::Failed;
            }
        }
        let imports = checked.ast.clone_statements_only();
        let mut ast = self.fns.clone();
        ast += checked.ast;
        let (engine, scope, limits) = (&self.engine, &mut self.scope, &self.limits);
        let outcome = crate::run::fibers::on_own_stack(SCRIPT_STACK, || {
            crate::script::engine::eval(engine, limits, scope, &ast)
        });
        ast.clear_statements();
        self.fns = ast;
        self.refresh_names();
        if matches!(outcome, Ok(Ok(Ok(_)))) {
            self.keep_imports(&imports, name);
            self.refresh_names();
        }
        let done = match outcome {
            Ok(Ok(Ok(value))) => {
                if !value.is_unit() {
                    crate::outln!("{}", values::pretty(&value, WIDTH));
                }
                Done::Ok
            }
            Ok(Ok(Err(err))) => self.report(&err, name),
            Ok(Err(_)) => {
                say(Error::runtime(
                    "the script crashed; this is a bug in onboard",
                ));
                Done::Failed
            }
            Err(e) => {
                say(Error::runtime(e));
                Done::Failed
            }
        };
        // An interrupt ends the statement, not the session.
        self.io.cancel.reset();
        done
    }

    fn report(&mut self, err: &EvalAltResult, name: &str) -> Done {
        let (diag, failure) = diagnostics::from_eval_error(err, name, &self.limits);
        say(Error::many(
            Exit::Runtime,
            vec![diag.problem(&mut self.sources)],
        ));
        match failure {
            Failure::Interrupted => Done::Interrupted,
            Failure::Runtime => Done::Failed,
        }
    }
}
