//! Checks a compiled script before it runs: vendor calls are checked against their contracts, and
//! the vendors it uses are listed, so a typo in the third call stops the run before the first.

use std::collections::{BTreeSet, HashMap};

use rhai::{AST, ASTNode, Dynamic, Engine, Expr, FnCallExpr, Map, Position, Stmt};

use crate::script::bridge;
use crate::util::suggest;
use crate::vendors::{self, REQUEST_FNS, USERNAME_ARG, schema, validate};

/// A problem found without running the script.
#[derive(Debug, Clone)]
pub struct Finding {
    pub message: String,
    pub pos: Position,
}

#[derive(Debug, Default)]
pub struct Analysis {
    pub findings: Vec<Finding>,
    /// Vendors the script calls (`cyberark`, …).
    pub vendors: BTreeSet<&'static str>,
    /// Columns read as `row.NAME`, with where: a missing one is an error, so the file must have
    /// them. A name also tested with `"NAME" in row` is optional and left out.
    pub row_columns: Vec<(String, Position)>,
    /// The `--var`s it reads (its modules' are added by `modules::preflight`).
    pub vars: VarReads,
}

/// The names a script may read a `--var` by: `var_or("NAME", …)`, `is_def_var("NAME")`, or the
/// variable itself.
#[derive(Debug, Default, Clone)]
pub struct VarReads {
    pub names: BTreeSet<String>,
    /// It may read others too: a name computed at run time, or a module found only at run time.
    pub open: bool,
}

impl VarReads {
    pub fn merge(&mut self, other: VarReads) {
        self.names.extend(other.names);
        self.open |= other.open;
    }
}

/// The `--var`s a module reads: by `var_or` and `is_def_var` only, since a module does not see
/// the script's variables.
pub fn module_var_reads(ast: &AST) -> VarReads {
    let mut reads = VarReads::default();
    ast.walk(&mut |path: &[ASTNode]| {
        match path.last() {
            Some(ASTNode::Expr(Expr::FnCall(call, _)) | ASTNode::Stmt(Stmt::FnCall(call, _))) => {
                note_var_read(call, &mut reads)
            }
            Some(ASTNode::Stmt(Stmt::Import(x, _))) => note_import(&x.0, &mut reads),
            _ => {}
        }
        true
    });
    reads
}

/// An import whose path is computed loads a module no check can see.
fn note_import(path: &Expr, reads: &mut VarReads) {
    if !matches!(path, Expr::StringConstant(..)) {
        reads.open = true;
    }
}

/// Functions taking a user name.
const NAME_FNS: &[&str] = &["get_user", "user_exists", "delete_user"];

/// What a script can call without a namespace: the engine's functions, the script's own (and,
/// in the REPL, those defined before), each by name and number of arguments.
pub struct Callables<'a> {
    pub engine: &'a Engine,
    /// Functions defined earlier (the REPL's session), besides the script's own.
    pub before: Option<&'a AST>,
}

/// Names Rhai handles itself rather than as registered functions.
const KEYWORDS: &[&str] = &[
    "print",
    "debug",
    "type_of",
    "eval",
    "Fn",
    "call",
    "curry",
    "is_shared",
    "is_def_fn",
    "is_def_var",
    "this",
];

/// A call with no namespace, as the script writes it: `f(a, b)`, or `x.f(a)` (a method).
struct PlainCall {
    name: String,
    args: usize,
    method: bool,
    pos: Position,
}

