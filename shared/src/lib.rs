//! Herald's library: the domain and its rules, the ports it needs, the HTTP
//! routers every function serves, and two adapter sets (AWS and embedded).
pub mod adapters;
pub mod app;
pub mod auth;
pub mod bus;
pub mod config;
pub mod directory;
pub mod domain;
pub mod http;
pub mod inbox;
pub mod notifications;
pub mod outbox;
pub mod ports;
pub mod records;
pub mod subscriptions;
pub mod telemetry;
