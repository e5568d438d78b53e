//! `--each`: the script once per row, rows in parallel on one compiled script, one connection
//! pool and one CyberArk session; each row checked before anything is sent for it.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use rhai::{AST, Engine};

use crate::journal::set_current_row;
use crate::run::Options;
use crate::run::once::{Prepared, SCRIPT_STACK, scope_of};
use crate::run::progress::Progress;
use crate::run::report::{Header, ReportError, ReportWriter, RowError, RowReport, Summary};
use crate::run::row_check::RowCheck;
use crate::run::rows::{Format, Row, Rows, Selection};
use crate::runtime::session::Session;
use crate::runtime::undo;
use crate::script::analyze::Analysis;
use crate::script::compile::recompile;
use crate::script::diagnostics::{self, Diagnostic};
use crate::script::engine::{self, Limits};
use crate::util::error::{Error, Exit, Problem, eprint};
use crate::util::suggest;

/// Rows at once when neither `--jobs` nor the profile says.
pub const DEFAULT_JOBS: usize = 8;

/// Columns the script reads as `row.NAME` that the file's header lacks, as errors at the read.
pub fn missing_columns(
    rows: &Rows,
    analysis: &Analysis,
    file: &str,
    each: &Path,
) -> Vec<Diagnostic> {
    if rows.format != Format::Csv {
        // The keys of JSON lines vary by line: each row is checked on its own.
        return Vec::new();
    }
    analysis
        .row_columns
        .iter()
        .filter(|(c, _)| !rows.headers.contains(c))
        .map(|(c, pos)| {
            let hint = suggest::closest(c, rows.headers.iter().map(String::as_str))
                .map(|h| format!("; did you mean `{h}`?"))
                .unwrap_or_else(|| format!(" (its columns: {})", rows.headers.join(", ")));
            Diagnostic::new(
                format!(
                    "the script reads row.{c}, but {} has no column `{c}`{hint}",
                    each.display()
                ),
                file,
                *pos,
            )
        })
        .collect()
}

/// What every thread of the run shares: plain data. Rhai's values are not shared between
/// threads, so each thread builds its own engine, script and check (`Local`).
struct Shared<'a> {
    session: &'a Arc<Session>,
    options: &'a engine::Options,
    source: &'a str,
    file: &'a str,
    limits: &'a Limits,
    headers: &'a [String],
    /// Columns every row must have (those the script reads as `row.NAME`).
    required: &'a [String],
    rollback_on_error: bool,
    fail_fast: bool,
    /// Start no new row (`--fail-fast` after a failure).
    stop: &'a AtomicBool,
}

/// One thread's own: its engine, the compiled script and the offline check every row goes
/// through before anything is sent for it (a row that would be refused sends nothing).
struct Local<'a> {
    engine: &'a Engine,
    ast: &'a AST,
    check: &'a RowCheck<'a>,
    /// The report lines of this thread's finished rows, written with the journal's records.
    lines: &'a RefCell<Vec<u8>>,
    /// Whether there is a report to write them to.
    reporting: bool,
}

