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
use crate::util::suggest;
use crate::vendors::UserApi;
use crate::vendors::access::{AccessKind, Direction, Grant, Held};
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

pub fn invalid(
    vendor: &'static str,
    operation: &'static str,
    message: String,
) -> Box<EvalAltResult> {
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
        crate::script::lifecycle::install_state(module, caller, state);
    }
    for call in A::spec().lifecycle {
        crate::script::lifecycle::install_lifecycle(module, caller, *call);
    }
}

/// A function taking `Dynamic` arguments, registered with its arity (kinds of access take one
/// to four: the user, the target's parts, the level).
pub(crate) type Call = Arc<dyn Fn(&[Dynamic]) -> RhaiResult<Dynamic> + Send + Sync>;

pub(crate) fn register_call(
    module: &mut Module,
    name: &str,
    params: &[String],
    returns: &str,
    doc: String,
    f: Call,
) {
    // A target part is a name; the user a name or a user; a level or access list is data.
    let mut info: Vec<String> = params
        .iter()
        .map(|p| match p.as_str() {
            "user" | "member" | "access" | "level" | "accesses" => format!("{p}: Dynamic"),
            _ => format!("{p}: String"),
        })
        .collect();
    info.push(returns.to_string());
    let reg = FuncRegistration::new(name)
        .with_volatility(true)
        .with_params_info(info)
        .with_comments([doc]);
    match params.len() {
        1 => {
            reg.set_into_module(module, move |ctx: NativeCallContext, a: Dynamic| {
                f(&[a]).map_err(|e| located(&ctx, e))
            });
        }
        2 => {
            reg.set_into_module(
                module,
                move |ctx: NativeCallContext, a: Dynamic, b: Dynamic| {
                    f(&[a, b]).map_err(|e| located(&ctx, e))
                },
            );
        }
        3 => {
            reg.set_into_module(
                module,
                move |ctx: NativeCallContext, a: Dynamic, b: Dynamic, c: Dynamic| {
                    f(&[a, b, c]).map_err(|e| located(&ctx, e))
                },
            );
        }
        _ => {
            reg.set_into_module(
                module,
                move |ctx: NativeCallContext, a: Dynamic, b: Dynamic, c: Dynamic, d: Dynamic| {
                    f(&[a, b, c, d]).map_err(|e| located(&ctx, e))
                },
            );
        }
    }
}

/// The names of a kind's target parts (`group`; `safe`; `resource`, `account`).
pub(crate) fn target_names(kind: &AccessKind) -> Vec<&'static str> {
    if kind.target.is_empty() {
        vec![kind.key]
    } else {
        kind.target.to_vec()
    }
}

/// The target given as strings, joined by `/` into the one the journal keeps.
fn target_of(
    vendor: &'static str,
    operation: &'static str,
    kind: &AccessKind,
    parts: &[&Dynamic],
) -> RhaiResult<String> {
    let mut out = Vec::new();
    for (name, part) in target_names(kind).into_iter().zip(parts) {
        let text = part.read_lock::<ImmutableString>().map(|t| t.to_string());
        match text {
            Some(t) if !(t.is_empty() || kind.target.len() > 1 && t.contains('/')) => out.push(t),
            Some(_) => {
                return Err(invalid(
                    vendor,
                    operation,
                    format!(
                        "`{name}` of {vendor}::{operation} must be a name that is not empty{}",
                        if kind.target.len() > 1 {
                            " and has no `/`"
                        } else {
                            ""
                        }
                    ),
                ));
            }
            None => {
                return Err(invalid(
                    vendor,
                    operation,
                    format!(
                        "`{name}` of {vendor}::{operation} must be the {}'s name (a string), not {}",
                        kind.noun,
                        part.type_name()
                    ),
                ));
            }
        }
    }
    Ok(out.join("/"))
}

/// The level a script gave, in the vendor's wire form, checked before anything is sent.
fn level_of(
    vendor: &'static str,
    operation: &'static str,
    kind: &AccessKind,
    given: &Dynamic,
) -> RhaiResult<Option<serde_json::Value>> {
    match kind.level {
        None => Ok(None),
        Some(level) => (level.parse)(given)
            .map(Some)
            .map_err(|e| invalid(vendor, operation, e)),
    }
}

