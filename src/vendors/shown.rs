//! How values are named and shown in messages about them: their types, short excerpts of user
//! text, and characters that would show as nothing written as escapes.

use rhai::Dynamic;

use crate::util::secret::Secret;

/// Characters that show as nothing, or change how the text around them is shown: bidirectional
/// overrides and isolates, zero-width spaces and joiners, word joiners, the byte-order mark and
/// the soft hyphen.
pub fn invisible(c: char) -> bool {
    matches!(c as u32,
        0x00AD | 0x061C | 0x180E | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x2064
        | 0x2066..=0x206F | 0xFEFF)
}

/// A value's type as messages name it: its article and its noun (`an`, `integer`).
fn type_words(value: &Dynamic) -> (&'static str, &'static str) {
    if value.is_string() {
        ("a", "string")
    } else if value.is_int() {
        ("an", "integer")
    } else if value.is_float() {
        ("a", "number")
    } else if value.is_bool() {
        ("a", "bool")
    } else if value.is_array() {
        ("an", "array")
    } else if value.is_map() {
        ("a", "map")
    } else {
        ("a", "")
    }
}

/// What type a value is, without showing it (for fields whose values are secret).
pub fn describe_type(value: &Dynamic) -> String {
    match type_words(value) {
        _ if value.is_unit() => "()".into(),
        (a, "") => format!("{a} {}", value.type_name()),
        (a, noun) => format!("{a} {noun}"),
    }
}

/// A value described for an error message; secrets are never shown.
pub fn describe_value(value: &Dynamic) -> String {
    if value.is::<Secret>() {
        return "a Secret".into();
    }
    // Scalars are shown with their value; anything else by its type.
    if value.is_string() {
        format!("the string \"{}\"", excerpt(&value.to_string()))
    } else if value.is_int() || value.is_float() || value.is_bool() {
        format!("the {} {value}", type_words(value).1)
    } else {
        describe_type(value)
    }
}

/// Text with every invisible character written as an escape (`\u{202e}`), for showing it.
pub fn show_invisible(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(invisible) {
        return std::borrow::Cow::Borrowed(text);
    }
    text.chars()
        .map(|c| {
            if invisible(c) {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect::<String>()
        .into()
}

/// At most 40 characters of user text for an error message, control characters escaped.
pub fn excerpt(t: &str) -> String {
    let mut s: String = t
        .chars()
        .take(40)
        .flat_map(|c| {
            if c.is_control() || invisible(c) {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect();
    if t.chars().count() > 40 {
        s.push('…');
    }
    s
}