pub fn analyze(ast: &AST, callables: Option<&Callables<'_>>) -> Analysis {
    let mut out = Analysis::default();
    let mut tested = BTreeSet::new();
    let mut plain = Vec::new();
    ast.walk(&mut |path: &[ASTNode]| {
        match path.last() {
            Some(ASTNode::Expr(Expr::MethodCall(call, pos))) => {
                plain.push(PlainCall {
                    name: call.name.to_string(),
                    args: call.args.len() + 1,
                    method: true,
                    pos: *pos,
                });
            }
            Some(ASTNode::Stmt(Stmt::FnCall(call, pos))) => {
                note_plain(call, *pos, &mut plain);
                // A function's last statement is its value: `fn team() { var_or("team", "") }`.
                note_var_read(call, &mut out.vars);
            }
            Some(ASTNode::Expr(Expr::Variable(v, ..))) => {
                out.vars.names.insert(v.1.to_string());
            }
            Some(ASTNode::Stmt(Stmt::Import(x, _))) => note_import(&x.0, &mut out.vars),
            Some(ASTNode::Expr(Expr::FnCall(call, pos))) => {
                note_plain(call, *pos, &mut plain);
                note_var_read(call, &mut out.vars);
                check_call(call, *pos, &mut out);
                // `"name" in row` is parsed as `contains(row, "name")`.
                if call.name == "contains"
                    && let [Expr::Variable(v, ..), Expr::StringConstant(name, _)] =
                        call.args.as_slice()
                    && v.1 == "row"
                {
                    tested.insert(name.to_string());
                }
            }
            Some(ASTNode::Expr(Expr::Dot(x, _, _))) => {
                if let (Expr::Variable(v, ..), Expr::Property(p, pos)) = (&x.lhs, &x.rhs)
                    && v.1 == "row"
                    && !out.row_columns.iter().any(|(c, _)| c == p.2.as_str())
                {
                    out.row_columns.push((p.2.to_string(), *pos));
                }
            }
            _ => {}
        }
        true
    });
    out.row_columns.retain(|(c, _)| !tested.contains(c));
    if let Some(callables) = callables
        && !plain.is_empty()
    {
        check_plain_calls(ast, callables, &plain, &mut out);
    }
    out.findings
        .sort_by_key(|f| (f.pos.line(), f.pos.position()));
    out
}

/// `var_or("NAME", …)` and `is_def_var("NAME")` read a `--var` by name.
fn note_var_read(call: &FnCallExpr, reads: &mut VarReads) {
    if !call.namespace.is_empty() || !matches!(call.name.as_str(), "var_or" | "is_def_var") {
        return;
    }
    match call.args.first() {
        Some(Expr::StringConstant(name, _)) => {
            reads.names.insert(name.to_string());
        }
        _ => reads.open = true,
    }
}

fn note_plain(call: &FnCallExpr, pos: Position, plain: &mut Vec<PlainCall>) {
    let named = call
        .name
        .starts_with(|c: char| c.is_alphabetic() || c == '_');
    if call.namespace.is_empty() && call.op_token.is_none() && named {
        plain.push(PlainCall {
            name: call.name.to_string(),
            args: call.args.len(),
            method: false,
            pos,
        });
    }
}

/// Every call without a namespace must name a function that exists with that many arguments:
/// a typo'd helper (`random_pasword(16)`) is found before the first request, not after it.
fn check_plain_calls(
    ast: &AST,
    callables: &Callables<'_>,
    calls: &[PlainCall],
    out: &mut Analysis,
) {
    let mut known: HashMap<String, Vec<usize>> = HashMap::new();
    let mut add = |name: &str, n: usize| known.entry(name.to_string()).or_default().push(n);
    let natives = callables.engine.collect_fn_metadata(
        None,
        |f| Some((f.metadata.name.to_string(), f.metadata.num_params)),
        true,
    );
    for (name, n) in &natives {
        add(name, *n);
    }
    // Script functions called as methods bind `this`: their first argument is not a parameter.
    let mut scripted: HashMap<String, Vec<usize>> = HashMap::new();
    for f in ast
        .iter_functions()
        .chain(callables.before.into_iter().flat_map(AST::iter_functions))
    {
        scripted
            .entry(f.name.to_string())
            .or_default()
            .push(f.params.len());
    }
    for call in calls {
        if KEYWORDS.contains(&call.name.as_str()) {
            continue;
        }
        let native = known.get(&call.name);
        let script = scripted.get(&call.name);
        let fits = native.is_some_and(|a| a.contains(&call.args))
            || script.is_some_and(|a| a.contains(&(call.args - usize::from(call.method))))
            || (call.method && (native.is_some() || script.is_some()));
        if fits {
            continue;
        }
        let message = match (native, script) {
            (None, None) => {
                let names = known.keys().chain(scripted.keys()).map(String::as_str);
                match suggest::closest(&call.name, names) {
                    Some(near) => format!(
                        "there is no function `{}`; did you mean `{near}`?",
                        call.name
                    ),
                    None => format!(
                        "there is no function `{}` (define it with `fn {}(…) {{ … }}`, or look it up in `onboard docs`)",
                        call.name, call.name
                    ),
                }
            }
            (native, script) => {
                let mut takes: Vec<usize> = native
                    .into_iter()
                    .flatten()
                    .chain(script.into_iter().flatten())
                    .copied()
                    .collect();
                takes.sort_unstable();
                takes.dedup();
                let takes: Vec<String> = takes.iter().map(usize::to_string).collect();
                format!(
                    "`{}` is given {} argument{}, but it takes {}",
                    call.name,
                    call.args,
                    if call.args == 1 { "" } else { "s" },
                    takes.join(" or ")
                )
            }
        };
        out.findings.push(Finding {
            message,
            pos: call.pos,
        });
    }
}

