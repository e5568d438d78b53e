//! The one error every command returns: its exit code, what went wrong, what is shown under it,
//! and hints; and the one place that prints `error:`, `hint:` and `warning:` lines.

use std::fmt;
use std::io::Write;

/// How onboard ends: 0 ok, 1 failed at run time, 2 bad input before anything ran, 130 interrupted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    Ok,
    Runtime,
    Input,
    Interrupted,
}

impl Exit {
    pub const fn code(self) -> u8 {
        match self {
            Exit::Ok => 0,
            Exit::Runtime => 1,
            Exit::Input => 2,
            Exit::Interrupted => 130,
        }
    }

    /// The worse of two ends (an interrupt over a failure over bad input over success).
    pub fn worst(self, other: Exit) -> Exit {
        let rank = |e: Exit| match e {
            Exit::Ok => 0,
            Exit::Input => 1,
            Exit::Runtime => 2,
            Exit::Interrupted => 3,
        };
        if rank(other) > rank(self) {
            other
        } else {
            self
        }
    }
}

/// One thing that went wrong: the `error:` line, what is shown under it (where in the source,
/// the calls that led there), and what to do about it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Problem {
    pub message: String,
    /// Lines shown under the message (a source snippet with its caret and notes), each ending
    /// in a line break.
    pub detail: String,
    pub hints: Vec<String>,
}

impl Problem {
    pub fn new(message: impl Into<String>) -> Problem {
        Problem {
            message: message.into(),
            ..Problem::default()
        }
    }
}

/// What a command returns when it does not succeed. With no problems, the command's own output
/// has already said what happened (a bulk run's failed rows); only the exit code is left.
#[derive(Debug, thiserror::Error)]
pub struct Error {
    pub exit: Exit,
    pub problems: Vec<Problem>,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let messages: Vec<&str> = self.problems.iter().map(|p| p.message.as_str()).collect();
        f.write_str(&messages.join("; "))
    }
}

impl Error {
    pub fn new(exit: Exit, message: impl Into<String>) -> Error {
        Error {
            exit,
            problems: vec![Problem::new(message)],
        }
    }

    /// Bad input found before anything ran (exit 2).
    pub fn input(message: impl Into<String>) -> Error {
        Error::new(Exit::Input, message)
    }

    /// A failure while running (exit 1).
    pub fn runtime(message: impl Into<String>) -> Error {
        Error::new(Exit::Runtime, message)
    }

    /// Several problems at once (every syntax error of every script `onboard check` read).
    pub fn many(exit: Exit, problems: Vec<Problem>) -> Error {
        Error { exit, problems }
    }

    /// An end whose reason the command's output already gave.
    pub fn silent(exit: Exit) -> Error {
        Error {
            exit,
            problems: Vec::new(),
        }
    }

    /// Add a `hint:` line to the last problem.
    pub fn hint(mut self, hint: impl Into<String>) -> Error {
        if let Some(p) = self.problems.last_mut() {
            p.hints.push(hint.into());
        }
        self
    }

    /// Say what the message is about (`--each: …`, `cannot read FILE: …`).
    pub fn context(mut self, prefix: impl fmt::Display) -> Error {
        for p in &mut self.problems {
            p.message = format!("{prefix}: {}", p.message);
        }
        self
    }

    /// Add to the end of the message (`… (journal: PATH)`).
    pub fn context_after(mut self, suffix: impl fmt::Display) -> Error {
        for p in &mut self.problems {
            p.message = format!("{}{suffix}", p.message);
        }
        self
    }

    /// The text printed for this error: each problem's `error:` line, its detail, its hints.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for p in &self.problems {
            out.push_str(&format!("error: {}\n", p.message));
            out.push_str(&p.detail);
            for h in &p.hints {
                out.push_str(&format!("hint: {h}\n"));
            }
        }
        crate::util::secret::scrubbed(out)
    }
}

/// Print an error on stderr, secrets scrubbed. The entry point and the REPL's prompt loop are
/// its only callers.
pub fn print(err: &Error) {
    let _ = write!(std::io::stderr().lock(), "{}", err.render());
}

/// A `warning:` line on stderr, secrets scrubbed.
pub fn warn(message: impl fmt::Display) {
    let text = crate::util::secret::scrubbed(format!("warning: {message}\n"));
    let _ = write!(std::io::stderr().lock(), "{text}");
}

/// A `note:` line on stderr, secrets scrubbed.
pub fn note(message: impl fmt::Display) {
    let text = crate::util::secret::scrubbed(format!("note: {message}\n"));
    let _ = write!(std::io::stderr().lock(), "{text}");
}

/// Text for people on stderr (summaries, progress), secrets scrubbed.
pub fn eprint(text: &str) {
    let text = crate::util::secret::scrub(text);
    let _ = write!(std::io::stderr().lock(), "{text}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_problem_with_its_detail_and_hints() {
        let e = Error::many(
            Exit::Input,
            vec![
                Problem {
                    message: "one".into(),
                    detail: " --> a.rhai:1:2\n".into(),
                    hints: vec!["do this".into()],
                },
                Problem::new("two"),
            ],
        );
        assert_eq!(
            e.render(),
            "error: one\n --> a.rhai:1:2\nhint: do this\nerror: two\n"
        );
        assert_eq!(e.exit.code(), 2);
        assert_eq!(Error::silent(Exit::Runtime).render(), "");
        assert_eq!(
            Error::input("x").context("--each").hint("h").render(),
            "error: --each: x\nhint: h\n"
        );
        assert_eq!(
            Error::input("x")
                .context_after("; nothing was run")
                .render(),
            "error: x; nothing was run\n"
        );
    }

    #[test]
    fn the_worst_end_wins() {
        assert_eq!(Exit::Ok.worst(Exit::Input), Exit::Input);
        assert_eq!(Exit::Runtime.worst(Exit::Input), Exit::Runtime);
        assert_eq!(Exit::Runtime.worst(Exit::Interrupted), Exit::Interrupted);
    }
}
