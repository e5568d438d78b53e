//! Reading REPL input: where brackets and strings are open, whether an input is finished, and
//! whether a line holds a secret that must stay out of the history file.

use rhai::{Engine, ParseErrorType};

/// A bracket that is open at the end of the text scanned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Open {
    Paren,
    Bracket,
    Brace,
    /// `#{`: a map literal.
    Map,
    /// `${` inside a backtick string.
    Interpolation,
}

/// What is open at the end of some text: the brackets (innermost last, with the byte where each
/// opens), a string, a block comment.
#[derive(Debug, Default)]
pub struct Scan {
    pub open: Vec<(Open, usize)>,
    /// The quote and the byte it is at.
    pub string: Option<(u8, usize)>,
    pub comment: bool,
    /// A closing bracket that matches nothing, or a `"` string cut by a line end: the input
    /// cannot be completed by more lines, so it is finished (and wrong).
    pub broken: bool,
}

/// Scan Rhai source for what is left open at its end. Only ASCII bytes matter, so byte indexing
/// is safe inside UTF-8 text.
pub fn scan(text: &str) -> Scan {
    let b = text.as_bytes();
    let mut s = Scan::default();
    let mut depth = 0usize;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied();
        if depth > 0 {
            match (c, next) {
                (b'*', Some(b'/')) => {
                    depth -= 1;
                    i += 2;
                }
                (b'/', Some(b'*')) => {
                    depth += 1;
                    i += 2;
                }
                _ => i += 1,
            }
            continue;
        }
        if let Some((quote, _)) = s.string {
            match c {
                b'\\' if quote != b'`' => i += 2,
                b'$' if quote == b'`' && next == Some(b'{') => {
                    s.open.push((Open::Interpolation, i));
                    s.string = None;
                    i += 2;
                }
                b'\n' if quote != b'`' => {
                    s.string = None;
                    s.broken = true;
                    i += 1;
                }
                _ => {
                    if c == quote {
                        s.string = None;
                    }
                    i += 1;
                }
            }
            continue;
        }
        match (c, next) {
            (b'/', Some(b'/')) => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            (b'/', Some(b'*')) => {
                depth = 1;
                i += 2;
                continue;
            }
            (b'"' | b'`' | b'\'', _) => s.string = Some((c, i)),
            (b'#', Some(b'{')) => {
                s.open.push((Open::Map, i + 1));
                i += 2;
                continue;
            }
            (b'(', _) => s.open.push((Open::Paren, i)),
            (b'[', _) => s.open.push((Open::Bracket, i)),
            (b'{', _) => s.open.push((Open::Brace, i)),
            (b')' | b']' | b'}', _) => match (s.open.pop(), c) {
                (Some((Open::Paren, _)), b')')
                | (Some((Open::Bracket, _)), b']')
                | (Some((Open::Brace | Open::Map, _)), b'}') => {}
                (Some((Open::Interpolation, at)), b'}') => s.string = Some((b'`', at)),
                _ => s.broken = true,
            },
            _ => {}
        }
        i += 1;
    }
    s.comment = depth > 0;
    s
}

/// Whether `text` is the start of a statement that more lines would finish: an open bracket,
/// string or comment, a trailing backslash, or Rhai expecting more at the end of the input.
pub fn is_incomplete(engine: &Engine, text: &str) -> bool {
    let trimmed = text.trim_end();
    if trimmed.is_empty() || trimmed.starts_with(':') && !trimmed.contains('\n') {
        return false;
    }
    if trimmed.ends_with('\\') {
        return true;
    }
    let s = scan(text);
    if s.broken {
        return false;
    }
    // Rhai accepts a block comment left open at the end.
    if s.comment {
        return true;
    }
    let err = match engine.compile(text) {
        Ok(_) => return false,
        Err(e) => e,
    };
    !s.open.is_empty()
        || s.string.is_some()
        || matches!(err.err_type(), ParseErrorType::UnexpectedEOF)
}

/// A line for the history file must not hold a secret: one that calls `reveal()` or `secret()`
/// with a literal, or gives a literal to a key or variable named like a password, token or key.
pub fn holds_secret(line: &str) -> bool {
    let lower = line.to_ascii_lowercase();
    if lower.contains("reveal(") {
        return true;
    }
    let b = lower.as_bytes();
    let literal_after = |mut i: usize, opener: &[u8]| -> bool {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i < b.len() && opener.contains(&b[i]) {
            i += 1;
        } else {
            return false;
        }
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        i < b.len() && matches!(b[i], b'"' | b'`' | b'\'')
    };
    if let Some(at) = lower.find("secret(")
        && literal_after(at + "secret".len(), b"(")
    {
        return true;
    }
    const SECRET_WORDS: &[&str] = &[
        "password",
        "passwd",
        "pwd",
        "token",
        "apikey",
        "api_key",
        "secret",
        "credential",
    ];
    // Every identifier (or quoted key) followed by `:` or `=` and a literal.
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_alphanumeric() || b[i] == b'_' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            let word = &lower[start..i];
            let end = if b.get(i) == Some(&b'"') { i + 1 } else { i };
            if SECRET_WORDS.iter().any(|w| word.contains(w)) && literal_after(end, b":=") {
                return true;
            }
        } else {
            i += 1;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_brackets_and_strings_continue() {
        let e = Engine::new_raw();
        for text in [
            "fn f(x) {",
            "let m = #{ a: 1,",
            "[1, 2,",
            "print(`line one",
            "let s = `a ${ 1 +",
            "/* a comment",
            "let x = 1 +",
            "print(1) \\",
        ] {
            assert!(is_incomplete(&e, text), "{text}");
        }
        for text in [
            "",
            "let x = 1;",
            "fn f(x) { x + 1 }",
            "foo(1, 2]",
            "let s = \"open\nstring\";",
            ":help cyberark::create_user",
            "let t = `a ${1} b`;",
            "x }",
        ] {
            assert!(!is_incomplete(&e, text), "{text}");
        }
    }

    #[test]
    fn scan_knows_what_is_open() {
        let s = scan("cyberark::create_user(#{ personal_details: #{ street: \"Main");
        let kinds: Vec<Open> = s.open.iter().map(|(k, _)| *k).collect();
        assert_eq!(kinds, [Open::Paren, Open::Map, Open::Map]);
        assert_eq!(s.string.map(|(q, _)| q), Some(b'"'));
        let s = scan("`a ${ #{ b: \"}\" }");
        let kinds: Vec<Open> = s.open.iter().map(|(k, _)| *k).collect();
        assert_eq!(kinds, [Open::Interpolation]);
        assert!(scan("`a ${ x }").string.is_some());
    }

    #[test]
    fn secrets_stay_out_of_history() {
        for line in [
            "let p = v.initial_password.reveal();",
            "cyberark::create_user(#{ username: \"a\", initial_password: \"Hunter2!\" })",
            "let apikey = \"abc\";",
            "let s = secret(\"hunter2\");",
            "#{ \"password\": 'x' }",
            "appmanager::create_user(#{username:\"a\",password:`x`})",
        ] {
            assert!(holds_secret(line), "{line}");
        }
        for line in [
            "cyberark::create_user(#{ username: \"a\", initial_password: random_password(20) })",
            "let p = random_password(16);",
            "print(token_count)",
            "let s = secret(env(\"X\"));",
        ] {
            assert!(!holds_secret(line), "{line}");
        }
    }
}
