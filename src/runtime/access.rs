//! Grants and revokes as a run makes them: planned by a dry run, journaled before and after with
//! what undoes them, retried, and remembered for rollback.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use crate::journal::{AccessChange, Altered, Event, FieldsChange, Outcome, current_row};
use crate::runtime::call::Caller;
use crate::runtime::session::{CallError, ChangeMade, Planned, Session};
use crate::vendors::access::{AccessKind, Direction, Grant, Held, Holding};
use crate::vendors::error::{ErrorKind, VendorError};
use crate::vendors::{Ops, UserApi};

impl<A: UserApi> Caller<A> {
    /// A lookup of `name` (and the `more` names it needs) through the client, retried as every
    /// call that is safe to repeat; each attempt is given the client and owned copies.
    fn lookup<T, const N: usize, Fut>(
        &self,
        operation: &'static str,
        name: &str,
        more: &[&str],
        call: impl Fn(Arc<A>, [String; N]) -> Fut,
    ) -> Result<T, CallError>
    where
        Fut: std::future::Future<Output = Result<T, VendorError>> + Send + 'static,
        T: Send + 'static,
    {
        let client = self.client()?;
        let names: Vec<String> = std::iter::once(name)
            .chain(more.iter().copied())
            .map(str::to_string)
            .collect();
        self.session
            .retrying(Self::vendor(), operation, name, None, || {
                let owned: [String; N] =
                    std::array::from_fn(|i| names.get(i).cloned().unwrap_or_default());
                call(client.clone(), owned)
            })
    }

    /// What `username` holds of `kind` (a lookup: dry runs make it too, offline ones do not).
    /// In a dry run, with what the plan so far would give and take away.
    pub fn held(&self, kind: &'static AccessKind, username: &str) -> Result<Vec<Held>, CallError> {
        let planned_user = self.session.mode.dry_run
            && self
                .session
                .planned_user(Self::vendor(), username)
                .is_some();
        // A user the dry run would create holds nothing yet, and is in every state a new user
        // starts in.
        let mut held = if planned_user && kind.starts_on {
            vec![Held {
                id: None,
                name: String::new(),
                kind: kind.noun.into(),
                level: None,
            }]
        } else if self.offline() || planned_user {
            Vec::new()
        } else {
            self.lookup(
                kind.list_fn,
                username,
                &[],
                move |client, [name]| async move { client.access(kind.key, &name).await },
            )?
        };
        if self.session.mode.dry_run {
            let plan = self.session.planned_access(
                Self::vendor(),
                username,
                kind.grant_fn,
                kind.revoke_fn,
            );
            for (grant, target, _) in plan {
                held.retain(|h| h.name != target);
                if grant {
                    held.push(Held {
                        id: None,
                        name: target,
                        kind: "planned".into(),
                        level: None,
                    });
                }
            }
        }
        Ok(held)
    }

    /// The members of a target (`safe_members(safe)`): a lookup, none offline.
    pub fn members(&self, kind: &'static AccessKind, target: &str) -> Result<Vec<Held>, CallError> {
        if self.offline() {
            return Ok(Vec::new());
        }
        self.lookup(kind.list_fn, target, &[], move |client, [on]| async move {
            client.members(kind.key, &on).await
        })
    }

    /// A dry run's plan entry for a change to `username` of `target`.
    fn plan_change(&self, operation: &'static str, username: &str, target: &str) {
        self.plan_level(operation, username, target, None, None);
    }

    fn plan_level(
        &self,
        operation: &'static str,
        username: &str,
        target: &str,
        level: Option<serde_json::Value>,
        detail: Option<String>,
    ) {
        self.session.plan(Planned {
            row: current_row(),
            vendor: Self::vendor(),
            action: operation,
            username: username.to_string(),
            id: 0,
            request: None,
            target: Some(target.to_string()),
            level,
            detail,
        });
    }

    /// A dry run's check that the target exists (a lookup; none offline).
    fn check_target(&self, kind: &'static AccessKind, target: &str) -> Result<(), CallError> {
        if self.offline() {
            return Ok(());
        }
        self.lookup(
            kind.grant_fn,
            target,
            &[],
            move |client, [name]| async move { client.check_target(kind.key, &name).await },
        )
    }

