//! `onboard docs` and `onboard definitions`: every function, field and library, for people and editors.

use serde_json::Value as Json;

use crate::common::{onboard, output, write};

#[test]
fn docs_list_vendor_functions_and_fields() {
    let out = output(onboard().args(["docs", "--format", "json"]));
    assert_eq!(out.code, 0, "{}", out.all());
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let names: Vec<String> = doc["functions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{}::{}",
                f["namespace"].as_str().unwrap(),
                f["name"].as_str().unwrap()
            )
        })
        .collect();
    for v in ["cyberark", "pam360", "appmanager"] {
        for f in [
            "create_user",
            "get_user",
            "user_exists",
            "delete_user",
            "ensure_user",
        ] {
            assert!(
                names.contains(&format!("{v}::{f}")),
                "{v}::{f} missing from {names:?}"
            );
        }
    }
    assert!(names.contains(&"::random_password".to_string()));
    let cyberark = &doc["vendors"][0];
    let keys: Vec<&str> = cyberark["request"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["key"].as_str().unwrap())
        .collect();
    assert!(keys.contains(&"personal_details.first_name"), "{keys:?}");

    let text = output(onboard().args(["docs", "cyberark::create_user"]));
    assert_eq!(text.code, 0);
    assert!(text.stdout.contains("personal_details"), "{}", text.stdout);
    let missing = output(onboard().args(["docs", "cyberark::creat_user"]));
    assert_eq!(missing.code, 2);
    assert!(
        missing
            .stderr
            .contains("did you mean `cyberark::create_user`?"),
        "{}",
        missing.stderr
    );
}

