//! One vendor call as a run makes it: the dry-run plan, journal records, retries, and creates
//! whose answer was lost looked up before they are sent again.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use super::error::{ErrorKind, VendorError};
use super::record::UserRecord;
use super::schema::Request;
use super::{UserApi, ops_of};
use crate::journal::{Event, Outcome};
use crate::session::{CallError, CreatedAccount, Planned, Session};

/// The calls of one vendor in one session; its client is built on first use.
pub struct Caller<A: UserApi> {
    session: Arc<Session>,
    client: OnceLock<Arc<A>>,
    building: Mutex<()>,
}

impl<A: UserApi> Caller<A> {
    pub fn new(session: Arc<Session>) -> Self {
        Caller {
            session,
            client: OnceLock::new(),
            building: Mutex::new(()),
        }
    }

    pub fn vendor() -> &'static str {
        A::spec().name
    }

    fn client(&self) -> Result<Arc<A>, CallError> {
        if let Some(c) = self.client.get() {
            return Ok(c.clone());
        }
        let _guard = self.building.lock();
        if let Some(c) = self.client.get() {
            return Ok(c.clone());
        }
        let settings = self
            .session
            .settings(Self::vendor())
            .map_err(CallError::Setup)?;
        let client = Arc::new(A::connect(&settings)?);
        self.session
            .on_close(Self::vendor(), ops_of(client.clone()));
        let _ = self.client.set(client.clone());
        Ok(client)
    }

    fn offline(&self) -> bool {
        self.session.mode.dry_run && self.session.mode.offline
    }

    /// The user with exactly this name, or `None`.
    pub fn get(
        &self,
        operation: &'static str,
        username: &str,
    ) -> Result<Option<A::User>, CallError> {
        if self.session.mode.dry_run
            && let Some(p) = self.session.planned_user(Self::vendor(), username)
            && let Some(req) = &p.request
        {
            return Ok(Some(A::planned(req, p.id)));
        }
        if self.offline() {
            return Ok(None);
        }
        let client = self.client()?;
        let name = username.to_string();
        self.session
            .retrying(Self::vendor(), operation, username, None, move || {
                let (client, name) = (client.clone(), name.clone());
                async move { client.get_user(&name).await }
            })
    }

    pub fn exists(&self, operation: &'static str, username: &str) -> Result<bool, CallError> {
        if self.session.mode.dry_run
            && self
                .session
                .planned_user(Self::vendor(), username)
                .is_some()
        {
            return Ok(true);
        }
        if self.offline() {
            return Ok(false);
        }
        let client = self.client()?;
        let name = username.to_string();
        self.session
            .retrying(Self::vendor(), operation, username, None, move || {
                let (client, name) = (client.clone(), name.clone());
                async move { client.user_exists(&name).await }
            })
    }

    /// Create the user. A create whose answer was lost is looked up before it is sent again,
    /// and a user found that matches the request counts as created: never a duplicate.
    pub fn create(&self, operation: &'static str, request: Request) -> Result<A::User, CallError> {
        let vendor = Self::vendor();
        if self.session.mode.dry_run {
            let id = self.session.placeholder_id();
            let user = A::planned(&request, id);
            self.session.plan(Planned {
                row: crate::session::current_row(),
                vendor,
                action: "create",
                username: request.username().to_string(),
                id,
                request: Some(request),
            });
            return Ok(user);
        }
        // Shared with each attempt, which runs on the runtime's threads.
        let request = Arc::new(request);
        let username = request.username();
        let client = self.client()?;
        let seq = self
            .session
            .journal
            .intent(vendor, operation, username)
            .map_err(|e| CallError::Setup(format!("{e}; nothing was sent")))?;
        let journal = &self.session.journal;
        let started = Instant::now();
        let mut attempt = 1;
        loop {
            let sending = {
                let (client, request) = (client.clone(), request.clone());
                async move { client.create_user(&request).await }
            };
            let err = match self.session.wait(sending) {
                Ok(Ok(user)) => return Ok(self.created(seq, operation, user, started, None)),
                Ok(Err(e)) => e.during(operation),
                Err(CallError::Interrupted) => {
                    journal.outcome(
                        Some(seq),
                        Event::new(vendor, operation, username, Outcome::Unknown)
                            .took(started.elapsed())
                            .note("interrupted while waiting for the vendor's answer"),
                    );
                    return Err(CallError::Interrupted);
                }
                Err(other) => return Err(other),
            };
            if err.maybe_applied {
                match self.reconcile(operation, &request) {
                    Ok(Some(user)) => {
                        let note =
                            format!("answer lost ({}); found by lookup, so created", err.kind);
                        return Ok(self.created(seq, operation, user, started, Some(note)));
                    }
                    Ok(None) => {}
                    Err(CallError::Vendor(e)) if e.kind == ErrorKind::AlreadyExists => {
                        journal.outcome(
                            Some(seq),
                            Event::new(vendor, operation, username, Outcome::Failed)
                                .error(&e)
                                .took(started.elapsed()),
                        );
                        return Err(CallError::Vendor(e));
                    }
                    Err(other) => {
                        // The lookup failed too: nobody can tell whether the user exists.
                        journal.outcome(
                            Some(seq),
                            Event::new(vendor, operation, username, Outcome::Unknown)
                                .error(&err)
                                .took(started.elapsed())
                                .note("the answer was lost and the user could not be looked up; check it"),
                        );
                        return Err(match other {
                            CallError::Interrupted => CallError::Interrupted,
                            _ => CallError::Vendor(err),
                        });
                    }
                }
            }
            match self
                .session
                .retry
                .next_delay(&err, attempt + 1, started.elapsed())
            {
                Some(wait) => {
                    journal.retry(
                        Some(seq),
                        vendor,
                        operation,
                        username,
                        attempt + 1,
                        &err,
                        wait,
                    );
                    if let Err(stop) = self.session.sleep(wait) {
                        journal.outcome(
                            Some(seq),
                            Event::new(vendor, operation, username, Outcome::Failed)
                                .error(&err)
                                .took(started.elapsed())
                                .note("interrupted before the retry"),
                        );
                        return Err(stop);
                    }
                    attempt += 1;
                }
                None => {
                    journal.outcome(
                        Some(seq),
                        Event::new(vendor, operation, username, Outcome::Failed)
                            .error(&err)
                            .took(started.elapsed()),
                    );
                    return Err(CallError::Vendor(err));
                }
            }
        }
    }

    /// After a lost answer: the user as the vendor has it now, if it matches what was sent.
    fn reconcile(
        &self,
        operation: &'static str,
        request: &Request,
    ) -> Result<Option<A::User>, CallError> {
        let found = self.get(operation, request.username())?;
        match found {
            Some(user) if A::matches(&user, request) => Ok(Some(user)),
            Some(_) => Err(CallError::Vendor(
                VendorError::new(
                    Self::vendor(),
                    ErrorKind::AlreadyExists,
                    format!(
                        "the answer to creating {} was lost, and a user of that name now exists \
                         that differs from the request: it is not taken as ours",
                        request.username()
                    ),
                )
                .during(operation),
            )),
            None => Ok(None),
        }
    }

    fn created(
        &self,
        seq: u64,
        operation: &'static str,
        mut user: A::User,
        started: Instant,
        note: Option<String>,
    ) -> A::User {
        user.common_mut().created = true;
        let c = user.common();
        let mut event = Event::new(Self::vendor(), operation, &c.username, Outcome::Created)
            .id(c.id)
            .took(started.elapsed());
        event.status = c.http_status;
        if let Some(n) = note {
            event = event.note(n);
        }
        self.session.journal.outcome(Some(seq), event);
        if let Some(client) = self.client.get() {
            self.session.remember_created(CreatedAccount {
                row: crate::session::current_row(),
                vendor: Self::vendor(),
                username: c.username.clone(),
                id: c.id,
                ops: ops_of(client.clone()),
            });
        }
        user
    }

    /// `ensure_user`: the user as it is, or created from the request.
    pub fn ensure(&self, request: Request) -> Result<A::User, CallError> {
        let started = Instant::now();
        match self.get("ensure_user", request.username())? {
            Some(mut user) => {
                user.common_mut().created = false;
                let c = user.common();
                self.session.journal.outcome(
                    None,
                    Event::new(Self::vendor(), "ensure_user", &c.username, Outcome::Existed)
                        .id(c.id)
                        .took(started.elapsed()),
                );
                Ok(user)
            }
            None => self.create("ensure_user", request),
        }
    }

    /// Delete the user with this id (journalled, retried).
    pub fn delete(
        &self,
        operation: &'static str,
        id: i64,
        username: &str,
    ) -> Result<(), CallError> {
        if self.session.mode.dry_run {
            self.session.plan(Planned {
                row: crate::session::current_row(),
                vendor: Self::vendor(),
                action: "delete",
                username: username.to_string(),
                id,
                request: None,
            });
            return Ok(());
        }
        let client = self.client()?;
        self.session
            .journalled_delete(Self::vendor(), operation, id, username, move || {
                let (client, name) = (client.clone(), username.to_string());
                async move { client.delete_user(id, &name).await }
            })
    }
}
