//! Typed results of vendor calls: common getters, masked printing, `to_map` and `to_json`, for every vendor's user type.

use rhai::{Dynamic, Map};

use crate::vendors::values;

/// What every user record has, whatever the vendor.
#[derive(Clone, Debug, Default)]
pub struct Common {
    pub vendor: &'static str,
    pub id: i64,
    pub username: String,
    /// False when an idempotent call found the user already there.
    pub created: bool,
    pub dry_run: bool,
    /// The HTTP status of the answer that produced this record, for the journal (not shown
    /// to scripts).
    pub http_status: Option<u16>,
    /// Whether the call changed the user (a create did; an update or converging ensure that
    /// found nothing to change did not).
    pub changed: bool,
    /// The fields an update or converging ensure wrote, before and after (never a secret).
    pub changes: Vec<super::update::FieldChange>,
}

impl Common {
    /// The common part of what a dry run returns for a create: a placeholder id.
    pub fn planned(vendor: &'static str, request: &super::schema::Request, id: i64) -> Common {
        Common {
            vendor,
            id,
            username: request.username().to_string(),
            created: true,
            dry_run: true,
            http_status: None,
            changed: true,
            changes: Vec::new(),
        }
    }
}

/// The getters every result type shares, with their docs.
pub const COMMON_PROPERTIES: &[(&str, &str)] = &[
    (
        "vendor",
        "the vendor's name, as its namespace is spelt (`vendors()` lists them)",
    ),
    ("id", "the vendor's numeric id of the user"),
    ("username", "the user name"),
    (
        "created",
        "true when this call created the user; false when it was already there",
    ),
    (
        "dry_run",
        "true when nothing was sent (onboard run --dry-run)",
    ),
    (
        "changed",
        "true when this call changed the user (a create, or an update that wrote something)",
    ),
    (
        "changes",
        "what an update wrote: an array of #{ field, before, after }",
    ),
];

/// A vendor's user type, as scripts see it.
pub trait UserRecord: Clone + Send + Sync + 'static {
    /// The Rhai type name (`CyberArkUser`).
    const TYPE_NAME: &'static str;
    /// The vendor's own read-only properties and their docs, in display order.
    const PROPERTIES: &'static [(&'static str, &'static str)];

    fn common(&self) -> &Common;
    fn common_mut(&mut self) -> &mut Common;
    /// One of `PROPERTIES` by name; `()` when the vendor did not say.
    fn property(&self, name: &str) -> Dynamic;
    /// The properties worth showing on the one-line summary.
    const SUMMARY: &'static [&'static str];

    /// A property by name, as `r.name` reads it: one of `COMMON_PROPERTIES` or `PROPERTIES`.
    fn get(&self, name: &str) -> Option<Dynamic> {
        let c = self.common();
        Some(match name {
            "vendor" => c.vendor.into(),
            "id" => Dynamic::from_int(c.id),
            "username" => c.username.clone().into(),
            "created" => c.created.into(),
            "dry_run" => c.dry_run.into(),
            "changed" => c.changed.into(),
            "changes" => changes_array(&c.changes),
            _ if Self::PROPERTIES.iter().any(|(n, _)| *n == name) => self.property(name),
            _ => return None,
        })
    }

    /// Every property's name, common ones first.
    fn property_names() -> impl Iterator<Item = &'static str> {
        COMMON_PROPERTIES
            .iter()
            .chain(Self::PROPERTIES)
            .map(|(name, _)| *name)
    }

    fn to_map(&self) -> Map {
        Self::property_names()
            .filter_map(|name| Some((name.into(), self.get(name)?)))
            .collect()
    }

    /// `CyberArkUser { id: 12, username: "jdoe", created: true, user_type: "EPVUser" }`.
    fn summary(&self) -> String {
        let c = self.common();
        let mut parts = vec![
            format!("id: {}", c.id),
            format!("username: {:?}", c.username),
            format!("created: {}", c.created),
        ];
        if c.dry_run {
            parts.push("dry_run: true".into());
        }
        for name in Self::SUMMARY {
            let v = self.property(name);
            if !v.is_unit() {
                parts.push(format!("{name}: {}", values::display_inline(&v)));
            }
        }
        format!("{} {{ {} }}", Self::TYPE_NAME, parts.join(", "))
    }
}

/// The one-line summary of a record held in a `Dynamic`, if it is a `T`.
pub fn summary_of<T: UserRecord>(value: &Dynamic) -> Option<String> {
    value.read_lock::<T>().map(|r| r.summary())
}

/// `changes` as scripts see it.
pub fn changes_array(changes: &[super::update::FieldChange]) -> Dynamic {
    Dynamic::from_array(
        changes
            .iter()
            .map(|c| {
                let mut m = Map::new();
                m.insert("field".into(), c.field.clone().into());
                m.insert("before".into(), values::from_json(&c.before));
                m.insert("after".into(), values::from_json(&c.after));
                Dynamic::from_map(m)
            })
            .collect(),
    )
}

/// The map of a record held in a `Dynamic`, if it is a `T`.
pub fn map_of<T: UserRecord>(value: &Dynamic) -> Option<Map> {
    value.read_lock::<T>().map(|r| r.to_map())
}

/// The common part of a record held in a `Dynamic`, if it is a `T`.
pub fn common_of<T: UserRecord>(value: &Dynamic) -> Option<Common> {
    value.read_lock::<T>().map(|r| r.common().clone())
}

/// camelCase to snake_case, for the keys of nested maps a vendor returns.
pub fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// A JSON value from a vendor as a script value; object keys become snake_case.
pub fn json_to_dynamic(v: &serde_json::Value) -> Dynamic {
    values::from_json_keys(v, &snake_case)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every documented common property reads back, so the docs and `get` cannot drift apart.
    #[test]
    fn every_common_property_is_readable() {
        #[derive(Clone)]
        struct Probe(Common);
        impl UserRecord for Probe {
            const TYPE_NAME: &'static str = "Probe";
            const PROPERTIES: &'static [(&'static str, &'static str)] = &[("team", "")];
            const SUMMARY: &'static [&'static str] = &[];
            fn common(&self) -> &Common {
                &self.0
            }
            fn common_mut(&mut self) -> &mut Common {
                &mut self.0
            }
            fn property(&self, _: &str) -> Dynamic {
                "noc".into()
            }
        }
        let user = Probe(Common::default());
        for (name, _) in COMMON_PROPERTIES {
            assert!(user.get(name).is_some(), "{name}");
        }
        assert_eq!(user.to_map().len(), COMMON_PROPERTIES.len() + 1);
        assert!(user.get("team").is_some());
        assert!(user.get("idd").is_none());
    }

    #[test]
    fn snake() {
        assert_eq!(snake_case("businessEmail"), "business_email");
        assert_eq!(snake_case("workZip"), "work_zip");
        assert_eq!(snake_case("id"), "id");
    }
}
