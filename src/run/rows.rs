//! The rows of `--each`: CSV with a header row, or JSON lines; read one at a time, each with its
//! line number, and chosen with `--rows`.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

/// Why the rows of `--each` cannot be read.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RowsError {
    #[error("cannot read {0}: {1}")]
    Read(String, String),
    /// The file is not rows onboard can run (no header, unclosed quote, no rows, a bad `--rows`).
    #[error("{0}")]
    Bad(String),
}

impl RowsError {
    fn read(path: &Path, e: impl std::fmt::Display) -> RowsError {
        RowsError::Read(path.display().to_string(), e.to_string())
    }
}

impl From<RowsError> for crate::util::error::Error {
    fn from(e: RowsError) -> Self {
        crate::util::error::Error::input(e.to_string())
    }
}

use serde_json::Value as Json;

use crate::vendors::values;

/// A row's values as read: CSV cells as strings, a JSON line as its object. Plain data, so that
/// the reader can hand rows to any thread; each thread makes the script's `row` of its own.
pub type Values = serde_json::Map<String, Json>;

/// One row: its number among the data rows (from 1), where it starts in the file, and its
/// values, or why it cannot be read.
pub struct Row {
    pub number: u64,
    pub line: u64,
    pub values: Result<Values, String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Csv,
    Jsonl,
}

/// A file of rows, opened and counted.
pub struct Rows {
    path: PathBuf,
    pub format: Format,
    /// The CSV header (empty for JSON lines, whose keys vary by line).
    pub headers: Vec<String>,
    pub total: u64,
}

impl Rows {
    pub fn open(path: &Path) -> Result<Rows, RowsError> {
        let format = detect(path)?;
        let mut rows = Rows {
            path: path.to_path_buf(),
            format,
            headers: Vec::new(),
            total: 0,
        };
        match format {
            Format::Csv => {
                crate::script::helpers::csv_quotes_closed(path).map_err(RowsError::Bad)?;
                let mut reader = csv_reader(path)?;
                rows.headers = crate::script::helpers::csv_headers(&mut reader)
                    .map_err(|e| RowsError::Bad(format!("{}: {e}", path.display())))?;
                let mut record = csv::ByteRecord::new();
                while reader.read_byte_record(&mut record).unwrap_or(false) {
                    rows.total += 1;
                }
            }
            Format::Jsonl => {
                let file = File::open(path).map_err(|e| RowsError::read(path, e))?;
                rows.total = BufReader::new(file)
                    .split(b'\n')
                    .filter(|l| {
                        l.as_ref()
                            .is_ok_and(|l| !l.iter().all(u8::is_ascii_whitespace))
                    })
                    .count() as u64;
            }
        }
        if rows.total == 0 {
            return Err(RowsError::Bad(format!("{} has no rows", path.display())));
        }
        Ok(rows)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The rows, one at a time.
    pub fn iter(&self) -> Result<Box<dyn Iterator<Item = Row> + Send>, RowsError> {
        match self.format {
            Format::Csv => {
                let reader = csv_reader(&self.path)?;
                let headers = self.headers.clone();
                let mut records = reader.into_byte_records();
                let mut lines = LineCounter::open(&self.path)?;
                let mut number = 0;
                Ok(Box::new(std::iter::from_fn(move || {
                    let record = records.next()?;
                    number += 1;
                    let mut row = csv_row(number, &headers, record.as_ref());
                    let at = match &record {
                        Ok(r) => r.position().map(|p| p.byte()),
                        Err(e) => e.position().map(|p| p.byte()),
                    };
                    if let Some(byte) = at {
                        row.line = lines.line_at(byte);
                    }
                    Some(row)
                })))
            }
            Format::Jsonl => {
                let file = File::open(&self.path).map_err(|e| RowsError::read(&self.path, e))?;
                let mut lines = BufReader::new(file).split(b'\n');
                let mut line = 0;
                let mut number = 0;
                Ok(Box::new(std::iter::from_fn(move || {
                    loop {
                        let bytes = lines.next()?;
                        line += 1;
                        let bytes = match bytes {
                            Ok(b) => b,
                            Err(e) => {
                                number += 1;
                                return Some(Row {
                                    number,
                                    line,
                                    values: Err(e.to_string()),
                                });
                            }
                        };
                        if bytes.iter().all(u8::is_ascii_whitespace) {
                            continue;
                        }
                        number += 1;
                        return Some(Row {
                            number,
                            line,
                            values: json_row(&bytes),
                        });
                    }
                })))
            }
        }
    }
}

fn detect(path: &Path) -> Result<Format, RowsError> {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "csv" => return Ok(Format::Csv),
        "jsonl" | "ndjson" => return Ok(Format::Jsonl),
        _ => {}
    }
    // Otherwise by content: JSON lines start with an object.
    let file = File::open(path).map_err(|e| RowsError::read(path, e))?;
    let mut first = Vec::new();
    BufReader::new(file)
        .read_until(b'\n', &mut first)
        .map_err(|e| RowsError::read(path, e))?;
    let starts_object = first
        .iter()
        .find(|b| !b.is_ascii_whitespace() && **b != 0xef && **b != 0xbb && **b != 0xbf)
        == Some(&b'{');
    Ok(if starts_object {
        Format::Jsonl
    } else {
        Format::Csv
    })
}

