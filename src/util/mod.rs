//! The bottom layer: what every other layer uses and that knows nothing of onboard's features.

pub mod alloc;
pub mod budget;
pub(crate) mod dates;
pub(crate) mod error;
pub(crate) mod lenient;
pub(crate) mod output;
pub(crate) mod secret;
pub(crate) mod suggest;
