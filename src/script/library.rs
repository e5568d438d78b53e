//! Team libraries: a folder with `onboard-lib.toml` and `.rhai` modules; `onboard lib list|new|check`.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;

use crate::cli::args::{LibArgs, LibCommand};
use crate::cli::{EXIT_INPUT, EXIT_OK, EXIT_RUNTIME};
use crate::run::once::{eprint, error};
use crate::runtime::session::Session;
use crate::script::diagnostics::{self, Sources};
use crate::script::engine::{self, Limits};
use crate::script::modules::{self, SearchDir};
use crate::script::stdlib;

pub const MANIFEST: &str = "onboard-lib.toml";

/// `onboard-lib.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub name: String,
    pub version: String,
    #[serde(default)]
    pub description: String,
    /// The oldest onboard the library works with.
    #[serde(default)]
    pub onboard: Option<String>,
    /// Libraries it imports from, by name (their folder names).
    #[serde(default)]
    pub dependencies: Vec<String>,
    #[serde(skip)]
    pub dir: PathBuf,
}

impl Manifest {
    /// The manifest of the library in `dir`, if `dir` is one.
    pub fn beside(dir: &Path) -> Result<Option<Manifest>, String> {
        let path = dir.join(MANIFEST);
        if !path.is_file() {
            return Ok(None);
        }
        Manifest::read(&path).map(Some)
    }

    pub fn read(path: &Path) -> Result<Manifest, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let mut m: Manifest = toml::from_str(&text).map_err(|e| {
            let at = e
                .span()
                .map(|s| format!(":{}", text[..s.start].matches('\n').count() + 1))
                .unwrap_or_default();
            format!("{}{at}: {}", path.display(), e.message())
        })?;
        version_parts(&m.version).map_err(|e| format!("{}: `version`: {e}", path.display()))?;
        m.dir = path.parent().map_or_else(PathBuf::new, Path::to_path_buf);
        Ok(m)
    }

    fn place(&self) -> String {
        self.dir.join(MANIFEST).display().to_string()
    }

    /// Whether this onboard can use the library: new enough, every dependency found.
    pub fn usable(&self, dirs: &[SearchDir]) -> Result<(), String> {
        if let Some(needed) = &self.onboard {
            let need =
                version_parts(needed).map_err(|e| format!("{}: `onboard`: {e}", self.place()))?;
            let have = version_parts(env!("CARGO_PKG_VERSION")).unwrap_or_default();
            if have < need {
                return Err(format!(
                    "library `{}` needs onboard {needed} or newer; this is onboard {} ({})",
                    self.name,
                    env!("CARGO_PKG_VERSION"),
                    self.place()
                ));
            }
        }
        let mut roots: Vec<PathBuf> = self
            .dir
            .parent()
            .map(Path::to_path_buf)
            .into_iter()
            .collect();
        roots.extend(dirs.iter().map(|d| d.dir.clone()));
        for dep in &self.dependencies {
            if !roots.iter().any(|r| r.join(dep).join(MANIFEST).is_file()) {
                let looked: Vec<String> = roots
                    .iter()
                    .map(|r| r.join(dep).display().to_string())
                    .collect();
                return Err(format!(
                    "library `{}` needs library `{dep}`, which was not found (looked in: {}); add its folder to [modules] paths or ONBOARD_PATH",
                    self.name,
                    looked.join(", ")
                ));
            }
        }
        Ok(())
    }

    /// The library's modules: its top-level `.rhai` files, as import paths.
    fn modules(&self) -> Vec<(String, PathBuf)> {
        let folder = self
            .dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut out: Vec<(String, PathBuf)> = rhai_files(&self.dir)
            .into_iter()
            .filter_map(|p| {
                let stem = p.file_stem()?.to_string_lossy().into_owned();
                Some((format!("{folder}/{stem}"), p))
            })
            .collect();
        out.sort();
        out
    }
}

pub fn rhai_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "rhai"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// `1.2.3` as numbers; missing parts are 0.
fn version_parts(v: &str) -> Result<Vec<u64>, String> {
    let mut parts: Vec<u64> = v
        .trim()
        .split('.')
        .map(|p| {
            p.parse::<u64>()
                .map_err(|_| format!("`{v}` is not a version like 1.2.0"))
        })
        .collect::<Result<_, _>>()?;
    parts.resize(3, 0);
    Ok(parts)
}