pub fn run_each(mut p: Prepared, args: &Options, rows: Rows) -> Result<(), Error> {
    let each = args.each.as_deref().unwrap_or(Path::new("-"));
    let mut sources = std::mem::take(&mut p.sources);
    let missing = missing_columns(&rows, &p.checked.analysis, &p.file, each);
    if !missing.is_empty() {
        let problems = missing.iter().map(|d| d.problem(&mut sources)).collect();
        return Err(Error::many(Exit::Input, problems));
    }
    let (selection, carried) = crate::run::resume::select(args, &rows, each)?;
    let chosen = selection.count(rows.total);
    if chosen == 0 {
        crate::outln!("nothing to do: every row of {} is done", each.display());
        return Ok(());
    }
    let header = Header {
        report: "onboard --each".into(),
        run: p.session.journal.run_id().to_string(),
        script: p.file.clone(),
        file: each.display().to_string(),
        rows: rows.total,
    };
    let writer = ReportWriter::create(args.report.as_deref(), &header, &carried)?;
    let source = Mutex::new(rows.iter()?);
    let jobs = args
        .jobs
        .or(p.jobs)
        .unwrap_or(DEFAULT_JOBS)
        .clamp(1, 256)
        .min(chosen as usize);
    // Every row calls vendors: start now, so that Ctrl-C winds the run down from the first row.
    p.io.runtime().map_err(Error::runtime)?;
    let tally = Tally {
        writer,
        summary: Summary::default(),
        progress: Progress::new(chosen, args.quiet || args.json),
        write_error: None,
    };
    let started = Instant::now();
    let (mut tally, spawn_error) = run_rows(&p, args, &rows, &source, &selection, tally, jobs);
    let took = started.elapsed();
    tally.progress.finish();
    p.session.close();
    if let Err(e) = tally.writer.finish() {
        tally.write_error.get_or_insert(e);
    }
    let interrupted = p.session.cancel.is_cancelled();
    let mut problems: Vec<Problem> = spawn_error.into_iter().map(Problem::new).collect();
    let failed = failed_rows(&tally, &rows, &selection, chosen, &mut problems);
    problems.extend(
        tally
            .write_error
            .take()
            .map(|e| Problem::new(e.to_string())),
    );
    let exit = if interrupted {
        Exit::Interrupted
    } else if tally.summary.failed > 0 || tally.summary.rows < chosen || !problems.is_empty() {
        Exit::Runtime
    } else {
        Exit::Ok
    };
    let result = match exit {
        Exit::Ok => Ok(()),
        _ => Err(Error::many(exit, problems)),
    };
    let result = p.session.finish(result);
    summarise(
        &p,
        args,
        &tally,
        took,
        (chosen, failed),
        interrupted,
        &result,
    );
    result
}

/// With a report, the failed and unreached rows written beside it: where, and how many.
fn failed_rows(
    tally: &Tally,
    rows: &Rows,
    selection: &Selection,
    chosen: u64,
    problems: &mut Vec<Problem>,
) -> Option<(PathBuf, u64)> {
    let report = tally.writer.path()?;
    if tally.write_error.is_some() {
        return None;
    }
    if tally.summary.failed == 0 && tally.summary.rows >= chosen {
        // Every chosen row ran and none failed: nothing to read back, and an older list of
        // failed rows is out of date.
        crate::run::failed::remove_failed(report, rows.format);
        return None;
    }
    match crate::run::failed::write_failed(report, rows, selection) {
        Ok((path, n)) => (n > 0).then_some((path, n)),
        Err(e) => {
            problems.push(Problem::new(e));
            None
        }
    }
}

/// How many rows one thread runs at once before the next thread is started.
const JOBS_PER_THREAD: usize = 32;

/// Run the chosen rows on `jobs` workers; what they tallied, and why a worker could not start.
fn run_rows(
    p: &Prepared,
    args: &Options,
    rows: &Rows,
    source: &Mutex<Box<dyn Iterator<Item = Row> + Send>>,
    selection: &Selection,
    tally: Tally,
    jobs: usize,
) -> (Tally, Option<String>) {
    let stop = AtomicBool::new(false);
    let required: Vec<String> = p
        .checked
        .analysis
        .row_columns
        .iter()
        .map(|(c, _)| c.clone())
        .collect();
    let shared = Shared {
        session: &p.session,
        options: &p.options,
        source: &p.source,
        file: &p.file,
        limits: &p.limits,
        headers: &rows.headers,
        required: &required,
        rollback_on_error: p.rollback_on_error,
        fail_fast: args.fail_fast,
        stop: &stop,
    };
    let tally = Mutex::new(tally);
    let spawn_error = Mutex::new(None);
    // The jobs run as coroutines (`run::fibers`), up to `JOBS_PER_THREAD` to a thread and no
    // more threads than cores. A thread drives thousands of rows a second of onboard's own
    // work, far more than a vendor takes; a second thread for 16 jobs cost 40% more CPU and
    // gave less throughput (README, "Where the time goes").
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    let threads = jobs.div_ceil(JOBS_PER_THREAD).clamp(1, cores);
    std::thread::scope(|s| {
        for n in 0..threads {
            let fibers = jobs / threads + usize::from(n < jobs % threads);
            let (shared, tally, spawn_error) = (&shared, &tally, &spawn_error);
            let spawned = std::thread::Builder::new()
                .name(format!("rows-{n}"))
                .spawn_scoped(s, move || {
                    if let Err(e) = rows_thread(shared, fibers, source, selection, tally)
                        && let Ok(mut first) = spawn_error.lock()
                    {
                        first.get_or_insert(e);
                    }
                });
            if let Err(e) = spawned
                && let Ok(mut first) = spawn_error.lock()
            {
                first.get_or_insert(format!("cannot start a worker thread: {e}"));
            }
        }
    });
    let spawn_error = spawn_error.into_inner().unwrap_or_else(|p| p.into_inner());
    let tally = match tally.into_inner() {
        Ok(t) => t,
        Err(poisoned) => poisoned.into_inner(),
    };
    (tally, spawn_error)
}

