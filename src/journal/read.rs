//! Reading journal lines back: whole lines only, torn ones skipped and counted, records glued
//! onto a torn line recovered.

use super::Record;

/// The complete lines of a stretch of the journal, parsed, and what could not be read.
pub struct Lines<'a> {
    text: &'a [u8],
    at: usize,
    /// Where the stretch began in the file: offsets given out are from the file's start.
    base: u64,
    /// Lines that are not a record (cut short by a crash, or damaged).
    pub torn: usize,
}

impl<'a> Lines<'a> {
    /// The lines of `text`, which starts at byte `base` of the journal. A last line without its
    /// line end is left alone: it is being written now, or was cut short and will be ended by
    /// the next run that writes.
    pub fn new(text: &'a [u8], base: u64) -> Self {
        Lines {
            text,
            at: 0,
            base,
            torn: 0,
        }
    }

    /// Where the complete lines end, as an offset in the file.
    pub fn end(&self) -> u64 {
        let whole = memchr_last(self.text).map_or(0, |i| i + 1);
        self.base + whole as u64
    }
}

impl<'a> Iterator for Lines<'a> {
    /// A record and the offset in the file of the line it is on.
    type Item = (u64, Record<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let rest = &self.text[self.at..];
            let len = rest.iter().position(|b| *b == b'\n')?;
            let line = &rest[..len];
            let offset = self.base + self.at as u64;
            self.at += len + 1;
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            match parse_line(line) {
                Some(r) => return Some((offset, r)),
                None => {
                    self.torn += 1;
                    if let Some(r) = recover(line) {
                        return Some((offset, r));
                    }
                }
            }
        }
    }
}

fn memchr_last(text: &[u8]) -> Option<usize> {
    text.iter().rposition(|b| *b == b'\n')
}

/// One journal line as a record. Every record is written with its `type` first, which picks
/// the variant to read it as (serde's tagged enums buffer the whole record first, which is
/// slower by half on a journal of a million lines).
pub fn parse_line(line: &[u8]) -> Option<Record<'_>> {
    const TAG: &[u8] = b"{\"type\":\"";
    let Some(rest) = line.strip_prefix(TAG) else {
        return serde_json::from_slice(line).ok();
    };
    let tag_end = rest.iter().position(|b| *b == b'"')?;
    Some(match &rest[..tag_end] {
        b"intent" => Record::Intent(serde_json::from_slice(line).ok()?),
        b"outcome" => Record::Outcome(serde_json::from_slice(line).ok()?),
        _ => serde_json::from_slice(line).ok()?,
    })
}

/// A torn line may carry a whole record after the torn part: a run that wrote onto the end of
/// a line another run left unfinished (before onboard ended such lines itself).
fn recover(line: &[u8]) -> Option<Record<'_>> {
    const START: &[u8] = b"{\"type\":\"";
    (1..line.len())
        .filter(|&i| line[i..].starts_with(START))
        .find_map(|i| parse_line(&line[i..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_lines_only_and_torn_ones_counted() {
        let text = b"{\"type\":\"end\",\"run\":\"a\",\"time\":\"t\",\"exit_code\":0}\n\
                     {\"type\":\"intent\",\"run\":\"a\",\"se\n\
                     {\"type\":\"end\",\"run\":\"b\",\"time\":\"t\",\"exit_code\":1}\n\
                     {\"type\":\"end\",\"run\":\"c\"";
        let mut lines = Lines::new(text, 100);
        let runs: Vec<String> = lines
            .by_ref()
            .map(|(_, r)| r.run_id().to_string())
            .collect();
        assert_eq!(runs, ["a", "b"]);
        assert_eq!(lines.torn, 1);
        assert_eq!(
            lines.end(),
            100 + text.iter().rposition(|b| *b == b'\n').unwrap() as u64 + 1
        );
    }

    #[test]
    fn a_record_glued_onto_a_torn_line_is_recovered() {
        let text = b"{\"type\":\"intent\",\"run\":\"a\",\"seq\":1,\"ti{\"type\":\"end\",\"run\":\"b\",\"time\":\"t\",\"exit_code\":0}\n";
        let mut lines = Lines::new(text, 0);
        let runs: Vec<String> = lines
            .by_ref()
            .map(|(_, r)| r.run_id().to_string())
            .collect();
        assert_eq!(runs, ["b"]);
        assert_eq!(lines.torn, 1);
    }
}
