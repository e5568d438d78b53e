//! Everything Rhai: the engine and its limits, the global helpers, vendor functions bound to the
//! engine, modules and libraries, the standard library, analysis, compiling, diagnostics, docs.

pub mod analyze;
pub mod bridge;
pub mod by_name;
pub mod compile;
pub mod diagnostics;
pub mod docs;
pub mod engine;
pub mod grants;
pub mod held;
pub mod helpers;
pub mod library;
pub mod lifecycle;
pub mod memo;
pub mod modules;
pub mod print;
pub mod records;
pub mod stdlib;
