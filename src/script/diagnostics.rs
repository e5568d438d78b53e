//! Errors shown the way compilers show them: `file:line:col`, the source line, and a caret.

use std::collections::HashMap;
use std::fmt::Write as _;

use rhai::{EvalAltResult, ParseError, ParseErrorType, Position};

use crate::script::engine::Limits;
use crate::util::error::Problem;
use crate::vendors::error::VendorError;

/// One error or warning, with where it happened when that is known.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    pub message: String,
    /// The file (or module) the position is in.
    pub file: String,
    pub pos: Position,
    /// "called from …" lines, innermost first.
    pub notes: Vec<String>,
}

/// How a run that failed should end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Ctrl-C or SIGTERM.
    Interrupted,
    /// A vendor error, a `throw`, a limit: the script failed while running.
    Runtime,
}

/// The text of files named in diagnostics, read from disk when not given.
#[derive(Default)]
pub struct Sources {
    texts: HashMap<String, String>,
}

impl Sources {
    pub fn add(&mut self, name: &str, text: &str) {
        self.texts.insert(name.to_string(), text.to_string());
    }

    fn line(&mut self, file: &str, line: usize) -> Option<String> {
        if !self.texts.contains_key(file) {
            let text = match crate::script::stdlib::find(file) {
                Some((_, text)) => text.to_string(),
                None => std::fs::read_to_string(file).ok()?,
            };
            self.texts.insert(file.to_string(), text);
        }
        self.texts
            .get(file)?
            .lines()
            .nth(line.checked_sub(1)?)
            .map(str::to_string)
    }
}

impl Diagnostic {
    pub fn new(message: impl Into<String>, file: &str, pos: Position) -> Self {
        Diagnostic {
            message: message.into(),
            file: file.to_string(),
            pos,
            notes: Vec::new(),
        }
    }

    /// `file:line:col`, or just the file when there is no position.
    pub fn location(&self) -> String {
        match (self.pos.line(), self.pos.position()) {
            (Some(l), Some(c)) => format!("{}:{l}:{c}", self.file),
            (Some(l), None) => format!("{}:{l}", self.file),
            _ => self.file.clone(),
        }
    }

    /// This diagnostic as one problem of a command's error, rendered (by `util::error`) as
    ///
    /// ```text
    /// error: unknown field `frist_name` for cyberark::create_user; did you mean `first_name`?
    ///   --> scripts/new_hire.rhai:7:9
    ///    |
    ///  7 |         frist_name: "Jane",
    ///    |         ^
    /// ```
    pub fn problem(&self, sources: &mut Sources) -> Problem {
        Problem {
            message: self.message.clone(),
            detail: self.detail(sources),
            hints: Vec::new(),
        }
    }

    /// What is shown under the message: where, the source line with a caret, the notes.
    fn detail(&self, sources: &mut Sources) -> String {
        let mut out = String::new();
        let width = self.pos.line().map_or(1, |l| l.to_string().len());
        let _ = writeln!(out, "{:width$}--> {}", "", self.location());
        if let Some(line_no) = self.pos.line()
            && let Some(text) = sources.line(&self.file, line_no)
        {
            let col = self.pos.position().unwrap_or(1).max(1);
            // A literal given to a secret field stays out of the quoted line; the caret goes
            // under the same place in the masked line.
            let shown = |t: &str| {
                let masked = crate::util::secret::mask_fields(t);
                crate::vendors::validate::show_invisible(&masked).into_owned()
            };
            let before: String = text.chars().take(col - 1).collect();
            let before = shown(&before);
            let text = shown(&text);
            // Tabs keep their width under the caret.
            let pad: String = before
                .chars()
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            let _ = writeln!(out, "{:width$} |", "");
            let _ = writeln!(out, "{line_no} | {text}");
            let _ = writeln!(out, "{:width$} | {pad}^", "");
        }
        for note in &self.notes {
            let _ = writeln!(out, "  = note: {note}");
        }
        crate::util::secret::scrubbed(out)
    }
}

/// A syntax error.
pub fn from_parse_error(err: &ParseError, file: &str) -> Diagnostic {
    let ParseError(kind, pos) = err;
    let message = match kind.as_ref() {
        ParseErrorType::VariableUndefined(name) if name == "row" => {
            "variable `row` is not defined: a script that reads `row` runs once per row with \
             --each FILE (check it with `onboard check SCRIPT --each FILE`)"
                .to_string()
        }
        ParseErrorType::VariableUndefined(name) => format!(
            "variable `{name}` is not defined (declare it with `let {name} = …;`, or pass it with --var {name}=…)"
        ),
        ParseErrorType::Reserved(word) => {
            format!("`{word}` is a reserved word in Rhai; choose another name")
        }
        ParseErrorType::UnknownOperator(op) if op == "eval" => {
            "`eval` is disabled in onboard scripts".to_string()
        }
        other => other.to_string(),
    };
    Diagnostic::new(message, file, *pos)
}

