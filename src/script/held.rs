//! Access as data read back: what a user holds that the vendor lists (`access_held`), and what
//! the journal says onboard gave (`granted_by_onboard`), each as `grant` and `revoke` take it.

use std::sync::Arc;

use rhai::{Array, Dynamic, Map, Module};

use crate::runtime::call::Caller;
use crate::script::bridge::to_rhai;
use crate::script::grants::{Call, register_call, target_names, user_of};
use crate::vendors::UserApi;
use crate::vendors::access::AccessKind;

/// `access_held(user)`: every access a user holds that the vendor lists per user (vault groups,
/// monitor groups…; not safes or shares, which are listed per safe or not at all), each as
/// `grant` and `revoke` take it.
pub fn install_held<A: UserApi>(
    module: &mut Module,
    caller: &Arc<Caller<A>>,
    kinds: &'static [AccessKind],
) {
    let c = caller.clone();
    let f: Call = Arc::new(move |args: &[Dynamic]| {
        let user = user_of::<A>("access_held", &args[0])?;
        let mut out = Array::new();
        for kind in kinds
            .iter()
            .filter(|k| !k.list_fn.is_empty() && !k.lists_members)
        {
            for h in c.held(kind, &user).map_err(to_rhai)? {
                let mut m = Map::new();
                m.insert(kind.data_key().into(), h.name.into());
                out.push(Dynamic::from_map(m));
            }
        }
        Ok(Dynamic::from_array(out))
    });
    register_call(
        module,
        "access_held",
        &["user".into()],
        "Array",
        "/// Every access a user holds that the vendor lists per user, each a map as `grant`\n\
         /// and `revoke` take it (safes and shares are not listed per user)."
            .into(),
        f,
    );
}

/// `granted_by_onboard(user)`: the accesses the journal says onboard gave a user and nothing
/// took back, each as `grant` and `revoke` take it (what a leaver's offboarding revokes).
pub fn install_given<A: UserApi>(
    module: &mut Module,
    caller: &Arc<Caller<A>>,
    kinds: &'static [AccessKind],
) {
    let c = caller.clone();
    let f: Call = Arc::new(move |args: &[Dynamic]| {
        let user = user_of::<A>("granted_by_onboard", &args[0])?;
        let given = c.session().given(A::spec().name, &user).map_err(to_rhai)?;
        let mut out = Array::new();
        for g in given {
            let Some(kind) = kinds.iter().find(|k| k.key == g.kind) else {
                continue;
            };
            let names = target_names(kind);
            // A target of several parts was joined by `/`; only the first may hold one.
            let mut parts: Vec<String> = Vec::new();
            let mut rest = g.target.as_str();
            for _ in 1..names.len() {
                let (head, tail) = rest.rsplit_once('/').unwrap_or(("", rest));
                parts.insert(0, tail.to_string());
                rest = head;
            }
            parts.insert(0, rest.to_string());
            let mut m = Map::new();
            for (name, part) in names.iter().zip(parts) {
                m.insert((*name).into(), part.into());
            }
            out.push(Dynamic::from_map(m));
        }
        Ok(Dynamic::from_array(out))
    });
    register_call(
        module,
        "granted_by_onboard",
        &["user".into()],
        "Array",
        "/// The accesses onboard gave a user (by the journal) that no run, undo or rollback\n\
         /// took back, oldest first, each a map as `grant` and `revoke` take it."
            .into(),
        f,
    );
}
