//! Request fields of each vendor call, and the validated request that goes on the wire.

use serde_json::{Value as Json, json};

use crate::util::secret::{MASK, Secret};

/// One key of a request map.
pub struct Field {
    pub key: &'static str,
    pub wire: &'static str,
    pub kind: Kind,
    pub required: bool,
    pub doc: &'static str,
}

/// A field the request may have.
pub const fn optional(
    key: &'static str,
    wire: &'static str,
    kind: Kind,
    doc: &'static str,
) -> Field {
    Field {
        key,
        wire,
        kind,
        required: false,
        doc,
    }
}

/// A field the request must have.
pub const fn required(
    key: &'static str,
    wire: &'static str,
    kind: Kind,
    doc: &'static str,
) -> Field {
    Field {
        key,
        wire,
        kind,
        required: true,
        doc,
    }
}

/// The type and rules of a field's value.
pub enum Kind {
    /// A string of at most `max` characters (0: no limit).
    Text {
        max: usize,
    },
    /// A user name: no control characters, no leading or trailing space, none of `forbidden`.
    Name {
        max: usize,
        forbidden: &'static str,
    },
    /// A password: a string or `Secret`, always masked when shown.
    Secret {
        max: usize,
    },
    Email {
        max: usize,
    },
    Bool,
    Int {
        min: i64,
        max: i64,
    },
    /// One of these values, matched ignoring case and sent as written here.
    OneOf(&'static [&'static str]),
    /// An array of values from this list.
    ListOf(&'static [&'static str]),
    /// An array of non-negative integers.
    Ints,
    /// A future date: Unix seconds, or `YYYY-MM-DD`; sent as Unix seconds.
    UnixTime,
    /// A future date written `YYYY-MM-DD`, sent as written.
    Date,
    /// A nested map with its own fields.
    Object(&'static [Field]),
    /// A shortcut for the nested field at this path (`email` for `internet.business_email`).
    Alias(&'static [&'static str]),
}

/// A rule across a request's fields; `Err` says what is wrong.
pub type CrossCheck = fn(&Request) -> Result<(), String>;

/// `cyberark::create_user`, as messages name a call.
#[derive(Clone, Copy)]
pub struct CallName<'a>(&'a RequestSpec);

impl std::fmt::Display for CallName<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}::{}", self.0.vendor, self.0.function)
    }
}

/// The request of one vendor function.
pub struct RequestSpec {
    pub vendor: &'static str,
    pub function: &'static str,
    pub fields: &'static [Field],
    /// Pairs of keys of which at most one may be given.
    pub exclusive: &'static [(&'static str, &'static str, &'static str)],
    /// Rules across fields, run when every field is valid.
    pub check: Option<CrossCheck>,
}

impl RequestSpec {
    pub fn call(&self) -> String {
        self.call_name().to_string()
    }

    /// `vendor::function`, formatted only when a message needs it.
    pub fn call_name(&self) -> CallName<'_> {
        CallName(self)
    }

    pub fn field(&self, key: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.key == key)
    }
}

impl Kind {
    /// The type as `onboard docs` and error messages name it.
    pub fn describe(&self) -> String {
        match self {
            Kind::Text { max: 0 } => "string".into(),
            Kind::Text { max } => format!("string, at most {max} characters"),
            Kind::Name { max, forbidden } => {
                let mut s = "name: no control characters or surrounding spaces".to_string();
                if !forbidden.is_empty() {
                    let shown: Vec<String> = forbidden.chars().map(|c| c.to_string()).collect();
                    s.push_str(&format!(", none of {}", shown.join(" ")));
                }
                if *max > 0 {
                    s.push_str(&format!(", at most {max} characters"));
                }
                s
            }
            Kind::Secret { max: 0 } => "string or Secret".into(),
            Kind::Secret { max } => format!("string or Secret, at most {max} characters"),
            Kind::Email { .. } => "email address".into(),
            Kind::Bool => "bool".into(),
            Kind::Int { min, max } if *max == i64::MAX => format!("integer, at least {min}"),
            Kind::Int { min, max } => format!("integer from {min} to {max}"),
            Kind::OneOf(v) => format!("one of {}", v.join(", ")),
            Kind::ListOf(v) => format!("array of {}", v.join(", ")),
            Kind::Ints => "array of integers".into(),
            Kind::UnixTime => "future date: Unix seconds or \"YYYY-MM-DD\"".into(),
            Kind::Date => "future date \"YYYY-MM-DD\"".into(),
            Kind::Object(fields) => {
                let keys: Vec<&str> = fields.iter().map(|f| f.key).collect();
                format!("map of {}", keys.join(", "))
            }
            Kind::Alias(path) => format!("shortcut for {}", path.join(".")),
        }
    }
}

/// A value the static checker cannot know before the script runs.
#[derive(Clone, Debug)]
pub struct Unknown;

/// A validated value, ready to go on the wire.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Text(String),
    Secret(Secret),
    Bool(bool),
    Int(i64),
    List(Vec<Value>),
    Object(Vec<Entry>),
    /// Only in `onboard check`: computed at run time.
    Unknown,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub field: &'static Field,
    pub value: Value,
}

