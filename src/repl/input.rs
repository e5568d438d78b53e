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

/// A line for the history file must not hold a secret: one that calls `reveal()`, or where a
/// string literal reaches anything named like a secret (`secret::looks_secret`: a key, a
/// variable, an index, a property or a function such as `secret(…)`), whether directly, inside
/// brackets or an expression, or through a variable the same line gives a literal.
pub fn holds_secret(line: &str) -> bool {
    if line.to_ascii_lowercase().contains("reveal(") {
        return true;
    }
    let tokens = tokens(line);
    // Variables this line gives a string literal, which carry it on.
    let carriers: Vec<&str> = tokens
        .windows(3)
        .filter_map(|w| match w {
            [Token::Name(n), Token::Assign, Token::Literal] => Some(*n),
            _ => None,
        })
        .collect();
    tokens.iter().enumerate().any(|(i, t)| {
        let (Token::Name(name) | Token::Quoted(name)) = t else {
            return false;
        };
        if !crate::util::secret::looks_secret(name) {
            return false;
        }
        // `name: …`, `name = …`, `m["name"] = …`, `name(…)`; a quoted name has its literal
        // token after it.
        let mut j = if matches!(t, Token::Quoted(_)) {
            i + 2
        } else {
            i + 1
        };
        if tokens.get(j) == Some(&Token::Close(b']')) {
            j += 1;
        }
        match tokens.get(j) {
            Some(Token::Colon | Token::Assign) => {}
            Some(Token::Open(b'(')) => j = j.saturating_sub(1),
            _ => return false,
        }
        reaches(value(&tokens[j + 1..]), &carriers)
    })
}

/// Whether a value holds a literal (or a variable carrying one) that becomes the value: the
/// arguments of a call inside it (`env("VAR")`) do not, unless the call is named like a secret.
fn reaches(value: &[Token<'_>], carriers: &[&str]) -> bool {
    let mut i = 0;
    while i < value.len() {
        match value[i] {
            Token::Literal => return true,
            Token::Name(n) if carriers.contains(&n) => return true,
            Token::Name(n)
                if value.get(i + 1) == Some(&Token::Open(b'('))
                    && !crate::util::secret::looks_secret(n) =>
            {
                // Skip the call's arguments.
                let mut depth = 0usize;
                i += 1;
                while i < value.len() {
                    match value[i] {
                        Token::Open(_) => depth += 1,
                        Token::Close(_) => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                    i += 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    false
}

/// What a line is made of, as far as finding secrets in it needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Token<'a> {
    Name(&'a str),
    /// A string literal's text when it may be a key (`"password": …`, `m["password"]`).
    Quoted(&'a str),
    Literal,
    Colon,
    /// `=` or `+=` (not `==` or `=>`).
    Assign,
    Open(u8),
    Close(u8),
    Sep,
    Other,
}

fn tokens(line: &str) -> Vec<Token<'_>> {
    let b = line.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_alphabetic() || c == b'_' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            out.push(Token::Name(&line[start..i]));
            continue;
        }
        match c {
            b'"' | b'`' | b'\'' => {
                let start = i + 1;
                i = start;
                while i < b.len() && b[i] != c {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                let text = line.get(start..i.min(b.len())).unwrap_or_default();
                // A quoted name followed by `:` or `]` may be a key; it is a literal either way.
                out.push(Token::Quoted(text));
                out.push(Token::Literal);
            }
            b':' if b.get(i + 1) == Some(&b':') => i += 1,
            b':' => out.push(Token::Colon),
            b'=' if matches!(b.get(i + 1), Some(b'=') | Some(b'>')) => i += 1,
            b'=' => out.push(Token::Assign),
            b'(' | b'[' | b'{' => out.push(Token::Open(c)),
            b')' | b']' | b'}' => out.push(Token::Close(c)),
            b',' | b';' => out.push(Token::Sep),
            b' ' | b'\t' | b'+' => {}
            _ => out.push(Token::Other),
        }
        i += 1;
    }
    // A quoted text is a key only where a key can be: drop it elsewhere, keep the literal.
    let mut keyed = Vec::with_capacity(out.len());
    for (k, t) in out.iter().enumerate() {
        if let Token::Quoted(_) = t {
            let next = out.get(k + 2);
            if !matches!(next, Some(Token::Colon) | Some(Token::Close(b']'))) {
                continue;
            }
        }
        keyed.push(*t);
    }
    keyed
}

/// The tokens of one value: up to the next separator or unmatched closing bracket.
fn value<'t, 'a>(tokens: &'t [Token<'a>]) -> &'t [Token<'a>] {
    let mut depth = 0usize;
    for (i, t) in tokens.iter().enumerate() {
        match t {
            Token::Open(_) => depth += 1,
            Token::Close(_) if depth == 0 => return &tokens[..i],
            Token::Close(_) => depth -= 1,
            Token::Sep if depth == 0 => return &tokens[..i],
            _ => {}
        }
    }
    tokens
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
            "let pw = \"Hunter2!\";",
            "let pass = \"x\";",
            "let passphrase = \"correct horse\";",
            "let pin = \"1234\";",
            "let key = \"k\";",
            "let auth = \"a\";",
            "let bearer = \"b\";",
            "let t = #{pass: \"x\"};",
            "m[\"password\"] = \"x\";",
            "cyberark::create_user(#{ username: \"a\", initial_password: (\"x\") })",
            "user.password = \"x\";",
            "let x = \"Hunter2!\"; cyberark::create_user(#{ username: \"a\", initial_password: x })",
            "let p = secret(\"a\" + \"b\");",
            "#{ token: [\"x\"] }",
            "pw += \"more\";",
        ] {
            assert!(holds_secret(line), "{line}");
        }
        for line in [
            "cyberark::create_user(#{ username: \"a\", initial_password: random_password(20) })",
            "let p = random_password(16);",
            "print(token_count)",
            "let s = secret(env(\"X\"));",
            "let name = \"jdoe\"; if pw == \"x\" { 1 }",
            "m[\"username\"] = \"jdoe\";",
            "cyberark::create_user(#{ username: \"a\", initial_password: pw })",
            "let p = #{ password: random_password(12), email: \"a@example.com\" };",
        ] {
            assert!(!holds_secret(line), "{line}");
        }
    }
}
