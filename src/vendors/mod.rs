//! The vendors: their registry, what each declares, and the contract each client fulfils.

pub(crate) mod access;
pub(crate) mod check;
pub(crate) mod error;
pub(crate) mod http;
pub(crate) mod pace;
pub(crate) mod platform;
pub(crate) mod probe;
pub(crate) mod record;
pub(crate) mod retry;
pub(crate) mod schema;
pub(crate) mod settings;
pub(crate) mod shown;
pub(crate) mod update;
pub(crate) mod validate;
pub(crate) mod values;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use rhai::{Dynamic, Map};

use error::VendorError;
use record::UserRecord;
use schema::{Kind, Request, RequestSpec};
use settings::{SettingSpec, VendorSettings};

/// What a create sent that the vendor reports back (e-mail, names, role), keyed by the user
/// record's property names: enough to recognise the account later. Never a secret.
pub type Sent = std::collections::BTreeMap<String, String>;

/// Everything the rest of onboard knows about a vendor; each vendor file defines one `SPEC`.
pub struct VendorSpec {
    /// The script namespace and config section name (`cyberark`).
    pub name: &'static str,
    pub product: &'static str,
    pub doc: &'static str,
    /// Keys of the vendor's section in a profile, besides `url`, timeouts and TLS.
    pub settings: &'static [SettingSpec],
    /// The vendor's documented request limit a minute, applied unless a profile says otherwise.
    pub per_minute: Option<u32>,
    /// The request of `create_user` and `ensure_user`.
    pub create: &'static RequestSpec,
    /// The fields of a create that the vendor reports back on the user, as (request path,
    /// user property): what recognises an account whose create answer was lost as the one sent.
    pub identity: &'static [(&'static [&'static str], &'static str)],
    pub user_type: &'static str,
    pub user_properties: &'static [(&'static str, &'static str)],
    /// A valid `create_user` request as a Rhai map, for a user named by the variable `name`:
    /// what the conformance suite creates for every vendor.
    pub example: &'static str,
    /// The kinds of access the vendor grants (groups, safes, shares); each gets its functions.
    pub access: &'static [access::AccessKind],
    /// Lifecycle calls nothing can undo (activate, reset password) the vendor has.
    pub lifecycle: &'static [access::Lifecycle],
    /// The request of `update_user` (the create's fields), for vendors that can update a user.
    pub update: Option<&'static RequestSpec>,
    /// States a user is switched on and off in (enabled): like access without a target, read
    /// first so that switching to the state it is in sends nothing. `grant_fn` switches on.
    pub states: &'static [access::AccessKind],
    /// An access of each kind the simulator has, for the conformance suite: (kind, the access
    /// as `V::grant` takes it, a Rhai map).
    pub access_example: &'static [(&'static str, &'static str)],
}

/// What the registry derives from a vendor's client type, so that no vendor spells it out.
struct Registered {
    spec: fn() -> &'static VendorSpec,
    connect: fn(&VendorSettings) -> Result<Arc<dyn Ops>, VendorError>,
    record_map: fn(&Dynamic) -> Option<Map>,
    record_common: fn(&Dynamic) -> Option<record::Common>,
    record_summary: fn(&Dynamic) -> Option<String>,
}

impl Registered {
    const fn of<A: UserApi>() -> Registered {
        Registered {
            spec: A::spec,
            connect: connect::<A>,
            record_map: record::map_of::<A::User>,
            record_common: record::common_of::<A::User>,
            record_summary: record::summary_of::<A::User>,
        }
    }
}