    /// What `username` holds of `target`, with its level: read first (dry runs too, with what
    /// the plan so far would change; offline, nothing is held).
    pub fn holding(
        &self,
        kind: &'static AccessKind,
        username: &str,
        target: &str,
    ) -> Result<Holding, CallError> {
        let dry = self.session.mode.dry_run;
        let planned_user = dry
            && self
                .session
                .planned_user(Self::vendor(), username)
                .is_some();
        let mut holding = if self.offline() || planned_user {
            Holding::No
        } else {
            self.lookup(
                kind.grant_fn,
                username,
                &[target],
                move |client, [name, on]| async move { client.holding(kind.key, &name, &on).await },
            )?
        };
        if dry {
            let plan = self.session.planned_access(
                Self::vendor(),
                username,
                kind.grant_fn,
                kind.revoke_fn,
            );
            for (grant, planned, level) in plan {
                if planned == target {
                    holding = match (grant, level) {
                        (true, Some(l)) => Holding::Yes(l),
                        (true, None) => Holding::Unknown,
                        (false, _) => Holding::No,
                    };
                }
            }
        }
        Ok(holding)
    }

    /// Grant or revoke: no write when it is already so, and the change journaled with its undo.
    pub fn change_access(
        &self,
        kind: &'static AccessKind,
        direction: Direction,
        username: &str,
        target: &str,
    ) -> Result<Grant, CallError> {
        self.change(
            kind,
            kind.function(direction),
            direction,
            username,
            target,
            None,
        )
    }

    /// Grant at a level (`add_safe_member`), revoke, or with `operation` the kind's
    /// `update_fn`, change the level of an access the user must already hold. The holding is
    /// read first: a grant of the level held sends nothing, and the journal keeps the level
    /// replaced, which undo gives back.
    pub fn change(
        &self,
        kind: &'static AccessKind,
        operation: &'static str,
        direction: Direction,
        username: &str,
        target: &str,
        level: Option<serde_json::Value>,
    ) -> Result<Grant, CallError> {
        let shown = kind.level.zip(level.as_ref()).map(|(l, v)| (l.show)(v));
        let grant = |changed: bool| Grant {
            vendor: Self::vendor(),
            operation,
            user: username.to_string(),
            target: match (target.is_empty(), &shown) {
                (true, _) => kind.noun.to_string(),
                (false, Some(s)) => format!("{} \"{target}\" ({s})", kind.noun),
                (false, None) => format!("{} \"{target}\"", kind.noun),
            },
            changed,
            dry_run: self.session.mode.dry_run,
        };
        let dry = self.session.mode.dry_run;
        if dry {
            self.check_target(kind, target)?;
        }
        let before = match self.before_change(
            kind,
            operation,
            direction,
            username,
            target,
            level.as_ref(),
        )? {
            Before::AlreadySo => return Ok(grant(false)),
            Before::Held(held) => held,
        };
        if dry {
            self.plan_level(operation, username, target, level, shown.clone());
            return Ok(grant(true));
        }
        let ops = self.ops()?;
        let access = AccessChange {
            level: level.filter(|_| direction == Direction::Grant),
            before,
            ..AccessChange::of(
                kind.key,
                target,
                direction,
                kind.function(direction.inverse()),
            )
        };
        let access = AccessChange {
            undo: kind.function(access.inverse_direction()).to_string(),
            ..access
        };
        let changed = journalled_change(
            &self.session,
            Self::vendor(),
            operation,
            username,
            &access,
            ops,
        )?;
        Ok(grant(changed))
    }
}

/// What a change finds before it is made.
enum Before {
    /// Nothing to do: the user already holds it so (or, revoking, does not hold it).
    AlreadySo,
    /// The level held now, which undo gives back (`None`: not held, or not readable).
    Held(Option<serde_json::Value>),
}

