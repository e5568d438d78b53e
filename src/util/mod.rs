//! The bottom layer: what every other layer uses and that knows nothing of onboard's features.

pub mod budget;
pub mod dates;
pub mod error;
pub mod lenient;
pub mod output;
pub mod secret;
pub mod suggest;
