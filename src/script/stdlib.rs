//! The standard library: `stdlib/*.rhai`, embedded in the binary and imported as `std/NAME`.

/// Every module, by import path.
pub const MODULES: &[(&str, &str)] = &[
    ("std/checks", include_str!("../../stdlib/checks.rhai")),
    ("std/naming", include_str!("../../stdlib/naming.rhai")),
    (
        "std/onboarding",
        include_str!("../../stdlib/onboarding.rhai"),
    ),
    (
        "std/offboarding",
        include_str!("../../stdlib/offboarding.rhai"),
    ),
    ("std/people", include_str!("../../stdlib/people.rhai")),
];

/// The module imported as `name` (`std/naming`), with its text.
pub fn find(name: &str) -> Option<(&'static str, &'static str)> {
    MODULES.iter().copied().find(|(n, _)| *n == name)
}

/// A module's `//!` comment on one line: what it is for.
pub fn summary(text: &str) -> String {
    text.lines()
        .skip_while(|l| !l.starts_with("//!"))
        .map_while(|l| l.strip_prefix("//!"))
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_module_parses_with_a_bare_engine() {
        let e = crate::script::engine::parser();
        for (name, text) in super::MODULES {
            if let Err(err) = e.compile(text) {
                panic!("{name}: {err}");
            }
        }
    }
}