impl<A: UserApi> Caller<A> {
    /// For a kind with levels, what the user holds is read first; for one without, only a dry
    /// run reads it (a real change learns it from the vendor's "already so").
    fn before_change(
        &self,
        kind: &'static AccessKind,
        operation: &'static str,
        direction: Direction,
        username: &str,
        target: &str,
        level: Option<&serde_json::Value>,
    ) -> Result<Before, CallError> {
        let Some(spec) = kind.level else {
            if self.session.mode.dry_run {
                let holds = self.held(kind, username)?.iter().any(|h| h.name == target);
                if holds == (direction == Direction::Grant) {
                    return Ok(Before::AlreadySo);
                }
            }
            return Ok(Before::Held(None));
        };
        let holding = self.holding(kind, username, target)?;
        match (&holding, direction, level) {
            (Holding::Yes(held), Direction::Grant, Some(want)) if (spec.same)(held, want) => {
                return Ok(Before::AlreadySo);
            }
            (Holding::No, Direction::Revoke, _) => return Ok(Before::AlreadySo),
            (Holding::No, _, _) if Some(operation) == kind.update_fn => {
                let message = format!(
                    "{username} has no {} \"{target}\" to update; {} gives it",
                    kind.noun, kind.grant_fn
                );
                return Err(CallError::Vendor(
                    VendorError::new(Self::vendor(), ErrorKind::NotFound, message)
                        .during(operation),
                ));
            }
            _ => {}
        }
        Ok(Before::Held(match holding {
            Holding::Yes(held) => Some(held),
            _ => None,
        }))
    }
}

/// The outcome record of an announced call: `event` as it is when the call succeeded, else
/// failed (with the vendor's error) or unknown (interrupted before the answer).
fn record_end<T>(session: &Session, seq: u64, event: Event, result: &Result<T, CallError>) {
    let event = match result {
        Ok(_) => event,
        Err(CallError::Vendor(e)) => Event {
            outcome: Outcome::Failed,
            ..event.error(e)
        },
        Err(_) => Event {
            outcome: Outcome::Unknown,
            ..event.note("interrupted while waiting for the vendor's answer")
        },
    };
    session.journal.outcome(Some(seq), event);
}

/// One access change, journaled before and after: whether it changed anything. An attempt
/// whose answer was lost and a retry told "already so" count as this call's change. A change
/// made during a run (not a reversal) is remembered for rollback.
pub fn journalled_change(
    session: &Session,
    vendor: &'static str,
    operation: &'static str,
    username: &str,
    access: &AccessChange,
    ops: Arc<dyn Ops>,
) -> Result<bool, CallError> {
    let seq = session
        .journal
        .intent_access(vendor, operation, username, access.clone())
        .map_err(|e| CallError::Setup(format!("{e}; nothing was sent")))?;
    let started = Instant::now();
    let lost = Arc::new(AtomicBool::new(false));
    let result = session.retrying(vendor, operation, username, Some(seq), || {
        let (ops, lost, access) = (ops.clone(), lost.clone(), access.clone());
        let name = username.to_string();
        async move {
            match ops
                .change_access(
                    &access.kind,
                    access.direction,
                    &name,
                    &access.target,
                    access.level.as_ref(),
                    access.before.is_some(),
                )
                .await
            {
                Ok(false) if lost.load(Ordering::Relaxed) => Ok(true),
                Err(e) => {
                    if e.may_have_applied() {
                        lost.store(true, Ordering::Relaxed);
                    }
                    Err::<bool, VendorError>(e)
                }
                ok => ok,
            }
        }
    });
    let outcome = match (&result, access.direction) {
        (Ok(false), _) => Outcome::Unchanged,
        (_, Direction::Grant) => Outcome::Granted,
        (_, Direction::Revoke) => Outcome::Revoked,
    };
    let event = Event::new(vendor, operation, username, outcome)
        .access(access.clone())
        .took(started.elapsed());
    record_end(session, seq, event, &result);
    let reversal = matches!(operation, "rollback" | "undo");
    if matches!(result, Ok(true)) && !reversal {
        session.remember_change(ChangeMade {
            row: current_row(),
            vendor,
            username: username.to_string(),
            what: Altered::Access(access.clone()),
            ops,
        });
    }
    result
}

