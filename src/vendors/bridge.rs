//! The script functions every vendor has (`create_user`, `get_user`, …), built once over any `UserApi`.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use rhai::{
    Dynamic, Engine, EvalAltResult, FuncRegistration, ImmutableString, Map, Module,
    NativeCallContext, Position,
};

use super::error::{ErrorKind, VendorError, located};
use super::record::{self, UserRecord};
use super::schema::{Problem, Request};
use super::validate;
use super::{USERNAME_ARG, UserApi};
use crate::journal::{Event, Outcome};
use crate::session::{Close, Session};

/// The functions of every vendor module, with the line of help each gets.
pub const FUNCTIONS: &[(&str, &str)] = &[
    (
        "create_user",
        "Create a user from a request map; throws `already_exists` if there is one.",
    ),
    (
        "ensure_user",
        "Return the user if it exists (`created == false`), else create it from the request map.",
    ),
    (
        "get_user",
        "The user with exactly this name, or `()` when there is none.",
    ),
    (
        "user_exists",
        "Whether a user with exactly this name exists.",
    ),
    (
        "delete_user",
        "Delete a user, given its name or a user result; throws `not_found` if absent.",
    ),
];

/// The client of one vendor for one session, built on first use.
struct Slot<A: UserApi> {
    session: Arc<Session>,
    client: OnceLock<Arc<A>>,
    building: Mutex<()>,
}

struct Closer<A: UserApi>(Arc<A>);

impl<A: UserApi> Close for Closer<A> {
    fn close(&self) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + '_>> {
        Box::pin(self.0.close())
    }
}

type RhaiResult<T> = Result<T, Box<EvalAltResult>>;

fn plain_error(message: String) -> Box<EvalAltResult> {
    EvalAltResult::ErrorRuntime(message.into(), Position::NONE).into()
}

/// A `validation` error map for problems found in a request or argument.
pub fn validation_error(
    vendor: &'static str,
    operation: &'static str,
    problems: &[Problem],
) -> VendorError {
    let message = problems
        .iter()
        .map(|p| p.message.as_str())
        .collect::<Vec<_>>()
        .join("; ");
    VendorError::new(vendor, ErrorKind::Validation, message).during(operation)
}

impl<A: UserApi> Slot<A> {
    fn name() -> &'static str {
        A::spec().name
    }

    fn client(&self) -> RhaiResult<Arc<A>> {
        if let Some(c) = self.client.get() {
            return Ok(c.clone());
        }
        let _guard = self.building.lock();
        if let Some(c) = self.client.get() {
            return Ok(c.clone());
        }
        let settings = self.session.settings(Self::name()).map_err(plain_error)?;
        let client = Arc::new(A::connect(&settings).map_err(VendorError::into_rhai)?);
        self.session.on_close(Arc::new(Closer(client.clone())));
        let _ = self.client.set(client.clone());
        Ok(client)
    }

    fn wait<T>(
        &self,
        operation: &'static str,
        future: impl std::future::Future<Output = Result<T, VendorError>>,
    ) -> RhaiResult<Result<T, VendorError>> {
        let out = self.session.block_on(future).map_err(plain_error)?;
        Ok(out.map_err(|e| e.during(operation)))
    }

    fn request(operation: &'static str, map: &Map) -> RhaiResult<Request> {
        validate::validate(A::spec().create, map)
            .map_err(|p| validation_error(Self::name(), operation, &p).into_rhai())
    }

    fn check_name(operation: &'static str, username: &str) -> RhaiResult<()> {
        validate::check_value(&USERNAME_ARG, &Dynamic::from(username.to_string()))
            .map(|_| ())
            .map_err(|why| {
                VendorError::new(
                    Self::name(),
                    ErrorKind::Validation,
                    format!("the user name given to {}::{operation} {why}", Self::name()),
                )
                .during(operation)
                .into_rhai()
            })
    }

    fn create(&self, operation: &'static str, request: &Request) -> RhaiResult<A::User> {
        let client = self.client()?;
        let started = Instant::now();
        match self.wait(operation, client.create_user(request))? {
            Ok(user) => {
                self.record(operation, &user, Outcome::Created, started);
                Ok(user)
            }
            Err(e) => {
                self.session.journal.record(Event::failed(
                    Self::name(),
                    operation,
                    request.username(),
                    &e,
                    started.elapsed(),
                ));
                Err(e.into_rhai())
            }
        }
    }

    fn record(&self, operation: &'static str, user: &A::User, outcome: Outcome, started: Instant) {
        let c = user.common();
        self.session.journal.record(Event {
            vendor: Self::name(),
            operation,
            username: c.username.clone(),
            id: Some(c.id),
            outcome,
            error_kind: None,
            status: None,
            duration_ms: started.elapsed().as_millis() as u64,
        });
    }

    fn get(&self, operation: &'static str, username: &str) -> RhaiResult<Option<A::User>> {
        Self::check_name(operation, username)?;
        let client = self.client()?;
        self.wait(operation, client.get_user(username))?
            .map_err(VendorError::into_rhai)
    }

    fn delete(&self, operation: &'static str, user: &A::User) -> RhaiResult<()> {
        let client = self.client()?;
        let started = Instant::now();
        match self.wait(operation, client.delete_user(user))? {
            Ok(()) => {
                self.record(operation, user, Outcome::Deleted, started);
                Ok(())
            }
            Err(e) => {
                self.session.journal.record(Event::failed(
                    Self::name(),
                    operation,
                    &user.common().username,
                    &e,
                    started.elapsed(),
                ));
                Err(e.into_rhai())
            }
        }
    }
}

