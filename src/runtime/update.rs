//! Updates that converge: only the fields that differ from the user as the vendor has it are
//! written, journaled with their values before (what undoes them); dry runs plan the diff.

use crate::journal::{FieldsChange, current_row};
use crate::runtime::access::journalled_update;
use crate::runtime::call::Caller;
use crate::runtime::session::{CallError, Planned};
use crate::vendors::UserApi;
use crate::vendors::error::{ErrorKind, VendorError};
use crate::vendors::record::UserRecord;
use crate::vendors::schema::Request;
use crate::vendors::update::{FieldChange, differences};

impl<A: UserApi> Caller<A> {
    /// Write what `request` declares that differs from the user named `username`; the user
    /// after, with `changed` and `changes`. Nothing is written when nothing differs.
    pub fn update(
        &self,
        operation: &'static str,
        username: &str,
        request: Request,
    ) -> Result<A::User, CallError> {
        let changes = self.differences(operation, username, &request)?;
        self.write(operation, username, request, changes)
    }

    /// What `request` would change on the user: every field when the dry run would create it.
    pub(super) fn differences(
        &self,
        operation: &'static str,
        username: &str,
        request: &Request,
    ) -> Result<Vec<FieldChange>, CallError> {
        let planned = self.session.mode.dry_run
            && self
                .session
                .planned_user(Self::vendor(), username)
                .is_some();
        if planned || self.offline() {
            return Ok(differences(
                request,
                &serde_json::Value::Null,
                &["username"],
            ));
        }
        let client = self.client()?;
        let name = username.to_string();
        let current =
            self.session
                .retrying(Self::vendor(), operation, username, None, move || {
                    let (client, name) = (client.clone(), name.clone());
                    async move { client.user_fields(&name).await }
                })?;
        let Some(current) = current else {
            return Err(CallError::Vendor(
                VendorError::new(
                    Self::vendor(),
                    ErrorKind::NotFound,
                    format!("there is no user named \"{username}\""),
                )
                .during(operation),
            ));
        };
        Ok(differences(request, &current, &["username"]))
    }

    /// Write `changes` (journaled; planned in a dry run) and return the user after.
    pub(super) fn write(
        &self,
        operation: &'static str,
        username: &str,
        request: Request,
        changes: Vec<FieldChange>,
    ) -> Result<A::User, CallError> {
        if !changes.is_empty() {
            if self.session.mode.dry_run {
                let fields: Vec<&str> = changes.iter().map(|c| c.field.as_str()).collect();
                self.session.plan(Planned {
                    row: current_row(),
                    vendor: Self::vendor(),
                    action: "update_user",
                    username: username.to_string(),
                    id: 0,
                    request: Some(request.clone()),
                    target: Some(fields.join(", ")),
                    level: None,
                    detail: None,
                });
            } else {
                let update = FieldsChange {
                    fields: changes.clone(),
                    undo: "update_user".into(),
                };
                let ops = self.ops()?;
                journalled_update(
                    &self.session,
                    Self::vendor(),
                    operation,
                    username,
                    &update,
                    ops,
                )?;
            }
        }
        let mut user = match self.get(operation, username)? {
            // A dry run wrote nothing: what it shows is what the update declares.
            Some(u) if self.session.mode.dry_run => A::planned(&request, u.common().id),
            Some(u) => u,
            None => A::planned(&request, self.session.placeholder_id()),
        };
        let c = user.common_mut();
        c.created = false;
        c.changed = !changes.is_empty();
        c.dry_run = self.session.mode.dry_run;
        c.changes = changes;
        Ok(user)
    }
}
