//! `Secret`: text that is masked everywhere it could be shown, and the password generator.

use std::fmt;
use std::sync::Arc;

/// What every secret looks like when shown.
pub const MASK: &str = "********";

/// A password, token or API key. Printing, formatting and debugging show `********`;
/// only [`Secret::reveal`] gives the text, and only code that sends it should call that.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Arc<str>);

impl Secret {
    pub fn new(text: impl Into<Arc<str>>) -> Self {
        Secret(text.into())
    }

    pub fn reveal(&self) -> &str {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.chars().count()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({MASK})")
    }
}

const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
const LOWER: &[u8] = b"abcdefghijkmnopqrstuvwxyz";
const DIGITS: &[u8] = b"23456789";
// No quotes, backslash, space, `%`, `&` or `+`: those break naive URL, shell and CSV handling,
// and CyberArk documents `+ & %` as unsupported in URL values.
const SYMBOLS: &[u8] = b"!#$*-.=?@^_~";

/// The shortest and longest passwords `random_password` makes.
pub const PASSWORD_MIN: i64 = 8;
pub const PASSWORD_MAX: i64 = 1024;

/// A password of `len` characters from the operating system's cryptographic RNG, with at least
/// one upper-case letter, lower-case letter, digit and symbol (the vendors' usual policy).
/// Look-alike characters (0/O, 1/l/I) are left out so a password read aloud survives.
pub fn random_password(len: usize) -> Result<Secret, String> {
    if !(PASSWORD_MIN as usize..=PASSWORD_MAX as usize).contains(&len) {
        return Err(format!(
            "random_password({len}): the length must be between {PASSWORD_MIN} and {PASSWORD_MAX}"
        ));
    }
    let classes = [UPPER, LOWER, DIGITS, SYMBOLS];
    let all: Vec<u8> = classes.concat();
    let mut out = Vec::with_capacity(len);
    for class in classes {
        out.push(pick(class)?);
    }
    while out.len() < len {
        out.push(pick(&all)?);
    }
    // Shuffle so the guaranteed characters are not always first (Fisher-Yates).
    for i in (1..out.len()).rev() {
        let j = uniform(i as u32 + 1)? as usize;
        out.swap(i, j);
    }
    let text = String::from_utf8(out).map_err(|e| e.to_string())?;
    Ok(Secret::new(text))
}

fn pick(set: &[u8]) -> Result<u8, String> {
    Ok(set[uniform(set.len() as u32)? as usize])
}

/// A uniform integer in `0..bound` without modulo bias (rejection sampling).
fn uniform(bound: u32) -> Result<u32, String> {
    let zone = u32::MAX - (u32::MAX % bound);
    loop {
        let mut buf = [0u8; 4];
        getrandom::fill(&mut buf)
            .map_err(|e| format!("the system random generator failed: {e}"))?;
        let n = u32::from_le_bytes(buf);
        if n < zone {
            return Ok(n % bound);
        }
    }
}

/// Random bytes as upper-case hex, for tokens and ids the simulator hands out.
pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    // The simulator's tokens guard nothing; a failed RNG would only make them predictable.
    if getrandom::fill(&mut buf).is_err() {
        buf.iter_mut().enumerate().for_each(|(i, b)| *b = i as u8);
    }
    buf.iter().map(|b| format!("{b:02X}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masked_everywhere() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s}"), MASK);
        assert_eq!(format!("{s:?}"), "Secret(********)");
        assert_eq!(s.reveal(), "hunter2");
    }

    #[test]
    fn password_has_every_class() {
        for _ in 0..50 {
            let p = random_password(8).unwrap();
            let t = p.reveal().as_bytes();
            assert_eq!(t.len(), 8);
            for class in [UPPER, LOWER, DIGITS, SYMBOLS] {
                assert!(t.iter().any(|c| class.contains(c)), "{}", p.reveal());
            }
        }
        assert!(random_password(7).is_err());
    }
}
