//! The baseline for `bench/`: a plain Rhai runner, built from the same rhai version and features
//! as onboard, with Rhai's defaults. `cargo run --release --example plain_rhai -- SCRIPT`
use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: plain_rhai SCRIPT");
        return ExitCode::from(2);
    };
    let engine = rhai::Engine::new();
    match engine.run_file(path.into()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
