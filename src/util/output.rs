//! Writing to stdout: a closed pipe (`onboard docs | head -1`) ends the command quietly, as
//! ripgrep does, instead of a panic.

use std::io::Write;

/// Write `text` to stdout; when the reader has gone, exit at once with success.
pub fn print(text: &str) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush())
        && e.kind() == std::io::ErrorKind::BrokenPipe
    {
        std::process::exit(0);
    }
}

/// `println!` through [`print`].
#[macro_export]
macro_rules! outln {
    () => {
        $crate::util::output::print("\n")
    };
    ($($arg:tt)*) => {
        $crate::util::output::print(&format!("{}\n", format_args!($($arg)*)))
    };
}

/// `print!` through [`print`].
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::util::output::print(&format!($($arg)*))
    };
}
