//! Domain types shared by every capability: identifiers and time.
pub mod ids;
pub mod time;

pub use ids::{InvalidId, TenantId, UserId};
pub use time::{Clock, ManualClock, SystemClock, Timestamp};
