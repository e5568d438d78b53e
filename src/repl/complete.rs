//! Tab completion: namespaces, functions, variables and commands, and inside a vendor call the
//! keys of its request map and the values a key takes.

use crate::vendors::schema::{Field, Kind};
use crate::vendors::{self, REQUEST_FNS};

use super::input::{Open, scan};

/// What completion draws names from, refreshed after every input.
#[derive(Debug, Default, Clone)]
pub struct Names {
    pub namespaces: Vec<String>,
    /// `(namespace, name)`; the namespace is empty for global functions.
    pub functions: Vec<(String, String)>,
    pub variables: Vec<String>,
    /// Functions the session defined.
    pub script_fns: Vec<String>,
    pub profiles: Vec<String>,
}

/// One choice: what the list shows and what goes into the line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub display: String,
    pub replacement: String,
}

impl Choice {
    fn new(display: impl Into<String>, replacement: impl Into<String>) -> Self {
        Choice {
            display: display.into(),
            replacement: replacement.into(),
        }
    }
}

/// The REPL's commands, with what each does, for completion and `:help`.
pub const COMMANDS: &[(&str, &str)] = &[
    (
        ":help",
        "this list; `:help NAME` for a function or namespace, with every field",
    ),
    (":vars", "the variables defined so far"),
    (":fns", "the functions defined so far"),
    (
        ":profile",
        "`:profile NAME`: switch profile (logs off, logs on again); alone: list them",
    ),
    (":sim", "`:sim on|off`: use the built-in simulator"),
    (
        ":dry-run",
        "`:dry-run on|off`: check calls, send nothing that changes anything",
    ),
    (":load", "`:load FILE`: run a script file into this session"),
    (":journal", "what this session created, deleted or planned"),
    (":clear", "forget every variable, function and import"),
    (":quit", "leave (logs off CyberArk); Ctrl-D does the same"),
];

const KEYWORDS: &[&str] = &[
    "let", "const", "fn", "if", "else", "switch", "for", "in", "while", "loop", "do", "until",
    "break", "continue", "return", "throw", "try", "catch", "import", "export", "as", "true",
    "false", "this", "private",
];

/// The byte where the replaced text starts, and the choices, for the cursor at `pos` of `line`.
pub fn complete(line: &str, pos: usize, names: &Names) -> (usize, Vec<Choice>) {
    let pos = pos.min(line.len());
    let before = &line[..pos];
    if let Some(found) = command(before, names) {
        return found;
    }
    let s = scan(before);
    if let Some((quote, at)) = s.string {
        if quote != b'"' {
            return (pos, Vec::new());
        }
        let prefix = &before[at + 1..];
        let close = if line[pos..].starts_with('"') {
            ""
        } else {
            "\""
        };
        let mut values = enum_values(before, at, &s.open);
        if values.is_empty() {
            values = level_names(before, at, &s.open);
        }
        let choices = values
            .iter()
            .filter(|v| starts_with_ignore_case(v, prefix))
            .map(|v| Choice::new(*v, format!("{v}{close}")))
            .collect();
        return (at + 1, choices);
    }
    let start = before
        .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
        .map_or(0, |i| i + 1);
    let word = &before[start..];
    // A key of a request map: right after `#{` or a `,` inside a map a vendor call takes.
    if let Some(&(Open::Map, _)) = s.open.last() {
        let lead = before[..start].trim_end();
        if (lead.ends_with('{') || lead.ends_with(','))
            && let Some(fields) = map_fields(before, &s.open, s.open.len() - 1)
        {
            let choices = fields
                .iter()
                .filter(|f| f.key.starts_with(word))
                .map(|f| Choice::new(f.key, f.key))
                .collect();
            return (start, choices);
        }
    }
    (start, words(word, names))
}

/// Completion of `:commands` and their arguments.
fn command(before: &str, names: &Names) -> Option<(usize, Vec<Choice>)> {
    let text = before.trim_start();
    if !text.starts_with(':') || before.contains('\n') {
        return None;
    }
    let offset = before.len() - text.len();
    let Some((cmd, arg)) = text.split_once(' ') else {
        let choices = COMMANDS
            .iter()
            .filter(|(c, _)| c.starts_with(text))
            .map(|(c, _)| Choice::new(*c, *c))
            .collect();
        return Some((offset, choices));
    };
    let arg_start = before.len() - arg.len();
    let pick = |options: Vec<String>| -> Option<(usize, Vec<Choice>)> {
        let choices = options
            .into_iter()
            .filter(|o| o.starts_with(arg))
            .map(|o| Choice::new(o.clone(), o))
            .collect();
        Some((arg_start, choices))
    };
    match cmd {
        ":help" => {
            let mut all: Vec<String> = names.namespaces.clone();
            all.extend(names.functions.iter().map(|(ns, f)| qualified(ns, f)));
            all.extend(COMMANDS.iter().map(|(c, _)| c.to_string()));
            all.sort();
            all.dedup();
            pick(all)
        }
        ":profile" => pick(names.profiles.clone()),
        ":sim" | ":dry-run" => pick(vec!["on".into(), "off".into()]),
        // `:load` is left to the file-name completer.
        _ => None,
    }
}

