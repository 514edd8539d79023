//! Record-change subscriptions (as Sahana Eden has them): filters, the
//! subscription model and store, and the check that sends digests.
pub mod check;
pub mod filter;
pub mod model;
pub mod render;
pub mod service;
pub mod store;
pub mod template_store;
pub mod templates;

pub use filter::{Filter, FilterError};
pub use model::{EmailFormat, Frequency, Method, NotifyOn, Subscriber, Subscription};
pub use store::SubscriptionStore;
pub use service::{Caller, SubscriptionError, SubscriptionPage, SubscriptionQuota, SubscriptionRequest, Subscriptions, MAX_PAGE};
pub use check::{Checker, CheckerSettings, SubscriptionCheckReport};
pub use template_store::TemplateStore;
pub use templates::{Origin, Template, TemplateError, Templates};
