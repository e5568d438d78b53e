//! The access functions of a vendor, made from the kinds of access its spec declares: grant,
//! revoke and list per kind (`cyberark::add_to_group`), and `grant`/`revoke` taking the access
//! as data (`#{ group: "NOC Operators" }`), so libraries can pass access around.

use std::sync::Arc;

use rhai::{
    Array, Dynamic, Engine, EvalAltResult, FuncRegistration, ImmutableString, Map, Module,
    NativeCallContext,
};

use crate::runtime::call::Caller;
use crate::script::bridge::to_rhai;
use crate::util::secret::Secret;
use crate::util::suggest;
use crate::vendors::UserApi;
use crate::vendors::access::{AccessKind, Direction, Grant, Lifecycle};
use crate::vendors::error::{ErrorKind, VendorError, located};
use crate::vendors::record::UserRecord;

type RhaiResult<T> = Result<T, Box<EvalAltResult>>;

/// `Grant` results: read-only getters, `to_map`, printing on one line.
pub fn register_grant(engine: &mut Engine) {
    engine.register_type_with_name::<Grant>("Grant");
    engine.register_get("vendor", |g: &mut Grant| g.vendor.to_string());
    engine.register_get("operation", |g: &mut Grant| g.operation.to_string());
    engine.register_get("user", |g: &mut Grant| g.user.clone());
    engine.register_get("target", |g: &mut Grant| g.target.clone());
    engine.register_get("changed", |g: &mut Grant| g.changed);
    engine.register_get("dry_run", |g: &mut Grant| g.dry_run);
    engine.register_fn("to_map", |g: &mut Grant| grant_map(g));
    engine.register_fn("to_string", |g: &mut Grant| g.summary());
    engine.register_fn("to_debug", |g: &mut Grant| g.summary());
}

fn grant_map(g: &Grant) -> Map {
    let mut m = Map::new();
    m.insert("vendor".into(), g.vendor.into());
    m.insert("operation".into(), g.operation.into());
    m.insert("user".into(), g.user.clone().into());
    m.insert("target".into(), g.target.clone().into());
    m.insert("changed".into(), g.changed.into());
    m.insert("dry_run".into(), g.dry_run.into());
    m
}

/// The user a function is given: its name, or a user a call returned.
fn user_name<A: UserApi>(user: &Dynamic) -> Option<String> {
    if let Some(name) = user.read_lock::<ImmutableString>() {
        return Some(name.to_string());
    }
    user.read_lock::<A::User>()
        .map(|u| u.common().username.clone())
}

fn invalid(vendor: &'static str, operation: &'static str, message: String) -> Box<EvalAltResult> {
    VendorError::new(vendor, ErrorKind::Validation, message)
        .during(operation)
        .into_rhai()
}

pub fn user_of<A: UserApi>(operation: &'static str, user: &Dynamic) -> RhaiResult<String> {
    let name = A::spec().name;
    user_name::<A>(user).ok_or_else(|| {
        invalid(
            name,
            operation,
            format!(
                "{name}::{operation} takes a user name or a user a call returned, not {}",
                user.type_name()
            ),
        )
    })
}

/// Every access function of `A`, into its module.
pub fn install_access<A: UserApi>(module: &mut Module, caller: &Arc<Caller<A>>) {
    let kinds = A::spec().access;
    for kind in kinds {
        install_kind(module, caller, kind);
    }
    if !kinds.is_empty() {
        install_by_data(module, caller, kinds);
    }
    for state in A::spec().states {
        install_state(module, caller, state);
    }
    for call in A::spec().lifecycle {
        install_lifecycle(module, caller, *call);
    }
}