/// One thread of the run: its own engine, script and check, and `fibers` rows at a time.
fn rows_thread(
    shared: &Shared,
    fibers: usize,
    source: &Mutex<Box<dyn Iterator<Item = Row> + Send>>,
    selection: &Selection,
    tally: &Mutex<Tally>,
) -> Result<(), String> {
    let mut engine = engine::build(shared.session, shared.options);
    let scope = scope_of(&shared.options.vars, true);
    let ast = recompile(&mut engine, shared.source, shared.file, &scope)?;
    let check = RowCheck::new(
        shared.options,
        shared.session.profile().cloned(),
        &ast,
        &scope,
        shared.file,
        shared.limits,
        shared.required.to_vec(),
    )
    .for_run();
    let lines = RefCell::new(Vec::new());
    let sink = tally.lock().ok().and_then(|t| t.writer.sink());
    let local = Local {
        engine: &engine,
        ast: &ast,
        check: &check,
        lines: &lines,
        reporting: sink.is_some(),
    };
    let body = || worker(shared, &local, source, selection, tally);
    // The rows' records and report lines are written together, each time before their calls
    // go out: by this thread, for its own rows, with no lock between the threads.
    let journal = &shared.session.journal;
    let flush = || {
        journal.flush();
        let done = std::mem::take(&mut *lines.borrow_mut());
        if let (Some(sink), false) = (&sink, done.is_empty())
            && let Err(e) = sink.write(&done)
            && let Ok(mut t) = tally.lock()
        {
            t.write_error.get_or_insert(e);
        }
    };
    let ran = journal.deferring(|| crate::run::fibers::run(fibers, SCRIPT_STACK, &body, &flush));
    flush();
    ran
}

/// The end of a bulk run: the summary for people, or the JSON document with `--json`.
fn summarise(
    p: &Prepared,
    args: &Options,
    tally: &Tally,
    took: std::time::Duration,
    (chosen, failed): (u64, Option<(PathBuf, u64)>),
    interrupted: bool,
    result: &Result<(), Error>,
) {
    let summary = &tally.summary;
    if args.json {
        let mut doc = summary.json(took, tally.writer.path(), p.session.journal.run_id());
        doc["exit_code"] = result.as_ref().err().map_or(0, |e| e.exit.code()).into();
        doc["failed_rows"] = failed
            .as_ref()
            .map(|(path, _)| path.display().to_string())
            .into();
        let text = serde_json::to_string_pretty(&doc).unwrap_or_default();
        crate::outln!("{}", crate::util::secret::scrub(&text));
    } else if !args.quiet {
        let mut text = summary.text(
            took,
            tally.writer.path(),
            interrupted || summary.rows < chosen,
        );
        if summary.rows > 0 && !args.sim && p.session.journal.path().is_some() {
            let run = p.session.journal.run_id();
            text.push_str(&format!(
                "journal: onboard journal {run}; onboard undo {run} removes what it created\n"
            ));
        }
        if let Some((path, n)) = &failed {
            text.push_str(&format!(
                "failed rows: {} ({n}): fix them there and run them with --each {}\n",
                path.display(),
                path.display()
            ));
        }
        eprint(&text);
    }
}

