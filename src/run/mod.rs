//! Running a script: once, or once per row of `--each` with its rows, checks, progress and report.

pub mod each;
pub mod failed;
pub mod fibers;
pub mod once;
pub mod progress;
pub mod report;
pub mod resume;
pub mod row_check;
pub mod rows;
pub mod summary;

use std::path::PathBuf;

/// What `onboard run` was asked to do, whatever parsed it.
#[derive(Clone, Debug, Default)]
pub struct Options {
    pub script: PathBuf,
    pub profile: Option<String>,
    pub sim: bool,
    /// `--var KEY=VALUE`, as given.
    pub vars: Vec<String>,
    pub json: bool,
    pub quiet: bool,
    pub dry_run: bool,
    pub offline: bool,
    pub rollback_on_error: bool,
    pub max_operations: Option<u64>,
    pub each: Option<PathBuf>,
    pub jobs: Option<usize>,
    pub report: Option<PathBuf>,
    pub fail_fast: bool,
    pub rows: Option<String>,
    pub resume: Option<PathBuf>,
}
