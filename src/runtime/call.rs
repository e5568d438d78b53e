//! One vendor call as a run makes it: the dry-run plan, journal records, retries, and creates
//! whose answer was lost looked up before they are sent again.

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use crate::journal::{Event, Outcome, Proof};
use crate::runtime::session::{CallError, CreatedAccount, Planned, Session};
use crate::vendors;
use crate::vendors::UserApi;
use crate::vendors::error::{ErrorKind, VendorError};
use crate::vendors::record::UserRecord;
use crate::vendors::schema::Request;

/// The calls of one vendor in one session, from one engine; the client is the session's.
pub struct Caller<A: UserApi> {
    pub(super) session: Arc<Session>,
    /// The session's client, typed for the script's calls and as `Ops` for its undo.
    client: OnceLock<(Arc<A>, Arc<dyn vendors::Ops>)>,
}

impl<A: UserApi> Caller<A> {
    /// The run's session (the journal, the mode).
    pub fn session(&self) -> &Session {
        &self.session
    }

    pub fn new(session: Arc<Session>) -> Self {
        Caller {
            session,
            client: OnceLock::new(),
        }
    }

    pub fn vendor() -> &'static str {
        A::spec().name
    }

    pub(super) fn client(&self) -> Result<Arc<A>, CallError> {
        if let Some((c, _)) = self.client.get() {
            return Ok(c.clone());
        }
        let ops = self.session.ops(Self::vendor())?;
        let client = ops.client().downcast::<A>().map_err(|_| {
            CallError::Setup(format!("{}'s client is of another type", Self::vendor()))
        })?;
        Ok(self.client.get_or_init(|| (client, ops)).0.clone())
    }

    /// The same client as `Ops`, for what undoes a change.
    pub(super) fn ops(&self) -> Result<Arc<dyn vendors::Ops>, CallError> {
        self.client()?;
        match self.client.get() {
            Some((_, ops)) => Ok(ops.clone()),
            None => self.session.ops(Self::vendor()),
        }
    }

    pub(super) fn offline(&self) -> bool {
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

    /// Create the user. A create whose answer was lost, cut or unreadable is looked up before
    /// anything else is sent: a user found that matches what was sent counts as created (never
    /// a duplicate), and one that differs is not taken as ours.
    pub fn create(&self, operation: &'static str, request: Request) -> Result<A::User, CallError> {
        let request = self.canonical(request)?;
        self.create_checked(operation, request, false)
    }

    /// The request with the user's name as the vendor knows it (Identity adds the tenant's
    /// suffix), so that the journal, the plan and the answer all name the same user. A lookup:
    /// a dry run makes it too, an offline one does not.
    fn canonical(&self, request: Request) -> Result<Request, CallError> {
        if !A::RENAMES || self.offline() {
            return Ok(request);
        }
        let client = self.client()?;
        let name = request.username().to_string();
        let canonical =
            self.session
                .retrying(Self::vendor(), "create_user", &name, None, || {
                    let (client, name) = (client.clone(), name.clone());
                    async move { client.canonical_name(&name).await }
                })?;
        Ok(if canonical == name {
            request
        } else {
            request.with_username(&canonical)
        })
    }

    /// `create`; `absent_before` when a lookup just found no user of the name, so a user found
    /// after a lost answer is this call's even where the vendor reports nothing to compare.
    fn create_checked(
        &self,
        operation: &'static str,
        request: Request,
        absent_before: bool,
    ) -> Result<A::User, CallError> {
        let vendor = Self::vendor();
        if self.session.mode.dry_run {
            return Ok(self.plan_create(request));
        }
        // Shared with each attempt, which runs on the runtime's threads.
        let request = Arc::new(request);
        let client = self.client()?;
        let sent = vendors::sent(A::spec(), &request);
        let seq = self
            .session
            .journal
            .intent(vendor, operation, request.username(), sent.clone())
            .map_err(|e| CallError::Setup(format!("{e}; nothing was sent")))?;
        let end = Ending {
            session: &self.session,
            vendor,
            operation,
            username: request.username(),
            seq,
            started: Instant::now(),
        };
        // Whether an earlier attempt may have been carried out although it did not say so.
        let mut lost = None;
        let mut attempt = 1;
        loop {
            let sending = {
                let (client, request) = (client.clone(), request.clone());
                async move { client.create_user(&request).await }
            };
            let err = match self.session.wait(sending) {
                Ok(Ok(user)) => {
                    return Ok(self.created(&end, user, Proof::Answer, None));
                }
                Ok(Err(e)) => e.during(operation),
                Err(CallError::Interrupted) => {
                    end.unknown(None, "interrupted while waiting for the vendor's answer");
                    return Err(CallError::Interrupted);
                }
                Err(other) => {
                    end.failed(None, "it could not be sent");
                    return Err(other);
                }
            };
            // A create that says the user exists after an earlier attempt went astray may be
            // meeting that very attempt, carried out late.
            let suspect =
                err.may_have_applied() || (lost.is_some() && err.kind == ErrorKind::AlreadyExists);
            if suspect {
                let why = *lost.get_or_insert(err.kind);
                let check = Lost {
                    request: &request,
                    sent: sent.as_ref(),
                    absent_before,
                    why,
                };
                if let Some(settled) = self.settle(&end, &check, &err) {
                    return settled;
                }
            }
            self.wait_to_retry(&end, attempt, err)?;
            attempt += 1;
        }
    }

    /// After an answer that may hide an applied create: the user looked up. `None` when it is
    /// not there (the create may be tried again).
    fn settle(
        &self,
        end: &Ending<'_>,
        lost: &Lost<'_>,
        err: &VendorError,
    ) -> Option<Result<A::User, CallError>> {
        let found = self.reconcile(end.operation, lost.request, lost.sent, lost.absent_before);
        match found {
            Ok(Some((user, proof))) => {
                let note = found_note(lost.why, proof, end.vendor);
                Some(Ok(self.created(end, user, proof, Some(note))))
            }
            Ok(None) => None,
            Err(CallError::Vendor(e)) if e.kind == ErrorKind::AlreadyExists => {
                end.failed(Some(&e), "");
                Some(Err(CallError::Vendor(e)))
            }
            Err(other) => {
                // The lookup failed too: nobody can tell whether the user exists.
                end.unknown(
                    Some(err),
                    "the answer was lost or unreadable and the user could not be looked up; check it",
                );
                Some(Err(match other {
                    CallError::Interrupted => CallError::Interrupted,
                    _ => CallError::Vendor(err.clone()),
                }))
            }
        }
    }

    /// Wait before attempt `attempt + 1`, journaled; the error when no retry is left.
    fn wait_to_retry(
        &self,
        end: &Ending<'_>,
        attempt: u32,
        err: VendorError,
    ) -> Result<(), CallError> {
        let next = self
            .session
            .retry
            .next_delay(&err, attempt + 1, end.started.elapsed());
        let Some(wait) = next else {
            end.failed(Some(&err), "");
            return Err(CallError::Vendor(err));
        };
        self.session.journal.retry(
            Some(end.seq),
            end.vendor,
            end.operation,
            end.username,
            attempt + 1,
            &err,
            wait,
        );
        if let Err(stop) = self.session.sleep(wait) {
            end.failed(Some(&err), "interrupted before the retry");
            return Err(stop);
        }
        Ok(())
    }

    fn plan_create(&self, request: Request) -> A::User {
        let id = self.session.placeholder_id();
        let user = A::planned(&request, id);
        self.session.plan(Planned {
            row: crate::journal::current_row(),
            vendor: Self::vendor(),
            action: "create",
            username: request.username().to_string(),
            id,
            request: Some(request),
            target: None,
            level: None,
            detail: None,
        });
        user
    }

    /// After an answer that went astray: the user as the vendor has it now, and how sure it is
    /// that it is the one sent; an error when a user of that name differs from what was sent.
    fn reconcile(
        &self,
        operation: &'static str,
        request: &Request,
        sent: Option<&crate::journal::Sent>,
        absent_before: bool,
    ) -> Result<Option<(A::User, Proof)>, CallError> {
        let Some(user) = self.get(operation, request.username())? else {
            return Ok(None);
        };
        match sent {
            None if absent_before => Ok(Some((user, Proof::Lookup))),
            None => Ok(Some((user, Proof::Name))),
            Some(s) if vendors::same(&user, s) => Ok(Some((user, Proof::Lookup))),
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
        }
    }

    fn created(
        &self,
        end: &Ending<'_>,
        mut user: A::User,
        proof: Proof,
        note: Option<String>,
    ) -> A::User {
        user.common_mut().created = true;
        user.common_mut().changed = true;
        let c = user.common();
        let mut event = Event::new(Self::vendor(), end.operation, &c.username, Outcome::Created)
            .id(c.id)
            .proof(proof)
            .took(end.started.elapsed());
        event.status = c.http_status;
        if let Some(n) = note {
            event = event.note(n);
        }
        self.session.journal.outcome(Some(end.seq), event);
        if let Some((_, ops)) = self.client.get() {
            self.session.remember_created(CreatedAccount {
                row: crate::journal::current_row(),
                vendor: Self::vendor(),
                username: c.username.clone(),
                id: c.id,
                proof,
                ops: ops.clone(),
            });
        }
        user
    }

    /// `ensure_user`: the user as it is, or created from the request. Another run creating the
    /// same user in between is no failure: the user is looked up again.
    pub fn ensure(&self, request: Request) -> Result<A::User, CallError> {
        let started = Instant::now();
        let request = self.canonical(request)?;
        if let Some(user) = self.get("ensure_user", request.username())? {
            // Where the vendor can update, an existing user converges on what the map declares.
            if let Some(update) = A::spec().update {
                let username = request.username().to_string();
                // Only what an update can write is compared (not monitor groups, say), where
                // an update writes it (PAM360's go over SCIM, under other names).
                let request = request.as_spec(update);
                let changes = self.differences("ensure_user", &username, &request)?;
                if !changes.is_empty() {
                    return self.write("ensure_user", &username, request, changes);
                }
            }
            return Ok(self.existed(user, started));
        }
        let username = request.username().to_string();
        match self.create_checked("ensure_user", request, true) {
            Err(CallError::Vendor(e)) if e.kind == ErrorKind::AlreadyExists => {
                match self.get("ensure_user", &username)? {
                    Some(user) => Ok(self.existed(user, started)),
                    None => Err(CallError::Vendor(e)),
                }
            }
            other => other,
        }
    }

    fn existed(&self, mut user: A::User, started: Instant) -> A::User {
        user.common_mut().created = false;
        user.common_mut().changed = false;
        let c = user.common();
        self.session.journal.outcome(
            None,
            Event::new(Self::vendor(), "ensure_user", &c.username, Outcome::Existed)
                .id(c.id)
                .took(started.elapsed()),
        );
        user
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
                row: crate::journal::current_row(),
                vendor: Self::vendor(),
                action: "delete",
                username: username.to_string(),
                id,
                request: None,
                target: None,
                level: None,
                detail: None,
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

/// The end of one create, journalled against its intent.
/// A create whose answer went astray: what to recognise its user by.
struct Lost<'a> {
    request: &'a Request,
    sent: Option<&'a crate::journal::Sent>,
    absent_before: bool,
    /// Why the answer was not to be trusted.
    why: ErrorKind,
}

struct Ending<'a> {
    session: &'a Session,
    vendor: &'static str,
    operation: &'static str,
    username: &'a str,
    seq: u64,
    started: Instant,
}

impl Ending<'_> {
    fn record(&self, outcome: Outcome, err: Option<&VendorError>, note: &str) {
        let mut event = Event::new(self.vendor, self.operation, self.username, outcome)
            .took(self.started.elapsed());
        if let Some(e) = err {
            event = event.error(e);
        }
        if !note.is_empty() {
            event = event.note(note);
        }
        self.session.journal.outcome(Some(self.seq), event);
    }

    fn failed(&self, err: Option<&VendorError>, note: &str) {
        self.record(Outcome::Failed, err, note);
    }

    fn unknown(&self, err: Option<&VendorError>, note: &str) {
        self.record(Outcome::Unknown, err, note);
    }
}

/// How a create whose answer went astray was settled, for the journal and the summary.
fn found_note(why: ErrorKind, proof: Proof, vendor: &str) -> String {
    match proof {
        Proof::Name => format!(
            "answer lost ({why}); a user of that name exists, but {vendor} reports nothing to \
             match against what was sent, so it is not provably this run's (undo --force deletes it)"
        ),
        _ => format!("answer lost ({why}); found by lookup, so created"),
    }
}
