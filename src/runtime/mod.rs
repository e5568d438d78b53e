//! One run's state, without Rhai: the async runtime, cancel, the session and its clients, the
//! journaled vendor calls, rollback and undo.

pub mod access;
pub mod call;
pub mod granted;
pub mod handoff;
pub mod io;
pub mod session;
pub mod undo;
pub mod update;
