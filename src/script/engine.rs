//! Builds the Rhai engine: limits, safety settings, and every type and function scripts can use.

use std::path::PathBuf;
use std::sync::Arc;

use rhai::{Engine, FuncRegistration, OptimizationLevel};

use crate::runtime::session::Session;
use crate::script::print::{self, PrintTo};
use crate::script::{bridge, helpers};
use crate::util::secret::{MASK, Secret};
use crate::vendors::values;

/// The engine's limits. The same in debug and release builds: Rhai's defaults differ between them.
#[derive(Clone, Debug)]
pub struct Limits {
    pub max_operations: u64,
    pub max_call_levels: usize,
    pub max_expr_depth: usize,
    pub max_function_expr_depth: usize,
    /// Bytes a script's values may hold at once (strings, arrays and maps together).
    pub max_memory: u64,
    /// Time an evaluation may compute, not counting waiting for vendors (zero: no limit).
    pub max_compute: std::time::Duration,
    pub max_modules: usize,
}

/// Bytes a script may allocate in all per operation it is allowed: copying values is work too,
/// and a value that nests one level deeper on every pass is copied whole each time.
pub const COPY_PER_OPERATION: u64 = 200;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            // Under half a second of a tight loop in a release build: an endless loop ends
            // quickly, while onboarding logic (a few thousand operations per person) never
            // comes close. `[limits] max_operations` or `--max-operations` change it.
            max_operations: 10_000_000,
            max_call_levels: 64,
            max_expr_depth: 64,
            max_function_expr_depth: 32,
            max_memory: 256 << 20,
            // A backstop for loops whose every operation is slow; onboarding logic computes
            // for milliseconds, waiting for vendors aside.
            max_compute: std::time::Duration::from_secs(30),
            max_modules: 256,
        }
    }
}

impl Limits {
    /// The defaults, with what `[limits]` and `--max-operations` say instead.
    pub fn from_settings(
        config: crate::config::LimitSettings,
        max_operations: Option<u64>,
    ) -> Limits {
        let mut limits = Limits::default();
        if let Some(n) = max_operations.or(config.max_operations) {
            limits.max_operations = n;
        }
        if let Some(mb) = config.max_memory_mb {
            limits.max_memory = mb.saturating_mul(1 << 20);
        }
        if let Some(s) = config.max_seconds {
            limits.max_compute = std::time::Duration::from_secs(s);
        }
        limits
    }

    /// Bytes the script may allocate in all (0: no limit, with no operation limit).
    pub fn max_copying(&self) -> u64 {
        self.max_operations.saturating_mul(COPY_PER_OPERATION)
    }
}

/// Run `ast` on this thread within `limits`: values that grow past the memory limit, or copying
/// past the work limit, stop it at the next operation.
pub fn eval(
    engine: &Engine,
    limits: &Limits,
    scope: &mut rhai::Scope,
    ast: &rhai::AST,
) -> Result<rhai::Dynamic, Box<rhai::EvalAltResult>> {
    crate::util::budget::start(limits.max_memory, limits.max_copying(), limits.max_compute);
    let result = engine.eval_ast_with_scope::<rhai::Dynamic>(scope, ast);
    crate::util::budget::stop();
    result
}

/// A `--var`, typed: canonical integers and numbers, true and false; anything else (including
/// `007`) stays text. Kept as plain data, so that each thread of a bulk run makes its own value.
#[derive(Clone, Debug, PartialEq)]
pub enum VarValue {
    Unit,
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Var {
    pub name: String,
    pub value: VarValue,
}

impl Var {
    pub fn dynamic(&self) -> rhai::Dynamic {
        match &self.value {
            VarValue::Unit => rhai::Dynamic::UNIT,
            VarValue::Bool(b) => (*b).into(),
            VarValue::Int(i) => rhai::Dynamic::from_int(*i),
            VarValue::Float(f) => rhai::Dynamic::from_float(*f),
            VarValue::Text(t) => t.clone().into(),
        }
    }
}

/// How to build an engine.
#[derive(Clone, Debug)]
pub struct Options {
    pub limits: Limits,
    pub print_to: PrintTo,
    /// The folder of the script being run: helpers read files relative to it.
    pub script_dir: PathBuf,
    /// `--var` values, for `var_or(name, default)`.
    pub vars: Vec<Var>,
    /// The library folders imports are looked up in, after the script's own folder.
    pub module_path: Vec<crate::script::modules::SearchDir>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            limits: Limits::default(),
            print_to: PrintTo::Stdout,
            script_dir: PathBuf::from("."),
            vars: Vec::new(),
            module_path: Vec::new(),
        }
    }
}

