//! `onboard lib list|new|check`: the libraries found, a new one scaffolded, one checked.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::cli::args::{LibArgs, LibCommand};
use crate::runtime::session::Session;
use crate::script::diagnostics::{self, Sources};
use crate::script::engine::{self, Limits};
use crate::script::library::{MANIFEST, Manifest, rhai_files, search_dirs};
use crate::script::modules::{self, SearchDir};
use crate::script::stdlib;
use crate::util::error::{Error, Exit, Problem};

/// `onboard lib …`.
pub fn command(config_path: Option<&Path>, args: &LibArgs) -> Result<(), Error> {
    match &args.command {
        LibCommand::List => list(config_path),
        LibCommand::New { name, dir } => new(name, dir),
        LibCommand::Check { path } => check(config_path, path),
    }
}

fn list(config_path: Option<&Path>) -> Result<(), Error> {
    let dirs = search_dirs(config_path)?;
    crate::outln!(
        "{:<16} {:<9} {:<40} description",
        "library",
        "version",
        "where"
    );
    crate::outln!(
        "{:<16} {:<9} {:<40} {}",
        "std",
        env!("CARGO_PKG_VERSION"),
        "(built in)",
        stdlib::MODULES
            .iter()
            .map(|(n, _)| *n)
            .collect::<Vec<_>>()
            .join(", ")
    );
    for d in &dirs {
        let mut found: Vec<PathBuf> = std::fs::read_dir(&d.dir)
            .map(|e| {
                e.filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| p.join(MANIFEST).is_file())
                    .collect()
            })
            .unwrap_or_default();
        found.sort();
        if found.is_empty() {
            crate::outln!("  (no libraries in {}, from {})", d.dir.display(), d.origin);
        }
        for lib in found {
            match Manifest::read(&lib.join(MANIFEST)) {
                Ok(m) => {
                    let problem = m
                        .usable(&dirs)
                        .err()
                        .map(|e| format!("  [cannot be used: {e}]"))
                        .unwrap_or_default();
                    crate::outln!(
                        "{:<16} {:<9} {:<40} {}{problem}",
                        folder_name(&lib),
                        m.version,
                        lib.display(),
                        m.description
                    );
                }
                Err(e) => crate::outln!(
                    "{:<16} {:<9} {:<40} [broken manifest: {e}]",
                    folder_name(&lib),
                    "?",
                    lib.display()
                ),
            }
        }
    }
    if dirs.is_empty() {
        crate::outln!(
            "\nNo library folders: name them in [modules] paths of onboard.toml or in ONBOARD_PATH."
        );
    }
    Ok(())
}

fn folder_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn new(name: &str, dir: &Path) -> Result<(), Error> {
    let valid = name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if !valid {
        return Err(Error::input(format!(
            "`{name}` is not a library name: lower-case letters, digits, - and _, starting with a letter"
        )));
    }
    let root = dir.join(name);
    if root.exists() {
        return Err(Error::input(format!(
            "{} already exists; nothing was written",
            root.display()
        )));
    }
    let files = [
        (
            root.join(MANIFEST),
            format!(
                "name = \"{name}\"\nversion = \"0.1.0\"\ndescription = \"{name}'s onboarding conventions\"\n\
                 # The oldest onboard this library works with.\nonboard = \"{}\"\n\
                 # Other libraries it imports from, by folder name.\ndependencies = []\n",
                env!("CARGO_PKG_VERSION")
            ),
        ),
        (
            root.join("users.rhai"),
            format!(
                "//! {name}'s user conventions.\n\n\
                 /// The user name {name} gives a person: first initial and last name, as `std/naming` makes it.\n\
                 fn username(person) {{\n    import \"std/naming\" as naming;\n    naming::username(person.first_name, person.last_name, \"flast\")\n}}\n"
            ),
        ),
        (
            root.join("tests").join("users.rhai"),
            format!(
                "// Run by `onboard lib check {name}` on the built-in simulator.\n\
                 import \"{name}/users\" as users;\nimport \"std/checks\" as t;\n\n\
                 t::assert_eq(users::username(#{{ first_name: \"Zoë\", last_name: \"O'Brien\" }}), \"zobrien\");\n"
            ),
        ),
    ];
    for (path, text) in &files {
        let written = path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(path, text));
        written.map_err(|e| Error::runtime(format!("cannot write {}: {e}", path.display())))?;
    }
    crate::outln!("created library `{name}` in {}", root.display());
    for (path, _) in &files {
        crate::outln!("  {}", path.display());
    }
    crate::outln!("check it with: onboard lib check {}", root.display());
    Ok(())
}

