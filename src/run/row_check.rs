//! A row checked before anything is sent for it, the same way by `run --each` and by
//! `check --each`: its values read, the columns the script reads there, and an offline dry run
//! in which a vendor call that would be refused refuses the row.

use rhai::{AST, Dynamic, Engine, EvalAltResult, Scope};

use crate::journal::Journal;
use crate::run::report::RowError;
use crate::run::rows::{Row, script_row};
use crate::runtime::session::{Mode, Session};
use crate::script::engine::{self, Limits};
use crate::script::{diagnostics, memo};

/// What checking a row needs: the script, and an engine that sends nothing.
pub struct RowCheck<'a> {
    engine: Engine,
    session: std::sync::Arc<Session>,
    pub ast: &'a AST,
    pub scope: &'a Scope<'static>,
    pub file: &'a str,
    pub limits: &'a Limits,
    /// Columns every row must have (those the script reads as `row.NAME`).
    pub required: Vec<String>,
    /// Whether the row's run follows, to be handed the requests the check validated.
    for_run: bool,
}

impl<'a> RowCheck<'a> {
    pub fn new(
        options: &engine::Options,
        profile: Option<crate::config::Profile>,
        ast: &'a AST,
        scope: &'a Scope<'static>,
        file: &'a str,
        limits: &'a Limits,
        required: Vec<String>,
    ) -> Self {
        let session = Session::new(
            None,
            profile,
            Journal::memory(),
            Mode {
                dry_run: true,
                offline: true,
            },
        );
        let mut engine = engine::build(&session, options);
        engine.on_print(|_| {}).on_debug(|_, _, _| {});
        RowCheck {
            engine,
            session,
            ast,
            scope,
            file,
            limits,
            required,
            for_run: false,
        }
    }

    /// A check whose rows run next: each row's run is handed the requests its check validated
    /// (`script::memo`); the run must `memo::forget` the row when it ends.
    pub fn for_run(mut self) -> Self {
        self.for_run = true;
        self
    }

    /// The row's values in a scope ready to run it, or why it must not run (nothing is sent
    /// for a refused row).
    pub fn check(&self, row: Row) -> Result<Scope<'static>, RowError> {
        let bad_row = |message: String| RowError {
            message,
            location: None,
            kind: Some("validation".into()),
            nothing_sent: true,
        };
        let values = row
            .values
            .map_err(|why| bad_row(format!("line {}: {why}", row.line)))?;
        if let Some(c) = self
            .required
            .iter()
            .find(|c| !values.contains_key(c.as_str()))
        {
            return Err(bad_row(format!(
                "line {}: it has no `{c}`, which the script reads as row.{c}",
                row.line
            )));
        }
        let mut scope = self.scope.clone();
        scope.set_value("row", Dynamic::from_map(script_row(&values)));
        let refused = if self.for_run {
            let refused = memo::keeping(row.number, || self.dry_run(&scope));
            if refused.is_some() {
                memo::forget(row.number);
            }
            refused
        } else {
            self.dry_run(&scope)
        };
        match refused {
            Some(refused) => Err(refused),
            None => Ok(scope),
        }
    }

    /// Run the row offline: a call that would fail validation refuses the row.
    fn dry_run(&self, scope: &Scope<'static>) -> Option<RowError> {
        let checked = engine::eval(&self.engine, self.limits, &mut scope.clone(), self.ast);
        self.session.forget_row_plan();
        let err = checked.err().filter(|e| is_validation(e))?;
        let (diag, _) = diagnostics::from_eval_error(&err, self.file, self.limits);
        Some(RowError {
            location: Some(diag.location()),
            message: diag.message,
            kind: Some("validation".into()),
            nothing_sent: true,
        })
    }
}

fn is_validation(err: &EvalAltResult) -> bool {
    diagnostics::thrown_kind(err).as_deref() == Some("validation")
}