/// Register `A`'s user type and its static module (`cyberark::create_user` and friends).
pub fn install<A: UserApi>(engine: &mut Engine, session: &Arc<Session>) {
    record::register::<A::User>(engine);
    let spec = A::spec();
    let slot = Arc::new(Slot::<A> {
        session: session.clone(),
        client: OnceLock::new(),
        building: Mutex::new(()),
    });
    let user_type = A::User::TYPE_NAME;
    let doc = |name: &str, extra: &[&str]| -> Vec<String> {
        let line = FUNCTIONS
            .iter()
            .find(|(n, _)| *n == name)
            .map_or("", |(_, d)| d);
        let mut lines = vec![format!("/// {line}")];
        lines.extend(extra.iter().map(|l| format!("/// {l}")));
        vec![lines.join("\n")]
    };
    let fields_help = format!(
        "The request's fields: `onboard docs {}::create_user`.",
        spec.name
    );
    let mut module = Module::new();

    let s = slot.clone();
    FuncRegistration::new("create_user")
        .with_volatility(true)
        .with_params_info(["request: Map", user_type])
        .with_comments(doc("create_user", &[&fields_help]))
        .set_into_module(
            &mut module,
            move |ctx: NativeCallContext, request: Map| -> RhaiResult<A::User> {
                let req =
                    Slot::<A>::request("create_user", &request).map_err(|e| located(&ctx, e))?;
                s.create("create_user", &req).map_err(|e| located(&ctx, e))
            },
        );

    let s = slot.clone();
    FuncRegistration::new("ensure_user")
        .with_volatility(true)
        .with_params_info(["request: Map", user_type])
        .with_comments(doc(
            "ensure_user",
            &[
                "Only the user name is compared; an existing user is not changed.",
                &fields_help,
            ],
        ))
        .set_into_module(
            &mut module,
            move |ctx: NativeCallContext, request: Map| -> RhaiResult<A::User> {
                let ensure = || {
                    let req = Slot::<A>::request("ensure_user", &request)?;
                    let started = Instant::now();
                    match s.get("ensure_user", req.username())? {
                        Some(mut user) => {
                            user.common_mut().created = false;
                            s.record("ensure_user", &user, Outcome::Existed, started);
                            Ok(user)
                        }
                        None => s.create("ensure_user", &req),
                    }
                };
                ensure().map_err(|e| located(&ctx, e))
            },
        );

    let s = slot.clone();
    FuncRegistration::new("get_user")
        .with_volatility(true)
        .with_params_info(["username: &str", "Dynamic"])
        .with_comments(doc("get_user", &[]))
        .set_into_module(
            &mut module,
            move |ctx: NativeCallContext, username: ImmutableString| -> RhaiResult<Dynamic> {
                let user = s.get("get_user", &username).map_err(|e| located(&ctx, e))?;
                Ok(user.map_or(Dynamic::UNIT, Dynamic::from))
            },
        );

    let s = slot.clone();
    FuncRegistration::new("user_exists")
        .with_volatility(true)
        .with_params_info(["username: &str", "bool"])
        .with_comments(doc("user_exists", &[]))
        .set_into_module(
            &mut module,
            move |ctx: NativeCallContext, username: ImmutableString| -> RhaiResult<bool> {
                let exists = || {
                    Slot::<A>::check_name("user_exists", &username)?;
                    let client = s.client()?;
                    s.wait("user_exists", client.user_exists(&username))?
                        .map_err(VendorError::into_rhai)
                };
                exists().map_err(|e| located(&ctx, e))
            },
        );

    let s = slot.clone();
    FuncRegistration::new("delete_user")
        .with_volatility(true)
        .with_params_info(["username: &str", "()"])
        .with_comments(doc("delete_user", &[]))
        .set_into_module(
            &mut module,
            move |ctx: NativeCallContext, username: ImmutableString| -> RhaiResult<()> {
                let delete = || match s.get("delete_user", &username)? {
                    Some(user) => s.delete("delete_user", &user),
                    None => Err(VendorError::new(
                        Slot::<A>::name(),
                        ErrorKind::NotFound,
                        format!(
                            "there is no user named \"{}\"",
                            validate::excerpt(&username)
                        ),
                    )
                    .during("delete_user")
                    .into_rhai()),
                };
                delete().map_err(|e| located(&ctx, e))
            },
        );

    let s = slot;
    FuncRegistration::new("delete_user")
        .with_volatility(true)
        .with_params_info([&format!("user: {user_type}"), "()"])
        .with_comments(doc("delete_user", &[]))
        .set_into_module(
            &mut module,
            move |ctx: NativeCallContext, user: A::User| -> RhaiResult<()> {
                s.delete("delete_user", &user).map_err(|e| located(&ctx, e))
            },
        );

    engine.register_static_module(spec.name, module.into());
}
