//! The report of `--each`: one JSON line per row as it finishes, the summary at the end, and
//! reading a report back for `--resume`.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Why a report cannot be written or read back.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ReportError {
    /// Writing it failed: the rows it lacks ran all the same.
    #[error("{0}")]
    Write(String),
    /// It would overwrite something the run reads.
    #[error("{0}")]
    Refused(String),
    /// The `--resume` report cannot be used.
    #[error("--resume: {0}")]
    Resume(String),
}

impl From<ReportError> for crate::util::error::Error {
    fn from(e: ReportError) -> Self {
        crate::util::error::Error::input(e.to_string())
    }
}

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::journal::{Event, Outcome};
use crate::runtime::undo::Step;

/// The report's first line.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Header {
    /// Always `onboard --each`, so a report is recognised.
    pub report: String,
    pub run: String,
    pub script: String,
    pub file: String,
    /// Data rows in the file.
    pub rows: u64,
}

/// What a row's vendor call came to.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AccountResult {
    pub vendor: String,
    pub operation: String,
    pub username: String,
    pub outcome: Outcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl From<&Event> for AccountResult {
    fn from(e: &Event) -> Self {
        AccountResult {
            vendor: e.vendor.to_string(),
            operation: e.operation.to_string(),
            username: e.username.clone(),
            outcome: e.outcome,
            id: e.id,
            error_kind: e.error_kind.map(str::to_string),
            message: e.message.clone().or_else(|| e.note.clone()),
        }
    }
}

/// Why a row failed.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RowError {
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// The vendor error kind, when a vendor call failed the row.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// True when the row was refused before anything was sent (a bad row).
    #[serde(default)]
    pub nothing_sent: bool,
}

/// One line of the report.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RowReport {
    pub row: u64,
    pub line: u64,
    pub key: serde_json::Map<String, serde_json::Value>,
    pub ok: bool,
    pub duration_ms: u64,
    pub accounts: Vec<AccountResult>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<RowError>,
    #[serde(default, skip_serializing_if = "Vec::is_empty", skip_deserializing)]
    pub rollback: Vec<Step>,
}

/// Writes report lines as rows finish, each whole, to `REPORT.partial`; renamed to `REPORT`
/// when the run ends, so that a run cut short never leaves half a report over a good one.
/// The threads of a bulk run write their rows' lines themselves, through a `ReportSink`.
pub struct ReportWriter {
    path: Option<PathBuf>,
    partial: Option<PathBuf>,
    file: Option<Arc<File>>,
}

/// Where a thread writes its rows' lines: many lines in one write, each whole.
#[derive(Clone)]
pub struct ReportSink(Arc<File>);

impl ReportSink {
    pub fn write(&self, lines: &[u8]) -> Result<(), ReportError> {
        (&*self.0)
            .write_all(lines)
            .map_err(|e| ReportError::Write(format!("cannot write the report: {e}")))
    }
}

/// A row's line of the report, secrets scrubbed, with its line end.
pub fn line(row: &RowReport) -> Result<String, ReportError> {
    let json = serde_json::to_string(row).map_err(|e| ReportError::Write(e.to_string()))?;
    let mut line = crate::util::secret::scrubbed(json);
    line.push('\n');
    Ok(line)
}

impl ReportWriter {
    /// A report, starting with the rows an earlier report (`--resume`) already has as done,
    /// so that a chain of resumes keeps every finished row.
    pub fn create(
        path: Option<&Path>,
        header: &Header,
        carried: &[String],
    ) -> Result<ReportWriter, ReportError> {
        let Some(path) = path else {
            return Ok(ReportWriter {
                path: None,
                partial: None,
                file: None,
            });
        };
        let partial = partial_path(path);
        let cannot = |e: std::io::Error| {
            ReportError::Write(format!(
                "cannot write the report {}: {e}",
                partial.display()
            ))
        };
        let mut file = File::create(&partial).map_err(cannot)?;
        let mut text =
            serde_json::to_string(header).map_err(|e| ReportError::Write(e.to_string()))?;
        text.push('\n');
        for line in carried {
            text.push_str(line);
            text.push('\n');
        }
        file.write_all(text.as_bytes()).map_err(cannot)?;
        Ok(ReportWriter {
            path: Some(path.to_path_buf()),
            partial: Some(partial),
            file: Some(Arc::new(file)),
        })
    }

    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Put the finished report in its place.
    pub fn finish(&mut self) -> Result<(), ReportError> {
        self.file = None;
        match (&self.partial, &self.path) {
            (Some(partial), Some(path)) => std::fs::rename(partial, path).map_err(|e| {
                ReportError::Write(format!(
                    "cannot move the report {} to {}: {e}",
                    partial.display(),
                    path.display()
                ))
            }),
            _ => Ok(()),
        }
    }

    /// Where the rows' lines go (`None` without `--report`).
    pub fn sink(&self) -> Option<ReportSink> {
        self.file.clone().map(ReportSink)
    }
}

/// Whether two paths name the same existing file (also through links or another spelling).
fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// A report must not be written over anything the run reads (`inputs`: each with what it is).
pub fn refuse_over_inputs(
    report: &Path,
    inputs: &[(Option<&Path>, &str)],
) -> Result<(), ReportError> {
    for (input, what) in inputs {
        if let Some(input) = input
            && same_file(report, input)
        {
            let hint = if *what == "the --resume report" {
                "; write the new report to another file: it carries every row this one has as done"
            } else {
                ""
            };
            return Err(ReportError::Refused(format!(
                "--report {} is {what}, which the run reads; it would be overwritten{hint}",
                report.display()
            )));
        }
    }
    Ok(())
}