/// What a vendor client does. The script layer (`script::bridge`) turns these into the script
/// functions every vendor has (`onboard docs VENDOR` lists them).
pub trait UserApi: Send + Sync + Sized + 'static {
    type User: UserRecord;

    fn spec() -> &'static VendorSpec;

    /// Build the client; no request is sent yet.
    fn connect(settings: &VendorSettings) -> Result<Self, VendorError>;

    fn create_user(
        &self,
        request: &Request,
    ) -> impl Future<Output = Result<Self::User, VendorError>> + Send;

    /// The user with exactly this name (case-sensitive), if there is one.
    fn get_user(
        &self,
        username: &str,
    ) -> impl Future<Output = Result<Option<Self::User>, VendorError>> + Send;

    fn user_exists(
        &self,
        username: &str,
    ) -> impl Future<Output = Result<bool, VendorError>> + Send {
        async move { Ok(self.get_user(username).await?.is_some()) }
    }

    /// Delete the user with this id (its name is for messages).
    fn delete_user(
        &self,
        id: i64,
        username: &str,
    ) -> impl Future<Output = Result<(), VendorError>> + Send;

    /// Whether the vendor spells a user's name its own way (`canonical_name`): only then is it
    /// asked, since asking costs a hand-off to the runtime per create.
    const RENAMES: bool = false;

    /// The name the vendor knows a user by, for a name a script gave (Identity adds the
    /// tenant's login suffix); a lookup at most.
    fn canonical_name(
        &self,
        username: &str,
    ) -> impl Future<Output = Result<String, VendorError>> + Send {
        let name = username.to_string();
        async move { Ok(name) }
    }

    /// What a dry run returns for a create: the request as a result, with a placeholder id.
    fn planned(request: &Request, id: i64) -> Self::User;

    /// Grant or revoke access of a kind the spec declares, a grant at `level` when the kind
    /// has levels (`held`: the user holds it at another level, read just before); whether
    /// anything changed (false when the vendor says it was already so).
    fn change_access(
        &self,
        kind: &str,
        direction: access::Direction,
        username: &str,
        target: &str,
        level: Option<&serde_json::Value>,
        held: bool,
    ) -> impl Future<Output = Result<bool, VendorError>> + Send {
        let _ = (direction, username, target, level, held);
        async move { Err(unsupported(Self::spec().name, kind)) }
    }

    /// What `username` holds of `target` (with its level): read before a change of an access
    /// with levels, so that the journal keeps what undoes it.
    fn holding(
        &self,
        kind: &str,
        username: &str,
        target: &str,
    ) -> impl Future<Output = Result<access::Holding, VendorError>> + Send {
        async move {
            let held = self.access(kind, username).await?;
            Ok(match held.into_iter().find(|h| h.name == target) {
                Some(h) => access::Holding::Yes(h.level.unwrap_or(serde_json::Value::Null)),
                None => access::Holding::No,
            })
        }
    }

    /// The members of a target, for kinds that list them (`safe_members(safe)`).
    fn members(
        &self,
        kind: &str,
        target: &str,
    ) -> impl Future<Output = Result<Vec<access::Held>, VendorError>> + Send {
        let _ = target;
        async move { Err(unsupported(Self::spec().name, kind)) }
    }

    /// Clear a user's suspension; whether it was suspended.
    fn activate_user(
        &self,
        username: &str,
    ) -> impl Future<Output = Result<bool, VendorError>> + Send {
        let _ = username;
        async move { Err(unsupported(Self::spec().name, "activate")) }
    }

    /// Set a user's password.
    fn reset_password(
        &self,
        username: &str,
        password: &crate::util::secret::Secret,
    ) -> impl Future<Output = Result<(), VendorError>> + Send {
        let _ = (username, password);
        async move { Err(unsupported(Self::spec().name, "reset_password")) }
    }

    /// Transfer what `username` owns (resources, accounts) to `to`.
    fn transfer_accountabilities(
        &self,
        username: &str,
        to: &str,
    ) -> impl Future<Output = Result<(), VendorError>> + Send {
        let _ = (username, to);
        async move { Err(unsupported(Self::spec().name, "transfer_accountabilities")) }
    }

    /// The user's object as the vendor has it, wire names (what an update is compared with);
    /// `None` when there is no such user.
    fn user_fields(
        &self,
        username: &str,
    ) -> impl Future<Output = Result<Option<serde_json::Value>, VendorError>> + Send {
        let _ = username;
        async move { Err(unsupported(Self::spec().name, "update")) }
    }

    /// Write the values of a partial wire body onto the user (the vendor's whole-user update,
    /// read and merged first where it replaces).
    fn write_fields(
        &self,
        username: &str,
        partial: &serde_json::Value,
    ) -> impl Future<Output = Result<(), VendorError>> + Send {
        let _ = (username, partial);
        async move { Err(unsupported(Self::spec().name, "update")) }
    }

    /// Whether the target of an access exists (a lookup: what a dry run checks before planning
    /// a grant); `not_found` naming it when it does not.
    fn check_target(
        &self,
        kind: &str,
        target: &str,
    ) -> impl Future<Output = Result<(), VendorError>> + Send {
        let _ = (kind, target);
        async { Ok(()) }
    }

    /// The access of a kind a user holds.
    fn access(
        &self,
        kind: &str,
        username: &str,
    ) -> impl Future<Output = Result<Vec<access::Held>, VendorError>> + Send {
        let _ = username;
        async move { Err(unsupported(Self::spec().name, kind)) }
    }

    /// End the vendor session (CyberArk logoff). Called once when the run ends, whatever happened.
    fn close(&self) -> impl Future<Output = ()> + Send {
        async {}
    }

    /// What `onboard doctor` checks once the server is reachable: that the client logs on, and
    /// where the vendor lets it tell, the account's rights and the server's version. Reads
    /// only. By default: a lookup of a name nobody has, which any valid credential may make.
    fn diagnose(&self) -> impl Future<Output = Vec<probe::Finding>> + Send {
        async move {
            match self.user_exists("onboard-doctor-check").await {
                Ok(_) => vec![probe::Finding::pass("logon", "a user lookup was answered")],
                Err(e) => vec![probe::Finding::failed_call(
                    "logon",
                    &e,
                    "check the credential the profile names",
                )],
            }
        }
    }
}

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A user rollback or undo looked up: its id, and whether it has what a create sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Found {
    pub id: i64,
    /// `None` when nothing was given to compare.
    pub same: Option<bool>,
}