fn qualified(ns: &str, name: &str) -> String {
    if ns.is_empty() {
        name.to_string()
    } else {
        format!("{ns}::{name}")
    }
}

/// Names for a word: `ns::prefix` completes functions of `ns`; anything else namespaces,
/// functions, variables and keywords. Names that start with the word come first; when there are
/// none, names holding its letters in order (`cya` finds `cyberark`).
fn words(word: &str, names: &Names) -> Vec<Choice> {
    let found = words_matching(word, names, &|name: &str, w: &str| name.starts_with(w));
    if !found.is_empty() {
        return found;
    }
    words_matching(word, names, &in_order)
}

/// Whether `name` has the letters of `word` in order, starting with its first.
fn in_order(name: &str, word: &str) -> bool {
    let mut letters = name.chars();
    let mut wanted = word.chars();
    match (letters.next(), wanted.next()) {
        (Some(a), Some(b)) if a == b => {}
        (_, None) => return true,
        _ => return false,
    }
    wanted.all(|w| letters.any(|c| c == w))
}

fn words_matching(word: &str, names: &Names, matches: &dyn Fn(&str, &str) -> bool) -> Vec<Choice> {
    let mut out: Vec<Choice> = Vec::new();
    if let Some((ns, prefix)) = word.rsplit_once("::") {
        for (n, f) in &names.functions {
            if n == ns && matches(f, prefix) {
                out.push(Choice::new(f.clone(), format!("{ns}::{f}(")));
            }
        }
    } else if !word.is_empty() {
        for ns in names.namespaces.iter().filter(|n| matches(n, word)) {
            out.push(Choice::new(format!("{ns}::"), format!("{ns}::")));
        }
        let globals = names
            .functions
            .iter()
            .filter(|(ns, _)| ns.is_empty())
            .map(|(_, f)| f)
            .chain(&names.script_fns);
        for f in globals.filter(|f| matches(f, word)) {
            out.push(Choice::new(f.clone(), format!("{f}(")));
        }
        for v in names.variables.iter().filter(|v| matches(v, word)) {
            out.push(Choice::new(v.clone(), v.clone()));
        }
        for k in KEYWORDS.iter().filter(|k| matches(k, word)) {
            out.push(Choice::new(*k, format!("{k} ")));
        }
    }
    out.sort_by(|a, b| a.display.cmp(&b.display));
    out.dedup_by(|a, b| a.display == b.display);
    out
}

/// The fields of the map opened at `open[index]`, when it is the request of a vendor call
/// (`cyberark::create_user(#{`) or a map-valued field of one (`personal_details: #{`).
fn map_fields(text: &str, open: &[(Open, usize)], index: usize) -> Option<&'static [Field]> {
    let &(Open::Map, at) = open.get(index)? else {
        return None;
    };
    // `at` is the `{` of `#{`.
    let lead = text[..at.saturating_sub(1)].trim_end();
    if let Some(key) = key_before(lead) {
        let parent = map_fields(text, open, index.checked_sub(1)?)?;
        return match &parent.iter().find(|f| f.key == key)?.kind {
            Kind::Object(inner) => Some(inner),
            _ => None,
        };
    }
    let call = lead.strip_suffix('(')?;
    let &(Open::Paren, paren) = open.get(index.checked_sub(1)?)? else {
        return None;
    };
    if paren != call.len() {
        return None;
    }
    let name_start = call
        .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
        .map_or(0, |i| i + 1);
    let (ns, function) = call[name_start..].rsplit_once("::")?;
    let vendor = vendors::find(ns)?;
    REQUEST_FNS
        .contains(&function)
        .then_some(vendor.create.fields)
}

/// `name` when `lead` ends with `name:` (a map key).
fn key_before(lead: &str) -> Option<&str> {
    let lead = lead.strip_suffix(':')?.trim_end();
    let lead = lead.strip_suffix('"').unwrap_or(lead);
    let start = lead
        .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .map_or(0, |i| i + 1);
    let key = &lead[start..];
    (!key.is_empty() && !lead[..start].ends_with(':')).then_some(key)
}

/// The values the key before the string at `quote` takes: `role: "OP` or `roles: ["OP`.
fn enum_values(text: &str, quote: usize, open: &[(Open, usize)]) -> &'static [&'static str] {
    let lead = text[..quote].trim_end();
    let (map_index, key) = match open.last() {
        Some((Open::Map, _)) => (open.len() - 1, key_before(lead)),
        Some(&(Open::Bracket, at)) if open.len() >= 2 => {
            (open.len() - 2, key_before(text[..at].trim_end()))
        }
        _ => return &[],
    };
    let Some(key) = key else { return &[] };
    let Some(fields) = map_fields(text, open, map_index) else {
        return &[];
    };
    match fields.iter().find(|f| f.key == key).map(|f| &f.kind) {
        Some(Kind::OneOf(values) | Kind::ListOf(values)) => values,
        Some(Kind::Bool) => &["true", "false"],
        _ => &[],
    }
}

