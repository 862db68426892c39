//! The domain: one civil day of one person's activity and sleep, the messages it is
//! told in, which day a command means, and the sample day. It imports nothing else of
//! this crate, so every other part can depend on it and it on none of them.

pub mod alerts;
pub mod dates;
pub mod demo;
mod message;
pub mod metrics;
pub mod range;
mod summary;
pub mod week;

pub use message::MessageKind;
pub use range::DayRange;
pub use summary::{Activity, DaySummary, Device, Sleep, Stages};