pub(crate) fn csv_reader(path: &Path) -> Result<csv::Reader<File>, RowsError> {
    csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_path(path)
        .map_err(|e| RowsError::read(path, e))
}

/// Line numbers from byte offsets, counted as the file goes by. (The csv crate's own line count
/// is one short on files with CRLF line ends.)
struct LineCounter {
    reader: BufReader<File>,
    byte: u64,
    line: u64,
}

impl LineCounter {
    fn open(path: &Path) -> Result<Self, RowsError> {
        let file = File::open(path).map_err(|e| RowsError::read(path, e))?;
        Ok(LineCounter {
            reader: BufReader::new(file),
            byte: 0,
            line: 1,
        })
    }

    /// The line that the byte at `offset` is on; offsets must not go backwards.
    fn line_at(&mut self, offset: u64) -> u64 {
        while self.byte < offset {
            let Ok(buf) = self.reader.fill_buf() else {
                break;
            };
            if buf.is_empty() {
                break;
            }
            let take = buf.len().min((offset - self.byte) as usize);
            self.line += buf[..take].iter().filter(|b| **b == b'\n').count() as u64;
            self.byte += take as u64;
            self.reader.consume(take);
        }
        // After a CRLF, csv reports the record as starting at the LF.
        if self.byte == offset
            && let Ok(buf) = self.reader.fill_buf()
            && buf.first() == Some(&b'\n')
        {
            self.line += 1;
            self.byte += 1;
            self.reader.consume(1);
        }
        self.line
    }
}

fn csv_row(number: u64, headers: &[String], record: Result<&csv::ByteRecord, &csv::Error>) -> Row {
    let line = 0;
    let record = match record {
        Ok(r) => r,
        Err(e) => {
            return Row {
                number,
                line,
                values: Err(e.to_string()),
            };
        }
    };
    let values = if record.len() != headers.len() {
        Err(format!(
            "it has {} fields but the header has {}",
            record.len(),
            headers.len()
        ))
    } else {
        headers
            .iter()
            .zip(record.iter())
            .map(|(h, v)| match std::str::from_utf8(v) {
                Ok(v) => Ok((h.clone(), Json::String(v.to_string()))),
                Err(_) => Err(format!("the value of `{h}` is not UTF-8 text")),
            })
            .collect()
    };
    Row {
        number,
        line,
        values,
    }
}

fn json_row(bytes: &[u8]) -> Result<Values, String> {
    let json: Json =
        serde_json::from_slice(bytes).map_err(|e| format!("it is not valid JSON: {e}"))?;
    match json {
        Json::Object(m) => Ok(m),
        _ => Err("it is not a JSON object".into()),
    }
}

/// The script's `row`: the values as Rhai sees them.
pub fn script_row(values: &Values) -> rhai::Map {
    values
        .iter()
        .map(|(k, v)| (k.as_str().into(), values::from_json(v)))
        .collect()
}

/// The columns that name a row in reports, most telling first.
const KEY_COLUMNS: &[&str] = &["username", "user_name", "login", "email", "name", "id"];

