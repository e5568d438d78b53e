//! The journal's index, `journal.jsonl.idx` beside it: its history as of some length, so that
//! reading a journal of a year of runs costs the records written since, not all of them.
//!
//! The index is a cache: the journal stays the only record, and an index that does not match it
//! (another file, a journal cut or rewritten) is thrown away and built again.

use crate::journal::JournalError;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::history::{Account, History, RunSummary};
use super::read::Lines;

// v2: runs carry their access changes; an older index is rebuilt.
const MAGIC: &str = "onboard-journal-index v2 ";
/// The first line: the magic and where the summary line starts, as 20 digits.
const FIRST_LINE: usize = MAGIC.len() + 20 + 1;
/// How much of the journal it takes to read before the index is worth writing.
const WORTH_INDEXING: u64 = 1 << 20;
/// How much new runs add to the journal before the index takes them in.
const APPEND_AT: u64 = 64 << 10;
/// Bytes of the journal compared with the index's copy: its start, and its end as indexed.
const PROBE: u64 = 64;
const CHUNK: usize = 8 << 20;

/// The journal read back, and how.
pub struct Loaded {
    pub history: History,
    /// Whether the index served it (or had to be built, or was not worth building).
    #[cfg_attr(
        not(test),
        expect(
            dead_code,
            reason = "its tests read it to see that the index served a read"
        )
    )]
    pub from_index: bool,
}

/// The index file of a journal.
pub fn index_path(journal: &Path) -> PathBuf {
    let mut name = journal.file_name().unwrap_or_default().to_os_string();
    name.push(".idx");
    journal.with_file_name(name)
}

/// A run as the index's summary line lists it: everything but its accounts, which are on a line
/// of their own at `body`.
#[derive(Serialize, Deserialize)]
struct Head {
    #[serde(flatten)]
    run: RunSummary,
    body: u64,
}

#[derive(Deserialize)]
struct Body {
    accounts: Vec<Account>,
    found: Vec<Account>,
}

/// `Body`, as written: borrowed from the history.
#[derive(Serialize)]
struct BodyOf<'a> {
    accounts: &'a [Account],
    found: &'a [Account],
}

#[derive(Serialize, Deserialize)]
struct Summary {
    journal_len: u64,
    head: String,
    tail: String,
    torn: usize,
    runs: Vec<Head>,
}

/// The index, and what the journal gained since when that touches no run the index has: new runs
/// only (the usual case: `onboard run` ended, then `onboard journal`). Then no older run's
/// accounts need reading.
struct Fast {
    summary: Summary,
    index: File,
    /// Where the summary line starts in the index: what comes before it is kept as it is.
    summary_at: u64,
    tail: History,
    end: u64,
}

fn fast(path: &Path) -> Result<Option<Fast>, JournalError> {
    let cannot = |e: std::io::Error| JournalError::read(path, e);
    let mut journal = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(cannot(e)),
    };
    let Some((summary, index, summary_at)) = valid_summary(path, &mut journal) else {
        return Ok(None);
    };
    let mut tail = History::default();
    let end = fold(&mut journal, summary.journal_len, &mut tail).map_err(cannot)?;
    if tail.foreign > 0 {
        return Ok(None);
    }
    tail.compact();
    let fast = Fast {
        summary,
        index,
        summary_at,
        tail,
        end,
    };
    if fast.end - fast.summary.journal_len >= APPEND_AT {
        // A cache: when it cannot be written, the next read does this again.
        let _ = append_index(path, &fast);
    }
    Ok(Some(fast))
}

/// The runs of a journal without their accounts (counts only), for listing them.
pub fn runs(path: &Path) -> Result<(Vec<RunSummary>, usize), JournalError> {
    if let Some(f) = fast(path)? {
        let torn = f.summary.torn + f.tail.torn;
        let mut runs: Vec<RunSummary> = f.summary.runs.into_iter().map(|h| h.run).collect();
        runs.extend(f.tail.runs.into_iter().map(without_accounts));
        return Ok((runs, torn));
    }
    let loaded = load(path)?;
    let torn = loaded.history.torn;
    Ok((
        loaded
            .history
            .runs
            .into_iter()
            .map(without_accounts)
            .collect(),
        torn,
    ))
}

fn without_accounts(run: RunSummary) -> RunSummary {
    run.head()
}

