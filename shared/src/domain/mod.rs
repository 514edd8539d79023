//! Domain types shared by every capability: identifiers and time.
pub mod email;
pub mod ids;
pub mod time;

pub use email::{EmailAddress, InvalidEmail};
pub use ids::{CompanyId, GroupName, InvalidHexId, InvalidId, NotificationId, RecordId, ResourceName, SubscriptionId, TenantId, UserId};
pub use time::{Clock, ManualClock, SystemClock, Timestamp};