fn check_call(call: &FnCallExpr, pos: Position, out: &mut Analysis) {
    if call.namespace.path.len() != 1 {
        return;
    }
    let Some(vendor) = vendors::find(call.namespace.root()) else {
        return;
    };
    out.vendors.insert(vendor.name);
    let name = call.name.as_str();
    let at = call.namespace.position();
    let functions = bridge::functions_of(vendor);
    let known: Vec<&str> = functions.iter().map(|(n, _)| *n).collect();
    let Some(&(_, arity)) = functions.iter().find(|(n, _)| *n == name) else {
        out.findings.push(Finding {
            message: format!(
                "{} has no function `{name}`{}",
                vendor.name,
                suggest::closest(name, known.iter().copied())
                    .map(|c| format!("; did you mean `{}::{c}`?", vendor.name))
                    .unwrap_or_else(|| format!(" (it has {})", known.join(", ")))
            ),
            pos: at,
        });
        return;
    };
    if call.args.len() != arity {
        let params = bridge::params_of(vendor, name);
        let count = match arity {
            1 => "one argument".to_string(),
            n => format!("{n} arguments"),
        };
        out.findings.push(Finding {
            message: format!(
                "{}::{name} takes {count} ({}), not {}",
                vendor.name,
                params.join(", "),
                call.args.len()
            ),
            pos: at,
        });
        return;
    }
    if arity != 1 {
        return;
    }
    let arg = &call.args[0];
    if let Some(given) = literal_type(arg)
        && let Some(takes) = bridge::takes(name)
        && !takes.accepts(given)
    {
        out.findings.push(Finding {
            message: format!(
                "{}::{name} takes {}, not {given}",
                vendor.name,
                takes.what()
            ),
            pos: arg.position(),
        });
        return;
    }
    if REQUEST_FNS.contains(&name) {
        check_request(vendor, name, arg, pos, out);
    } else if NAME_FNS.contains(&name)
        && let Expr::StringConstant(s, spos) = arg
        && let Err(why) = validate::check_value(&USERNAME_ARG, &Dynamic::from(s.to_string()))
    {
        out.findings.push(Finding {
            message: format!("the user name given to {}::{name} {why}", vendor.name),
            pos: *spos,
        });
    }
}

/// What a literal argument is, in the words of error messages.
fn literal_type(arg: &Expr) -> Option<&'static str> {
    Some(match arg {
        Expr::StringConstant(..) | Expr::InterpolatedString(..) => "a string",
        Expr::IntegerConstant(..) => "an integer",
        Expr::FloatConstant(..) => "a number",
        Expr::BoolConstant(..) => "a bool",
        Expr::CharConstant(..) => "a character",
        Expr::Unit(..) => "()",
        Expr::Array(..) => "an array",
        Expr::Map(..) => "a map",
        Expr::DynamicConstant(d, _) if d.is_map() => "a map",
        Expr::DynamicConstant(d, _) if d.is_array() => "an array",
        _ => return None,
    })
}

