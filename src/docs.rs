//! `onboard docs`: every function a script can call, from the engine's own metadata, and every
//! request field from the schemas validation uses. Nothing here is a hand-kept list.

use std::fmt::Write as _;

use rhai::Engine;
use serde_json::{Value as Json, json};

use crate::app::{EXIT_INPUT, EXIT_OK};
use crate::cli::{DocsArgs, DocsFormat};
use crate::engine;
use crate::session::Session;
use crate::suggest;
use crate::vendors::error::ErrorKind;
use crate::vendors::record::COMMON_PROPERTIES;
use crate::vendors::schema::{Field, Kind};
use crate::vendors::{self, VendorSpec};

/// One function as documented.
#[derive(Debug, Clone)]
pub struct FnDoc {
    /// `cyberark`, or empty for global functions.
    pub namespace: String,
    pub name: String,
    pub signature: String,
    pub doc: String,
}

impl FnDoc {
    pub fn full_name(&self) -> String {
        if self.namespace.is_empty() {
            self.name.clone()
        } else {
            format!("{}::{}", self.namespace, self.name)
        }
    }
}

/// Every script-callable function the engine knows, from its metadata.
pub fn functions(engine: &Engine) -> Vec<FnDoc> {
    let meta: Json = engine
        .gen_fn_metadata_to_json(false)
        .ok()
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or(Json::Null);
    let mut out = Vec::new();
    let mut add = |namespace: &str, f: &Json| {
        let name = f["name"].as_str().unwrap_or_default();
        // Getters, setters, operators and the printing hooks are not functions people call.
        let callable = name.starts_with(|c: char| c.is_ascii_alphabetic())
            && !name.contains('$')
            && !matches!(name, "to_string" | "to_debug");
        if !callable {
            return;
        }
        let doc = f["docComments"]
            .as_array()
            .map(|lines| {
                lines
                    .iter()
                    .filter_map(Json::as_str)
                    .flat_map(|block| block.lines())
                    .map(|l| {
                        l.trim()
                            .trim_start_matches("///")
                            .trim_start_matches("/**")
                            .trim_end_matches("*/")
                            .trim()
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .unwrap_or_default();
        let signature = f["signature"].as_str().unwrap_or(name).to_string();
        let signature = if namespace.is_empty() {
            signature
        } else {
            format!("{namespace}::{signature}")
        };
        out.push(FnDoc {
            namespace: namespace.to_string(),
            name: name.to_string(),
            signature,
            doc: doc.trim().to_string(),
        });
    };
    if let Some(fns) = meta["functions"].as_array() {
        for f in fns {
            add("", f);
        }
    }
    if let Some(modules) = meta["modules"].as_object() {
        for (ns, m) in modules {
            for f in m["functions"].as_array().into_iter().flatten() {
                add(ns, f);
            }
        }
    }
    out.sort_by(|a, b| {
        (vendor_rank(&a.namespace), &a.namespace, &a.name).cmp(&(
            vendor_rank(&b.namespace),
            &b.namespace,
            &b.name,
        ))
    });
    out
}

fn vendor_rank(ns: &str) -> usize {
    vendors::ALL
        .iter()
        .position(|v| v.name == ns)
        .unwrap_or(usize::MAX)
}

/// The fields of a request, flattened with dotted paths for nested maps.
pub fn field_rows(fields: &'static [Field], prefix: &str) -> Vec<(String, &'static Field)> {
    let mut rows = Vec::new();
    for f in fields {
        let key = format!("{prefix}{}", f.key);
        rows.push((key.clone(), f));
        if let Kind::Object(inner) = &f.kind {
            rows.extend(field_rows(inner, &format!("{key}.")));
        }
    }
    rows
}

fn field_json(fields: &'static [Field]) -> Json {
    Json::Array(
        field_rows(fields, "")
            .into_iter()
            .map(|(key, f)| {
                json!({
                    "key": key, "wire": f.wire, "type": f.kind.describe(),
                    "required": f.required, "doc": f.doc,
                })
            })
            .collect(),
    )
}

fn vendor_json(v: &VendorSpec) -> Json {
    let props: Vec<Json> = COMMON_PROPERTIES
        .iter()
        .chain(v.user_properties)
        .map(|(n, d)| json!({ "name": n, "doc": d }))
        .collect();
    json!({
        "name": v.name, "product": v.product, "doc": v.doc,
        "request": { "function": v.create.call(), "fields": field_json(v.create.fields) },
        "result": { "type": v.user_type, "properties": props },
        "settings": v.settings.iter().map(|s| json!({ "key": s.key, "required": s.required, "doc": s.doc })).collect::<Vec<_>>(),
    })
}

/// `onboard docs [--format …] [NAME]`.
pub fn print(args: &DocsArgs) -> u8 {
    let session = Session::offline();
    let engine = engine::build(&session, &engine::Options::default());
    match describe(&engine, args.name.as_deref(), args.format) {
        Ok(text) => {
            println!("{text}");
            EXIT_OK
        }
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_INPUT
        }
    }
}

/// The documentation of every function of `engine` (or of the function or namespace `wanted`),
/// with the request fields of the vendors it concerns. Also the REPL's `:help NAME`.
pub fn describe(
    engine: &Engine,
    wanted: Option<&str>,
    format: DocsFormat,
) -> Result<String, String> {
    let all = functions(engine);
    let selected: Vec<&FnDoc> = all
        .iter()
        .filter(|f| match wanted {
            None => true,
            Some(w) => f.full_name() == w || f.namespace == w || f.name == w,
        })
        .collect();
    let vendor_filter: Vec<&VendorSpec> = vendors::ALL
        .iter()
        .copied()
        .filter(|v| match wanted {
            None => true,
            Some(w) => w == v.name || w.starts_with(&format!("{}::", v.name)),
        })
        .collect();
    if selected.is_empty() {
        let names: Vec<String> = all.iter().map(FnDoc::full_name).collect();
        let hint = wanted
            .map(|w| suggest::did_you_mean(w, names.iter().map(String::as_str)))
            .unwrap_or_default();
        return Err(format!(
            "no function or namespace `{}`{hint}",
            wanted.unwrap_or_default()
        ));
    }
    Ok(match format {
        DocsFormat::Json => {
            let doc = json!({
                "functions": selected.iter().map(|f| json!({
                    "namespace": f.namespace, "name": f.name, "signature": f.signature, "doc": f.doc,
                })).collect::<Vec<_>>(),
                "vendors": vendor_filter.iter().map(|v| vendor_json(v)).collect::<Vec<_>>(),
                "error_kinds": ErrorKind::ALL.iter().map(|k| json!({ "kind": k.as_str(), "doc": k.doc() })).collect::<Vec<_>>(),
            });
            serde_json::to_string_pretty(&doc).unwrap_or_default()
        }
        DocsFormat::Markdown => render(&selected, &vendor_filter, wanted, true),
        DocsFormat::Text => render(&selected, &vendor_filter, wanted, false),
    })
}

fn render(fns: &[&FnDoc], vendor_specs: &[&VendorSpec], wanted: Option<&str>, md: bool) -> String {
    let mut out = String::new();
    let heading = |out: &mut String, level: usize, text: &str| {
        if md {
            let _ = writeln!(out, "\n{} {text}\n", "#".repeat(level));
        } else {
            let _ = writeln!(
                out,
                "\n{text}\n{}",
                if level == 1 {
                    "=".repeat(text.len())
                } else {
                    "-".repeat(text.len())
                }
            );
        }
    };
    let mut current = None;
    for f in fns {
        if current != Some(&f.namespace) {
            current = Some(&f.namespace);
            let title = if f.namespace.is_empty() {
                "Global functions".to_string()
            } else {
                let product = vendors::find(&f.namespace).map_or("", |v| v.product);
                format!("{}:: ({product})", f.namespace)
            };
            heading(&mut out, 2, &title);
        }
        if md {
            let _ = writeln!(out, "- `{}`", f.signature);
            for line in f.doc.lines() {
                let _ = writeln!(out, "  {line}");
            }
        } else {
            let _ = writeln!(out, "{}", f.signature);
            for line in f.doc.lines() {
                let _ = writeln!(out, "    {line}");
            }
        }
    }
    let show_fields = |name: &str| match wanted {
        None => true,
        Some(w) => w == name || w.ends_with("::create_user") || w.ends_with("::ensure_user"),
    };
    for v in vendor_specs {
        if !show_fields(v.name) {
            continue;
        }
        heading(&mut out, 2, &format!("{} request fields", v.create.call()));
        for (key, f) in field_rows(v.create.fields, "") {
            let req = if f.required { " (required)" } else { "" };
            if md {
                let _ = writeln!(out, "- `{key}`{req}: {}. {}", f.kind.describe(), f.doc);
            } else {
                let _ = writeln!(
                    out,
                    "  {key:<34}{req} {}\n  {:<34} {}",
                    f.kind.describe(),
                    "",
                    f.doc
                );
            }
        }
        heading(
            &mut out,
            2,
            &format!("{} (what {}:: calls return)", v.user_type, v.name),
        );
        for (name, doc) in COMMON_PROPERTIES.iter().chain(v.user_properties) {
            if md {
                let _ = writeln!(out, "- `{name}`: {doc}");
            } else {
                let _ = writeln!(out, "  {name:<26} {doc}");
            }
        }
    }
    if wanted.is_none() {
        heading(
            &mut out,
            2,
            "Errors (`catch (err)`: err.kind, err.status, err.code, err.message, err.retryable)",
        );
        for k in ErrorKind::ALL {
            if md {
                let _ = writeln!(out, "- `{}`: {}", k.as_str(), k.doc());
            } else {
                let _ = writeln!(out, "  {:<16} {}", k.as_str(), k.doc());
            }
        }
    }
    out.trim_start().to_string()
}