/// A run-time error: the innermost place it happened, with the calls that led there. An error
/// raised inside the standard library (an assertion, a `require`) is the caller's business: it
/// points at the last call from the script's own code, with where in `std/` it was raised.
pub fn from_eval_error(err: &EvalAltResult, file: &str, limits: &Limits) -> (Diagnostic, Failure) {
    // Each call on the way in: (file of the call, its position, what it called).
    let mut calls: Vec<(String, Position, String)> = Vec::new();
    let mut file = file.to_string();
    let mut err = err;
    loop {
        match err {
            EvalAltResult::ErrorInFunctionCall(name, source, inner, pos) => {
                calls.push((file.clone(), *pos, format!("a call to `{name}`")));
                if !source.is_empty() {
                    file = source.clone();
                }
                err = inner;
            }
            EvalAltResult::ErrorInModule(path, inner, pos) => {
                calls.push((file.clone(), *pos, format!("module `{path}`, imported")));
                file = path.clone();
                err = inner;
            }
            _ => break,
        }
    }
    let (message, failure) = describe(err, limits);
    let mut d = Diagnostic::new(message, &file, err.position());
    let outermost_own = calls.iter().rposition(|(f, ..)| !is_std(f));
    if let (true, Some(i)) = (is_std(&file), outermost_own) {
        let inside: Vec<String> = calls[i + 1..]
            .iter()
            .map(|(f, pos, what)| format!("{what} at {}", place(f, *pos)))
            .rev()
            .collect();
        let mut note = format!("raised at {} in the standard library", place(&file, d.pos));
        if !inside.is_empty() {
            note.push_str(&format!(", after {}", inside.join(", after ")));
        }
        let (f, pos, _) = &calls[i];
        d = Diagnostic::new(d.message, f, *pos);
        d.notes.push(note);
        calls.truncate(i);
    }
    d.notes.extend(
        calls
            .iter()
            .rev()
            .map(|(f, pos, what)| format!("in {what} at {}", place(f, *pos))),
    );
    (d, failure)
}

/// A thrown map that says what went wrong (`#{ kind: "validation", message: "…" }`, as the
/// standard library throws): its message, not the whole map.
fn thrown_message(value: &rhai::Dynamic) -> Option<String> {
    let map = value.read_lock::<rhai::Map>()?;
    let message = map.get("message").filter(|m| m.is_string())?.to_string();
    Some(match map.get("kind").filter(|k| k.is_string()) {
        Some(kind) => format!("the script threw a {kind} error: {message}"),
        None => format!("the script threw: {message}"),
    })
}

/// The error under any function calls and module loads that wrap it.
pub fn innermost(err: &EvalAltResult) -> &EvalAltResult {
    let mut e = err;
    while let EvalAltResult::ErrorInFunctionCall(_, _, inner, _)
    | EvalAltResult::ErrorInModule(_, inner, _) = e
    {
        e = inner;
    }
    e
}

/// The `kind` of a thrown error map: a vendor's error, or one the script or a library throws
/// (`std/people`'s `require` throws a `validation` one).
pub fn thrown_kind(err: &EvalAltResult) -> Option<String> {
    let EvalAltResult::ErrorRuntime(value, _) = innermost(err) else {
        return None;
    };
    let map = value.read_lock::<rhai::Map>()?;
    map.get("kind")
        .filter(|k| k.is_string())
        .map(|k| k.to_string())
}

/// The embedded standard library, whose insides are not the script writer's to debug.
fn is_std(file: &str) -> bool {
    file.starts_with("std/")
}

fn place(file: &str, pos: Position) -> String {
    match (pos.line(), pos.position()) {
        (Some(l), Some(c)) => format!("{file}:{l}:{c}"),
        _ => file.to_string(),
    }
}