impl PartialEq for Field {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self, other)
    }
}

impl std::fmt::Debug for Field {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.key)
    }
}

/// A request map that passed validation.
#[derive(Clone)]
pub struct Request {
    pub spec: &'static RequestSpec,
    pub entries: Vec<Entry>,
}

impl Request {
    /// The same request naming the user `username` (as the vendor spells it).
    pub fn with_username(mut self, username: &str) -> Request {
        for e in &mut self.entries {
            if e.field.key == "username" {
                e.value = Value::Text(username.to_string());
            }
        }
        self
    }

    /// The same request as `spec` has it (the update's fields for a create's map): the
    /// entries whose key `spec` has, each with `spec`'s field and so its place on the wire.
    pub fn as_spec(&self, spec: &'static RequestSpec) -> Request {
        let entries = self
            .entries
            .iter()
            .filter_map(|e| {
                let field = spec.fields.iter().find(|f| f.key == e.field.key)?;
                Some(Entry {
                    field,
                    value: e.value.clone(),
                })
            })
            .collect();
        Request { spec, entries }
    }
}

/// One thing wrong with a request map; `path` leads to the key (for pointing at it in a script).
#[derive(Clone, Debug, PartialEq)]
pub struct Problem {
    pub path: Vec<String>,
    pub message: String,
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Request({} {})",
            self.spec.call(),
            self.to_display_json()
        )
    }
}

impl Request {
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.entries
            .iter()
            .find(|e| e.field.key == key)
            .map(|e| &e.value)
    }

    /// A text value (not a secret) by key.
    pub fn text(&self, key: &str) -> Option<&str> {
        match self.get(key)? {
            Value::Text(t) => Some(t),
            _ => None,
        }
    }

    /// A text value inside nested maps (`["internet", "business_email"]`).
    pub fn text_at(&self, path: &[&str]) -> Option<&str> {
        let (last, parents) = path.split_last()?;
        let mut entries = &self.entries;
        for p in parents {
            match &entries.iter().find(|e| e.field.key == *p)?.value {
                Value::Object(inner) => entries = inner,
                _ => return None,
            }
        }
        match &entries.iter().find(|e| e.field.key == *last)?.value {
            Value::Text(t) => Some(t),
            _ => None,
        }
    }

    /// The user name; every create request requires one.
    pub fn username(&self) -> &str {
        match self.get("username") {
            Some(Value::Text(t)) => t,
            Some(Value::Secret(s)) => s.reveal(),
            _ => "",
        }
    }

    /// The JSON object the vendor receives, keyed by wire names. Secrets are revealed only when
    /// `reveal` is set, which only the code that sends the request does.
    pub fn to_wire_json(&self, reveal: bool, skip: &[&str]) -> Json {
        entries_to_json(&self.entries, reveal, skip)
    }

    /// Form or query parameters: wire names, lists joined with commas. Secrets revealed.
    pub fn to_params(&self, skip: &[&str]) -> Vec<(&'static str, String)> {
        self.entries
            .iter()
            .filter(|e| !skip.contains(&e.field.key))
            .map(|e| (e.field.wire, param_text(&e.value)))
            .collect()
    }

    /// What the request holds, keyed by script names, secrets masked: for plans and journals.
    pub fn to_display_json(&self) -> Json {
        display_json(&self.entries)
    }
}

fn entries_to_json(entries: &[Entry], reveal: bool, skip: &[&str]) -> Json {
    let mut obj = serde_json::Map::new();
    for e in entries.iter().filter(|e| !skip.contains(&e.field.key)) {
        obj.insert(e.field.wire.to_string(), value_to_json(&e.value, reveal));
    }
    Json::Object(obj)
}

fn value_to_json(v: &Value, reveal: bool) -> Json {
    match v {
        Value::Text(t) => json!(t),
        Value::Secret(s) if reveal => json!(s.reveal()),
        Value::Secret(_) => json!(MASK),
        Value::Bool(b) => json!(b),
        Value::Int(i) => json!(i),
        Value::List(l) => Json::Array(l.iter().map(|v| value_to_json(v, reveal)).collect()),
        Value::Object(entries) => entries_to_json(entries, reveal, &[]),
        Value::Unknown => Json::Null,
    }
}

fn display_json(entries: &[Entry]) -> Json {
    let mut obj = serde_json::Map::new();
    for e in entries {
        let v = match &e.value {
            Value::Object(inner) => display_json(inner),
            other => value_to_json(other, false),
        };
        obj.insert(e.field.key.to_string(), v);
    }
    Json::Object(obj)
}

fn param_text(v: &Value) -> String {
    match v {
        Value::Text(t) => t.clone(),
        Value::Secret(s) => s.reveal().to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::List(l) => l.iter().map(param_text).collect::<Vec<_>>().join(","),
        Value::Object(_) | Value::Unknown => String::new(),
    }
}
