//! `Secret`: text that is masked everywhere it could be shown, every secret value the process
//! knows scrubbed from what it writes, and the password generator.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, RwLock};

/// What every secret looks like when shown.
pub const MASK: &str = "********";

/// A password, token or API key. Printing, formatting and debugging show `********`;
/// only [`Secret::reveal`] gives the text, and only code that sends it should call that.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Arc<str>);

impl Secret {
    /// A secret, remembered so that its value is scrubbed from everything onboard writes.
    pub fn new(text: impl Into<Arc<str>>) -> Self {
        Secret(remember(text.into()))
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

/// Values shorter than this are not scrubbed from text: they would mask ordinary words.
pub const SCRUB_MIN: usize = 6;
/// Past this many remembered values, those no longer held anywhere but here are forgotten, so a
/// bulk run of a million rows does not keep two million passwords.
const SWEEP_AT: usize = 100_000;

/// One value to scrub: a secret as written, or as a vendor may echo it (JSON-escaped,
/// form-encoded), kept with the secret it belongs to.
struct Known {
    owner: Arc<str>,
    /// `None`: the owner's text itself.
    variant: Option<Box<str>>,
}

impl Known {
    fn text(&self) -> &str {
        self.variant.as_deref().unwrap_or(&self.owner)
    }
}

/// Every secret value the process knows, found by the first four bytes of the text.
#[derive(Default)]
struct Registry {
    by_prefix: HashMap<[u8; 4], Vec<Known>>,
    /// One bit per first two bytes: most places in a text start no secret, and say so here.
    starts: Vec<u64>,
    /// One bit per first byte: the cheapest look, made at every byte of every text scrubbed.
    first: [u64; 4],
    len: usize,
    swept_at: usize,
}

static REGISTRY: RwLock<Option<Registry>> = RwLock::new(None);

fn prefix(b: &[u8]) -> [u8; 4] {
    [b[0], b[1], b[2], b[3]]
}

fn start_bit(b: &[u8]) -> usize {
    (b[0] as usize) << 8 | b[1] as usize
}

/// Say in the look-up bits that a secret starts with `bytes` (at least two of them).
fn mark(starts: &mut [u64], first: &mut [u64; 4], bytes: &[u8]) {
    let bit = start_bit(bytes);
    starts[bit / 64] |= 1 << (bit % 64);
    first[usize::from(bytes[0] >> 6)] |= 1 << (bytes[0] & 63);
}

impl Registry {
    fn add(&mut self, owner: &Arc<str>, variant: Option<String>) {
        let text = variant.as_deref().unwrap_or(owner);
        let bytes = text.as_bytes();
        if bytes.len() < SCRUB_MIN {
            return;
        }
        let bucket = self.by_prefix.entry(prefix(bytes)).or_default();
        if bucket.iter().any(|k| k.text() == text) {
            return;
        }
        if self.starts.is_empty() {
            self.starts = vec![0; 1024];
        }
        mark(&mut self.starts, &mut self.first, bytes);
        bucket.push(Known {
            owner: owner.clone(),
            variant: variant.map(String::into_boxed_str),
        });
        self.len += 1;
    }

    /// The remembered secret whose text is `text` (its variants are remembered with it).
    fn known(&self, text: &str) -> Option<&Arc<str>> {
        let bytes = text.as_bytes();
        if bytes.len() < SCRUB_MIN {
            return None;
        }
        let bucket = self.by_prefix.get(&prefix(bytes))?;
        bucket
            .iter()
            .find(|k| k.variant.is_none() && *k.owner == *text)
            .map(|k| &k.owner)
    }

    /// Forget the values whose secret nothing else holds any more.
    fn sweep(&mut self) {
        self.by_prefix.retain(|_, bucket| {
            bucket.retain(|k| Arc::strong_count(&k.owner) > 1);
            !bucket.is_empty()
        });
        self.len = self.by_prefix.values().map(Vec::len).sum();
        self.starts.iter_mut().for_each(|w| *w = 0);
        self.first = [0; 4];
        for bucket in self.by_prefix.values() {
            for k in bucket {
                mark(&mut self.starts, &mut self.first, k.text().as_bytes());
            }
        }
        self.swept_at = self.len;
    }

    /// The length of the longest secret that `bytes` starts with.
    fn match_at(&self, bytes: &[u8]) -> Option<usize> {
        let bit = start_bit(bytes);
        if self.starts[bit / 64] & (1 << (bit % 64)) == 0 {
            return None;
        }
        self.by_prefix
            .get(&prefix(bytes))?
            .iter()
            .map(Known::text)
            .filter(|t| bytes.starts_with(t.as_bytes()))
            .map(str::len)
            .max()
    }
}

/// Remember a secret value, as written and as a vendor may quote it back; the text to hold it
/// by. A value known already is held by the registry's own copy, so that a sweep sees it is
/// still in use.
fn remember(text: Arc<str>) -> Arc<str> {
    if text.len() < SCRUB_MIN {
        return text;
    }
    // The same value comes again and again (the row's offline check, then its run): known
    // already, it needs no variants made and no write lock.
    if let Ok(guard) = REGISTRY.read()
        && let Some(owner) = guard.as_ref().and_then(|r| r.known(&text))
    {
        return owner.clone();
    }
    let json = serde_json::to_string(&*text).unwrap_or_default();
    let json = json.trim_matches('"').to_string();
    let form: String = form_urlencoded::byte_serialize(text.as_bytes()).collect();
    let json_form: String = form_urlencoded::byte_serialize(json.as_bytes()).collect();
    let Ok(mut guard) = REGISTRY.write() else {
        return text;
    };
    let registry = guard.get_or_insert_with(Registry::default);
    // Another thread may have remembered it since the look above.
    if let Some(owner) = registry.known(&text) {
        return owner.clone();
    }
    registry.add(&text, None);
    for variant in [json, form, json_form] {
        if *variant != *text {
            registry.add(&text, Some(variant));
        }
    }
    if registry.len >= SWEEP_AT && registry.len >= registry.swept_at * 2 {
        registry.sweep();
    }
    text
}

/// `text` with every secret value the process knows replaced by `********`.
pub fn scrub(text: &str) -> Cow<'_, str> {
    if text.len() < SCRUB_MIN {
        return Cow::Borrowed(text);
    }
    let Ok(guard) = REGISTRY.read() else {
        return Cow::Borrowed(text);
    };
    let Some(registry) = guard.as_ref().filter(|r| r.len > 0) else {
        return Cow::Borrowed(text);
    };
    let bytes = text.as_bytes();
    let mut out: Option<String> = None;
    let (mut i, mut copied) = (0, 0);
    while i + SCRUB_MIN <= bytes.len() {
        let b = bytes[i];
        if registry.first[usize::from(b >> 6)] & (1 << (b & 63)) == 0 {
            i += 1;
            continue;
        }
        match registry.match_at(&bytes[i..]) {
            // A secret is whole UTF-8 text, so it starts and ends on character boundaries.
            Some(len) => {
                let o = out.get_or_insert_with(|| String::with_capacity(text.len()));
                o.push_str(&text[copied..i]);
                o.push_str(MASK);
                i += len;
                copied = i;
            }
            None => i += 1,
        }
    }
    match out {
        Some(mut o) => {
            o.push_str(&text[copied..]);
            Cow::Owned(o)
        }
        None => Cow::Borrowed(text),
    }
}

/// `scrub` for text that is about to be written anyway.
pub fn scrubbed(text: String) -> String {
    match scrub(&text) {
        Cow::Borrowed(_) => text,
        Cow::Owned(clean) => clean,
    }
}

/// Whether a key or variable name is one whose value is a secret: passwords, passphrases,
/// PINs, tokens, API keys, bearer credentials (`pw`, `initialPassword`, `AUTHTOKEN`,
/// `api_key`, `auth`, …). For keeping values out of history and out of quoted answers.
pub fn looks_secret(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    const WITHIN: &[&str] = &[
        "pass",
        "pwd",
        "token",
        "secret",
        "apikey",
        "api_key",
        "authoriz",
        "credential",
        "bearer",
        "private",
    ];
    if WITHIN.iter().any(|w| lower.contains(w)) {
        return true;
    }
    lower
        .split(|c: char| !c.is_ascii_alphanumeric())
        .any(|part| {
            matches!(part, "pw" | "pin" | "auth" | "otp" | "cred" | "creds")
                || part.ends_with("key")
        })
}

/// `text` (a quoted answer) with the value of every field named like a secret masked, in JSON
/// (`"AUTHTOKEN":"…"`), forms (`password=…`) and XML attributes (`password="…"`): also when the
/// text is cut short in the middle of one.
pub fn mask_fields(text: &str) -> Cow<'_, str> {
    let b = text.as_bytes();
    let mut out: Option<String> = None;
    let mut copied = 0;
    let mut i = 0;
    while i < b.len() {
        if !(b[i].is_ascii_alphanumeric() || b[i] == b'_') {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && (b[i].is_ascii_alphanumeric() || matches!(b[i], b'_' | b'-')) {
            i += 1;
        }
        if start > 0 && (b[start - 1].is_ascii_alphanumeric()) {
            continue;
        }
        if !looks_secret(&text[start..i]) {
            continue;
        }
        let Some((from, to)) = value_after(b, i) else {
            continue;
        };
        let o = out.get_or_insert_with(|| String::with_capacity(text.len()));
        o.push_str(&text[copied..from]);
        o.push_str(MASK);
        copied = to;
        i = to;
    }
    match out {
        Some(mut o) => {
            o.push_str(&text[copied..]);
            Cow::Owned(o)
        }
        None => Cow::Borrowed(text),
    }
}

/// Where the value of a field whose name ends at `i` lies: after `":"` (JSON), `="` (XML) or
/// `=` (a form), up to its closing quote or separator, or the end of a text cut short.
fn value_after(b: &[u8], mut i: usize) -> Option<(usize, usize)> {
    if b.get(i) == Some(&b'"') {
        i += 1;
    }
    while b.get(i).is_some_and(|c| *c == b' ') {
        i += 1;
    }
    let sep = *b.get(i)?;
    if sep != b':' && sep != b'=' {
        return None;
    }
    i += 1;
    while b.get(i).is_some_and(|c| *c == b' ') {
        i += 1;
    }
    let quoted = matches!(b.get(i), Some(b'"') | Some(b'\''));
    if quoted {
        let q = b[i];
        let from = i + 1;
        let mut j = from;
        while j < b.len() && b[j] != q {
            j += if b[j] == b'\\' { 2 } else { 1 };
        }
        return Some((from, j.min(b.len())));
    }
    if sep == b':' {
        // A JSON number, bool or null is no secret worth masking.
        return None;
    }
    let from = i;
    let to = b[from..]
        .iter()
        .position(|c| matches!(c, b'&' | b' ' | b'"' | b'<' | b'\n'))
        .map_or(b.len(), |n| from + n);
    (to > from).then_some((from, to))
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
    fn every_known_secret_is_scrubbed_by_value_as_written_or_quoted() {
        let s = Secret::new("Qx7!pa$$-word");
        let text = format!(
            "boom: {{\"initialPassword\":\"{0}\"}} and password=Qx7%21pa%24%24-word and {0}",
            s.reveal()
        );
        let clean = scrub(&text);
        assert!(!clean.contains("Qx7"), "{clean}");
        assert_eq!(clean.matches(MASK).count(), 3, "{clean}");
        assert_eq!(scrub("nothing secret here"), "nothing secret here");
    }

    /// A value made a secret twice is remembered once; dropping the first leaves the second
    /// scrubbed, also after a sweep forgets what nothing holds.
    #[test]
    fn a_secret_made_again_stays_scrubbed_after_the_first_is_gone() {
        let first = Secret::new("Vw3-made-twice-9");
        let second = Secret::new(String::from("Vw3-made-twice-9"));
        drop(first);
        if let Ok(mut guard) = REGISTRY.write()
            && let Some(r) = guard.as_mut()
        {
            r.sweep();
        }
        assert_eq!(scrub("pw Vw3-made-twice-9"), format!("pw {MASK}"));
        assert_eq!(second.reveal(), "Vw3-made-twice-9");
    }

    #[test]
    fn secret_fields_are_masked_in_quoted_answers_even_when_cut() {
        let cut = r#"{"operation":{"Details":{"USERID":"603","AUTHTOKEN":"5F0A8B2C-51A0-4E1D"#;
        let masked = mask_fields(cut);
        assert!(!masked.contains("5F0A8B2C"), "{masked}");
        assert!(masked.contains("\"USERID\":\"603\""), "{masked}");
        let form = mask_fields("userName=a&password=Hunter2!&email=a@b.io");
        assert_eq!(form, format!("userName=a&password={MASK}&email=a@b.io"));
        let xml = mask_fields(r#"<User apikey="abc123" role="ADMIN"/>"#);
        assert_eq!(xml, format!(r#"<User apikey="{MASK}" role="ADMIN"/>"#));
        assert_eq!(
            mask_fields(r#"{"count": 3, "tokens": 5}"#),
            r#"{"count": 3, "tokens": 5}"#
        );
    }

    #[test]
    fn names_that_look_secret() {
        for n in [
            "pw",
            "pass",
            "passphrase",
            "pin",
            "key",
            "auth",
            "token",
            "bearer",
            "secret",
            "AUTHTOKEN",
            "initialPassword",
            "api_key",
            "apikey",
            "my_pw",
            "vault_pin",
        ] {
            assert!(looks_secret(n), "{n}");
        }
        for n in [
            "username",
            "email",
            "pinned",
            "keyboard_layout",
            "author",
            "role",
            "count",
        ] {
            assert!(!looks_secret(n), "{n}");
        }
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
