//! `onboard init`: a commented onboard.toml to fill in, readable by its owner only.

use std::io::Write;

use crate::cli::args::InitArgs;
use crate::config::template::template;
use crate::util::error::Error;

pub fn init(args: &InitArgs) -> Result<(), Error> {
    let path = &args.path;
    if path.exists() && !args.force {
        return Err(Error::input(format!("{} is already there", path.display()))
            .hint("pass --force to overwrite it, or --path to write another file"));
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let cannot = |e: std::io::Error| Error::input(format!("cannot write {}: {e}", path.display()));
    let mut file = options.open(path).map_err(cannot)?;
    // A file that was there keeps its mode through open(): make it the owner's only.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(cannot)?;
    }
    file.write_all(template(&args.profile).as_bytes())
        .map_err(cannot)?;
    crate::outln!(
        "wrote {} (profile {}): fill in each url, set the environment variables it names, then run\n  onboard --config {} doctor --profile {}",
        path.display(),
        args.profile,
        path.display(),
        args.profile
    );
    Ok(())
}