fn describe(err: &EvalAltResult, limits: &Limits) -> (String, Failure) {
    use EvalAltResult as E;
    let msg = match err {
        E::ErrorTerminated(token, _) if token.to_string() == crate::script::engine::STOP_MEMORY => {
            format!(
                "the script's values grew past its limit of {} MiB; is a string, array or map \
             growing in a loop? (if the data is real, raise it with [limits] max_memory_mb)",
                limits.max_memory >> 20
            )
        }
        E::ErrorTerminated(token, _)
            if token.to_string() == crate::script::engine::STOP_COPYING =>
        {
            format!(
                "the script copied more than {} MB of values without finishing; is a map or array \
             nesting deeper, or growing by copies, on every pass? (this limit moves with \
             --max-operations or [limits] max_operations)",
                limits.max_copying() / 1_000_000
            )
        }
        E::ErrorTerminated(token, _) if token.to_string() == crate::script::engine::STOP_TIME => {
            format!(
                "the script computed for more than {} s without finishing (waiting for vendors aside); \
             is a value nesting deeper on every pass of a loop? (if the work is real, raise it with \
             [limits] max_seconds)",
                limits.max_compute.as_secs()
            )
        }
        E::ErrorTerminated(..) => return ("interrupted".into(), Failure::Interrupted),
        E::ErrorRuntime(value, _) if value.is::<crate::script::modules::Problem>() => value
            .read_lock::<crate::script::modules::Problem>()
            .map(|p| p.0.clone())
            .unwrap_or_default(),
        E::ErrorModuleNotFound(what, _) => format!("cannot find module {what}"),
        E::ErrorRuntime(value, _) => VendorError::describe_thrown(value)
            .or_else(|| thrown_message(value))
            .unwrap_or_else(|| {
                if value.is_string() {
                    format!("the script threw: {value}")
                } else {
                    format!(
                        "the script threw: {}",
                        crate::vendors::values::display_inline(value)
                    )
                }
            }),
        E::ErrorTooManyOperations(_) => format!(
            "the script ran past its limit of {} operations; is there an endless loop? \
             (if the work is real, raise it with --max-operations or [limits] max_operations)",
            limits.max_operations
        ),
        E::ErrorStackOverflow(_) => format!(
            "function calls nested deeper than {} levels; is there endless recursion?",
            limits.max_call_levels
        ),
        // Rhai's own size limits are off (see `engine::build`); what remains is its parser's.
        E::ErrorDataTooLarge(what, _) => format!("{} is too large", what.to_lowercase()),
        E::ErrorFunctionNotFound(sig, _) if wrong_vendor_argument(sig).is_some() => {
            wrong_vendor_argument(sig).unwrap_or_default()
        }
        E::ErrorTooManyModules(_) => {
            format!("more than {} modules were imported", limits.max_modules)
        }
        other => strip_position(&other.to_string()),
    };
    (msg, Failure::Runtime)
}

/// A vendor function called with a value of the wrong type, as Rhai reports it
/// (`cyberark::get_user (i64)`), in the words of the function's contract.
fn wrong_vendor_argument(sig: &str) -> Option<String> {
    let (name, types) = sig.split_once(" (")?;
    let (vendor, function) = name.split_once("::")?;
    crate::vendors::find(vendor)?;
    let takes = crate::script::bridge::takes(function)?;
    let types: Vec<&str> = types
        .trim_end_matches(')')
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .collect();
    let given = match types.as_slice() {
        [one] => match *one {
            "i64" | "i32" | "int" => "an integer".to_string(),
            "f64" | "f32" | "float" => "a number".to_string(),
            "bool" => "a bool".to_string(),
            "char" => "a character".to_string(),
            "()" => "()".to_string(),
            "array" | "Array" => "an array".to_string(),
            "map" | "Map" => "a map".to_string(),
            "string" | "&str" | "ImmutableString" | "String" => "a string".to_string(),
            other => format!("a {other}"),
        },
        many => format!("{} arguments", many.len()),
    };
    Some(format!("{name} takes {}, not {given}", takes.what()))
}

/// Rhai appends ` (line 3, position 7)` to its messages; the caret shows that already.
fn strip_position(text: &str) -> String {
    match text.rfind(" (line ") {
        Some(i) if text.ends_with(')') => text[..i].to_string(),
        _ => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_error(source: &str) -> Diagnostic {
        let engine = crate::script::engine::parser();
        let err = engine
            .compile(source)
            .expect_err("the test script does not parse");
        from_parse_error(&err, "s.rhai")
    }

    #[test]
    fn a_syntax_error_points_at_its_line_and_column_with_a_caret() {
        let d = parse_error("let a = 1;\nlet b = ;\n");
        assert_eq!(d.location(), "s.rhai:2:9");
        let mut sources = Sources::default();
        sources.add("s.rhai", "let a = 1;\nlet b = ;\n");
        let p = d.problem(&mut sources);
        assert_eq!(p.message, d.message);
        assert_eq!(
            p.detail,
            " --> s.rhai:2:9\n  |\n2 | let b = ;\n  |         ^\n"
        );
    }

    #[test]
    fn an_undefined_variable_says_how_to_define_it() {
        let mut engine = crate::script::engine::parser();
        engine.set_strict_variables(true);
        let err = engine.compile("print(who);").expect_err("undefined");
        let d = from_parse_error(&err, "s.rhai");
        assert!(d.message.contains("--var who="), "{}", d.message);
    }

    #[test]
    fn a_secret_written_into_the_source_is_masked_in_the_quoted_line() {
        let d = Diagnostic::new("bad", "s.rhai", Position::new(1, 1));
        let mut sources = Sources::default();
        sources.add("s.rhai", r#"x(#{ password: "Hunter2-Secret" }) oops"#);
        let detail = d.problem(&mut sources).detail;
        assert!(!detail.contains("Hunter2-Secret"), "{detail}");
        assert!(detail.contains("password"), "{detail}");
    }
}