/// The names of an access level (safe presets, share levels) where the string at `quote` gives
/// one: the level argument of a grant (`add_safe_member("S", u, "`), or `preset:`/`level:` in
/// a map given to a vendor's access call (`grant(u, #{ safe: "S", preset: "`).
fn level_names(text: &str, quote: usize, open: &[(Open, usize)]) -> &'static [&'static str] {
    let Some(&(_, paren)) = open.iter().rev().find(|(o, _)| *o == Open::Paren) else {
        return &[];
    };
    let call = &text[..paren];
    let start = call
        .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
        .map_or(0, |i| i + 1);
    let Some((ns, function)) = call[start..].rsplit_once("::") else {
        return &[];
    };
    let Some(vendor) = vendors::find(ns) else {
        return &[];
    };
    let in_map = matches!(open.last(), Some((Open::Map, _)));
    let key = key_before(text[..quote].trim_end());
    for kind in vendor.access {
        let Some(level) = kind.level else { continue };
        let grants = function == kind.grant_fn || Some(function) == kind.update_fn;
        let by_data = matches!(function, "grant" | "ensure_access");
        if in_map && (grants || by_data) && key.is_some_and(|k| level.keys.contains(&k)) {
            return level.names;
        }
        // A direct argument: the level is the last one a grant takes.
        if !in_map
            && grants
            && text[paren + 1..quote].matches(',').count() + 1 == kind.grant_arity()
        {
            return level.names;
        }
    }
    &[]
}

fn starts_with_ignore_case(value: &str, prefix: &str) -> bool {
    value
        .get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Names {
        Names {
            namespaces: vec!["cyberark".into(), "pam360".into(), "appmanager".into()],
            functions: vec![
                ("cyberark".into(), "create_user".into()),
                ("cyberark".into(), "get_user".into()),
                (String::new(), "random_password".into()),
            ],
            variables: vec!["vault".into()],
            script_fns: vec!["greet".into()],
            profiles: vec!["staging".into()],
        }
    }

    fn shown(line: &str) -> Vec<String> {
        complete(line, line.len(), &names())
            .1
            .into_iter()
            .map(|c| c.replacement)
            .collect()
    }

    #[test]
    fn namespaces_functions_and_variables() {
        assert_eq!(shown("cya"), ["cyberark::"]);
        assert_eq!(shown("let u = cyberark::cr"), ["cyberark::create_user("]);
        assert_eq!(shown("print(va"), ["vault"]);
        assert_eq!(shown("gr"), ["greet("]);
        assert_eq!(shown("rand"), ["random_password("]);
        assert_eq!(shown("cyb"), ["cyberark::"]);
        assert_eq!(shown("cyberark::gu"), ["cyberark::get_user("]);
        assert!(shown("zzz").is_empty());
    }

    #[test]
    fn access_levels_by_name() {
        let line = "cyberark::add_safe_member(\"NOC-Shared\", u, \"re";
        assert_eq!(shown(line), ["retrieve\""]);
        assert_eq!(
            shown("cyberark::grant(u, #{ safe: \"X\", preset: \"fu"),
            ["full\""]
        );
        assert_eq!(
            shown("pam360::share_account(\"r\", \"a\", u, \"v"),
            ["view\""]
        );
        // Not the safe's name.
        assert!(shown("cyberark::add_safe_member(\"u").is_empty());
    }

    #[test]
    fn request_keys_and_values() {
        assert_eq!(shown("cyberark::create_user(#{ pers"), ["personal_details"]);
        assert!(
            shown("cyberark::create_user(#{ username: \"a\", personal_details: #{ str")
                .contains(&"street".to_string())
        );
        assert_eq!(
            shown("appmanager::create_user(#{ username: \"a\", role: \"OP"),
            ["OPERATOR\""]
        );
        assert_eq!(
            shown("appmanager::create_user(#{ username: \"a\", role: \"op"),
            ["OPERATOR\""]
        );
        // Not a key position: a value.
        assert!(
            !shown("cyberark::create_user(#{ username: pers")
                .contains(&"personal_details".to_string())
        );
    }

    #[test]
    fn commands_and_their_arguments() {
        assert_eq!(shown(":he"), [":help"]);
        assert_eq!(shown(":help cyberark::g"), ["cyberark::get_user"]);
        assert_eq!(shown(":profile st"), ["staging"]);
        assert_eq!(shown(":sim o"), ["on", "off"]);
    }
}