fn install_kind<A: UserApi>(
    module: &mut Module,
    caller: &Arc<Caller<A>>,
    kind: &'static AccessKind,
) {
    let vendor = A::spec().name;
    let parts = kind.target_parts();
    let who = kind.who;
    let mut calls = vec![
        (kind.grant_fn, Direction::Grant, "Give"),
        (kind.revoke_fn, Direction::Revoke, "Take away"),
    ];
    if let Some(update) = kind.update_fn {
        calls.push((update, Direction::Grant, "Change the level of"));
    }
    for (name, direction, verb) in calls {
        let level = kind.level.filter(|_| direction == Direction::Grant);
        let params = crate::script::bridge::params_of(A::spec(), name);
        let doc = format!(
            "/// {verb} a {who} (a name or a user a call returned) access: the {} named\n\
             /// exactly `{}`. No change when it is already so (`changed == false`).\n\
             /// {}{}",
            kind.noun,
            target_names(kind).join("`/`"),
            kind.doc,
            level
                .map(|l| format!("\n/// `{}`: {}", l.param, l.doc))
                .unwrap_or_default()
        );
        let c = caller.clone();
        let f: Call = Arc::new(move |args: &[Dynamic]| {
            let (user_at, target_at) = if kind.target_first {
                (parts, 0)
            } else {
                (0, 1)
            };
            let user = user_of::<A>(name, &args[user_at])?;
            let target_args: Vec<&Dynamic> = args[target_at..target_at + parts].iter().collect();
            let target = target_of(vendor, name, kind, &target_args)?;
            let level = match level {
                Some(_) => level_of(vendor, name, kind, &args[parts + 1])?,
                None => None,
            };
            c.change(kind, name, direction, &user, &target, level)
                .map(Dynamic::from)
                .map_err(to_rhai)
        });
        register_call(module, name, &params, "Grant", doc, f);
    }
    install_list(module, caller, kind);
}

/// `groups(user)`: what a user holds; or `safe_members(safe)`: a target's members.
fn install_list<A: UserApi>(
    module: &mut Module,
    caller: &Arc<Caller<A>>,
    kind: &'static AccessKind,
) {
    if kind.list_fn.is_empty() {
        return;
    }
    let vendor = A::spec().name;
    let c = caller.clone();
    let (params, doc) = if kind.lists_members {
        (
            target_names(kind)
                .iter()
                .map(|t| t.to_string())
                .collect::<Vec<_>>(),
            format!(
                "/// The members of a {}, as an array of #{{ id, name, type, access, level }}\n\
                 /// (`level` is the vendor's record of the member, keys in snake_case).",
                kind.noun
            ),
        )
    } else {
        (
            vec!["user".to_string()],
            format!(
                "/// The {}s a user is in, as an array of #{{ id, name, type }}.",
                kind.noun
            ),
        )
    };
    let f: Call = Arc::new(move |args: &[Dynamic]| {
        let held = if kind.lists_members {
            let parts: Vec<&Dynamic> = args.iter().collect();
            let target = target_of(vendor, kind.list_fn, kind, &parts)?;
            c.members(kind, &target).map_err(to_rhai)?
        } else {
            let user = user_of::<A>(kind.list_fn, &args[0])?;
            c.held(kind, &user).map_err(to_rhai)?
        };
        Ok(Dynamic::from_array(
            held.into_iter().map(|h| held_map(kind, h)).collect(),
        ))
    });
    register_call(module, kind.list_fn, &params, "Array", doc, f);
}

fn held_map(kind: &AccessKind, h: Held) -> Dynamic {
    let mut m = Map::new();
    m.insert("id".into(), h.id.map_or(Dynamic::UNIT, Dynamic::from_int));
    m.insert("name".into(), h.name.into());
    m.insert("type".into(), h.kind.into());
    if let (Some(level), Some(spec)) = (&h.level, kind.level) {
        m.insert("access".into(), (spec.show)(level).into());
        m.insert(
            "level".into(),
            crate::vendors::record::json_to_dynamic(level),
        );
    }
    Dynamic::from_map(m)
}

