//! The functions that take a vendor by name (`vendors()`, `user_exists_in`, `functions_in`,
//! `call_in`): what library code calls to reach every vendor without naming one in its source.

use rhai::{
    Array, Dynamic, Engine, EvalAltResult, FuncRegistration, ImmutableString, NativeCallContext,
};

use crate::script::bridge::{Exists, functions_of};
use crate::vendors::VendorSpec;
use crate::vendors::error::located;

type RhaiResult<T> = Result<T, Box<EvalAltResult>>;

/// `vendors()` and `user_exists_in(vendor, name)`: what library code (`std/naming`) calls to
/// ask every vendor without naming them in its source.
pub fn install(engine: &mut Engine, exists: Vec<(&'static str, Exists)>) {
    let names: Vec<&'static str> = exists.iter().map(|(n, _)| *n).collect();
    let listed = names.clone();
    FuncRegistration::new("vendors")
        .with_params_info(["Array"])
        .with_comments([
            "/// The names of every vendor onboard knows, as their namespaces are spelt.",
        ])
        .register_into_engine(engine, move || -> Array {
            listed
                .iter()
                .map(|n| Dynamic::from(n.to_string()))
                .collect()
        });
    FuncRegistration::new("user_exists_in")
        .with_volatility(true)
        .with_params_info(["vendor: &str", "username: &str", "bool"])
        .with_comments([
            "/// Whether a user with exactly this name exists in the vendor named `vendor`\n\
             /// (`user_exists_in(\"cyberark\", \"jdoe\")` is `cyberark::user_exists(\"jdoe\")`).",
        ])
        .register_into_engine(
            engine,
            move |ctx: NativeCallContext,
                  vendor: ImmutableString,
                  username: ImmutableString|
                  -> RhaiResult<bool> {
                let Some((_, exists)) = exists.iter().find(|(n, _)| *n == vendor.as_str()) else {
                    let hint = crate::util::suggest::closest(&vendor, names.iter().copied())
                        .map(|n| format!("; did you mean \"{n}\"?"))
                        .unwrap_or_else(|| format!("; the vendors are {}", names.join(", ")));
                    let message = format!("unknown vendor \"{vendor}\"{hint}");
                    return Err(
                        EvalAltResult::ErrorRuntime(message.into(), ctx.call_position()).into(),
                    );
                };
                exists(&username).map_err(|e| located(&ctx, e))
            },
        );
    install_call_in(engine);
}

/// The spec of the vendor named `vendor`, or the error that says which vendors there are.
fn vendor_named(ctx: &NativeCallContext, vendor: &str) -> RhaiResult<&'static VendorSpec> {
    crate::vendors::find(vendor).ok_or_else(|| {
        let names: Vec<&str> = crate::vendors::ALL.iter().map(|v| v.name).collect();
        let hint = crate::util::suggest::closest(vendor, names.iter().copied())
            .map(|n| format!("; did you mean \"{n}\"?"))
            .unwrap_or_else(|| format!("; the vendors are {}", names.join(", ")));
        EvalAltResult::ErrorRuntime(
            format!("unknown vendor \"{vendor}\"{hint}").into(),
            ctx.call_position(),
        )
        .into()
    })
}

/// `functions_in(vendor)` and `call_in(vendor, function, args)`: a library (`std/offboarding`)
/// calls a function of every vendor that has it, without a list of vendors in its source.
fn install_call_in(engine: &mut Engine) {
    FuncRegistration::new("functions_in")
        .with_params_info(["vendor: &str", "Array"])
        .with_comments([
            "/// The names of the functions of the vendor named `vendor` (`disable_user`, …).",
        ])
        .register_into_engine(
            engine,
            |ctx: NativeCallContext, vendor: ImmutableString| -> RhaiResult<Array> {
                let spec = vendor_named(&ctx, &vendor)?;
                Ok(functions_of(spec)
                    .into_iter()
                    .map(|(n, _)| Dynamic::from(n.to_string()))
                    .collect())
            },
        );
    FuncRegistration::new("call_in")
        .with_volatility(true)
        .with_params_info(["vendor: &str", "function: &str", "args: Array", "Dynamic"])
        .with_comments([
            "/// Call a function of the vendor named `vendor` with the arguments in `args`:\n\
             /// `call_in(\"cyberark\", \"disable_user\", [\"jdoe\"])` is `cyberark::disable_user(\"jdoe\")`.",
        ])
        .register_into_engine(
            engine,
            |ctx: NativeCallContext, vendor: ImmutableString, function: ImmutableString, args: Array| -> RhaiResult<Dynamic> {
                let spec = vendor_named(&ctx, &vendor)?;
                let functions = functions_of(spec);
                if !functions.iter().any(|(n, a)| *n == function.as_str() && *a == args.len()) {
                    let hint = crate::util::suggest::did_you_mean(&function, functions.iter().map(|(n, _)| *n));
                    let message = format!("{vendor} has no function {function} taking {} argument(s){hint}", args.len());
                    return Err(EvalAltResult::ErrorRuntime(message.into(), ctx.call_position()).into());
                }
                let mut scope = rhai::Scope::new();
                let mut names = Vec::with_capacity(args.len());
                for (i, arg) in args.into_iter().enumerate() {
                    let name = format!("__call_in_{i}");
                    scope.push_dynamic(name.clone(), arg);
                    names.push(name);
                }
                // The vendor and function are names the registry knows, checked above.
                let call = format!("{}::{function}({})", spec.name, names.join(", "));
                ctx.engine().eval_with_scope::<Dynamic>(&mut scope, &call).map_err(|mut e| {
                    e.set_position(ctx.call_position());
                    e
                })
            },
        );
}