/// An engine with every onboard function registered, bound to `session`.
pub fn build(session: &Arc<Session>, options: &Options) -> Engine {
    // The standard package with its functions looked up from their manifests when first called:
    // registering all of them with metadata up front was 40% of an empty script's start-up.
    // What enumerates functions (docs, completion, suggestions) materialises them itself.
    let mut engine = Engine::new_raw();
    rhai::packages::Package::register_into_engine(
        &rhai::packages::StandardPackage::new_lazy(),
        &mut engine,
    );
    // `Full` would call registered functions whose arguments are constant at compile time,
    // creating accounts before the script runs; `Simple` never calls functions.
    engine.set_optimization_level(OptimizationLevel::Simple);
    let l = &options.limits;
    engine
        .set_max_operations(l.max_operations)
        .set_max_call_levels(l.max_call_levels)
        .set_max_expr_depths(l.max_expr_depth, l.max_function_expr_depth)
        // Rhai measures the whole of a string, array or map after every operation that
        // touches it, which makes a growing array quadratic (313 s to reach a million items):
        // its size limits stay off, and what values hold is counted as it is allocated.
        .set_max_string_size(0)
        .set_max_array_size(0)
        .set_max_map_size(0)
        .set_max_modules(l.max_modules)
        .set_strict_variables(true)
        .set_fail_on_invalid_map_property(true);
    // Rhai interns the strings a script builds (an interpolated e-mail address per row) in one
    // cache behind a lock that every `--each` worker takes, and trims it with a scan once full;
    // the strings are new each row, so the cache only costs.
    engine.set_max_strings_interned(0);
    engine.disable_symbol("eval");
    engine.set_module_resolver(crate::script::modules::Resolver::new(
        options.script_dir.clone(),
        options.module_path.clone(),
    ));

    let print_to = options.print_to;
    engine.on_print(move |text| print::emit(print_to, text));
    engine.on_debug(|text, source, pos| {
        let place = match (source, pos.line()) {
            (Some(src), Some(line)) => format!("{src}:{line}: "),
            (None, Some(line)) => format!("line {line}: "),
            _ => String::new(),
        };
        print::emit(PrintTo::Stderr, &format!("[debug] {place}{text}"));
    });

    // Ctrl-C stops the script between operations; a terminate cannot be caught by `try`.
    // The stop is checked at every operation, not every 256th: a value that doubles at each
    // operation (`s += s`) would exhaust memory within 256 of them. rhai calls this at every
    // operation of every script (5-9% of a CPU-bound one, README "The engine"), so the usual
    // path is a test, a load and a test, and makes no call that would make it save registers.
    engine.on_progress(|ops| {
        if ops & 0xff != 0 && !crate::util::budget::stop_asked() {
            None
        } else {
            every_256th_or_stop(ops)
        }
    });

    register_secret(&mut engine);
    bridge::install_rollback(&mut engine, session);
    register_json(&mut engine);
    helpers::register(&mut engine, &options.script_dir, &options.vars);
    bridge::install_all(&mut engine, session);
    engine
}

/// An engine that only parses: no functions, no optimisation (map keys keep their places), and
/// the same depth limits as the real engine (Rhai's debug-build defaults are lower).
pub fn parser() -> Engine {
    let mut engine = Engine::new_raw();
    let l = Limits::default();
    engine
        .set_optimization_level(OptimizationLevel::None)
        .set_max_expr_depths(l.max_expr_depth, l.max_function_expr_depth);
    engine
}

/// What an evaluation stopped by a limit (not an interrupt) ends with.
pub const STOP_MEMORY: &str = "limit: memory";
pub const STOP_COPYING: &str = "limit: copying";
pub const STOP_TIME: &str = "limit: time";

/// Every 256th operation: hand the thread to other rows if this one has held it too long, and
/// check the compute-time limit; then, at any operation, the stop if one is asked.
#[cold]
#[inline(never)]
fn every_256th_or_stop(ops: u64) -> Option<rhai::Dynamic> {
    if ops & 0xff == 0 {
        if let Some(away) = crate::runtime::io::share_thread() {
            crate::util::budget::waited(away);
        }
        crate::util::budget::check_time();
    }
    if crate::util::budget::stop_asked() {
        stop()
    } else {
        None
    }
}

fn stop() -> Option<rhai::Dynamic> {
    Some(match crate::util::budget::tripped() {
        _ if crate::runtime::session::interrupted() => "interrupted".into(),
        Some(crate::util::budget::Over::Memory) => STOP_MEMORY.into(),
        Some(crate::util::budget::Over::Copying) => STOP_COPYING.into(),
        Some(crate::util::budget::Over::Time) => STOP_TIME.into(),
        // Another thread's evaluation passed its limit: this one goes on.
        None => return None,
    })
}

fn register_secret(engine: &mut Engine) {
    engine
        .register_type_with_name::<Secret>("Secret")
        .register_fn("to_string", |_: &mut Secret| MASK.to_string())
        .register_fn("to_debug", |_: &mut Secret| format!("Secret({MASK})"))
        .register_fn("len", |s: &mut Secret| s.len() as i64)
        .register_fn("is_empty", |s: &mut Secret| s.is_empty())
        .register_fn("==", |a: &mut Secret, b: Secret| *a == b)
        .register_fn("!=", |a: &mut Secret, b: Secret| *a != b);
    FuncRegistration::new("reveal")
        .with_params_info(["secret: Secret", "String"])
        .with_comments([
            "/// The text of a secret. Only for passing it somewhere that needs it: \
                         what you print from it is no longer masked.",
        ])
        .register_into_engine(engine, |s: &mut Secret| s.reveal().to_string());
    FuncRegistration::new("secret")
        .with_params_info(["text: &str", "Secret"])
        .with_comments(["/// Wrap text as a Secret, so it is masked wherever it is shown."])
        .register_into_engine(engine, |text: &str| Secret::new(text));
}

/// `to_json` that masks secrets and understands vendor results (Rhai's own shows type names).
fn register_json(engine: &mut Engine) {
    FuncRegistration::new("to_json")
        .with_params_info(["map: Map", "String"])
        .with_comments(["/// The map as JSON; secrets show as ********."])
        .register_into_engine(engine, |m: &mut rhai::Map| {
            values::to_json_string(&rhai::Dynamic::from_map(m.clone()), false)
        });
    FuncRegistration::new("to_json")
        .with_params_info(["array: Array", "String"])
        .with_comments(["/// The array as JSON; secrets show as ********."])
        .register_into_engine(engine, |a: &mut rhai::Array| {
            values::to_json_string(&rhai::Dynamic::from_array(a.clone()), false)
        });
}
