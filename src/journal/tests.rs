//! The journal's own tests: writing, breaking, holding records back.

use super::*;

fn info() -> RunInfo {
    RunInfo::for_test()
}

/// An outcome that cannot be written (the disk filled up after the create was sent) is
/// kept, not printed: every later change is refused, and the run ends by saying so.
#[cfg(target_os = "linux")]
#[test]
fn a_failed_write_refuses_every_later_change() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut journal = Journal::open(&dir.path().join("journal.jsonl"), info()).expect("open");
    let seq = journal
        .intent("cyberark", "create_user", "a", None)
        .expect("intent");
    journal.file = OpenOptions::new().append(true).open("/dev/full").ok();
    assert!(journal.file.is_some(), "/dev/full opens");
    journal.outcome(
        Some(seq),
        Event::new("cyberark", "create_user", "a", Outcome::Created),
    );
    let broken = journal.broken().map(ToString::to_string);
    assert!(
        broken
            .as_deref()
            .is_some_and(|b| b.starts_with("cannot write the journal")),
        "{broken:?}"
    );
    assert!(
        journal
            .intent("cyberark", "create_user", "b", None)
            .is_err()
    );
    // The run still knows what it did, for its summary.
    assert_eq!(journal.events().len(), 1);
}

/// Held-back records are written by `flush`, in order, in one go; when that write fails,
/// the calls they announce are refused at their gate, before they send anything.
#[cfg(target_os = "linux")]
#[test]
fn deferred_records_wait_for_flush_and_a_failed_flush_shuts_the_gate() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("journal.jsonl");
    let journal = Journal::open(&path, info()).expect("open");
    let lines = || {
        std::fs::read_to_string(&path)
            .unwrap_or_default()
            .lines()
            .count()
    };
    journal.deferring(|| {
        journal
            .intent("pam360", "create_user", "a", None)
            .expect("a");
        journal
            .intent("pam360", "create_user", "b", None)
            .expect("b");
        // The header is out; the intents are held.
        assert_eq!(lines(), 1);
        journal.flush();
        assert_eq!(lines(), 3);
        assert!(journal.gate().is_some_and(|g| g.check().is_ok()));
    });
    // Outside a deferring thread a record is written before its call is made: no gate.
    assert!(journal.gate().is_none());

    let mut journal = Journal::open(&path, info()).expect("open again");
    journal
        .intent("pam360", "create_user", "c", None)
        .expect("c");
    journal.file = OpenOptions::new().append(true).open("/dev/full").ok();
    let gate = journal.deferring(|| {
        journal
            .intent("pam360", "create_user", "d", None)
            .expect("held");
        let gate = journal.gate().expect("a deferring thread's gate");
        assert!(gate.check().is_ok());
        journal.flush();
        gate
    });
    assert!(
        gate.check().is_err(),
        "the call announced by a lost intent is refused"
    );
    assert!(journal.intent("pam360", "create_user", "e", None).is_err());
}

#[test]
fn a_journal_in_memory_writes_nothing_and_never_breaks() {
    let journal = Journal::memory();
    assert!(journal.intent("pam360", "create_user", "a", None).is_ok());
    assert!(journal.broken().is_none());
    assert!(journal.path().is_none());
}

/// What a thread held back is written even when its rows end in a panic.
#[test]
fn held_records_are_written_when_the_thread_panics() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("journal.jsonl");
    let journal = Journal::open(&path, info()).expect("open");
    let ended = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        journal.deferring(|| {
            journal
                .intent("pam360", "create_user", "a", None)
                .expect("a");
            panic!("a row's script went wrong");
        })
    }));
    assert!(ended.is_err());
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(text.contains("\"username\":\"a\""), "{text}");
}