/// The kind, target and level of an access given as data: `#{ group: NAME }`, `#{ safe: NAME,
/// preset: "use" }`, `#{ resource, account, level }`.
fn access_of(
    vendor: &'static str,
    operation: &'static str,
    kinds: &'static [AccessKind],
    access: &Map,
    direction: Direction,
) -> RhaiResult<(&'static AccessKind, String, Option<serde_json::Value>)> {
    let keys: Vec<&str> = kinds.iter().map(|k| k.data_key()).collect();
    let Some(kind) = kinds.iter().find(|k| access.contains_key(k.data_key())) else {
        let close = access
            .keys()
            .find_map(|g| suggest::closest(g, keys.iter().copied()).map(|k| (g, k)));
        return Err(invalid(
            vendor,
            operation,
            match close {
                Some((given, key)) => format!(
                    "unknown kind of access `{given}` for {vendor}::{operation}; did you mean `{key}`?"
                ),
                None => format!(
                    "{vendor}::{operation} takes a map naming the kind of access by one of {}",
                    keys.join(", ")
                ),
            },
        ));
    };
    let names = target_names(kind);
    let level_keys = kind.level.map_or(&[][..], |l| l.keys);
    let mut rest = Map::new();
    for (key, value) in access {
        if names.contains(&key.as_str()) {
            continue;
        }
        if !level_keys.contains(&key.as_str()) {
            let allowed: Vec<&str> = names.iter().chain(level_keys).copied().collect();
            return Err(invalid(
                vendor,
                operation,
                format!(
                    "unknown key `{key}` in a {} access for {vendor}::{operation}{}",
                    kind.noun,
                    suggest::did_you_mean(key, allowed.iter().copied())
                ),
            ));
        }
        rest.insert(key.clone(), value.clone());
    }
    let mut parts = Vec::new();
    for name in &names {
        match access.get(*name) {
            Some(p) => parts.push(p),
            None => {
                return Err(invalid(
                    vendor,
                    operation,
                    format!(
                        "a {} access for {vendor}::{operation} needs `{name}`",
                        kind.noun
                    ),
                ));
            }
        }
    }
    let target = target_of(vendor, operation, kind, &parts)?;
    let level = if direction == Direction::Grant {
        level_of(vendor, operation, kind, &Dynamic::from_map(rest))?
    } else {
        None
    };
    Ok((kind, target, level))
}

fn install_by_data<A: UserApi>(
    module: &mut Module,
    caller: &Arc<Caller<A>>,
    kinds: &'static [AccessKind],
) {
    let vendor = A::spec().name;
    let keys: Vec<&str> = kinds.iter().map(|k| k.data_key()).collect();
    for (name, direction) in [("grant", Direction::Grant), ("revoke", Direction::Revoke)] {
        let c = caller.clone();
        let f: Call = Arc::new(move |args: &[Dynamic]| {
            let user = user_of::<A>(name, &args[0])?;
            let Some(access) = args[1].read_lock::<Map>() else {
                return Err(invalid(
                    vendor,
                    name,
                    format!(
                        "{vendor}::{name} takes the access as a map, not {}",
                        args[1].type_name()
                    ),
                ));
            };
            let (kind, target, level) = access_of(vendor, name, kinds, &access, direction)?;
            let operation = kind.function(direction);
            c.change(kind, operation, direction, &user, &target, level)
                .map(Dynamic::from)
                .map_err(to_rhai)
        });
        let doc = format!(
            "/// {name} access given as data, a map naming its kind by one of {}\n\
             /// (`#{{ {}: NAME }}`), with the level's keys where the kind has levels.",
            keys.join(", "),
            keys[0]
        );
        register_call(
            module,
            name,
            &["user".into(), "access".into()],
            "Grant",
            doc,
            f,
        );
    }
    crate::script::held::install_given(module, caller, kinds);
    crate::script::held::install_held(module, caller, kinds);
    install_ensure(module, caller, kinds);
}

/// `ensure_access(user, [access…])`: every access checked, then each given.
fn install_ensure<A: UserApi>(
    module: &mut Module,
    caller: &Arc<Caller<A>>,
    kinds: &'static [AccessKind],
) {
    let vendor = A::spec().name;
    let c = caller.clone();
    let f: Call = Arc::new(move |args: &[Dynamic]| {
        let user = user_of::<A>("ensure_access", &args[0])?;
        let Some(list) = args[1].read_lock::<Array>() else {
            return Err(invalid(
                vendor,
                "ensure_access",
                format!(
                    "{vendor}::ensure_access takes an array of accesses (maps), not {}",
                    args[1].type_name()
                ),
            ));
        };
        // Every access is checked before the first is given.
        let mut wanted = Vec::new();
        for item in list.iter() {
            let Some(access) = item.read_lock::<Map>() else {
                return Err(invalid(
                    vendor,
                    "ensure_access",
                    format!(
                        "each access given to {vendor}::ensure_access is a map, not {}",
                        item.type_name()
                    ),
                ));
            };
            wanted.push(access_of(
                vendor,
                "ensure_access",
                kinds,
                &access,
                Direction::Grant,
            )?);
        }
        let mut out = Array::new();
        for (kind, target, level) in wanted {
            let g = c
                .change(kind, kind.grant_fn, Direction::Grant, &user, &target, level)
                .map_err(to_rhai)?;
            out.push(Dynamic::from(g));
        }
        Ok(Dynamic::from_array(out))
    });
    register_call(
        module,
        "ensure_access",
        &["user".into(), "accesses".into()],
        "Array",
        "/// Give every access of an array (each as `grant` takes it), checked first; an access\n\
         /// already held is no change. An array of Grants, in order."
            .into(),
        f,
    );
}
