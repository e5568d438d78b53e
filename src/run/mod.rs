//! Running a script: once, or once per row of `--each` with its rows, checks, progress and report.

pub mod each;
pub mod once;
pub mod progress;
pub mod report;
pub mod row_check;
pub mod rows;