/// One update, journaled before and after with the values it replaces: the fields written.
/// A run's own update (not a reversal) is remembered for rollback.
pub fn journalled_update(
    session: &Session,
    vendor: &'static str,
    operation: &'static str,
    username: &str,
    update: &FieldsChange,
    ops: Arc<dyn Ops>,
) -> Result<(), CallError> {
    let seq = session
        .journal
        .intent_update(vendor, operation, username, update.clone())
        .map_err(|e| CallError::Setup(format!("{e}; nothing was sent")))?;
    let started = Instant::now();
    let body = crate::vendors::update::partial(&update.fields, false);
    // Writing the same values twice is harmless: a lost answer is simply written again.
    let result = session.retrying(vendor, operation, username, Some(seq), || {
        let (ops, body, name) = (ops.clone(), body.clone(), username.to_string());
        async move { ops.write_fields(&name, &body).await }
    });
    let event = Event::new(vendor, operation, username, Outcome::Updated)
        .update(update.clone())
        .took(started.elapsed());
    record_end(session, seq, event, &result);
    if result.is_ok() && !matches!(operation, "rollback" | "undo") {
        session.remember_change(ChangeMade {
            row: current_row(),
            vendor,
            username: username.to_string(),
            what: Altered::Update(update.clone()),
            ops,
        });
    }
    result
}

/// A lifecycle call nothing can undo, journaled before and after as such: whether it changed
/// anything. Never remembered for rollback: there is nothing to reverse it with.
pub fn journalled_irreversible<Fut>(
    session: &Session,
    vendor: &'static str,
    operation: &'static str,
    username: &str,
    what: &str,
    mut attempt: impl FnMut() -> Fut,
) -> Result<bool, CallError>
where
    Fut: std::future::Future<Output = Result<bool, VendorError>> + Send + 'static,
{
    let seq = session
        .journal
        .intent_irreversible(vendor, operation, username, what)
        .map_err(|e| CallError::Setup(format!("{e}; nothing was sent")))?;
    let started = Instant::now();
    let result = session.retrying(vendor, operation, username, Some(seq), &mut attempt);
    let outcome = match &result {
        Ok(false) => Outcome::Unchanged,
        _ => Outcome::Updated,
    };
    let event = Event::new(vendor, operation, username, outcome)
        .irreversible(what)
        .took(started.elapsed());
    record_end(session, seq, event, &result);
    result
}

impl<A: UserApi> Caller<A> {
    /// A lifecycle call nothing can undo (`activate_user`, `reset_password`): planned by a dry
    /// run, journaled as not undoable.
    pub fn lifecycle(
        &self,
        call: crate::vendors::access::Lifecycle,
        username: &str,
        arg: Option<crate::vendors::access::LifecycleArg>,
    ) -> Result<Grant, CallError> {
        use crate::vendors::access::{Lifecycle, LifecycleArg};
        let operation = call.function();
        let what = match &arg {
            Some(LifecycleArg::User(to)) => format!("{} to {to}", call.what()),
            _ => call.what().to_string(),
        };
        let grant = |changed: bool| Grant {
            vendor: Self::vendor(),
            operation,
            user: username.to_string(),
            target: what.clone(),
            changed,
            dry_run: self.session.mode.dry_run,
        };
        if self.session.mode.dry_run {
            self.plan_change(operation, username, &what);
            return Ok(grant(true));
        }
        let client = self.client()?;
        let name = username.to_string();
        let changed = journalled_irreversible(
            &self.session,
            Self::vendor(),
            operation,
            username,
            &what,
            move || {
                let (client, name, arg) = (client.clone(), name.clone(), arg.clone());
                async move {
                    match (call, arg) {
                        (Lifecycle::ResetPassword, Some(LifecycleArg::Password(p))) => {
                            client.reset_password(&name, &p).await.map(|()| true)
                        }
                        (Lifecycle::TransferAccountabilities, Some(LifecycleArg::User(to))) => {
                            client
                                .transfer_accountabilities(&name, &to)
                                .await
                                .map(|()| true)
                        }
                        _ => client.activate_user(&name).await,
                    }
                }
            },
        )?;
        Ok(grant(changed))
    }
}