/// The values that identify a row in the report: the first telling column it has, else its
/// first column.
pub fn key(values: &Values, headers: &[String]) -> serde_json::Map<String, serde_json::Value> {
    let name = KEY_COLUMNS
        .iter()
        .find(|k| values.contains_key(**k))
        .map(|k| k.to_string())
        .or_else(|| headers.first().cloned())
        .or_else(|| values.keys().next().map(|k| k.to_string()));
    let mut out = serde_json::Map::new();
    if let Some(n) = name
        && let Some(v) = values.get(n.as_str())
    {
        out.insert(n, v.clone());
    }
    out
}

/// Which rows to run: `--rows 10-20,25,40-` (numbers of data rows, from 1).
#[derive(Clone, Debug, Default)]
pub struct Selection {
    ranges: Vec<(u64, u64)>,
    /// Rows named one by one (`--resume`).
    only: Option<BTreeSet<u64>>,
}

impl Selection {
    pub fn all() -> Self {
        Selection::default()
    }

    pub fn parse(spec: &str) -> Result<Self, RowsError> {
        let mut ranges = Vec::new();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let bad = || {
                RowsError::Bad(format!(
                    "--rows {spec}: `{part}` is not a row number or a range like 10-20"
                ))
            };
            let (a, b) = match part.split_once('-') {
                Some((a, b)) => (a.trim(), b.trim()),
                None => (part, part),
            };
            let from = if a.is_empty() {
                1
            } else {
                a.parse().map_err(|_| bad())?
            };
            let to = if b.is_empty() {
                u64::MAX
            } else {
                b.parse().map_err(|_| bad())?
            };
            if from == 0 || to < from {
                return Err(bad());
            }
            ranges.push((from, to));
        }
        if ranges.is_empty() {
            return Err(RowsError::Bad(format!("--rows {spec}: no rows given")));
        }
        Ok(Selection { ranges, only: None })
    }

    pub fn only(rows: BTreeSet<u64>) -> Self {
        Selection {
            ranges: Vec::new(),
            only: Some(rows),
        }
    }

    pub fn contains(&self, n: u64) -> bool {
        if let Some(only) = &self.only {
            return only.contains(&n);
        }
        self.ranges.is_empty() || self.ranges.iter().any(|(a, b)| (*a..=*b).contains(&n))
    }

    /// The first row named that the file does not have (`--rows 99` of a 3-row file).
    pub fn past_end(&self, total: u64) -> Option<u64> {
        self.ranges
            .iter()
            .map(|(from, _)| *from)
            .find(|from| *from > total)
    }

    /// How many of `total` rows are chosen.
    pub fn count(&self, total: u64) -> u64 {
        if let Some(only) = &self.only {
            return only.iter().filter(|n| **n <= total).count() as u64;
        }
        if self.ranges.is_empty() {
            return total;
        }
        (1..=total).filter(|n| self.contains(*n)).count() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines_of(text: &str) -> Vec<(u64, u64)> {
        let dir = std::env::temp_dir().join(format!(
            "onboard-rows-{}",
            crate::util::secret::random_hex(4)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("p.csv");
        std::fs::write(&path, text).unwrap();
        let rows = Rows::open(&path).unwrap();
        let out = rows.iter().unwrap().map(|r| (r.number, r.line)).collect();
        let _ = std::fs::remove_dir_all(&dir);
        out
    }

    #[test]
    fn line_numbers_with_either_line_end_and_quoted_breaks() {
        let lf = "name,email\na,a@x.io\n\"b\nc\",b@x.io\nd,d@x.io\n";
        assert_eq!(lines_of(lf), [(1, 2), (2, 3), (3, 5)]);
        assert_eq!(
            lines_of(&lf.replace('\n', "\r\n")),
            [(1, 2), (2, 3), (3, 5)]
        );
    }

    #[test]
    fn selections() {
        let s = Selection::parse("2-4, 9, 20-").unwrap();
        assert!(!s.contains(1) && s.contains(2) && s.contains(4) && !s.contains(5));
        assert!(s.contains(9) && s.contains(20) && s.contains(1000));
        assert_eq!(s.count(10), 4);
        assert!(Selection::parse("5-2").is_err());
        assert!(Selection::parse("x").is_err());
        assert!(Selection::parse("0").is_err());
    }
}
