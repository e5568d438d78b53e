//! The rows of a bulk run that failed or were never reached, as a file like its input with
//! `error_kind` and `error_message` added: to fix and pass to `--each`, or to `--resume`.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::run::report::RowReport;
use crate::run::rows::{Format, Rows, Selection, csv_reader, key};

/// The columns a failed-rows file adds to the input's.
pub const ADDED: &[&str] = &["error_kind", "error_message"];

/// `REPORT.failed.csv` (or `.jsonl`, as the input is).
pub fn failed_path(report: &Path, format: Format) -> PathBuf {
    let mut name = report.file_name().unwrap_or_default().to_os_string();
    name.push(match format {
        Format::Csv => ".failed.csv",
        Format::Jsonl => ".failed.jsonl",
    });
    report.with_file_name(name)
}

/// Remove the failed-rows file beside `report`: a run with none left.
pub fn remove_failed(report: &Path, format: Format) {
    let _ = std::fs::remove_file(failed_path(report, format));
}

/// Write the rows of `selection` that the finished `report` does not have as done; how many.
/// With none, a failed-rows file an earlier run left at the same place is removed.
pub fn write_failed(
    report: &Path,
    rows: &Rows,
    selection: &Selection,
) -> Result<(PathBuf, u64), String> {
    let path = failed_path(report, rows.format);
    let (done, errors) = read_report(report)?;
    let wanted = |n: u64| selection.contains(n) && !done.contains(&n);
    let why = |n: u64| {
        errors.get(&n).cloned().unwrap_or_else(|| {
            (
                "unreached".to_string(),
                "not run: the run stopped before this row".to_string(),
            )
        })
    };
    let cannot = |e: &dyn std::fmt::Display| format!("cannot write {}: {e}", path.display());
    let mut out: Vec<u8> = Vec::new();
    let mut count = 0;
    match rows.format {
        Format::Csv => {
            let mut reader = csv_reader(rows.path()).map_err(|e| e.to_string())?;
            let mut writer = csv::Writer::from_writer(&mut out);
            let mut header: Vec<String> = rows.headers.clone();
            header.extend(ADDED.iter().map(|s| s.to_string()));
            writer.write_record(&header).map_err(|e| cannot(&e))?;
            for (i, record) in reader.byte_records().enumerate() {
                let n = i as u64 + 1;
                let Ok(record) = record else { continue };
                if !wanted(n) {
                    continue;
                }
                let (kind, message) = why(n);
                let mut fields: Vec<Vec<u8>> = (0..rows.headers.len())
                    .map(|c| record.get(c).unwrap_or_default().to_vec())
                    .collect();
                fields.push(kind.into_bytes());
                fields.push(message.into_bytes());
                writer.write_record(&fields).map_err(|e| cannot(&e))?;
                count += 1;
            }
            writer.flush().map_err(|e| cannot(&e))?;
        }
        Format::Jsonl => {
            for row in rows.iter().map_err(|e| e.to_string())? {
                if !wanted(row.number) {
                    continue;
                }
                let (kind, message) = why(row.number);
                let mut object = row.values.unwrap_or_default();
                object.insert("error_kind".into(), kind.into());
                object.insert("error_message".into(), message.into());
                out.extend(serde_json::Value::Object(object).to_string().into_bytes());
                out.push(b'\n');
                count += 1;
            }
        }
    }
    if count == 0 {
        let _ = std::fs::remove_file(&path);
        return Ok((path, 0));
    }
    let mut file = std::fs::File::create(&path).map_err(|e| cannot(&e))?;
    // Secrets a row's error may quote never reach the file.
    let text = crate::util::secret::scrubbed(String::from_utf8_lossy(&out).into_owned());
    file.write_all(text.as_bytes()).map_err(|e| cannot(&e))?;
    Ok((path, count))
}

/// Why a row failed: its error kind and message, by row number.
type Why = BTreeMap<u64, (String, String)>;

/// The rows a report has as done, and why each failed row failed.
fn read_report(report: &Path) -> Result<(BTreeSet<u64>, Why), String> {
    let text = std::fs::read_to_string(report)
        .map_err(|e| format!("cannot read {}: {e}", report.display()))?;
    let mut done = BTreeSet::new();
    let mut errors = BTreeMap::new();
    for line in text.lines().skip(1) {
        let Ok(r) = serde_json::from_str::<RowReport>(line) else {
            continue;
        };
        if r.ok {
            done.insert(r.row);
        } else {
            let (kind, message) = match &r.error {
                Some(e) => (
                    e.kind.clone().unwrap_or_else(|| "script".into()),
                    e.message.clone(),
                ),
                None => ("script".into(), "the row failed".into()),
            };
            errors.insert(r.row, (kind, message));
        }
    }
    Ok((done, errors))
}

/// Whether `path` is a failed-rows file (its columns end with the added ones), not a report.
pub fn is_failed_rows(path: &Path) -> bool {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    name.ends_with(".failed.csv") || name.ends_with(".failed.jsonl")
}

/// For `--resume FAILED`: the rows of `input` whose key (as reports name rows) is one of the
/// failed file's.
pub fn rows_named_in(failed: &Path, input: &Rows) -> Result<BTreeSet<u64>, String> {
    let listed = Rows::open(failed).map_err(|e| format!("--resume: {e}"))?;
    let mut keys = BTreeSet::new();
    for row in listed.iter().map_err(|e| e.to_string())? {
        if let Ok(values) = &row.values {
            keys.insert(serde_json::Value::Object(key(values, &input.headers)).to_string());
        }
    }
    let mut chosen = BTreeSet::new();
    for row in input.iter().map_err(|e| e.to_string())? {
        if let Ok(values) = &row.values
            && keys.contains(&serde_json::Value::Object(key(values, &input.headers)).to_string())
        {
            chosen.insert(row.number);
        }
    }
    Ok(chosen)
}