/// One run with its accounts: from the index when it can, reading just that run.
pub fn run(path: &Path, wanted: &str) -> Result<(RunSummary, usize), JournalError> {
    if let Some(mut f) = fast(path)? {
        let torn = f.summary.torn + f.tail.torn;
        let mut heads: Vec<RunSummary> = f.summary.runs.iter().map(|h| h.run.clone()).collect();
        heads.extend(f.tail.runs.iter().map(RunSummary::head));
        let found = super::find_run(&heads, wanted)?.run.clone();
        if let Some(run) = f.tail.runs.into_iter().find(|r| r.run == found) {
            return Ok((run, torn));
        }
        if let Some(head) = f.summary.runs.into_iter().find(|h| h.run.run == found) {
            let body = read_body(&mut f.index, head.body)?;
            let mut run = head.run;
            run.accounts = body.accounts;
            run.found = body.found;
            return Ok((run, torn));
        }
    }
    let loaded = load(path)?;
    let run = super::find_run(&loaded.history.runs, wanted)?.clone();
    Ok((run, loaded.history.torn))
}

/// The whole history: the index, then what the journal gained since. The index is rewritten
/// when it had to catch up, or when building it was a lot of reading.
pub fn load(path: &Path) -> Result<Loaded, JournalError> {
    let mut journal = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Loaded {
                history: History::default(),
                from_index: false,
            });
        }
        Err(e) => return Err(JournalError::read(path, e)),
    };
    let (mut history, from) = match read_index(path, &mut journal) {
        Some((history, len)) => (history, len),
        None => (History::default(), 0),
    };
    let end = fold(&mut journal, from, &mut history).map_err(|e| JournalError::read(path, e))?;
    history.compact();
    if (from > 0 && end > from) || end - from >= WORTH_INDEXING {
        // A cache: when it cannot be written, the next read just does this again.
        let _ = write_index(path, &mut journal, &history, end);
    }
    Ok(Loaded {
        history,
        from_index: from > 0,
    })
}

/// Read the journal from byte `from` to its last complete line into `history`; where that is.
fn fold(journal: &mut File, from: u64, history: &mut History) -> std::io::Result<u64> {
    journal.seek(SeekFrom::Start(from))?;
    let mut buf: Vec<u8> = Vec::with_capacity(CHUNK);
    let mut base = from;
    loop {
        let old = buf.len();
        buf.resize(old + CHUNK, 0);
        let n = read_full(journal, &mut buf[old..])?;
        buf.truncate(old + n);
        let mut lines = Lines::new(&buf, base);
        for (at, record) in lines.by_ref() {
            history.apply(at, &record);
        }
        history.torn += lines.torn;
        let end = lines.end();
        let used = (end - base) as usize;
        buf.drain(..used);
        base = end;
        if n == 0 {
            return Ok(end);
        }
    }
}

