//! The script functions every vendor has (`create_user`, `get_user`, …), built once over any `UserApi`.

use std::sync::Arc;

use rhai::{
    Array, Dynamic, Engine, EvalAltResult, FuncRegistration, ImmutableString, Map, Module,
    NativeCallContext, Position,
};

use crate::runtime::call::Caller;
use crate::runtime::session::{CallError, Session};
use crate::runtime::undo::{self, Step};
use crate::vendors::error::{ErrorKind, VendorError, located};
use crate::vendors::record::UserRecord;
use crate::vendors::schema::{Problem, Request};
use crate::vendors::validate;
use crate::vendors::{USERNAME_ARG, UserApi, VendorSpec};

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

/// Every function of a vendor's module, with how many arguments it takes: the five every vendor
/// has, and those of the kinds of access it declares.
pub fn functions_of(spec: &VendorSpec) -> Vec<(&'static str, usize)> {
    let mut out: Vec<(&'static str, usize)> = FUNCTIONS.iter().map(|(n, _)| (*n, 1)).collect();
    for kind in spec.access {
        out.extend([
            (kind.grant_fn, kind.grant_arity()),
            (kind.revoke_fn, kind.revoke_arity()),
        ]);
        if let Some(update) = kind.update_fn {
            out.push((update, kind.grant_arity()));
        }
        if !kind.list_fn.is_empty() {
            let arity = if kind.lists_members {
                kind.target_parts()
            } else {
                1
            };
            out.push((kind.list_fn, arity));
        }
    }
    if !spec.access.is_empty() {
        out.extend([
            ("grant", 2),
            ("revoke", 2),
            ("ensure_access", 2),
            ("granted_by_onboard", 1),
            ("access_held", 1),
        ]);
    }
    for state in spec.states {
        out.extend([(state.grant_fn, 1), (state.revoke_fn, 1)]);
    }
    if spec.update.is_some() {
        out.push(("update_user", 2));
    }
    for call in spec.lifecycle {
        let arity = match call {
            crate::vendors::access::Lifecycle::Activate => 1,
            crate::vendors::access::Lifecycle::ResetPassword => 2,
            crate::vendors::access::Lifecycle::TransferAccountabilities => 2,
        };
        out.push((call.function(), arity));
    }
    out
}

/// The names of what a vendor function takes, for messages (`safe, member, access`).
pub fn params_of(spec: &VendorSpec, name: &str) -> Vec<String> {
    for kind in spec.access {
        let mut target: Vec<String> = if kind.target.is_empty() {
            vec![kind.key.to_string()]
        } else {
            kind.target.iter().map(|t| t.to_string()).collect()
        };
        let grants = name == kind.grant_fn || Some(name) == kind.update_fn;
        if grants || name == kind.revoke_fn {
            if kind.target_first {
                target.push(kind.who.into());
            } else {
                target.insert(0, kind.who.into());
            }
            if let (true, Some(level)) = (grants, kind.level) {
                target.push(level.param.into());
            }
            return target;
        }
        if name == kind.list_fn && kind.lists_members {
            return target;
        }
    }
    let words: &[&str] = match name {
        "create_user" | "ensure_user" => &["request"],
        "grant" | "revoke" => &["user", "access"],
        "ensure_access" => &["user", "accesses"],
        "update_user" => &["user", "changes"],
        "reset_password" => &["user", "password"],
        "transfer_accountabilities" => &["user", "to"],
        _ => &["user"],
    };
    words.iter().map(|w| w.to_string()).collect()
}

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

/// The request a create's map makes, validated once per row of a bulk run (`memo`).
fn request<A: UserApi>(operation: &'static str, map: Map) -> RhaiResult<Request> {
    let spec = A::spec().create;
    crate::script::memo::validate_once(spec, map, |map| {
        validate::validate(spec, map)
            .map_err(|p| validation_error(A::spec().name, operation, &p).into_rhai())
    })
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

/// `user_exists` of one vendor, for the functions that take a vendor by name.
pub type Exists = Arc<dyn Fn(&str) -> RhaiResult<bool> + Send + Sync>;

/// Register `A`'s user type and its static module (`cyberark::create_user` and friends); its
/// `user_exists`, for `user_exists_in`.
pub fn install<A: UserApi>(engine: &mut Engine, session: &Arc<Session>) -> Exists {
    crate::script::records::register::<A::User>(engine);
    let mut module = Module::new();
    let caller = Arc::new(Caller::<A>::new(session.clone()));
    install_requests(&mut module, &caller);
    install_lookups(&mut module, &caller);
    install_deletes(&mut module, &caller);
    install_update(&mut module, &caller);
    crate::script::grants::install_access(&mut module, &caller);
    engine.register_static_module(A::spec().name, module.into());
    let c = caller;
    let exists: Exists = Arc::new(move |name: &str| {
        check_name::<A>("user_exists", name)?;
        c.exists("user_exists", name).map_err(to_rhai)
    });

    exists
}

/// A function's doc comment: its line of `FUNCTIONS`, then `extra` lines.
fn doc(name: &str, extra: &[&str]) -> Vec<String> {
    let line = FUNCTIONS
        .iter()
        .find(|(n, _)| *n == name)
        .map_or("", |(_, d)| d);
    let mut lines = vec![format!("/// {line}")];
    lines.extend(extra.iter().map(|l| format!("/// {l}")));
    vec![lines.join("\n")]
}

/// `create_user` and `ensure_user`: a request map, validated before anything is sent.
fn install_requests<A: UserApi>(module: &mut Module, caller: &Arc<Caller<A>>) {
    let user_type = A::User::TYPE_NAME;
    let fields_help = format!(
        "The request's fields: `onboard docs {}::create_user`.",
        A::spec().name
    );
    let c = caller.clone();
    FuncRegistration::new("create_user")
        .with_volatility(true)
        .with_params_info(["request: Map", user_type])
        .with_comments(doc("create_user", &[&fields_help]))
        .set_into_module(
            module,
            move |ctx: NativeCallContext, map: Map| -> RhaiResult<A::User> {
                let run = || {
                    let req = request::<A>("create_user", map)?;
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
                if A::spec().update.is_some() {
                    "An existing user converges: the fields the map declares that differ are \
                     updated (`changed`, `changes`); the initial password is not compared."
                } else {
                    "Only the user name is compared; an existing user is not changed."
                },
                &fields_help,
            ],
        ))
        .set_into_module(
            module,
            move |ctx: NativeCallContext, map: Map| -> RhaiResult<A::User> {
                let run = || {
                    let req = request::<A>("ensure_user", map)?;
                    c.ensure(req).map_err(to_rhai)
                };
                run().map_err(|e| located(&ctx, e))
            },
        );
}

/// `update_user(user, map)`: the create's fields, less the name and the initial password.
fn install_update<A: UserApi>(module: &mut Module, caller: &Arc<Caller<A>>) {
    let Some(spec) = A::spec().update else {
        return;
    };
    let c = caller.clone();
    FuncRegistration::new("update_user")
        .with_volatility(true)
        .with_params_info(["user: Dynamic", "changes: Map", A::User::TYPE_NAME])
        .with_comments([format!(
            "/// Write the fields of `changes` (the create request's keys, less the name and the\n\
             /// initial password) that differ from the user's, and return the user with `changed`\n\
             /// and `changes` (field, before, after). Nothing is written when nothing differs.\n\
             /// The fields: `onboard docs {}::create_user`.",
            A::spec().name
        )])
        .set_into_module(
            module,
            move |ctx: NativeCallContext, user: Dynamic, changes: Map| -> RhaiResult<A::User> {
                let run = || {
                    let name = A::spec().name;
                    let username = crate::script::grants::user_of::<A>("update_user", &user)?;
                    let fixed: Vec<&str> = spec
                        .fields
                        .iter()
                        .filter(|f| f.key == "username" || matches!(f.kind, crate::vendors::schema::Kind::Secret { .. }))
                        .map(|f| f.key)
                        .filter(|k| changes.contains_key(*k))
                        .collect();
                    if let Some(key) = fixed.first() {
                        return Err(VendorError::new(
                            name,
                            ErrorKind::Validation,
                            format!("`{key}` cannot be changed by {name}::update_user"),
                        )
                        .during("update_user")
                        .into_rhai());
                    }
                    let mut map = changes.clone();
                    map.insert("username".into(), username.clone().into());
                    let request = validate::validate(spec, &map)
                        .map_err(|p| validation_error(name, "update_user", &p).into_rhai())?;
                    c.update("update_user", &username, request).map_err(to_rhai)
                };
                run().map_err(|e| located(&ctx, e))
            },
        );
}

/// `get_user` and `user_exists`: by exact name.
fn install_lookups<A: UserApi>(module: &mut Module, caller: &Arc<Caller<A>>) {
    let c = caller.clone();
    FuncRegistration::new("get_user")
        .with_volatility(true)
        .with_params_info(["username: &str", "Dynamic"])
        .with_comments(doc("get_user", &[]))
        .set_into_module(
            module,
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
            module,
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
            module,
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
}

/// `delete_user`, by name or by a user a call returned.
fn install_deletes<A: UserApi>(module: &mut Module, caller: &Arc<Caller<A>>) {
    let user_type = A::User::TYPE_NAME;
    let c = caller.clone();
    FuncRegistration::new("delete_user")
        .with_volatility(true)
        .with_params_info([&format!("user: {user_type}"), "()"])
        .with_comments(doc("delete_user", &[]))
        .set_into_module(
            module,
            move |ctx: NativeCallContext, user: A::User| -> RhaiResult<()> {
                let u = user.common();
                c.delete("delete_user", u.id, &u.username)
                    .map_err(|e| located(&ctx, to_rhai(e)))
            },
        );
}

/// Register `T` with the engine: its name, read-only getters, printing and conversions.
macro_rules! install_vendors {
    ($($name:ident),*) => {
        /// Every registered vendor's user type and module, and the functions that take a
        /// vendor by name.
        pub fn install_all(engine: &mut Engine, session: &Arc<Session>) {
            let exists = vec![$(
                (
                    crate::vendors::$name::SPEC.name,
                    install::<crate::vendors::$name::Client>(engine, session),
                ),
            )*];
            crate::script::by_name::install(engine, exists);
            crate::script::grants::register_grant(engine);
        }

        /// Every vendor's result properties as getters, for definition files.
        pub fn register_all_getters(engine: &mut Engine) {
            $(crate::script::records::register_getters::<<crate::vendors::$name::Client as UserApi>::User>(engine);)*
        }
    };
}
crate::with_vendors!(install_vendors);

/// `rollback()`, for a script's `catch`.
pub fn install_rollback(engine: &mut Engine, session: &Arc<Session>) {
    let session = session.clone();
    FuncRegistration::new("rollback")
        .with_volatility(true)
        .with_params_info(["Array"])
        .with_comments([
            "/// Delete every account this run has created so far, newest first, and return what\n\
             /// happened to each: an array of #{ vendor, username, id, result, message }, where\n\
             /// result is deleted, already_gone, not_ours, not_provably_ours, would_delete (dry\n\
             /// run) or failed.",
        ])
        .register_into_engine(engine, move || -> Array {
            let steps = undo::rollback(&session);
            undo::report("onboard: rollback", &steps);
            steps
                .iter()
                .map(|s| Dynamic::from_map(step_map(s)))
                .collect()
        });
}

fn step_map(step: &Step) -> Map {
    let mut m = Map::new();
    m.insert("vendor".into(), step.vendor.into());
    m.insert("username".into(), step.username.clone().into());
    m.insert(
        "id".into(),
        step.id.map_or(Dynamic::UNIT, Dynamic::from_int),
    );
    m.insert("result".into(), step.result.into());
    m.insert(
        "message".into(),
        step.message.clone().map_or(Dynamic::UNIT, Dynamic::from),
    );
    m
}