/// The library folders, as the config and `ONBOARD_PATH` name them.
pub fn search_dirs(config_path: Option<&Path>) -> Result<Vec<SearchDir>, String> {
    let (paths, file) = match crate::config::locate(config_path).map_err(|e| e.to_string())? {
        Some(file) => {
            let config = crate::config::Config::load(&file).map_err(|e| e.to_string())?;
            (config.module_paths, Some(file))
        }
        None => (Vec::new(), None),
    };
    Ok(modules::search_dirs(&paths, file.as_deref()))
}

/// `onboard lib …`.
pub fn command(config_path: Option<&Path>, args: &LibArgs) -> u8 {
    match &args.command {
        LibCommand::List => list(config_path),
        LibCommand::New { name, dir } => new(name, dir),
        LibCommand::Check { path } => check(config_path, path),
    }
}

fn list(config_path: Option<&Path>) -> u8 {
    let dirs = match search_dirs(config_path) {
        Ok(d) => d,
        Err(e) => {
            error(e);
            return EXIT_INPUT;
        }
    };
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
    EXIT_OK
}

fn folder_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn new(name: &str, dir: &Path) -> u8 {
    let valid = name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if !valid {
        error(format!(
            "`{name}` is not a library name: lower-case letters, digits, - and _, starting with a letter"
        ));
        return EXIT_INPUT;
    }
    let root = dir.join(name);
    if root.exists() {
        error(format!(
            "{} already exists; nothing was written",
            root.display()
        ));
        return EXIT_INPUT;
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
        if let Err(e) = written {
            error(format!("cannot write {}: {e}", path.display()));
            return EXIT_RUNTIME;
        }
    }
    crate::outln!("created library `{name}` in {}", root.display());
    for (path, _) in &files {
        crate::outln!("  {}", path.display());
    }
    crate::outln!("check it with: onboard lib check {}", root.display());
    EXIT_OK
}

/// Compile every module of the library, then run each of its `tests/*.rhai` on the simulator.
fn check(config_path: Option<&Path>, path: &Path) -> u8 {
    let manifest = match Manifest::read(&path.join(MANIFEST)) {
        Ok(m) => m,
        Err(e) => {
            error(format!(
                "{e}\n  (a library is a folder with {MANIFEST}: `onboard lib new NAME` makes one)"
            ));
            return EXIT_INPUT;
        }
    };
    let mut dirs = match search_dirs(config_path) {
        Ok(d) => d,
        Err(e) => {
            error(e);
            return EXIT_INPUT;
        }
    };
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
    if let Err(e) = manifest.usable(&dirs) {
        error(e);
        return EXIT_INPUT;
    }
    crate::outln!(
        "library {} {} ({})",
        manifest.name,
        manifest.version,
        path.display()
    );
    let mut failed = 0;
    let session = Session::offline();
    let options = engine::Options {
        script_dir: parent.clone(),
        module_path: dirs.clone(),
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
            .map_err(|e| format!("error: {e}\n"))
            .and_then(|ast| {
                modules::preflight(&engine, &ast, None)
                    .and_then(|()| engine.run_ast(&ast))
                    .map_err(|e| {
                        diagnostics::from_eval_error(&e, &shown, &Limits::default())
                            .0
                            .render(&mut sources)
                    })
            });
        match result {
            Ok(()) => crate::outln!("  module {import}: ok"),
            Err(e) => {
                failed += 1;
                crate::outln!("  module {import}: FAILED");
                eprint(&e);
            }
        }
    }
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
                failed += 1;
                crate::outln!("  test {name}: FAILED");
                eprint(&String::from_utf8_lossy(&o.stderr));
            }
            Err(e) => {
                failed += 1;
                crate::outln!("  test {name}: could not run: {e}");
            }
        }
    }
    let _ = std::fs::remove_file(&empty_config);
    if failed > 0 {
        crate::outln!("{failed} failed");
        EXIT_RUNTIME
    } else {
        crate::outln!("all passed");
        EXIT_OK
    }
}
