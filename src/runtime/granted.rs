//! What onboard has given a user and not taken back, as the journal tells it: what a leaver's
//! offboarding revokes.

use crate::journal::{Altered, ChangeState};
use crate::runtime::session::{CallError, Session};
use crate::vendors::access::Direction;

/// One access onboard gave and nothing since took back: its kind and target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Given {
    pub kind: String,
    pub target: String,
}

impl Session {
    /// The accesses of `vendor` that runs in the journal gave `username` and that no later run,
    /// undo or rollback took back, oldest first. A dry run reads the journal too; a plan's own
    /// grants are not in it.
    pub fn given(&self, vendor: &str, username: &str) -> Result<Vec<Given>, CallError> {
        let Some(path) = self.history_path() else {
            return Ok(Vec::new());
        };
        let loaded = crate::journal::load(path).map_err(|e| CallError::Setup(e.to_string()))?;
        let spec = crate::vendors::find(vendor);
        let mut changes: Vec<_> = loaded
            .history
            .runs
            .iter()
            .flat_map(|r| r.changes.iter())
            .filter(|c| c.vendor == vendor && c.username == username)
            .filter(|c| !matches!(c.state, ChangeState::Undone { .. }))
            .collect();
        changes.sort_by_key(|c| c.at);
        let mut given: Vec<Given> = Vec::new();
        for c in changes {
            let Altered::Access(a) = &c.what else {
                continue;
            };
            // States (enabled) are not access to take back.
            if spec.is_some_and(|s| crate::vendors::access::kind(s.access, &a.kind).is_none()) {
                continue;
            }
            given.retain(|g| !(g.kind == a.kind && g.target == a.target));
            if a.direction == Direction::Grant {
                given.push(Given {
                    kind: a.kind.clone(),
                    target: a.target.clone(),
                });
            }
        }
        Ok(given)
    }
}
