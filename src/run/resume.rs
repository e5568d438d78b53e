//! Which rows a bulk run takes: those of `--rows`, the rest of a `--resume` report (or the
//! rows named in a failed-rows file), or all.

use std::path::Path;

use crate::run::Options;
use crate::run::report::read_for_resume;
use crate::run::rows::{Rows, Selection};
use crate::util::error::Error;

/// The rows to run: `--rows`, the rest of a `--resume` report, or all; and the report lines of
/// rows an earlier report has as done, for the new report to carry.
pub fn select(args: &Options, rows: &Rows, each: &Path) -> Result<(Selection, Vec<String>), Error> {
    if let Some(spec) = &args.rows {
        let selection = Selection::parse(spec)?;
        if let Some(row) = selection.past_end(rows.total) {
            return Err(Error::input(format!(
                "--rows {spec}: {} has {} rows, so there is no row {row}",
                each.display(),
                rows.total
            )));
        }
        return Ok((selection, Vec::new()));
    }
    let Some(report) = &args.resume else {
        return Ok((Selection::all(), Vec::new()));
    };
    if crate::run::failed::is_failed_rows(report) {
        let chosen = crate::run::failed::rows_named_in(report, rows).map_err(Error::input)?;
        return Ok((Selection::only(chosen), Vec::new()));
    }
    let done = read_for_resume(report)?;
    let header = &done.header;
    let same_file = Path::new(&header.file).file_name() == each.file_name();
    if !same_file || header.rows != rows.total {
        return Err(Error::input(format!(
            "--resume: {} is the report of {} ({} rows), not of {} ({} rows)",
            report.display(),
            header.file,
            header.rows,
            each.display(),
            rows.total
        )));
    }
    let rest = (1..=rows.total)
        .filter(|n| !done.rows.contains(n))
        .collect();
    Ok((Selection::only(rest), done.lines))
}
