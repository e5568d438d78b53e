//! What one run shares between its vendor calls: the runtime, the profile, open vendor sessions and the journal.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use tokio::runtime::Handle;

use crate::config::{Profile, VendorSettings};
use crate::journal::Journal;

type CloseFuture<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// Something to end when the run ends (a CyberArk logon).
pub trait Close: Send + Sync {
    fn close(&self) -> CloseFuture<'_>;
}

/// The shared state of one run (or one REPL session).
pub struct Session {
    runtime: Option<Handle>,
    profile: Option<Profile>,
    /// What `--sim` or the profile is called, for messages.
    profile_label: String,
    settings: Mutex<HashMap<&'static str, Arc<VendorSettings>>>,
    closers: Mutex<Vec<Arc<dyn Close>>>,
    pub journal: Journal,
}

impl Session {
    /// A session that cannot reach any vendor: for `check`, `docs` and scripts without vendors.
    pub fn offline() -> Arc<Session> {
        Arc::new(Session {
            runtime: None,
            profile: None,
            profile_label: String::new(),
            settings: Mutex::default(),
            closers: Mutex::default(),
            journal: Journal::default(),
        })
    }

    pub fn new(runtime: Handle, profile: Option<Profile>) -> Arc<Session> {
        let profile_label = profile.as_ref().map(|p| p.name.clone()).unwrap_or_default();
        Arc::new(Session {
            runtime: Some(runtime),
            profile,
            profile_label,
            settings: Mutex::default(),
            closers: Mutex::default(),
            journal: Journal::default(),
        })
    }

    pub fn profile(&self) -> Option<&Profile> {
        self.profile.as_ref()
    }

    /// A vendor's settings, with secrets read on first use. Prints the `insecure` warning once.
    pub fn settings(&self, vendor: &'static str) -> Result<Arc<VendorSettings>, String> {
        if let Some(s) = self
            .settings
            .lock()
            .ok()
            .and_then(|m| m.get(vendor).cloned())
        {
            return Ok(s);
        }
        let profile = self.profile.as_ref().ok_or_else(|| {
            format!(
                "{vendor}:: needs a profile: no onboard.toml was found ({}); \
                 run with --sim to use the built-in simulator",
                crate::config::searched_places()
            )
        })?;
        if !profile.has(vendor) {
            return Err(format!(
                "profile `{}` has no [profiles.{}.{vendor}] section, so {vendor}:: cannot be used",
                self.profile_label, self.profile_label
            ));
        }
        let settings = Arc::new(profile.resolve(vendor).map_err(|e| e.to_string())?);
        if settings.insecure {
            eprintln!(
                "warning: TLS certificate checks are off for {vendor} in profile `{}` \
                 (insecure = true at {}); use this only with a test system",
                settings.profile, settings.at
            );
        }
        if let Ok(mut m) = self.settings.lock() {
            m.insert(vendor, settings.clone());
        }
        Ok(settings)
    }

    /// Wait for a vendor call from the script's thread.
    pub fn block_on<F: Future>(&self, future: F) -> Result<F::Output, String> {
        match &self.runtime {
            Some(rt) => Ok(rt.block_on(future)),
            None => Err("vendor calls are not available here (no profile is loaded)".into()),
        }
    }

    pub fn on_close(&self, closer: Arc<dyn Close>) {
        if let Ok(mut c) = self.closers.lock() {
            c.push(closer);
        }
    }

    /// End every vendor session opened by this run. Safe to call more than once.
    pub fn close(&self) {
        let closers: Vec<_> = self
            .closers
            .lock()
            .map(|mut c| std::mem::take(&mut *c))
            .unwrap_or_default();
        if let Some(rt) = &self.runtime {
            for c in closers {
                rt.block_on(c.close());
            }
        }
    }
}
