//! Domain types shared by every capability: identifiers, email addresses,
//! time, and how a store fails.
pub mod email;
pub mod errors;
pub mod health;
pub mod ids;
pub mod paging;
pub mod schema;
pub mod time;

pub use email::{EmailAddress, InvalidEmail};
pub use errors::{StoreError, WriteError};
pub use health::StoreHealth;
pub use ids::{CompanyId, GroupName, InvalidHexId, InvalidId, NotificationId, RecordId, ResourceName, SubscriptionId, TenantId, UserId};
pub use time::{Clock, ManualClock, SystemClock, Timestamp};