/// Where a report is written until its run ends.
pub fn partial_path(report: &Path) -> PathBuf {
    let mut name = report.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    report.with_file_name(name)
}

/// A report read back for `--resume`: its header, the rows that succeeded, and their lines (which
/// the next report carries over).
pub struct Done {
    pub header: Header,
    pub rows: BTreeSet<u64>,
    pub lines: Vec<String>,
}

/// From a report: its header, and the rows that succeeded (so `--resume` runs the rest).
pub fn read_for_resume(path: &Path) -> Result<Done, ReportError> {
    let file = File::open(path)
        .map_err(|e| ReportError::Resume(format!("cannot read {}: {e}", path.display())))?;
    let mut lines = BufReader::new(file).lines();
    let first = lines
        .next()
        .and_then(Result::ok)
        .ok_or_else(|| ReportError::Resume(format!("{} is empty", path.display())))?;
    let header: Header = serde_json::from_str(&first)
        .ok()
        .filter(|h: &Header| h.report == "onboard --each")
        .ok_or_else(|| {
            ReportError::Resume(format!(
                "{} is not a report of onboard --each",
                path.display()
            ))
        })?;
    let mut done = Done {
        header,
        rows: BTreeSet::new(),
        lines: Vec::new(),
    };
    for line in lines.map_while(Result::ok) {
        // A last line cut short by a crash is skipped: that row runs again.
        if let Ok(r) = serde_json::from_str::<RowReport>(&line)
            && r.ok
            && done.rows.insert(r.row)
        {
            done.lines.push(line);
        }
    }
    Ok(done)
}

/// Counts for the summary, gathered as rows finish.
#[derive(Default)]
pub struct Summary {
    pub rows: u64,
    pub ok: u64,
    pub failed: u64,
    /// vendor -> (created, existed, deleted, failed)
    pub vendors: BTreeMap<String, [u64; 4]>,
    /// The first failures, for the summary (the report has them all).
    pub failures: Vec<String>,
}

const SHOWN_FAILURES: usize = 20;

impl Summary {
    pub fn add(&mut self, r: &RowReport) {
        self.rows += 1;
        if r.ok {
            self.ok += 1;
        } else {
            self.failed += 1;
            if self.failures.len() < SHOWN_FAILURES {
                let why = r
                    .error
                    .as_ref()
                    .map_or("failed".to_string(), |e| e.message.clone());
                self.failures.push(crate::util::secret::scrubbed(format!(
                    "row {} (line {}): {why}",
                    r.row, r.line
                )));
            }
        }
        for a in &r.accounts {
            let counts = self.vendors.entry(a.vendor.clone()).or_default();
            match a.outcome {
                Outcome::Created => counts[0] += 1,
                Outcome::Existed => counts[1] += 1,
                Outcome::Deleted => counts[2] += 1,
                Outcome::Failed | Outcome::Unknown => counts[3] += 1,
                Outcome::Planned
                | Outcome::Granted
                | Outcome::Revoked
                | Outcome::Unchanged
                | Outcome::Updated => {}
            }
        }
    }

    pub fn text(&self, took: Duration, report: Option<&Path>, interrupted: bool) -> String {
        let secs = took.as_secs_f64().max(0.001);
        let mut out = format!(
            "\nonboard: {} rows in {:.1} s ({:.1} rows/s): {} ok, {} failed{}\n",
            self.rows,
            secs,
            self.rows as f64 / secs,
            self.ok,
            self.failed,
            if interrupted {
                " (interrupted: the rest did not run)"
            } else {
                ""
            }
        );
        if !self.vendors.is_empty() {
            out.push_str(&format!(
                "  {:<12} {:>8} {:>8} {:>8} {:>8}\n",
                "vendor", "created", "existed", "deleted", "failed"
            ));
            for (v, c) in &self.vendors {
                out.push_str(&format!(
                    "  {v:<12} {:>8} {:>8} {:>8} {:>8}\n",
                    c[0], c[1], c[2], c[3]
                ));
            }
        }
        if !self.failures.is_empty() {
            out.push_str("failed rows:\n");
            for f in &self.failures {
                out.push_str(&format!("  {f}\n"));
            }
            if self.failed as usize > self.failures.len() {
                out.push_str(&format!(
                    "  … and {} more\n",
                    self.failed as usize - self.failures.len()
                ));
            }
        }
        if let Some(p) = report {
            out.push_str(&format!("report: {}", p.display()));
            if self.failed > 0 || interrupted {
                out.push_str(&format!(
                    "  (run the rest again with --resume {})",
                    p.display()
                ));
            }
            out.push('\n');
        }
        out
    }

    pub fn json(&self, took: Duration, report: Option<&Path>, run: &str) -> serde_json::Value {
        let vendors: BTreeMap<&String, serde_json::Value> = self
            .vendors
            .iter()
            .map(|(v, c)| {
                (
                    v,
                    json!({ "created": c[0], "existed": c[1], "deleted": c[2], "failed": c[3] }),
                )
            })
            .collect();
        json!({
            "run": run,
            "rows": self.rows,
            "ok": self.ok,
            "failed": self.failed,
            "duration_ms": took.as_millis() as u64,
            "rows_per_second": self.rows as f64 / took.as_secs_f64().max(0.001),
            "vendors": vendors,
            "failures": self.failures,
            "report": report.map(|p| p.display().to_string()),
        })
    }
}