/// The vendor calls rollback and undo need, as a trait object over any client.
pub trait Ops: Send + Sync {
    /// The user with exactly this name, if there is one, compared with what a create sent.
    fn find<'a>(
        &'a self,
        username: &'a str,
        sent: Option<&'a Sent>,
    ) -> BoxFuture<'a, Result<Option<Found>, VendorError>>;
    fn delete<'a>(&'a self, id: i64, username: &'a str) -> BoxFuture<'a, Result<(), VendorError>>;
    /// Write fields back (undo and rollback reverse a run's updates with it).
    fn write_fields<'a>(
        &'a self,
        username: &'a str,
        partial: &'a serde_json::Value,
    ) -> BoxFuture<'a, Result<(), VendorError>>;
    /// Grant or revoke access (undo and rollback reverse a run's grants with it).
    fn change_access<'a>(
        &'a self,
        kind: &'a str,
        direction: access::Direction,
        username: &'a str,
        target: &'a str,
        level: Option<&'a serde_json::Value>,
        held: bool,
    ) -> BoxFuture<'a, Result<bool, VendorError>>;
    /// End the vendor session.
    fn close(&self) -> BoxFuture<'_, ()>;
    /// `onboard doctor`'s checks of the logged-on client.
    fn diagnose(&self) -> BoxFuture<'_, Vec<probe::Finding>>;
    /// The typed client underneath, for a script's calls to share it (one logon, one pace).
    fn client(&self) -> Arc<dyn std::any::Any + Send + Sync>;
}

struct OpsOf<A>(Arc<A>);