/// Compile every module of the library, then run each of its `tests/*.rhai` on the simulator.
fn check(config_path: Option<&Path>, path: &Path) -> Result<(), Error> {
    let manifest = Manifest::read(&path.join(MANIFEST)).map_err(|e| {
        Error::from(e).hint(format!(
            "a library is a folder with {MANIFEST}: `onboard lib new NAME` makes one"
        ))
    })?;
    let mut dirs = search_dirs(config_path)?;
    // The library's own folder comes first, so its tests use this copy.
    let parent = path
        .canonicalize()
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .unwrap_or_else(|| PathBuf::from("."));
    dirs.insert(
        0,
        SearchDir {
            dir: parent.clone(),
            origin: "the library being checked".into(),
        },
    );
    manifest.usable(&dirs)?;
    crate::outln!(
        "library {} {} ({})",
        manifest.name,
        manifest.version,
        path.display()
    );
    let mut problems = check_modules(&manifest, &parent, &dirs);
    problems.extend(run_tests(path, &dirs));
    if problems.is_empty() {
        crate::outln!("all passed");
        Ok(())
    } else {
        crate::outln!("{} failed", problems.len());
        Err(Error::many(Exit::Runtime, problems))
    }
}

/// Every module of the library compiled and loaded, with the imports it makes.
fn check_modules(manifest: &Manifest, parent: &Path, dirs: &[SearchDir]) -> Vec<Problem> {
    let mut problems = Vec::new();
    let session = Session::offline();
    let options = engine::Options {
        script_dir: parent.to_path_buf(),
        module_path: dirs.to_vec(),
        ..engine::Options::default()
    };
    let engine = engine::build(&session, &options);
    let mut sources = Sources::default();
    for (import, file) in manifest.modules() {
        // The standard library's folder is not named `std`: its modules go by `std/NAME`.
        let import = match import.rsplit_once('/') {
            Some((_, stem)) if manifest.name == "std" => format!("std/{stem}"),
            _ => import,
        };
        let shown = file.display().to_string();
        let result = engine
            .compile(format!("import \"{import}\" as m;"))
            .map_err(|e| Problem::new(e.to_string()))
            .and_then(|ast| {
                modules::preflight(&engine, &ast, None)
                    .and_then(|_| engine.run_ast(&ast))
                    .map_err(|e| {
                        diagnostics::from_eval_error(&e, &shown, &Limits::default())
                            .0
                            .problem(&mut sources)
                    })
            });
        match result {
            Ok(()) => crate::outln!("  module {import}: ok"),
            Err(p) => {
                crate::outln!("  module {import}: FAILED");
                problems.push(p);
            }
        }
    }
    problems
}

/// Each of the library's `tests/*.rhai`, run by this binary on the simulator.
fn run_tests(path: &Path, dirs: &[SearchDir]) -> Vec<Problem> {
    let mut problems = Vec::new();
    let tests = rhai_files(&path.join("tests"));
    if tests.is_empty() {
        crate::outln!(
            "  (no tests: add scripts to {})",
            path.join("tests").display()
        );
    }
    let exe = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("onboard"));
    // Tests see only the library folders found above (an empty config hides any other).
    let empty_config =
        std::env::temp_dir().join(format!("onboard-lib-check-{}.toml", std::process::id()));
    let _ = std::fs::write(&empty_config, "# written by onboard lib check\n");
    let onboard_path = std::env::join_paths(dirs.iter().map(|d| d.dir.clone())).unwrap_or_default();
    for test in tests {
        let out = Command::new(&exe)
            .arg("run")
            .arg(&test)
            .args(["--sim", "--quiet"])
            .env("ONBOARD_PATH", &onboard_path)
            .env("ONBOARD_CONFIG", &empty_config)
            .env_remove("ONBOARD_PROFILE")
            .output();
        let name = test.display();
        match out {
            Ok(o) if o.status.success() => crate::outln!("  test {name}: ok"),
            Ok(o) => {
                crate::outln!("  test {name}: FAILED");
                problems.push(Problem {
                    message: format!("test {name} failed; what it said:"),
                    detail: String::from_utf8_lossy(&o.stderr).into_owned(),
                    hints: Vec::new(),
                });
            }
            Err(e) => {
                crate::outln!("  test {name}: could not run: {e}");
                problems.push(Problem::new(format!("test {name} could not run: {e}")));
            }
        }
    }
    let _ = std::fs::remove_file(&empty_config);
    problems
}
