//! `onboard docs`: every function a script can call, from the engine's own metadata, and every
//! request field from the schemas validation uses. Nothing here is a hand-kept list.

use std::fmt::Write as _;
use std::path::Path;

use rhai::Engine;
use serde_json::{Value as Json, json};

use crate::script::engine;
use crate::script::modules::SearchDir;
use crate::script::stdlib;
use crate::util::suggest;
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
    /// For a script module (`std/naming`): what the module is for.
    pub module_doc: Option<String>,
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
            module_doc: None,
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
    // The signature breaks ties between overloads, which the engine lists in no fixed order.
    out.sort_by(|a, b| {
        (
            vendor_rank(&a.namespace),
            &a.namespace,
            &a.name,
            &a.signature,
        )
            .cmp(&(
                vendor_rank(&b.namespace),
                &b.namespace,
                &b.name,
                &b.signature,
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

/// The script modules a script can import: the standard library, and every module of every
/// library in `module_path`, with their text.
pub fn script_modules(module_path: &[SearchDir]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = stdlib::MODULES
        .iter()
        .map(|(n, t)| (n.to_string(), t.to_string()))
        .collect();
    for d in module_path {
        for lib in subfolders(&d.dir) {
            if !lib.join(crate::script::library::MANIFEST).is_file() {
                continue;
            }
            let folder = lib.file_name().map(|n| n.to_string_lossy().into_owned());
            for f in crate::script::library::rhai_files(&lib) {
                let (Some(folder), Some(stem)) = (&folder, f.file_stem()) else {
                    continue;
                };
                let name = format!("{folder}/{}", stem.to_string_lossy());
                if out.iter().any(|(n, _)| *n == name) {
                    continue;
                }
                if let Ok(text) = std::fs::read_to_string(&f) {
                    out.push((name, text));
                }
            }
        }
    }
    out
}

fn subfolders(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out: Vec<std::path::PathBuf> = std::fs::read_dir(dir)
        .map(|e| {
            e.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// The public functions of script modules, with their `///` comments, as documented functions.
pub fn script_functions(modules: &[(String, String)]) -> Vec<FnDoc> {
    let parser = engine::parser();
    let mut out = Vec::new();
    for (module, text) in modules {
        let Ok(ast) = parser.compile(text) else {
            continue;
        };
        let summary = stdlib::summary(text).to_string();
        for f in ast.iter_functions() {
            // Private helpers and closures (`anon$…`) are not for callers.
            if f.access == rhai::FnAccess::Private || f.name.contains('$') {
                continue;
            }
            let doc: Vec<&str> = f
                .comments
                .iter()
                .flat_map(|c| c.lines())
                .map(|l| l.trim().trim_start_matches("///").trim())
                .collect();
            out.push(FnDoc {
                namespace: module.clone(),
                name: f.name.to_string(),
                signature: format!("{module}::{}({})", f.name, f.params.join(", ")),
                doc: doc.join("\n").trim().to_string(),
                module_doc: Some(summary.clone()),
            });
        }
    }
    out.sort_by(|a, b| {
        (&a.namespace, &a.name, &a.signature).cmp(&(&b.namespace, &b.name, &b.signature))
    });
    out
}

/// How `describe` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Markdown,
    Json,
}

/// The documentation of every function of `engine` (or of the function or namespace `wanted`),
/// with the request fields of the vendors it concerns. Also the REPL's `:help NAME`.
pub fn describe(
    engine: &Engine,
    module_path: &[SearchDir],
    wanted: Option<&str>,
    format: Format,
) -> Result<String, String> {
    let mut all = functions(engine);
    all.extend(script_functions(&script_modules(module_path)));
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
        Format::Json => {
            let doc = json!({
                "functions": selected.iter().map(|f| json!({
                    "namespace": f.namespace, "name": f.name, "signature": f.signature, "doc": f.doc,
                })).collect::<Vec<_>>(),
                "vendors": vendor_filter.iter().map(|v| vendor_json(v)).collect::<Vec<_>>(),
                "error_kinds": ErrorKind::ALL.iter().map(|k| json!({ "kind": k.as_str(), "doc": k.doc() })).collect::<Vec<_>>(),
            });
            serde_json::to_string_pretty(&doc).unwrap_or_default()
        }
        Format::Markdown => render(&selected, &vendor_filter, wanted, true),
        Format::Text => render(&selected, &vendor_filter, wanted, false),
    })
}

fn render(fns: &[&FnDoc], vendor_specs: &[&VendorSpec], wanted: Option<&str>, md: bool) -> String {
    let mut page = Page {
        out: String::new(),
        md,
    };
    page.functions(fns);
    let show_fields = |name: &str| match wanted {
        None => true,
        Some(w) => w == name || w.ends_with("::create_user") || w.ends_with("::ensure_user"),
    };
    for v in vendor_specs.iter().filter(|v| show_fields(v.name)) {
        page.vendor(v);
    }
    if wanted.is_none() {
        page.errors();
    }
    page.out.trim_start().to_string()
}

/// The docs being written, as text or Markdown.
struct Page {
    out: String,
    md: bool,
}

impl Page {
    fn heading(&mut self, level: usize, text: &str) {
        if self.md {
            let _ = writeln!(self.out, "\n{} {text}\n", "#".repeat(level));
        } else {
            let rule = if level == 1 { "=" } else { "-" };
            let _ = writeln!(self.out, "\n{text}\n{}", rule.repeat(text.len()));
        }
    }

    /// An item: `name` and its description, on one line (Markdown) or in two columns.
    fn item(&mut self, name: &str, width: usize, doc: &str) {
        if self.md {
            let _ = writeln!(self.out, "- `{name}`: {doc}");
        } else {
            let _ = writeln!(self.out, "  {name:<width$} {doc}");
        }
    }

    /// Every function, under a heading per namespace.
    fn functions(&mut self, fns: &[&FnDoc]) {
        let mut current = None;
        for f in fns {
            if current != Some(&f.namespace) {
                current = Some(&f.namespace);
                let title = if f.namespace.is_empty() {
                    "Global functions".to_string()
                } else if let Some(summary) = &f.module_doc {
                    format!("import \"{}\": {summary}", f.namespace)
                } else {
                    let product = vendors::find(&f.namespace).map_or("", |v| v.product);
                    format!("{}:: ({product})", f.namespace)
                };
                self.heading(2, &title);
            }
            let (bullet, indent) = if self.md { ("- `", "  ") } else { ("", "    ") };
            let close = if self.md { "`" } else { "" };
            let _ = writeln!(self.out, "{bullet}{}{close}", f.signature);
            for line in f.doc.lines() {
                let _ = writeln!(self.out, "{indent}{line}");
            }
        }
    }

    /// A vendor's request fields and what its calls return.
    fn vendor(&mut self, v: &VendorSpec) {
        self.heading(2, &format!("{} request fields", v.create.call()));
        for (key, f) in field_rows(v.create.fields, "") {
            let req = if f.required { " (required)" } else { "" };
            if self.md {
                let _ = writeln!(self.out, "- `{key}`{req}: {}. {}", f.kind.describe(), f.doc);
            } else {
                let _ = writeln!(
                    self.out,
                    "  {key:<34}{req} {}\n  {:<34} {}",
                    f.kind.describe(),
                    "",
                    f.doc
                );
            }
        }
        self.heading(
            2,
            &format!("{} (what {}:: calls return)", v.user_type, v.name),
        );
        for (name, doc) in COMMON_PROPERTIES.iter().chain(v.user_properties) {
            self.item(name, 26, doc);
        }
    }

    fn errors(&mut self) {
        self.heading(
            2,
            "Errors (`catch (err)`: err.kind, err.status, err.code, err.message, err.retryable)",
        );
        for k in ErrorKind::ALL {
            self.item(k.as_str(), 16, k.doc());
        }
    }
}

/// One script module as a definition file: `module "std/naming";` and each public function,
/// its parameters untyped (`?`), with its doc comment.
pub fn module_definitions(module: &str, text: &str) -> String {
    let mut out = String::new();
    let summary = stdlib::summary(text);
    if !summary.is_empty() {
        let _ = writeln!(out, "/// {summary}");
    }
    let _ = writeln!(out, "module {module:?};\n");
    for f in script_functions(&[(module.to_string(), text.to_string())]) {
        for line in f.doc.lines() {
            let _ = writeln!(out, "/// {line}");
        }
        let params = f
            .signature
            .split_once('(')
            .map(|(_, p)| p.trim_end_matches(')'))
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| format!("{p}: ?"))
            .collect::<Vec<_>>()
            .join(", ");
        let _ = writeln!(out, "fn {}({params}) -> ?;\n", f.name);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::session::Session;

    /// The docs come from the engine: a function registered anywhere shows up with its help,
    /// without anyone editing a list.
    #[test]
    fn a_newly_registered_function_appears() {
        let session = Session::offline();
        let mut engine = engine::build(&session, &engine::Options::default());
        assert!(
            !functions(&engine)
                .iter()
                .any(|f| f.name == "brand_new_helper")
        );
        rhai::FuncRegistration::new("brand_new_helper")
            .with_params_info(["name: &str", "String"])
            .with_comments(["/// Says hello to a brand new function."])
            .register_into_engine(&mut engine, |name: &str| format!("hello {name}"));
        let all = functions(&engine);
        let f = all
            .iter()
            .find(|f| f.name == "brand_new_helper")
            .expect("the new function is documented");
        assert_eq!(f.doc, "Says hello to a brand new function.");
        assert!(
            f.signature.starts_with("brand_new_helper(name: &str)"),
            "{}",
            f.signature
        );
        let text =
            describe(&engine, &[], Some("brand_new_helper"), Format::Text).expect("described");
        assert!(text.contains("Says hello"), "{text}");
    }
}
