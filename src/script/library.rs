//! Team libraries: a folder with `onboard-lib.toml` and `.rhai` modules; `onboard lib list|new|check`.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::config::ConfigError;
use crate::script::modules::{self, SearchDir};

pub const MANIFEST: &str = "onboard-lib.toml";

/// Why a library cannot be read or used.
#[derive(Debug, Clone, thiserror::Error)]
pub enum LibraryError {
    #[error("cannot read {0}: {1}")]
    Read(String, String),
    /// The manifest is not valid: where, and what.
    #[error("{0}")]
    Manifest(String),
    /// Too old an onboard, or a dependency not found.
    #[error("{0}")]
    Unusable(String),
    #[error(transparent)]
    Config(#[from] ConfigError),
}

impl From<LibraryError> for crate::util::error::Error {
    fn from(e: LibraryError) -> Self {
        crate::util::error::Error::input(e.to_string())
    }
}

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
    pub fn beside(dir: &Path) -> Result<Option<Manifest>, LibraryError> {
        let path = dir.join(MANIFEST);
        if !path.is_file() {
            return Ok(None);
        }
        Manifest::read(&path).map(Some)
    }

    pub fn read(path: &Path) -> Result<Manifest, LibraryError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| LibraryError::Read(path.display().to_string(), e.to_string()))?;
        let mut m: Manifest = toml::from_str(&text).map_err(|e| {
            let at = e
                .span()
                .map(|s| format!(":{}", text[..s.start].matches('\n').count() + 1))
                .unwrap_or_default();
            LibraryError::Manifest(format!("{}{at}: {}", path.display(), e.message()))
        })?;
        version_parts(&m.version)
            .map_err(|e| LibraryError::Manifest(format!("{}: `version`: {e}", path.display())))?;
        m.dir = path.parent().map_or_else(PathBuf::new, Path::to_path_buf);
        Ok(m)
    }

    fn place(&self) -> String {
        self.dir.join(MANIFEST).display().to_string()
    }

    /// Whether this onboard can use the library: new enough, every dependency found.
    pub fn usable(&self, dirs: &[SearchDir]) -> Result<(), LibraryError> {
        if let Some(needed) = &self.onboard {
            let need = version_parts(needed)
                .map_err(|e| LibraryError::Manifest(format!("{}: `onboard`: {e}", self.place())))?;
            let have = version_parts(env!("CARGO_PKG_VERSION")).unwrap_or_default();
            if have < need {
                return Err(LibraryError::Unusable(format!(
                    "library `{}` needs onboard {needed} or newer; this is onboard {} ({})",
                    self.name,
                    env!("CARGO_PKG_VERSION"),
                    self.place()
                )));
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
                return Err(LibraryError::Unusable(format!(
                    "library `{}` needs library `{dep}`, which was not found (looked in: {}); add its folder to [modules] paths or ONBOARD_PATH",
                    self.name,
                    looked.join(", ")
                )));
            }
        }
        Ok(())
    }

    /// The library's modules: its top-level `.rhai` files, as import paths.
    pub fn modules(&self) -> Vec<(String, PathBuf)> {
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
pub fn search_dirs(config_path: Option<&Path>) -> Result<Vec<SearchDir>, LibraryError> {
    let (paths, file) = match crate::config::locate(config_path)? {
        Some(file) => {
            let config = crate::config::Config::load(&file)?;
            (config.module_paths, Some(file))
        }
        None => (Vec::new(), None),
    };
    Ok(modules::search_dirs(&paths, file.as_deref()))
}