/// `activate_user(user)` and `reset_password(user, secret)`: journaled as not undoable.
fn install_lifecycle<A: UserApi>(module: &mut Module, caller: &Arc<Caller<A>>, call: Lifecycle) {
    let name = call.function();
    let c = caller.clone();
    match call {
        Lifecycle::Activate => {
            FuncRegistration::new(name)
                .with_volatility(true)
                .with_params_info(["user: Dynamic", "Grant"])
                .with_comments([
                    "/// Clear a user's suspension (too many failed logons; it does not enable a\n\
                     /// disabled user). No change when it is not suspended. Not undoable.",
                ])
                .set_into_module(module, move |ctx: NativeCallContext, user: Dynamic| {
                    let run = || -> RhaiResult<Grant> {
                        let user = user_of::<A>(name, &user)?;
                        c.lifecycle(call, &user, None).map_err(to_rhai)
                    };
                    run().map_err(|e| located(&ctx, e))
                });
        }
        Lifecycle::ResetPassword => {
            FuncRegistration::new(name)
                .with_volatility(true)
                .with_params_info(["user: Dynamic", "password: Dynamic", "Grant"])
                .with_comments([
                    "/// Set a user's password (a Secret, or a string taken as one). Journaled as\n\
                     /// not undoable: the old password is never known.",
                ])
                .set_into_module(
                    module,
                    move |ctx: NativeCallContext, user: Dynamic, password: Dynamic| {
                        let run = || -> RhaiResult<Grant> {
                            let user = user_of::<A>(name, &user)?;
                            let secret = match password.read_lock::<Secret>() {
                                Some(s) => s.clone(),
                                None => match password.read_lock::<ImmutableString>() {
                                    Some(t) => Secret::new(t.to_string()),
                                    None => {
                                        return Err(invalid(
                                            A::spec().name,
                                            name,
                                            format!(
                                                "the password given to {}::{name} must be a Secret or a string, not {}",
                                                A::spec().name,
                                                password.type_name()
                                            ),
                                        ));
                                    }
                                },
                            };
                            c.lifecycle(call, &user, Some(secret)).map_err(to_rhai)
                        };
                        run().map_err(|e| located(&ctx, e))
                    },
                );
        }
    }
}

/// Switching a user on and off (`enable_user`, `disable_user`): read first, journaled, undone
/// by the opposite switch.
fn install_state<A: UserApi>(
    module: &mut Module,
    caller: &Arc<Caller<A>>,
    state: &'static AccessKind,
) {
    for direction in [Direction::Grant, Direction::Revoke] {
        let name = state.function(direction);
        let to = match direction {
            Direction::Grant => "on",
            Direction::Revoke => "off",
        };
        let c = caller.clone();
        FuncRegistration::new(name)
            .with_volatility(true)
            .with_params_info(["user: Dynamic", "Grant"])
            .with_comments([format!(
                "/// Switch `{}` {to} for a user (a name or a user a call returned). No change\n\
                 /// when it already is (`changed == false`); undone by the opposite switch.\n\
                 /// {}",
                state.key, state.doc
            )])
            .set_into_module(module, move |ctx: NativeCallContext, user: Dynamic| {
                let run = || -> RhaiResult<Grant> {
                    let user = user_of::<A>(name, &user)?;
                    c.change_access(state, direction, &user, "")
                        .map_err(to_rhai)
                };
                run().map_err(|e| located(&ctx, e))
            });
    }
}

