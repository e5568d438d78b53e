//! Vendors' result types as scripts see them: properties through one indexer, and printing.

use rhai::{Dynamic, Engine, EvalAltResult, ImmutableString, NativeCallContext};

use crate::vendors::record::UserRecord;
use crate::vendors::values;

/// A vendor's result type: its properties, `to_map`, `to_json` and how it prints.
pub fn register<T: UserRecord>(engine: &mut Engine) {
    engine.register_type_with_name::<T>(T::TYPE_NAME);
    // One indexer, not a getter per property: Rhai tries the indexer when `r.name` finds no
    // getter, and registering 19 getters a vendor was an eighth of start-up's instructions.
    engine.register_indexer_get(
        |ctx: NativeCallContext,
         r: &mut T,
         name: ImmutableString|
         -> Result<Dynamic, Box<EvalAltResult>> {
            r.get(&name).ok_or_else(|| {
                let message = format!(
                    "`{}` has no property `{name}`{} (it has {})",
                    T::TYPE_NAME,
                    crate::util::suggest::did_you_mean(&name, T::property_names()),
                    T::property_names().collect::<Vec<_>>().join(", ")
                );
                EvalAltResult::ErrorDotExpr(message, ctx.call_position()).into()
            })
        },
    );
    engine.register_fn("to_map", |r: &mut T| r.to_map());
    engine.register_fn("to_json", |r: &mut T| {
        values::to_json_string(&Dynamic::from_map(r.to_map()), false)
    });
    engine.register_fn("to_string", |r: &mut T| r.summary());
    engine.register_fn("to_debug", |r: &mut T| r.summary());
}

/// Each property of `T` as a getter of its own, typed where it can be, for editors' definition
/// files (`onboard definitions`); scripts read properties through `register`'s indexer.
pub fn register_getters<T: UserRecord>(engine: &mut Engine) {
    engine.register_get("vendor", |r: &mut T| r.common().vendor.to_string());
    engine.register_get("id", |r: &mut T| r.common().id);
    engine.register_get("username", |r: &mut T| r.common().username.clone());
    engine.register_get("created", |r: &mut T| r.common().created);
    engine.register_get("dry_run", |r: &mut T| r.common().dry_run);
    engine.register_get("changed", |r: &mut T| r.common().changed);
    let typed = ["vendor", "id", "username", "created", "dry_run", "changed"];
    for name in T::property_names().filter(|n| !typed.contains(n)) {
        engine.register_get(name, move |r: &mut T| r.get(name).unwrap_or_default());
    }
}
