//! The REPL's `:` commands: help, what is defined, switching profile, simulator and dry run,
//! loading files, the session's journal.

use std::fmt::Write as _;

use rhai::{AST, Scope};

use crate::run::once::{account_lines, plan_text};
use crate::script::docs;
use crate::script::docs::Format;
use crate::util::error::Error;
use crate::util::suggest;
use crate::vendors::values;

use super::complete::COMMANDS;
use super::{Done, Shell, Target, WIDTH, say};

impl Shell {
    pub(super) fn command(&mut self, line: &str) -> Done {
        let (cmd, arg) = match line.split_once(char::is_whitespace) {
            Some((c, a)) => (c, a.trim()),
            None => (line, ""),
        };
        let result = match cmd {
            ":help" | ":h" | ":?" => self.help(arg),
            ":vars" => Ok(self.vars()),
            ":fns" => Ok(self.fns()),
            ":profile" => self.profile(arg),
            ":sim" => on_off(cmd, arg).and_then(|on| {
                let target = Target {
                    sim: on,
                    ..self.target.clone()
                };
                self.switch(target)
            }),
            ":dry-run" => on_off(cmd, arg).and_then(|on| {
                let target = Target {
                    dry_run: on,
                    ..self.target.clone()
                };
                self.switch(target)
            }),
            ":load" => return self.load(arg),
            ":journal" => Ok(self.journal()),
            ":clear" => {
                self.scope = Scope::new();
                self.fns = AST::empty();
                self.rebuild_engine();
                self.refresh_names();
                Ok("every variable, function and import is forgotten".into())
            }
            ":quit" | ":q" | ":exit" => return Done::Quit,
            _ => Err(format!(
                "unknown command `{cmd}`{}; :help lists them",
                suggest::did_you_mean(cmd, COMMANDS.iter().map(|(c, _)| *c))
            )),
        };
        match result {
            Ok(text) => {
                if !text.is_empty() {
                    crate::outln!("{}", text.trim_end());
                }
                Done::Ok
            }
            Err(e) => {
                say(Error::input(e));
                Done::Failed
            }
        }
    }

    fn help(&self, name: &str) -> Result<String, String> {
        if !name.is_empty() {
            if let Some((c, what)) = COMMANDS.iter().find(|(c, _)| *c == name) {
                return Ok(format!("{c}  {what}"));
            }
            return docs::describe(&self.engine, &self.module_path, Some(name), Format::Text);
        }
        let mut out = String::from("Commands:\n");
        for (c, what) in COMMANDS {
            let _ = writeln!(out, "  {c:<10} {what}");
        }
        out.push_str("\nNamespaces (Tab after `::` lists their functions):\n");
        for v in crate::vendors::ALL {
            let _ = writeln!(out, "  {:<12} {}", format!("{}::", v.name), v.product);
        }
        let globals: Vec<String> = docs::functions(&self.engine)
            .into_iter()
            .filter(|f| f.namespace.is_empty())
            .map(|f| f.name)
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let _ = writeln!(out, "\nFunctions: {}", globals.join(", "));
        out.push_str(
            "\n:help NAME shows a function or namespace (`:help cyberark::create_user` lists every \
             field).\nStatements run as they are entered; an open bracket or string continues on \
             the next line.\nTab completes names, request keys and values; Ctrl-C cancels; Ctrl-D \
             quits.",
        );
        Ok(out)
    }

    fn vars(&self) -> String {
        if self.scope.is_empty() {
            return "no variables yet".into();
        }
        let mut out = String::new();
        for (name, constant, value) in self.scope.iter() {
            let kw = if constant { "const" } else { "let" };
            let _ = writeln!(out, "{kw} {name} = {}", values::pretty(&value, WIDTH));
        }
        out
    }

    fn fns(&self) -> String {
        let mut out = String::new();
        for f in self.fns.iter_functions() {
            for line in f.comments.iter().flat_map(|c| c.lines()) {
                let _ = writeln!(out, "{}", line.trim());
            }
            let _ = writeln!(out, "fn {}({})", f.name, f.params.join(", "));
        }
        if out.is_empty() {
            out = "no functions yet".into();
        }
        out
    }

    fn profile(&mut self, name: &str) -> Result<String, String> {
        if name.is_empty() {
            let names = self
                .names
                .read()
                .map(|n| n.profiles.clone())
                .unwrap_or_default();
            let current = self
                .session
                .profile()
                .map_or("none".to_string(), |p| p.name.clone());
            let available = if names.is_empty() {
                "no onboard.toml with profiles was found".to_string()
            } else {
                format!("profiles: {}", names.join(", "))
            };
            return Ok(format!("profile: {current}\n{available}"));
        }
        let target = Target {
            profile: Some(name.to_string()),
            sim: false,
            ..self.target.clone()
        };
        self.switch(target)
    }

    /// A new session for `target`, saying what changed.
    fn switch(&mut self, target: Target) -> Result<String, String> {
        self.connect(target)?;
        let on = match (self.session.profile(), self.target.sim) {
            (Some(p), true) => format!("the built-in simulator (profile {})", p.name),
            (Some(p), false) => format!("profile {}", p.name),
            (None, _) => "no profile".into(),
        };
        let dry = if self.target.dry_run {
            "; dry run: nothing that changes anything is sent"
        } else {
            ""
        };
        Ok(format!("now on {on}{dry}"))
    }

    fn load(&mut self, path: &str) -> Done {
        if path.is_empty() {
            say(Error::input(
                ":load needs a file: `:load scripts/new_hire.rhai`",
            ));
            return Done::Failed;
        }
        match std::fs::read_to_string(path) {
            Ok(text) => self.eval(&text, path),
            Err(e) => {
                say(Error::input(format!("cannot read {path}: {e}")));
                Done::Failed
            }
        }
    }

    fn journal(&self) -> String {
        let mut events = self.past_events.clone();
        events.extend(self.session.journal.events());
        let mut plan = self.past_plan.clone();
        plan.extend(self.session.planned());
        let mut out = String::new();
        if events.is_empty() {
            out.push_str("this session has changed nothing yet\n");
        } else {
            out.push_str("what this session changed:\n");
            out.push_str(&account_lines(&events));
        }
        if !plan.is_empty() {
            out.push_str(plan_text(&plan).trim_start_matches('\n'));
        }
        if let Some(path) = self.session.journal.path()
            && !events.is_empty()
        {
            let _ = writeln!(
                out,
                "journal: {} (run {})",
                path.display(),
                self.session.journal.run_id()
            );
        }
        out
    }
}

fn on_off(cmd: &str, arg: &str) -> Result<bool, String> {
    match arg {
        "on" => Ok(true),
        "off" => Ok(false),
        _ => Err(format!("{cmd} takes `on` or `off`")),
    }
}
