//! Where statements come from: the terminal's line editor (with completion and history), or a pipe.

use std::io::BufRead;
use std::path::{Path, PathBuf};

use super::{Done, Shell, editor, input, say};
use crate::journal;
use crate::util::error::{Error, Exit};

impl Shell {
    /// The terminal: a line editor with completion, hints and history.
    pub(super) fn interactive(&mut self) -> Exit {
        use rustyline::error::ReadlineError;
        use rustyline::history::FileHistory;
        use rustyline::{Config as EditorConfig, Editor};

        let config = EditorConfig::builder()
            .auto_add_history(false)
            .history_ignore_dups(true)
            .map(|b| b.completion_type(rustyline::CompletionType::List))
            .map(|b| b.build())
            .unwrap_or_default();
        let mut editor: Editor<editor::ReplHelper, FileHistory> = match Editor::with_config(config)
        {
            Ok(e) => e,
            Err(e) => {
                say(Error::runtime(format!("cannot start the line editor: {e}")));
                return Exit::Runtime;
            }
        };
        editor.set_helper(Some(editor::ReplHelper::new(self.names.clone())));
        let history = history_path();
        if let Some(path) = &history {
            let _ = editor.load_history(path);
        }
        let where_to = match self.session.profile() {
            Some(p) if self.target.sim => format!("the built-in simulator (profile {})", p.name),
            Some(p) => format!("profile {}", p.name),
            None => "no profile (`:sim on` uses the built-in simulator)".into(),
        };
        crate::outln!(
            "onboard {} on {where_to}. Tab completes; :help lists commands and functions; Ctrl-D quits.",
            env!("CARGO_PKG_VERSION")
        );
        let mut exit = Exit::Ok;
        loop {
            let line = match editor.readline(&self.prompt()) {
                Ok(line) => line,
                // Ctrl-C at the prompt drops what was typed.
                Err(ReadlineError::Interrupted) => continue,
                Err(ReadlineError::Eof) => break,
                Err(e) => {
                    say(Error::runtime(format!("cannot read the terminal: {e}")));
                    exit = Exit::Runtime;
                    break;
                }
            };
            if line.trim().is_empty() {
                continue;
            }
            if !input::holds_secret(&line) {
                let _ = editor.add_history_entry(line.as_str());
                if let Some(path) = &history {
                    save_history(&mut editor, path);
                }
            }
            if self.input(&line) == Done::Quit {
                break;
            }
        }
        exit
    }

    /// Statements from a pipe: each result printed, the exit code says whether any failed.
    pub(super) fn piped(&mut self) -> Exit {
        let syntax = crate::script::engine::parser();
        let mut failed = false;
        let mut buffer = String::new();
        let mut start_line = 0;
        for (n, line) in std::io::stdin().lock().lines().enumerate() {
            let line = match line {
                Ok(l) => l,
                Err(e) => {
                    say(Error::input(format!("cannot read standard input: {e}")));
                    return Exit::Input;
                }
            };
            if buffer.is_empty() {
                if line.trim().is_empty() {
                    continue;
                }
                start_line = n + 1;
            } else {
                buffer.push('\n');
            }
            buffer.push_str(&line);
            if input::is_incomplete(&syntax, &buffer) {
                continue;
            }
            let text = std::mem::take(&mut buffer);
            match self.input(&text) {
                Done::Ok => {}
                Done::Failed => failed = true,
                Done::Interrupted => return Exit::Interrupted,
                Done::Quit => break,
            }
        }
        if !buffer.is_empty() {
            say(Error::input(format!(
                "standard input ended inside the statement that starts on line {start_line}"
            )));
            failed = true;
        }
        if failed { Exit::Runtime } else { Exit::Ok }
    }
}

/// The history file, beside the journal in the user's state folder.
fn history_path() -> Option<PathBuf> {
    journal::default_path().map(|p| p.with_file_name("repl_history"))
}

/// Append the new entry to the shared history file; only the owner may read it.
fn save_history(
    editor: &mut rustyline::Editor<editor::ReplHelper, rustyline::history::FileHistory>,
    path: &Path,
) {
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let _ = editor.append_history(path);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
    }
}
