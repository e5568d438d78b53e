//! `onboard docs` and `onboard definitions`: every function a script can call, for people and
//! for editors.

use std::path::Path;

use crate::cli::args::{DefinitionsArgs, DocsArgs, DocsFormat};
use crate::runtime::session::Session;
use crate::script::docs::{Format, describe, module_definitions, script_modules};
use crate::script::engine;
use crate::script::library::search_dirs;
use crate::util::error::Error;

/// `onboard docs [--format …] [NAME]`.
pub fn print(config_path: Option<&Path>, args: &DocsArgs) -> Result<(), Error> {
    let session = Session::offline();
    let module_path = search_dirs(config_path)?;
    let engine = engine::build(&session, &engine::Options::default());
    let format = match args.format {
        DocsFormat::Text => Format::Text,
        DocsFormat::Markdown => Format::Markdown,
        DocsFormat::Json => Format::Json,
    };
    let text =
        describe(&engine, &module_path, args.name.as_deref(), format).map_err(Error::input)?;
    crate::outln!("{text}");
    Ok(())
}

/// `onboard definitions DIR`: definition files for the Rhai language server, so editors know
/// every vendor, helper, standard library and library function.
pub fn definitions(config_path: Option<&Path>, args: &DefinitionsArgs) -> Result<(), Error> {
    let module_path = search_dirs(config_path)?;
    let session = Session::offline();
    let mut engine = engine::build(&session, &engine::Options::default());
    crate::script::bridge::register_all_getters(&mut engine);
    let dir = &args.dir;
    engine
        .definitions()
        .with_headers(true)
        .write_to_dir(dir)
        .map_err(|e| {
            Error::runtime(format!(
                "cannot write definitions to {}: {e}",
                dir.display()
            ))
        })?;
    // Rhai leaves the return type of some standard conversions empty (`-> ;`), which the
    // language server cannot parse: say "unknown" instead. The results' property indexer is
    // written as a function no parser takes; their getters say the same.
    if let Ok(entries) = std::fs::read_dir(dir) {
        for path in entries.filter_map(Result::ok).map(|e| e.path()) {
            if let Ok(text) = std::fs::read_to_string(&path)
                && (text.contains("-> ;") || text.contains("fn index$get$("))
            {
                let kept: Vec<&str> = text
                    .split("\n\n")
                    .filter(|block| !block.contains("fn index$get$("))
                    .collect();
                let _ = std::fs::write(&path, kept.join("\n\n").replace("-> ;", "-> ?;"));
            }
        }
    }
    let mut written = 0;
    for (module, text) in script_modules(&module_path) {
        let file = dir.join(format!("{}.d.rhai", module.replace('/', "_")));
        std::fs::write(&file, module_definitions(&module, &text))
            .map_err(|e| Error::runtime(format!("cannot write {}: {e}", file.display())))?;
        written += 1;
    }
    crate::outln!(
        "wrote definitions for the engine's functions and {written} script modules to {}",
        dir.display()
    );
    Ok(())
}