fn read_full(file: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// The bytes of the journal at `at`, up to `PROBE` of them, as hex.
fn probe(journal: &mut File, at: u64, len: u64) -> Option<String> {
    journal.seek(SeekFrom::Start(at)).ok()?;
    let mut buf = vec![0u8; len as usize];
    journal.read_exact(&mut buf).ok()?;
    Some(buf.iter().map(|b| format!("{b:02x}")).collect())
}

/// What the index says the journal held, if the journal still starts and ends (as far as the
/// index saw) with the same bytes.
fn valid_summary(path: &Path, journal: &mut File) -> Option<(Summary, File, u64)> {
    let mut index = File::open(index_path(path)).ok()?;
    let mut first = vec![0u8; FIRST_LINE];
    index.read_exact(&mut first).ok()?;
    let first = std::str::from_utf8(&first).ok()?;
    let at: u64 = first.strip_prefix(MAGIC)?.trim_end().parse().ok()?;
    index.seek(SeekFrom::Start(at)).ok()?;
    let mut line = String::new();
    BufReader::new(&mut index).read_line(&mut line).ok()?;
    let summary: Summary = serde_json::from_str(&line).ok()?;
    let size = journal.metadata().ok()?.len();
    let len = summary.journal_len;
    if len == 0 || len > size {
        return None;
    }
    let head = probe(journal, 0, PROBE.min(len))?;
    let tail = probe(journal, len - PROBE.min(len), PROBE.min(len))?;
    (head == summary.head && tail == summary.tail).then_some((summary, index, at))
}

fn read_body(index: &mut File, at: u64) -> Result<Body, JournalError> {
    let broken = JournalError::Index;
    index
        .seek(SeekFrom::Start(at))
        .map_err(|e| broken(e.to_string()))?;
    let mut line = String::new();
    BufReader::new(index)
        .read_line(&mut line)
        .map_err(|e| broken(e.to_string()))?;
    serde_json::from_str(&line).map_err(|e| broken(e.to_string()))
}

/// Every run of a valid index, with its accounts, and the length of journal it covers.
fn read_index(path: &Path, journal: &mut File) -> Option<(History, u64)> {
    let (summary, mut index, _) = valid_summary(path, journal)?;
    let mut runs = Vec::with_capacity(summary.runs.len());
    for head in summary.runs {
        let body = read_body(&mut index, head.body).ok()?;
        let mut run = head.run;
        run.accounts = body.accounts;
        run.found = body.found;
        runs.push(run);
    }
    Some((History::from_runs(runs, summary.torn), summary.journal_len))
}

/// Write the index for the first `len` bytes of the journal, whole or not at all: to a
/// temporary file, then renamed over the old one.
fn write_index(
    path: &Path,
    journal: &mut File,
    history: &History,
    len: u64,
) -> std::io::Result<()> {
    let missing = || std::io::Error::other("cannot read the journal back");
    let head = probe(journal, 0, PROBE.min(len)).ok_or_else(missing)?;
    let tail = probe(journal, len - PROBE.min(len), PROBE.min(len)).ok_or_else(missing)?;
    let summary = Summary {
        journal_len: len,
        head,
        tail,
        torn: history.torn,
        runs: Vec::new(),
    };
    write_with(path, summary, &history.runs, |_| Ok(0))
}

/// Take new runs into the index without reading the older runs' accounts: their lines are
/// copied as they are.
fn append_index(path: &Path, fast: &Fast) -> std::io::Result<()> {
    let mut journal = File::open(path)?;
    let len = fast.end;
    let missing = || std::io::Error::other("cannot read the journal back");
    let tail = probe(&mut journal, len - PROBE.min(len), PROBE.min(len)).ok_or_else(missing)?;
    let old = &fast.summary;
    let summary = Summary {
        journal_len: len,
        head: old.head.clone(),
        tail,
        torn: old.torn + fast.tail.torn,
        runs: old
            .runs
            .iter()
            .map(|h| Head {
                run: h.run.clone(),
                body: h.body,
            })
            .collect(),
    };
    let mut index = fast.index.try_clone()?;
    let kept = fast.summary_at - FIRST_LINE as u64;
    write_with(path, summary, &fast.tail.runs, |out| {
        index.seek(SeekFrom::Start(FIRST_LINE as u64))?;
        std::io::copy(&mut (&mut index).take(kept), out)
    })
}

/// An index: the first line, what `before` writes (older runs' lines, kept), a line per run of
/// `runs`, then the summary of all of them.
fn write_with(
    path: &Path,
    mut summary: Summary,
    runs: &[RunSummary],
    before: impl FnOnce(&mut dyn Write) -> std::io::Result<u64>,
) -> std::io::Result<()> {
    let final_path = index_path(path);
    let tmp = final_path.with_extension(format!("idx.tmp-{}", std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(&tmp)?;
    let mut out = std::io::BufWriter::new(file);
    out.write_all(format!("{MAGIC}{:020}\n", 0).as_bytes())?;
    let mut at = FIRST_LINE as u64 + before(&mut out)?;
    for run in runs {
        let body = BodyOf {
            accounts: &run.accounts,
            found: &run.found,
        };
        let mut line = serde_json::to_vec(&body)?;
        line.push(b'\n');
        out.write_all(&line)?;
        summary.runs.push(Head {
            run: run.head(),
            body: at,
        });
        at += line.len() as u64;
    }
    serde_json::to_writer(&mut out, &summary)?;
    out.write_all(b"\n")?;
    let mut file = out.into_inner().map_err(|e| e.into_error())?;
    file.seek(SeekFrom::Start(0))?;
    file.write_all(format!("{MAGIC}{at:020}\n").as_bytes())?;
    // Not synced: an index a crash left half written fails its checks and is built again.
    drop(file);
    std::fs::rename(&tmp, &final_path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}
#[cfg(test)]
mod tests {
    use super::*;

    fn record(kind: &str, run: &str, seq: u64, extra: &str) -> String {
        let time = "2026-12-01T00:00:00Z";
        match kind {
            "run" => {
                format!(r#"{{"type":"run","run":"{run}","time":"{time}","command":"run","pid":1}}"#)
            }
            "end" => format!(r#"{{"type":"end","run":"{run}","time":"{time}","exit_code":0}}"#),
            _ => format!(
                r#"{{"type":"{kind}","run":"{run}","seq":{seq},"time":"{time}","vendor":"cyberark","operation":"create_user","username":"u{seq}"{extra}}}"#
            ),
        }
    }

    /// A journal of `runs` runs of `per` accounts each, the last account of each run deleted.
    fn journal(runs: usize, per: u64) -> String {
        let mut out = String::new();
        let mut id = 100;
        for r in 0..runs {
            let run = format!("run-{r:04}");
            out += &record("run", &run, 0, "");
            out.push('\n');
            for seq in 1..=per {
                out += &record("intent", &run, seq, r#","sent":{"email":"a@b.io"}"#);
                out.push('\n');
                id += 1;
                let outcome = format!(r#","id":{id},"outcome":"created","proof":"answer""#);
                out += &record("outcome", &run, seq, &outcome);
                out.push('\n');
            }
            let deleted = format!(r#","id":{id},"outcome":"deleted""#);
            out += &record("outcome", &run, per + 1, &deleted)
                .replace(&format!("u{}", per + 1), &format!("u{per}"));
            out.push('\n');
            out += &record("end", &run, 0, "");
            out.push('\n');
        }
        out
    }

    fn shape(h: &History) -> Vec<(String, usize, usize, usize)> {
        h.runs
            .iter()
            .map(|r| {
                (
                    r.run.clone(),
                    r.counts.exists,
                    r.counts.removed,
                    r.accounts.len(),
                )
            })
            .collect()
    }

    #[test]
    fn the_index_serves_what_a_full_read_gives_and_catches_up_with_the_tail() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.jsonl");
        std::fs::write(&path, journal(300, 20)).unwrap();
        let first = load(&path).unwrap();
        assert!(!first.from_index);
        assert!(index_path(&path).exists(), "a big journal gets an index");
        let again = load(&path).unwrap();
        assert!(again.from_index);
        assert_eq!(shape(&first.history), shape(&again.history));
        assert_eq!(first.history.runs[7].counts.exists, 19);
        assert_eq!(first.history.runs[7].counts.removed, 1);

        // More records: the index covers the start, the tail is read from the journal.
        let mut more = std::fs::read_to_string(&path).unwrap();
        more += &journal(2, 3).replace("run-000", "new-000");
        std::fs::write(&path, &more).unwrap();
        let caught_up = load(&path).unwrap();
        assert!(caught_up.from_index);
        assert_eq!(caught_up.history.runs.len(), 302);
        let (listed, _) = runs(&path).unwrap();
        assert_eq!(listed.len(), 302);
        let (one, _) = run(&path, "new-0001").unwrap();
        assert_eq!(one.accounts.len(), 3);

        // Many new runs: folded into the index by copying the older runs' lines as they are.
        let mut more = std::fs::read_to_string(&path).unwrap();
        more += &journal(40, 10).replace("run-00", "fresh-00");
        std::fs::write(&path, &more).unwrap();
        let before = std::fs::metadata(index_path(&path)).unwrap().len();
        let (listed, _) = runs(&path).unwrap();
        assert_eq!(listed.len(), 342);
        assert!(
            std::fs::metadata(index_path(&path)).unwrap().len() > before,
            "appended"
        );
        let (fresh, _) = run(&path, "fresh-0012").unwrap();
        assert_eq!(fresh.accounts.len(), 10);
        let (old, _) = run(&path, "run-0007").unwrap();
        assert_eq!(old.counts.removed, 1);
        // A deletion of an older run's account: read whole, and right.
        let mut more = std::fs::read_to_string(&path).unwrap();
        more += &record("run", "undo-1", 0, "");
        more.push('\n');
        // (u15: the fresh runs have only u1 to u10.)
        more += &record("outcome", "undo-1", 1, r#","id":155,"outcome":"deleted""#)
            .replace("u1\"", "u15\"");
        more.push('\n');
        std::fs::write(&path, &more).unwrap();
        let (listed, _) = runs(&path).unwrap();
        let r2 = listed.iter().find(|r| r.run == "run-0002").unwrap();
        assert_eq!((r2.counts.exists, r2.counts.removed), (18, 2), "{r2:?}");
        let _ = std::fs::remove_file(index_path(&path));
        let rebuilt = load(&path).unwrap();
        assert!(!rebuilt.from_index);
        let r2 = rebuilt
            .history
            .runs
            .iter()
            .find(|r| r.run == "run-0002")
            .unwrap();
        assert_eq!((r2.counts.exists, r2.counts.removed), (18, 2));

        // A journal replaced by another: the index no longer matches and is not used.
        std::fs::write(&path, journal(1, 2).replace("run-0000", "other")).unwrap();
        let other = load(&path).unwrap();
        assert!(!other.from_index);
        assert_eq!(other.history.runs.len(), 1);
        assert_eq!(run(&path, "other").unwrap().0.accounts.len(), 2);
    }

    #[test]
    fn claims_know_whose_an_id_is_and_what_existed_before() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.jsonl");
        std::fs::write(&path, journal(3, 2)).unwrap();
        let h = load(&path).unwrap().history;
        let claims = h.claims();
        assert_eq!(
            claims
                .claimant(&h, "cyberark", 103, "run-0000", u64::MAX)
                .map(|r| r.run.as_str()),
            Some("run-0001")
        );
        assert!(
            claims
                .claimant(&h, "cyberark", 103, "run-0001", u64::MAX)
                .is_none()
        );
        let second_run_starts = h.runs[1].accounts[0].at;
        assert_eq!(
            claims.highest_before("cyberark", second_run_starts),
            Some(102)
        );
        assert_eq!(claims.highest_before("cyberark", 0), None);
    }
}
