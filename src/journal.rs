//! What a run changed on the vendors: every create and delete, in order, with its outcome.

use std::sync::Mutex;
use std::time::Duration;

use serde::Serialize;

use crate::vendors::error::VendorError;

/// How a state-changing call ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Created,
    /// `ensure_user` found the user already there; nothing was created.
    Existed,
    Deleted,
    Failed,
}

/// One state-changing call. Never holds a secret.
#[derive(Clone, Debug, Serialize)]
pub struct Event {
    pub vendor: &'static str,
    pub operation: &'static str,
    pub username: String,
    pub id: Option<i64>,
    pub outcome: Outcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_kind: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    pub duration_ms: u64,
}

impl Event {
    pub fn failed(
        vendor: &'static str,
        operation: &'static str,
        username: &str,
        err: &VendorError,
        took: Duration,
    ) -> Self {
        Event {
            vendor,
            operation,
            username: username.to_string(),
            id: None,
            outcome: Outcome::Failed,
            error_kind: Some(err.kind.as_str()),
            status: err.status,
            duration_ms: took.as_millis() as u64,
        }
    }
}

/// The events of one run.
#[derive(Default)]
pub struct Journal {
    events: Mutex<Vec<Event>>,
}

impl Journal {
    pub fn record(&self, event: Event) {
        if let Ok(mut events) = self.events.lock() {
            events.push(event);
        }
    }

    pub fn events(&self) -> Vec<Event> {
        self.events.lock().map(|e| e.clone()).unwrap_or_default()
    }
}
