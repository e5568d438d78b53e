//! The line editor's helper: completion, multi-line input, matching brackets and a grey hint
//! from history.

use std::borrow::Cow;
use std::sync::{Arc, RwLock};

use rhai::Engine;
use rustyline::completion::{Completer, FilenameCompleter, Pair};
use rustyline::highlight::{CmdKind, Highlighter, MatchingBracketHighlighter};
use rustyline::hint::{Hinter, HistoryHinter};
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{Context, Helper};

use super::complete::{Names, complete};
use super::input::is_incomplete;

pub struct ReplHelper {
    pub names: Arc<RwLock<Names>>,
    /// Parses input to tell a finished statement from one that goes on.
    syntax: Engine,
    files: FilenameCompleter,
    brackets: MatchingBracketHighlighter,
    hints: HistoryHinter,
}

impl ReplHelper {
    pub fn new(names: Arc<RwLock<Names>>) -> Self {
        ReplHelper {
            names,
            syntax: crate::script::engine::parser(),
            files: FilenameCompleter::new(),
            brackets: MatchingBracketHighlighter::new(),
            hints: HistoryHinter::new(),
        }
    }
}

impl Helper for ReplHelper {}

impl Completer for ReplHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        if line.trim_start().starts_with(":load ") {
            return self.files.complete(line, pos, ctx);
        }
        let names = match self.names.read() {
            Ok(n) => n,
            Err(poisoned) => poisoned.into_inner(),
        };
        let (start, choices) = complete(line, pos, &names);
        Ok((
            start,
            choices
                .into_iter()
                .map(|c| Pair {
                    display: c.display,
                    replacement: c.replacement,
                })
                .collect(),
        ))
    }
}

impl Validator for ReplHelper {
    fn validate(&self, ctx: &mut ValidationContext) -> rustyline::Result<ValidationResult> {
        Ok(if is_incomplete(&self.syntax, ctx.input()) {
            ValidationResult::Incomplete
        } else {
            ValidationResult::Valid(None)
        })
    }
}

impl Hinter for ReplHelper {
    type Hint = String;

    fn hint(&self, line: &str, pos: usize, ctx: &Context<'_>) -> Option<String> {
        self.hints.hint(line, pos, ctx)
    }
}

impl Highlighter for ReplHelper {
    fn highlight<'l>(&self, line: &'l str, pos: usize) -> Cow<'l, str> {
        self.brackets.highlight(line, pos)
    }

    fn highlight_hint<'h>(&self, hint: &'h str) -> Cow<'h, str> {
        Cow::Owned(format!("\x1b[90m{hint}\x1b[0m"))
    }

    fn highlight_char(&self, line: &str, pos: usize, kind: CmdKind) -> bool {
        self.brackets.highlight_char(line, pos, kind)
    }
}
