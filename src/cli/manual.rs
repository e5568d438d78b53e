//! `onboard completions` and `onboard man`: both generated from the one clap definition.

use std::path::Path;

use clap::CommandFactory;

use crate::cli::args::{Cli, CompletionsArgs, ManArgs};
use crate::util::error::Error;

pub fn completions(args: &CompletionsArgs) -> Result<(), Error> {
    let mut command = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut command, "onboard", &mut out);
    crate::out!("{}", String::from_utf8_lossy(&out));
    Ok(())
}

/// onboard.1 to stdout, or onboard.1 and onboard-SUBCOMMAND.1 for each subcommand into a folder.
pub fn man(args: &ManArgs) -> Result<(), Error> {
    let command = Cli::command();
    let Some(dir) = &args.dir else {
        let mut out = Vec::new();
        render(&command, &mut out)?;
        crate::out!("{}", String::from_utf8_lossy(&out));
        return Ok(());
    };
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::input(format!("cannot make {}: {e}", dir.display())))?;
    let mut written = 0;
    write_page(&command, &dir.join("onboard.1"))?;
    written += 1;
    for sub in command.get_subcommands() {
        let name = format!("onboard-{}", sub.get_name());
        // clap names are &'static without its `string` feature; a page name per subcommand, once.
        let page = sub.clone().name(name.clone().leak() as &str);
        write_page(&page, &dir.join(format!("{name}.1")))?;
        written += 1;
    }
    crate::outln!("wrote {written} man pages to {}", dir.display());
    Ok(())
}

fn write_page(command: &clap::Command, path: &Path) -> Result<(), Error> {
    let mut out = Vec::new();
    render(command, &mut out)?;
    std::fs::write(path, out)
        .map_err(|e| Error::input(format!("cannot write {}: {e}", path.display())))
}

fn render(command: &clap::Command, out: &mut Vec<u8>) -> Result<(), Error> {
    clap_mangen::Man::new(command.clone())
        .render(out)
        .map_err(|e| Error::runtime(format!("cannot render the man page: {e}")))
}
