//! Record-change subscriptions (the Sahana Eden seed): filters, the
//! subscription model and store, and the check that sends digests.
pub mod check;
pub mod filter;
pub mod model;
pub mod render;
pub mod service;
pub mod store;
pub mod templates;

pub use filter::{Filter, FilterError};
pub use model::{EmailFormat, Frequency, Method, NotifyOn, Subscriber, Subscription};
pub use store::SubscriptionStore;
pub use service::{Caller, SubscriptionError, SubscriptionRequest, Subscriptions};
pub use check::{Checker, CheckerSettings, SubscriptionCheckReport};
pub use templates::{Origin, Template, TemplateError, TemplateStore, Templates};
