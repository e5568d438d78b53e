//! `import "name" as x;`: found beside the importing script, then in the library folders, then
//! in the standard library inside the binary; each module compiled, checked and run once.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rhai::module_resolvers::ModuleResolver;
use rhai::{AST, ASTNode, Engine, EvalAltResult, Expr, Module, Position, Scope, Shared, Stmt};

type SharedModule = Shared<Module>;

use crate::script::analyze;
use crate::script::library::Manifest;
use crate::script::stdlib;

/// A folder imports are looked up in, and why it is searched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchDir {
    pub dir: PathBuf,
    /// `[modules] paths in onboard.toml`, `ONBOARD_PATH`.
    pub origin: String,
}

/// The library folders: `[modules] paths` of the config, then `$ONBOARD_PATH`.
pub fn search_dirs(config_paths: &[PathBuf], config_file: Option<&Path>) -> Vec<SearchDir> {
    let mut dirs: Vec<SearchDir> = config_paths
        .iter()
        .map(|d| SearchDir {
            dir: d.clone(),
            origin: match config_file {
                Some(f) => format!("[modules] paths in {}", f.display()),
                None => "[modules] paths".into(),
            },
        })
        .collect();
    if let Some(raw) = std::env::var_os("ONBOARD_PATH") {
        dirs.extend(
            std::env::split_paths(&raw)
                .filter(|p| !p.as_os_str().is_empty())
                .map(|dir| SearchDir {
                    dir,
                    origin: "ONBOARD_PATH".into(),
                }),
        );
    }
    dirs
}

/// Where a module was found.
#[derive(Clone, Debug)]
enum Found {
    File(PathBuf),
    Std(&'static str, &'static str),
}

impl Found {
    /// The name errors and `Sources` use: the file's path, or `std/naming`.
    fn name(&self) -> String {
        match self {
            Found::File(p) => p.display().to_string(),
            Found::Std(name, _) => (*name).to_string(),
        }
    }
}