fn check_request(
    vendor: &'static vendors::VendorSpec,
    name: &str,
    arg: &Expr,
    call_pos: Position,
    out: &mut Analysis,
) {
    let (map, map_pos) = match arg {
        Expr::Map(_, p) => (arg, *p),
        Expr::DynamicConstant(d, p) if d.is_map() => (arg, *p),
        // A map built at run time is checked when the call happens.
        _ => return,
    };
    let mut positions = HashMap::new();
    let literal = literal(map, &mut Vec::new(), &mut positions);
    let Some(request) = literal.read_lock::<Map>().map(|m| m.clone()) else {
        return;
    };
    if let Err(problems) = validate::validate(vendor.create, &request) {
        for p in problems {
            let pos = (0..=p.path.len())
                .rev()
                .find_map(|n| positions.get(&p.path[..n]).copied())
                .unwrap_or(if map_pos.is_none() { call_pos } else { map_pos });
            // Messages name `create_user`; an `ensure_user` call says so.
            let message = if name == "create_user" {
                p.message
            } else {
                p.message.replace("::create_user", &format!("::{name}"))
            };
            out.findings.push(Finding { message, pos });
        }
    }
}

/// A map literal as a value to validate: constants as they are, everything computed at run time
/// as `Unknown`. Records where each key was written.
fn literal(
    expr: &Expr,
    path: &mut Vec<String>,
    positions: &mut HashMap<Vec<String>, Position>,
) -> Dynamic {
    match expr {
        Expr::DynamicConstant(d, _) => (**d).clone(),
        Expr::BoolConstant(b, _) => (*b).into(),
        Expr::IntegerConstant(i, _) => Dynamic::from_int(*i),
        Expr::FloatConstant(f, _) => Dynamic::from_float(**f),
        Expr::CharConstant(c, _) => (*c).into(),
        Expr::StringConstant(s, _) => s.clone().into(),
        Expr::Unit(_) => Dynamic::UNIT,
        Expr::Array(items, _) => {
            Dynamic::from_array(items.iter().map(|e| literal(e, path, positions)).collect())
        }
        Expr::Map(x, _) => {
            let mut m = Map::new();
            for (key, value) in &x.0 {
                path.push(key.name.to_string());
                positions.insert(path.clone(), key.pos);
                m.insert(key.name.clone().into(), literal(value, path, positions));
                path.pop();
            }
            Dynamic::from_map(m)
        }
        _ => Dynamic::from(schema::Unknown),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn analysis(source: &str) -> Analysis {
        let engine = crate::script::engine::parser();
        let ast = engine.compile(source).expect("the test script parses");
        analyze(&ast, None)
    }

    #[test]
    fn a_typo_in_a_literal_request_is_found_where_it_is_written() {
        let a = analysis(
            "let u = cyberark::create_user(#{\n    username: \"jdoe\",\n    frist_name: \"Jane\" });",
        );
        assert_eq!(a.findings.len(), 1, "{:?}", a.findings);
        let f = &a.findings[0];
        assert!(
            f.message.contains("did you mean `first_name`"),
            "{}",
            f.message
        );
        assert_eq!(f.pos.line(), Some(3));
        assert!(a.vendors.contains("cyberark"));
    }

    #[test]
    fn a_value_known_only_at_run_time_passes_and_row_columns_are_collected() {
        let a = analysis(
            "let p = random_password(20);\n\
             pam360::create_user(#{ username: row.login, first_name: row.first, last_name: \"X\",\n\
             email: row.mail, password: p });\n\
             if \"dept\" in row { print(row.dept); }",
        );
        assert!(a.findings.is_empty(), "{:?}", a.findings);
        let columns: Vec<&str> = a.row_columns.iter().map(|(c, _)| c.as_str()).collect();
        // `dept` is tested with `in` first: optional, so not required of the file.
        assert_eq!(columns, ["login", "first", "mail"]);
    }

    #[test]
    fn a_wrongly_typed_literal_argument_is_found() {
        let a = analysis("appmanager::get_user(42);\npam360::create_user(\"jdoe\");");
        assert_eq!(a.findings.len(), 2, "{:?}", a.findings);
        assert!(
            a.findings[0].message.contains("a user name"),
            "{}",
            a.findings[0].message
        );
        assert!(
            a.findings[1].message.contains("a request map"),
            "{}",
            a.findings[1].message
        );
    }
}