fn install_kind<A: UserApi>(
    module: &mut Module,
    caller: &Arc<Caller<A>>,
    kind: &'static AccessKind,
) {
    for direction in [Direction::Grant, Direction::Revoke] {
        let name = kind.function(direction);
        let verb = match direction {
            Direction::Grant => "Give",
            Direction::Revoke => "Take away",
        };
        let c = caller.clone();
        FuncRegistration::new(name)
            .with_volatility(true)
            .with_params_info(["user: Dynamic", "target: &str", "Grant"])
            .with_comments([format!(
                "/// {verb} a user (a name or a user a call returned) access: the {} named\n\
                 /// exactly `target`. No change when it is already so (`changed == false`).\n\
                 /// {}",
                kind.noun, kind.doc
            )])
            .set_into_module(
                module,
                move |ctx: NativeCallContext, user: Dynamic, target: ImmutableString| {
                    let run = || -> RhaiResult<Grant> {
                        let user = user_of::<A>(name, &user)?;
                        c.change_access(kind, direction, &user, &target)
                            .map_err(to_rhai)
                    };
                    run().map_err(|e| located(&ctx, e))
                },
            );
    }
    let c = caller.clone();
    FuncRegistration::new(kind.list_fn)
        .with_volatility(true)
        .with_params_info(["user: Dynamic", "Array"])
        .with_comments([format!(
            "/// The {}s a user is in, as an array of #{{ id, name, type }}.",
            kind.noun
        )])
        .set_into_module(module, move |ctx: NativeCallContext, user: Dynamic| {
            let run = || -> RhaiResult<Array> {
                let user = user_of::<A>(kind.list_fn, &user)?;
                let held = c.held(kind, &user).map_err(to_rhai)?;
                Ok(held
                    .into_iter()
                    .map(|h| {
                        let mut m = Map::new();
                        m.insert("id".into(), h.id.map_or(Dynamic::UNIT, Dynamic::from_int));
                        m.insert("name".into(), h.name.into());
                        m.insert("type".into(), h.kind.into());
                        Dynamic::from_map(m)
                    })
                    .collect())
            };
            run().map_err(|e| located(&ctx, e))
        });
}

/// The kind and target of an access given as data: a map with one key, a declared kind.
fn access_of(
    vendor: &'static str,
    operation: &'static str,
    kinds: &'static [AccessKind],
    access: &Map,
) -> RhaiResult<(&'static AccessKind, String)> {
    let keys: Vec<&str> = kinds.iter().map(|k| k.key).collect();
    let mut entries = access.iter();
    let (Some((key, value)), None) = (entries.next(), entries.next()) else {
        return Err(invalid(
            vendor,
            operation,
            format!(
                "{vendor}::{operation} takes a map with one key, the kind of access: {}",
                keys.join(", ")
            ),
        ));
    };
    let Some(kind) = kinds.iter().find(|k| k.key == key.as_str()) else {
        let hint = suggest::closest(key, keys.iter().copied())
            .map(|k| format!("; did you mean `{k}`?"))
            .unwrap_or_else(|| format!(" ({vendor} grants {})", keys.join(", ")));
        return Err(invalid(
            vendor,
            operation,
            format!("unknown kind of access `{key}` for {vendor}::{operation}{hint}"),
        ));
    };
    let Some(target) = value.read_lock::<ImmutableString>().map(|t| t.to_string()) else {
        return Err(invalid(
            vendor,
            operation,
            format!(
                "`{key}` of {vendor}::{operation} must be the {}'s name",
                kind.noun
            ),
        ));
    };
    Ok((kind, target))
}

fn install_by_data<A: UserApi>(
    module: &mut Module,
    caller: &Arc<Caller<A>>,
    kinds: &'static [AccessKind],
) {
    let vendor = A::spec().name;
    let keys: Vec<&str> = kinds.iter().map(|k| k.key).collect();
    for (name, direction) in [("grant", Direction::Grant), ("revoke", Direction::Revoke)] {
        let c = caller.clone();
        FuncRegistration::new(name)
            .with_volatility(true)
            .with_params_info(["user: Dynamic", "access: Map", "Grant"])
            .with_comments([format!(
                "/// {name} access given as data, `#{{ KIND: NAME }}` with KIND one of {}.",
                keys.join(", ")
            )])
            .set_into_module(
                module,
                move |ctx: NativeCallContext, user: Dynamic, access: Map| {
                    let run = || -> RhaiResult<Grant> {
                        let user = user_of::<A>(name, &user)?;
                        let (kind, target) = access_of(vendor, name, kinds, &access)?;
                        c.change_access(kind, direction, &user, &target)
                            .map_err(to_rhai)
                    };
                    run().map_err(|e| located(&ctx, e))
                },
            );
    }
}