thread_local! {
    /// Modules being loaded on this thread, to report an import cycle instead of recursing.
    static LOADING: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// The modules this thread is loading, taken off it while its script waits as a coroutine.
pub fn take_loading() -> Vec<String> {
    LOADING.with(|l| std::mem::take(&mut *l.borrow_mut()))
}

/// Put back what `take_loading` took.
pub fn put_loading(loading: Vec<String>) {
    LOADING.with(|l| *l.borrow_mut() = loading);
}

/// The module resolver of every engine onboard builds.
pub struct Resolver {
    /// Where the main script is: its relative imports start here.
    script_dir: PathBuf,
    dirs: Vec<SearchDir>,
    asts: Mutex<HashMap<String, AST>>,
    modules: Mutex<HashMap<String, SharedModule>>,
}

impl Resolver {
    pub fn new(script_dir: PathBuf, dirs: Vec<SearchDir>) -> Self {
        Resolver {
            script_dir,
            dirs,
            asts: Mutex::default(),
            modules: Mutex::default(),
        }
    }

    /// Every place `path` could be, in order, as (description, place).
    fn candidates(&self, source: Option<&str>, path: &str) -> Vec<(String, Option<Found>)> {
        let file_name = if path.ends_with(".rhai") {
            path.to_string()
        } else {
            format!("{path}.rhai")
        };
        let mut out = Vec::new();
        let std_name = |name: &str| {
            let found = stdlib::find(name).map(|(n, text)| Found::Std(n, text));
            (format!("{name} (the standard library)"), found)
        };
        if Path::new(path).is_absolute() {
            let p = PathBuf::from(&file_name);
            let found = p.is_file().then(|| Found::File(p.clone()));
            return vec![(p.display().to_string(), found)];
        }
        // Relative to the importing module: a file, or a standard library module.
        match source {
            Some(s) if s.starts_with("std/") => {
                let base = s.rsplit_once('/').map_or("std", |(dir, _)| dir);
                out.push(std_name(&normalize(&format!("{base}/{path}"))));
            }
            _ => {
                let dir = source
                    .map(Path::new)
                    .filter(|p| p.is_file())
                    .and_then(Path::parent)
                    .map_or_else(|| self.script_dir.clone(), Path::to_path_buf);
                let p = dir.join(&file_name);
                let found = p.is_file().then(|| Found::File(p.clone()));
                out.push((
                    format!("{} (beside the importing script)", p.display()),
                    found,
                ));
            }
        }
        for d in &self.dirs {
            let p = d.dir.join(&file_name);
            let found = p.is_file().then(|| Found::File(p.clone()));
            out.push((format!("{} ({})", p.display(), d.origin), found));
        }
        if path.starts_with("std/") {
            out.push(std_name(path.trim_end_matches(".rhai")));
        }
        out
    }

    fn find(
        &self,
        source: Option<&str>,
        path: &str,
        pos: Position,
    ) -> Result<Found, Box<EvalAltResult>> {
        let candidates = self.candidates(source, path);
        if let Some(found) = candidates.iter().find_map(|(_, f)| f.clone()) {
            return Ok(found);
        }
        let places: Vec<String> = candidates.into_iter().map(|(d, _)| d).collect();
        Err(Box::new(EvalAltResult::ErrorModuleNotFound(
            format!("\"{path}\"; looked in: {}", places.join(", ")),
            pos,
        )))
    }

    /// Parse and check a module (cached): its vendor calls are checked like the script's, and a
    /// library's manifest (onboard version, dependencies) before its first module is used.
    fn load_ast(&self, engine: &Engine, found: &Found) -> Result<AST, Box<EvalAltResult>> {
        let name = found.name();
        if let Some(ast) = self.asts.lock().ok().and_then(|m| m.get(&name).cloned()) {
            return Ok(ast);
        }
        let in_module = Box::new;
        let text = match found {
            Found::File(path) => {
                if let Some(dir) = path.parent() {
                    Manifest::beside(dir)
                        .and_then(|m| m.map_or(Ok(()), |m| m.usable(&self.dirs)))
                        .map_err(|e| in_module(problem(e.to_string(), Position::NONE)))?;
                }
                std::fs::read_to_string(path).map_err(|e| {
                    in_module(problem(
                        format!("cannot read {}: {e}", path.display()),
                        Position::NONE,
                    ))
                })?
            }
            Found::Std(_, text) => (*text).to_string(),
        };
        // The checks read the unoptimised tree, where map keys keep their places.
        if let Ok(raw) = crate::script::engine::parser().compile(&text) {
            let analysis = analyze::analyze(
                &raw,
                Some(&analyze::Callables {
                    engine,
                    before: None,
                }),
            );
            if let Some(f) = analysis.findings.first() {
                return Err(in_module(problem(f.message.clone(), f.pos)));
            }
        }
        let mut ast = engine.compile(&text).map_err(|e| {
            let d = crate::script::diagnostics::from_parse_error(&e, &name);
            in_module(problem(d.message, e.1))
        })?;
        ast.set_source(name.as_str());
        if let Ok(mut m) = self.asts.lock() {
            m.insert(name, ast.clone());
        }
        Ok(ast)
    }
}

/// Every module `ast` imports with a literal path, and theirs in turn, parsed and checked
/// without running anything: a bad module stops a run before its first request.
/// What it returns: the `--var`s the modules read, for `compile::unread_vars`.
pub fn preflight(
    engine: &Engine,
    ast: &AST,
    source: Option<&str>,
) -> Result<analyze::VarReads, Box<EvalAltResult>> {
    let mut reads = analyze::VarReads::default();
    // What each alias names, for checking `alias::function(…)` calls below.
    let mut aliases: HashMap<String, Option<(String, Exports)>> = HashMap::new();
    for (path, alias, pos) in imports(ast) {
        let Some(found) = engine
            .module_resolver()
            .resolve_ast(engine, source, &path, pos)
        else {
            // Not a script module this resolver knows before the run.
            reads.open = true;
            continue;
        };
        // Not found is reported at the import; a module that does not load, inside it.
        let module_ast = found?;
        let name = module_ast.source().unwrap_or(path.as_str()).to_string();
        if let Some(alias) = alias {
            // An alias bound to two modules (in different blocks) is not checked.
            let entry = aliases
                .entry(alias)
                .or_insert_with(|| Some((name.clone(), exports(&module_ast))));
            if entry.as_ref().is_some_and(|(n, _)| *n != name) {
                *entry = None;
            }
        }
        if LOADING.with(|l| l.borrow().contains(&name)) {
            continue;
        }
        reads.merge(analyze::module_var_reads(&module_ast));
        LOADING.with(|l| l.borrow_mut().push(name.clone()));
        let result = preflight(engine, &module_ast, Some(&name));
        LOADING.with(|l| l.borrow_mut().pop());
        reads.merge(
            result.map_err(|e| Box::new(EvalAltResult::ErrorInModule(name.clone(), e, pos)))?,
        );
    }
    check_module_calls(ast, &aliases)?;
    Ok(reads)
}

/// `alias::name(…)` where `alias` is an imported script module: the module must have a public
/// function of that name taking that many arguments. Otherwise the typo would be found only when
/// the call is reached, after what the script did before it.
fn check_module_calls(
    ast: &AST,
    aliases: &HashMap<String, Option<(String, Exports)>>,
) -> Result<(), Box<EvalAltResult>> {
    let mut found = None;
    ast.walk(&mut |path: &[ASTNode]| {
        // A call made as a statement is a statement node, not an expression.
        let call = match path.last() {
            Some(
                ASTNode::Expr(Expr::FnCall(call, pos)) | ASTNode::Stmt(Stmt::FnCall(call, pos)),
            ) => Some((call, pos)),
            _ => None,
        };
        if let Some((call, pos)) = call
            && let [alias] = call.namespace.path.as_slice()
            && let Some(Some((module, exported))) = aliases.get(alias.name.as_str())
            && let Err(message) = has_function(
                module,
                alias.name.as_str(),
                exported,
                &call.name,
                call.args.len(),
            )
        {
            found = Some(problem(message, *pos));
            return false;
        }
        true
    });
    found.map_or(Ok(()), |p| Err(Box::new(p)))
}

/// A module's public functions: name and number of parameters.
type Exports = Vec<(String, usize)>;

fn exports(ast: &AST) -> Exports {
    ast.iter_functions()
        .filter(|f| f.access != rhai::FnAccess::Private)
        .map(|f| (f.name.to_string(), f.params.len()))
        .collect()
}

fn has_function(
    module: &str,
    alias: &str,
    exported: &Exports,
    name: &str,
    args: usize,
) -> Result<(), String> {
    let mut arities: Vec<usize> = exported
        .iter()
        .filter(|(n, _)| n == name)
        .map(|(_, n)| *n)
        .collect();
    arities.sort_unstable();
    if arities.contains(&args) {
        return Ok(());
    }
    if !arities.is_empty() {
        let takes: Vec<String> = arities.iter().map(usize::to_string).collect();
        return Err(format!(
            "`{alias}::{name}` is given {args} argument{}, but {module}'s `{name}` takes {}",
            if args == 1 { "" } else { "s" },
            takes.join(" or ")
        ));
    }
    let mut names: Vec<&str> = exported.iter().map(|(n, _)| n.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    let hint = match crate::util::suggest::closest(name, names.iter().copied()) {
        Some(near) => format!("did you mean `{alias}::{near}`?"),
        None if names.is_empty() => "it has no public functions".to_string(),
        None => format!("its functions: {}", names.join(", ")),
    };
    Err(format!(
        "{module} (imported as `{alias}`) has no function `{name}`; {hint}"
    ))
}

/// A module that cannot be used: its message is shown as it is.
#[derive(Clone, Debug)]
pub struct Problem(pub String);

fn problem(message: String, pos: Position) -> EvalAltResult {
    EvalAltResult::ErrorRuntime(rhai::Dynamic::from(Problem(message)), pos)
}

/// The literal paths `ast` imports, with the alias (`as x`) and where.
fn imports(ast: &AST) -> Vec<(String, Option<String>, Position)> {
    let mut out = Vec::new();
    ast.walk(&mut |path: &[ASTNode]| {
        if let Some(ASTNode::Stmt(Stmt::Import(x, pos))) = path.last()
            && let Expr::StringConstant(s, _) = &x.0
        {
            let alias = (!x.1.name.is_empty()).then(|| x.1.name.to_string());
            out.push((s.to_string(), alias, *pos));
        }
        true
    });
    out
}

/// `std/a/../b` as `std/b`; `./` dropped.
fn normalize(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for p in path.split('/') {
        match p {
            "." | "" => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}

impl ModuleResolver for Resolver {
    fn resolve(
        &self,
        engine: &Engine,
        source: Option<&str>,
        path: &str,
        pos: Position,
    ) -> Result<SharedModule, Box<EvalAltResult>> {
        let found = self.find(source, path, pos)?;
        let name = found.name();
        if let Some(m) = self.modules.lock().ok().and_then(|m| m.get(&name).cloned()) {
            return Ok(m);
        }
        let cycle = LOADING.with(|l| {
            let l = l.borrow();
            l.contains(&name).then(|| {
                let mut chain = l.clone();
                chain.push(name.clone());
                chain.join(" → ")
            })
        });
        if let Some(chain) = cycle {
            return Err(Box::new(EvalAltResult::ErrorModuleNotFound(
                format!("\"{path}\": the imports go round in a circle: {chain}"),
                pos,
            )));
        }
        let wrap = |e| Box::new(EvalAltResult::ErrorInModule(name.clone(), e, pos));
        let ast = self.load_ast(engine, &found).map_err(wrap)?;
        LOADING.with(|l| l.borrow_mut().push(name.clone()));
        let result = Module::eval_ast_as_new(Scope::new(), &ast, engine);
        LOADING.with(|l| l.borrow_mut().pop());
        let mut module = result.map_err(wrap)?;
        module.set_id(name.as_str());
        let shared: SharedModule = module.into();
        if let Ok(mut m) = self.modules.lock() {
            m.insert(name, shared.clone());
        }
        Ok(shared)
    }

    fn resolve_ast(
        &self,
        engine: &Engine,
        source: Option<&str>,
        path: &str,
        pos: Position,
    ) -> Option<Result<AST, Box<EvalAltResult>>> {
        let found = match self.find(source, path, pos) {
            Ok(f) => f,
            Err(e) => return Some(Err(e)),
        };
        Some(
            self.load_ast(engine, &found)
                .map_err(|e| Box::new(EvalAltResult::ErrorInModule(found.name(), e, pos))),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn paths_are_normalised() {
        assert_eq!(normalize("std/./naming"), "std/naming");
        assert_eq!(normalize("std/x/../people"), "std/people");
    }
}