/// Where finished rows go. The workers add their own rows, so that no thread is woken per row
/// to do it.
struct Tally {
    writer: ReportWriter,
    summary: Summary,
    progress: Progress,
    write_error: Option<ReportError>,
}

impl Tally {
    fn add(&mut self, report: &RowReport) {
        self.summary.add(report);
        self.progress.update(self.summary.rows, self.summary.failed);
    }
}

fn worker(
    shared: &Shared,
    local: &Local,
    source: &Mutex<Box<dyn Iterator<Item = Row> + Send>>,
    selection: &Selection,
    tally: &Mutex<Tally>,
) {
    loop {
        if shared.stop.load(Ordering::Relaxed) || shared.session.cancel.is_cancelled() {
            return;
        }
        let next = {
            let Ok(mut rows) = source.lock() else {
                return;
            };
            rows.by_ref().find(|r| selection.contains(r.number))
        };
        let Some(row) = next else {
            return;
        };
        set_current_row(Some(row.number));
        let report = run_row(shared, local, row);
        set_current_row(None);
        if !report.ok && shared.fail_fast {
            shared.stop.store(true, Ordering::Relaxed);
        }
        // Made here, outside the lock the threads share.
        let line = local.reporting.then(|| crate::run::report::line(&report));
        match line {
            Some(Ok(line)) => local.lines.borrow_mut().extend_from_slice(line.as_bytes()),
            Some(Err(e)) => {
                if let Ok(mut t) = tally.lock() {
                    t.write_error.get_or_insert(e);
                }
            }
            None => {}
        }
        match tally.lock() {
            Ok(mut t) => t.add(&report),
            Err(_) => return,
        }
    }
}

fn run_row(shared: &Shared, local: &Local, row: Row) -> RowReport {
    let started = Instant::now();
    let mut report = RowReport {
        row: row.number,
        line: row.line,
        key: serde_json::Map::new(),
        ok: false,
        duration_ms: 0,
        accounts: Vec::new(),
        error: None,
        rollback: Vec::new(),
    };
    if let Ok(values) = &row.values {
        report.key = crate::run::rows::key(values, shared.headers);
    }
    let number = row.number;
    let mut scope = match local.check.check(row) {
        Ok(scope) => scope,
        Err(refused) => {
            report.error = Some(refused);
            report.duration_ms = started.elapsed().as_millis() as u64;
            return report;
        }
    };

    let result = engine::eval(local.engine, shared.limits, &mut scope, local.ast);
    crate::script::memo::forget(number);
    report.ok = result.is_ok();
    if let Err(err) = &result {
        let (diag, _) = diagnostics::from_eval_error(err, shared.file, shared.limits);
        report.error = Some(RowError {
            message: diag.message.clone(),
            location: Some(diag.location()),
            kind: diagnostics::thrown_kind(err),
            nothing_sent: false,
        });
    }
    let interrupted = shared.session.cancel.is_cancelled();
    if !report.ok && shared.rollback_on_error && !interrupted {
        report.rollback = undo::rollback(shared.session);
        // An account the rollback could not remove is said at once, not only counted.
        let run = shared.session.journal.run_id();
        for step in &report.rollback {
            let line = if step.failed() {
                format!(
                    "error: rollback could not delete {}; `onboard undo {run}` can, later",
                    step.describe()
                )
            } else if step.result == "not_provably_ours" {
                format!(
                    "warning: rollback left {}; check it, then `onboard undo {run} --force`",
                    step.describe()
                )
            } else {
                continue;
            };
            crate::script::print::emit(
                crate::script::print::PrintTo::Stderr,
                &crate::util::secret::scrubbed(line),
            );
        }
    } else {
        // What a finished row created is the journal's to remember, not this run's.
        shared.session.take_created();
    }
    report.accounts = shared
        .session
        .journal
        .take_row(number)
        .iter()
        .map(Into::into)
        .collect();
    report.duration_ms = started.elapsed().as_millis() as u64;
    report
}
