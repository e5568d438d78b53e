//! The lifecycle functions of a vendor, made from what its spec declares: states switched on
//! and off (`enable_user`, `disable_user`) and calls nothing can undo (`activate_user`,
//! `reset_password`).

use std::sync::Arc;

use rhai::{Dynamic, EvalAltResult, FuncRegistration, ImmutableString, Module, NativeCallContext};

use crate::runtime::call::Caller;
use crate::script::bridge::to_rhai;
use crate::script::grants::{invalid, user_of};
use crate::util::secret::Secret;
use crate::vendors::UserApi;
use crate::vendors::access::{AccessKind, Direction, Grant, Lifecycle, LifecycleArg};
use crate::vendors::error::located;

type RhaiResult<T> = Result<T, Box<EvalAltResult>>;

/// `activate_user(user)` and `reset_password(user, secret)`: journaled as not undoable.
pub fn install_lifecycle<A: UserApi>(
    module: &mut Module,
    caller: &Arc<Caller<A>>,
    call: Lifecycle,
) {
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
                            let secret = secret_of(A::spec().name, name, &password)?;
                            c.lifecycle(call, &user, Some(LifecycleArg::Password(secret)))
                                .map_err(to_rhai)
                        };
                        run().map_err(|e| located(&ctx, e))
                    },
                );
        }
        Lifecycle::TransferAccountabilities => {
            FuncRegistration::new(name)
                .with_volatility(true)
                .with_params_info(["user: Dynamic", "to: Dynamic", "Grant"])
                .with_comments([
                    "/// Hand everything a user owns (resources, accounts) to another user, as\n\
                     /// before a leaver is deleted. Journaled as not undoable.",
                ])
                .set_into_module(
                    module,
                    move |ctx: NativeCallContext, user: Dynamic, to: Dynamic| {
                        let run = || -> RhaiResult<Grant> {
                            let user = user_of::<A>(name, &user)?;
                            let to = user_of::<A>(name, &to)?;
                            c.lifecycle(call, &user, Some(LifecycleArg::User(to)))
                                .map_err(to_rhai)
                        };
                        run().map_err(|e| located(&ctx, e))
                    },
                );
        }
    }
}

/// A password given as a Secret, or a string taken as one.
fn secret_of(vendor: &'static str, name: &'static str, password: &Dynamic) -> RhaiResult<Secret> {
    if let Some(s) = password.read_lock::<Secret>() {
        return Ok(s.clone());
    }
    match password.read_lock::<ImmutableString>() {
        Some(t) => Ok(Secret::new(t.to_string())),
        None => Err(invalid(
            vendor,
            name,
            format!(
                "the password given to {vendor}::{name} must be a Secret or a string, not {}",
                password.type_name()
            ),
        )),
    }
}

/// Switching a user on and off (`enable_user`, `disable_user`): read first, journaled, undone
/// by the opposite switch.
pub fn install_state<A: UserApi>(
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
