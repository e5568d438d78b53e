//! Checks a compiled script before it runs: vendor calls are checked against their contracts, and
//! the vendors it uses are listed, so a typo in the third call stops the run before the first.

use std::collections::{BTreeSet, HashMap};

use rhai::{AST, ASTNode, Dynamic, Expr, FnCallExpr, Map, Position};

use crate::suggest;
use crate::vendors::{self, REQUEST_FNS, USERNAME_ARG, bridge, schema, validate};

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
}

/// Functions taking a user name.
const NAME_FNS: &[&str] = &["get_user", "user_exists", "delete_user"];

pub fn analyze(ast: &AST) -> Analysis {
    let mut out = Analysis::default();
    let mut tested = BTreeSet::new();
    ast.walk(&mut |path: &[ASTNode]| {
        match path.last() {
            Some(ASTNode::Expr(Expr::FnCall(call, pos))) => {
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
    out.findings
        .sort_by_key(|f| (f.pos.line(), f.pos.position()));
    out
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
    let known: Vec<&str> = bridge::FUNCTIONS.iter().map(|(n, _)| *n).collect();
    if !known.contains(&name) {
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
    }
    if call.args.len() != 1 {
        let what = if REQUEST_FNS.contains(&name) {
            "a request map"
        } else {
            "a user name"
        };
        out.findings.push(Finding {
            message: format!(
                "{}::{name} takes one argument ({what}), not {}",
                vendor.name,
                call.args.len()
            ),
            pos: at,
        });
        return;
    }
    let arg = &call.args[0];
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