impl<A: UserApi> Ops for OpsOf<A> {
    fn find<'a>(
        &'a self,
        username: &'a str,
        sent: Option<&'a Sent>,
    ) -> BoxFuture<'a, Result<Option<Found>, VendorError>> {
        Box::pin(async move {
            Ok(self.0.get_user(username).await?.map(|u| Found {
                id: u.common().id,
                same: sent.map(|s| same(&u, s)),
            }))
        })
    }

    fn delete<'a>(&'a self, id: i64, username: &'a str) -> BoxFuture<'a, Result<(), VendorError>> {
        Box::pin(self.0.delete_user(id, username))
    }

    fn change_access<'a>(
        &'a self,
        kind: &'a str,
        direction: access::Direction,
        username: &'a str,
        target: &'a str,
        level: Option<&'a serde_json::Value>,
        held: bool,
    ) -> BoxFuture<'a, Result<bool, VendorError>> {
        Box::pin(
            self.0
                .change_access(kind, direction, username, target, level, held),
        )
    }

    fn write_fields<'a>(
        &'a self,
        username: &'a str,
        partial: &'a serde_json::Value,
    ) -> BoxFuture<'a, Result<(), VendorError>> {
        Box::pin(self.0.write_fields(username, partial))
    }

    fn close(&self) -> BoxFuture<'_, ()> {
        Box::pin(self.0.close())
    }

    fn diagnose(&self) -> BoxFuture<'_, Vec<probe::Finding>> {
        Box::pin(self.0.diagnose())
    }

    fn client(&self) -> Arc<dyn std::any::Any + Send + Sync> {
        self.0.clone()
    }
}

/// The error of an access call a vendor does not have.
fn unsupported(vendor: &'static str, kind: &str) -> VendorError {
    VendorError::new(
        vendor,
        error::ErrorKind::Validation,
        format!("{vendor} has no access of kind `{kind}`"),
    )
}

/// Build a vendor's client as `Ops`.
fn connect<A: UserApi>(settings: &VendorSettings) -> Result<Arc<dyn Ops>, VendorError> {
    Ok(Arc::new(OpsOf(Arc::new(A::connect(settings)?))))
}

macro_rules! declare_vendors {
    ($($name:ident),*) => {
        $(pub(crate) mod $name;)*
        /// Every vendor, in the order they are documented.
        pub static ALL: &[&VendorSpec] = &[$(&$name::SPEC),*];
        static REGISTERED: &[Registered] = &[$(Registered::of::<$name::Client>()),*];
    };
}
crate::with_vendors!(declare_vendors);

pub fn find(name: &str) -> Option<&'static VendorSpec> {
    ALL.iter().copied().find(|v| v.name == name)
}

/// A vendor record's map, whatever the vendor.
pub fn record_map(value: &Dynamic) -> Option<Map> {
    REGISTERED.iter().find_map(|v| (v.record_map)(value))
}

pub fn record_common(value: &Dynamic) -> Option<record::Common> {
    REGISTERED.iter().find_map(|v| (v.record_common)(value))
}

pub fn record_summary(value: &Dynamic) -> Option<String> {
    REGISTERED.iter().find_map(|v| (v.record_summary)(value))
}

/// A client of the vendor `name` as `Ops`, for rollback and undo outside any script.
pub fn connect_ops(
    name: &str,
    settings: &VendorSettings,
) -> Option<Result<Arc<dyn Ops>, VendorError>> {
    let vendor = REGISTERED.iter().find(|v| (v.spec)().name == name)?;
    Some((vendor.connect)(settings))
}

/// The vendor functions that take a request map (the vendor's `create` request).
pub const REQUEST_FNS: &[&str] = &["create_user", "ensure_user"];

/// The rules a user name passed to `get_user`, `user_exists` or `delete_user` must follow.
pub const USERNAME_ARG: Kind = Kind::Name {
    max: 0,
    forbidden: "",
};

/// What a create sends that identifies the account it makes (see `VendorSpec::identity`), or
/// `None` when the vendor reports none of it back.
pub fn sent(spec: &VendorSpec, request: &Request) -> Option<Sent> {
    let sent: Sent = spec
        .identity
        .iter()
        .filter_map(|(path, property)| {
            Some((property.to_string(), request.text_at(path)?.to_string()))
        })
        .collect();
    (!sent.is_empty()).then_some(sent)
}

/// Whether a user the vendor reports has every identifying field that was sent (ignoring ASCII
/// case: vendors may normalise e-mail addresses and roles).
pub fn same<U: UserRecord>(user: &U, sent: &Sent) -> bool {
    sent.iter().all(|(property, want)| {
        let have = user.property(property);
        !have.is_unit() && have.to_string().eq_ignore_ascii_case(want)
    })
}