#[test]
fn docs_json_has_every_vendor_function_and_field_and_the_libraries() {
    let dir = tempfile::tempdir().expect("temp dir");
    write(
        &dir.path().join("acme/onboard-lib.toml"),
        "name = \"acme\"\nversion = \"1.0.0\"\n",
    );
    write(
        &dir.path().join("acme/names.rhai"),
        "//! ACME names.\n\n/// The ACME login of a person.\nfn login(person) { person.first_name }\n",
    );
    let out = output(
        onboard()
            .env("ONBOARD_PATH", dir.path())
            .args(["docs", "--format", "json"]),
    );
    assert_eq!(out.code, 0, "{}", out.all());
    let doc: Json = serde_json::from_str(&out.stdout).expect("JSON");
    let fns: Vec<(String, String)> = doc["functions"]
        .as_array()
        .expect("functions")
        .iter()
        .map(|f| {
            (
                f["namespace"].as_str().unwrap_or_default().to_string(),
                f["name"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    for vendor in ["cyberark", "pam360", "appmanager"] {
        for f in [
            "create_user",
            "get_user",
            "user_exists",
            "delete_user",
            "ensure_user",
        ] {
            assert!(fns.contains(&(vendor.into(), f.into())), "{vendor}::{f}");
        }
    }
    for (ns, f) in [
        ("std/naming", "username"),
        ("std/onboarding", "new_hire"),
        ("std/checks", "assert_eq"),
        ("acme/names", "login"),
    ] {
        assert!(fns.contains(&(ns.into(), f.into())), "{ns}::{f}");
    }
    let login = doc["functions"]
        .as_array()
        .and_then(|a| a.iter().find(|f| f["name"] == "login"))
        .expect("login");
    assert_eq!(login["doc"], "The ACME login of a person.");
    let cyberark = doc["vendors"]
        .as_array()
        .and_then(|v| v.iter().find(|v| v["name"] == "cyberark"))
        .expect("cyberark");
    let keys: Vec<&str> = cyberark["request"]["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .filter_map(|f| f["key"].as_str())
        .collect();
    for k in [
        "username",
        "initial_password",
        "personal_details",
        "personal_details.first_name",
        "email",
    ] {
        assert!(keys.contains(&k), "{k}: {keys:?}");
    }
}

#[test]
fn definitions_are_written_and_parse() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = output(onboard().arg("definitions").arg(dir.path()));
    assert_eq!(out.code, 0, "{}", out.all());
    let mut seen = Vec::new();
    for entry in std::fs::read_dir(dir.path()).expect("definitions folder") {
        let path = entry.expect("entry").path();
        let text = std::fs::read_to_string(&path).expect("read");
        if let Err(e) = definitions::parse(&text) {
            panic!("{}: {e}", path.display());
        }
        seen.push(
            path.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
        );
    }
    for f in [
        "cyberark.d.rhai",
        "pam360.d.rhai",
        "appmanager.d.rhai",
        "std_naming.d.rhai",
        "__static__.d.rhai",
    ] {
        assert!(seen.iter().any(|s| s == f), "{f}: {seen:?}");
    }
    let cyberark = std::fs::read_to_string(dir.path().join("cyberark.d.rhai")).expect("read");
    assert!(
        cyberark.contains("fn create_user(request: map) -> CyberArkUser;"),
        "{cyberark}"
    );
    let naming = std::fs::read_to_string(dir.path().join("std_naming.d.rhai")).expect("read");
    assert!(naming.contains("module \"std/naming\";"), "{naming}");
    assert!(
        naming.contains("fn username(first: ?, last: ?, style: ?) -> ?;"),
        "{naming}"
    );
}

/// A checker for the definition-file grammar of the Rhai language server (rhai-lsp's `RhaiDef`):
/// `module NAME;` then `fn`, `op`, `const`, `let`, `import` and `type` items with typed parameters.
mod definitions {
    #[derive(Debug, Clone, PartialEq)]
    enum Tok {
        Ident(String),
        Str,
        Num,
        Punct(String),
    }

    fn lex(text: &str) -> Result<Vec<Tok>, String> {
        let mut out = Vec::new();
        let b: Vec<char> = text.chars().collect();
        let mut i = 0;
        while i < b.len() {
            let c = b[i];
            if c.is_whitespace() {
                i += 1;
            } else if c == '/' && b.get(i + 1) == Some(&'/') {
                while i < b.len() && b[i] != '\n' {
                    i += 1;
                }
            } else if c == '/' && b.get(i + 1) == Some(&'*') {
                while i + 1 < b.len() && !(b[i] == '*' && b[i + 1] == '/') {
                    i += 1;
                }
                i += 2;
            } else if c.is_alphabetic() || c == '_' {
                let s = i;
                while i < b.len() && (b[i].is_alphanumeric() || b[i] == '_') {
                    i += 1;
                }
                out.push(Tok::Ident(b[s..i].iter().collect()));
            } else if c.is_ascii_digit() {
                while i < b.len() && (b[i].is_ascii_digit() || b[i] == '.') {
                    i += 1;
                }
                out.push(Tok::Num);
            } else if c == '"' {
                i += 1;
                while i < b.len() && b[i] != '"' {
                    i += if b[i] == '\\' { 2 } else { 1 };
                }
                i += 1;
                out.push(Tok::Str);
            } else {
                const MULTI: [&str; 25] = [
                    "...", "..=", "**=", "<<=", ">>=", "..", "->", "#{", "**", "==", "!=", "<=",
                    ">=", "&&", "||", "<<", ">>", "+=", "-=", "*=", "/=", "%=", "|=", "&=", "^=",
                ];
                let rest: String = b[i..b.len().min(i + 3)].iter().collect();
                let p = MULTI
                    .iter()
                    .find(|m| rest.starts_with(**m))
                    .map_or_else(|| c.to_string(), |m| m.to_string());
                i += p.chars().count();
                out.push(Tok::Punct(p));
            }
        }
        Ok(out)
    }

    struct P {
        t: Vec<Tok>,
        i: usize,
    }

    impl P {
        fn peek(&self) -> Option<&Tok> {
            self.t.get(self.i)
        }
        fn next(&mut self) -> Result<Tok, String> {
            let t = self.t.get(self.i).cloned().ok_or("unexpected end")?;
            self.i += 1;
            Ok(t)
        }
        fn punct(&mut self, p: &str) -> Result<(), String> {
            match self.next()? {
                Tok::Punct(q) if q == p => Ok(()),
                t => Err(format!("expected `{p}`, found {t:?} at token {}", self.i)),
            }
        }
        fn is(&self, p: &str) -> bool {
            matches!(self.peek(), Some(Tok::Punct(q)) if q == p)
        }
        fn ident(&mut self) -> Result<String, String> {
            match self.next()? {
                Tok::Ident(s) => Ok(s),
                t => Err(format!("expected a name, found {t:?} at token {}", self.i)),
            }
        }
        fn ty(&mut self) -> Result<(), String> {
            match self.next()? {
                Tok::Punct(p) if p == "?" => Ok(()),
                Tok::Punct(p) if p == "(" => self.list(")", |s| s.ty()),
                Tok::Punct(p) if p == "[" => self.list("]", |s| s.ty()),
                Tok::Punct(p) if p == "#{" => self.list("}", |s| {
                    s.next()?;
                    s.punct(":")?;
                    s.ty()
                }),
                Tok::Ident(name) => {
                    // Rhai writes an inclusive range's type as `range=`.
                    if name == "range" && self.is("=") {
                        self.next()?;
                    }
                    if self.is("<") {
                        self.next()?;
                        self.list(">", |s| s.ty())?;
                    }
                    Ok(())
                }
                Tok::Str | Tok::Num => Ok(()),
                t => Err(format!("expected a type, found {t:?} at token {}", self.i)),
            }
        }
        fn list(
            &mut self,
            close: &str,
            item: impl Fn(&mut P) -> Result<(), String>,
        ) -> Result<(), String> {
            while !self.is(close) {
                item(self)?;
                if !self.is(close) {
                    self.punct(",")?;
                }
            }
            self.punct(close)
        }
    }

    pub fn parse(text: &str) -> Result<(), String> {
        let mut p = P {
            t: lex(text)?,
            i: 0,
        };
        match p.next()? {
            Tok::Ident(m) if m == "module" => {}
            t => return Err(format!("a definition file starts with `module`, not {t:?}")),
        }
        if !p.is(";") {
            p.next()?;
        }
        p.punct(";")?;
        while p.peek().is_some() {
            if p.is(";") {
                p.next()?;
                continue;
            }
            match p.ident()?.as_str() {
                "fn" => {
                    let first = p.ident()?;
                    let _ = first;
                    if !p.is("(") {
                        p.ident()?;
                    }
                    p.punct("(")?;
                    p.list(")", |s| {
                        if s.is("...") {
                            s.next()?;
                        }
                        s.ident()?;
                        s.punct(":")?;
                        s.ty()
                    })?;
                    if p.is("->") {
                        p.next()?;
                        p.ty()?;
                    }
                }
                "op" => {
                    p.next()?;
                    p.punct("(")?;
                    p.list(")", |s| s.ty())?;
                    if p.is("->") {
                        p.next()?;
                        p.ty()?;
                    }
                }
                "const" | "let" => {
                    p.ident()?;
                    if p.is(":") {
                        p.next()?;
                        p.ty()?;
                    }
                }
                "type" => {
                    p.ident()?;
                    p.punct("=")?;
                    if p.is("...") {
                        p.next()?;
                    } else {
                        p.ty()?;
                    }
                }
                "module" => {
                    p.ident()?;
                    p.punct("{")?;
                    let mut depth = 1;
                    while depth > 0 {
                        match p.next()? {
                            Tok::Punct(x) if x == "{" || x == "#{" => depth += 1,
                            Tok::Punct(x) if x == "}" => depth -= 1,
                            _ => {}
                        }
                    }
                    continue;
                }
                other => return Err(format!("unexpected `{other}` at token {}", p.i)),
            }
            p.punct(";")?;
        }
        Ok(())
    }
}
