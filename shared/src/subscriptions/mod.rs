//! Record-change subscriptions (the Sahana Eden seed): filters first.
pub mod filter;

pub use filter::{Filter, FilterError};
