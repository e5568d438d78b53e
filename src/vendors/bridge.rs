//! The script functions every vendor has (`create_user`, `get_user`, …), built once over any `UserApi`.

use std::sync::Arc;

use rhai::{
    Dynamic, Engine, EvalAltResult, FuncRegistration, ImmutableString, Map, Module,
    NativeCallContext, Position,
};

use super::call::Caller;
use super::error::{ErrorKind, VendorError, located};
use super::record::{self, UserRecord};
use super::schema::{Problem, Request};
use super::validate;
use super::{USERNAME_ARG, UserApi};
use crate::session::{CallError, Session};

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

/// What a vendor function takes as its one argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Takes {
    Request,
    Name,
    NameOrUser,
}

impl Takes {
    pub fn what(self) -> &'static str {
        match self {
            Takes::Request => "a request map (#{ … })",
            Takes::Name => "a user name (a string)",
            Takes::NameOrUser => "a user name (a string) or a user it returned",
        }
    }

    /// Whether a literal of this type (`literal_type`'s words) is what it takes.
    pub fn accepts(self, given: &str) -> bool {
        match self {
            Takes::Request => given == "a map",
            Takes::Name | Takes::NameOrUser => given == "a string",
        }
    }
}

/// What the vendor function `name` takes.
pub fn takes(name: &str) -> Option<Takes> {
    Some(match name {
        "create_user" | "ensure_user" => Takes::Request,
        "get_user" | "user_exists" => Takes::Name,
        "delete_user" => Takes::NameOrUser,
        _ => return None,
    })
}

type RhaiResult<T> = Result<T, Box<EvalAltResult>>;

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

/// A failed call as scripts see it: vendor errors are catchable maps; an interrupt is not catchable.
pub fn to_rhai(err: CallError) -> Box<EvalAltResult> {
    match err {
        CallError::Vendor(e) => e.into_rhai(),
        CallError::Interrupted => {
            EvalAltResult::ErrorTerminated("interrupted".into(), Position::NONE).into()
        }
        CallError::Setup(message) => {
            EvalAltResult::ErrorRuntime(message.into(), Position::NONE).into()
        }
    }
}

fn request<A: UserApi>(operation: &'static str, map: &Map) -> RhaiResult<Request> {
    validate::validate(A::spec().create, map)
        .map_err(|p| validation_error(A::spec().name, operation, &p).into_rhai())
}

fn check_name<A: UserApi>(operation: &'static str, username: &str) -> RhaiResult<()> {
    let name = A::spec().name;
    validate::check_value(&USERNAME_ARG, &Dynamic::from(username.to_string()))
        .map(|_| ())
        .map_err(|why| {
            VendorError::new(
                name,
                ErrorKind::Validation,
                format!("the user name given to {name}::{operation} {why}"),
            )
            .during(operation)
            .into_rhai()
        })
}

/// Register `A`'s user type and its static module (`cyberark::create_user` and friends).
pub fn install<A: UserApi>(engine: &mut Engine, session: &Arc<Session>) {
    record::register::<A::User>(engine);
    let spec = A::spec();
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
    let caller = Arc::new(Caller::<A>::new(session.clone()));

    let c = caller.clone();
    FuncRegistration::new("create_user")
        .with_volatility(true)
        .with_params_info(["request: Map", user_type])
        .with_comments(doc("create_user", &[&fields_help]))
        .set_into_module(
            &mut module,
            move |ctx: NativeCallContext, map: Map| -> RhaiResult<A::User> {
                let run = || {
                    let req = request::<A>("create_user", &map)?;
                    c.create("create_user", req).map_err(to_rhai)
                };
                run().map_err(|e| located(&ctx, e))
            },
        );

    let c = caller.clone();
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
            move |ctx: NativeCallContext, map: Map| -> RhaiResult<A::User> {
                let run = || {
                    let req = request::<A>("ensure_user", &map)?;
                    c.ensure(req).map_err(to_rhai)
                };
                run().map_err(|e| located(&ctx, e))
            },
        );

    let c = caller.clone();
    FuncRegistration::new("get_user")
        .with_volatility(true)
        .with_params_info(["username: &str", "Dynamic"])
        .with_comments(doc("get_user", &[]))
        .set_into_module(
            &mut module,
            move |ctx: NativeCallContext, username: ImmutableString| -> RhaiResult<Dynamic> {
                let run = || {
                    check_name::<A>("get_user", &username)?;
                    let user = c.get("get_user", &username).map_err(to_rhai)?;
                    Ok(user.map_or(Dynamic::UNIT, Dynamic::from))
                };
                run().map_err(|e| located(&ctx, e))
            },
        );

    let c = caller.clone();
    FuncRegistration::new("user_exists")
        .with_volatility(true)
        .with_params_info(["username: &str", "bool"])
        .with_comments(doc("user_exists", &[]))
        .set_into_module(
            &mut module,
            move |ctx: NativeCallContext, username: ImmutableString| -> RhaiResult<bool> {
                let run = || {
                    check_name::<A>("user_exists", &username)?;
                    c.exists("user_exists", &username).map_err(to_rhai)
                };
                run().map_err(|e| located(&ctx, e))
            },
        );

    let c = caller.clone();
    FuncRegistration::new("delete_user")
        .with_volatility(true)
        .with_params_info(["username: &str", "()"])
        .with_comments(doc("delete_user", &[]))
        .set_into_module(
            &mut module,
            move |ctx: NativeCallContext, username: ImmutableString| -> RhaiResult<()> {
                let run = || {
                    check_name::<A>("delete_user", &username)?;
                    match c.get("delete_user", &username).map_err(to_rhai)? {
                        Some(user) => c
                            .delete("delete_user", user.common().id, &username)
                            .map_err(to_rhai),
                        None => Err(VendorError::new(
                            A::spec().name,
                            ErrorKind::NotFound,
                            format!(
                                "there is no user named \"{}\"",
                                validate::excerpt(&username)
                            ),
                        )
                        .during("delete_user")
                        .into_rhai()),
                    }
                };
                run().map_err(|e| located(&ctx, e))
            },
        );

    let c = caller;
    FuncRegistration::new("delete_user")
        .with_volatility(true)
        .with_params_info([&format!("user: {user_type}"), "()"])
        .with_comments(doc("delete_user", &[]))
        .set_into_module(
            &mut module,
            move |ctx: NativeCallContext, user: A::User| -> RhaiResult<()> {
                let u = user.common();
                c.delete("delete_user", u.id, &u.username)
                    .map_err(|e| located(&ctx, to_rhai(e)))
            },
        );

    engine.register_static_module(spec.name, module.into());
}
