//! Herald's library: the domain and its capabilities (each with its rules,
//! its ports and its service), the HTTP routers and event handlers every
//! entry point serves, two adapter sets (AWS and embedded), and the one
//! place that wires them (`wiring`). Layers and recipes:
//! docs/architecture.md.
pub mod adapters;
pub mod auth;
pub mod bus;
pub mod config;
pub mod directory;
pub mod domain;
pub mod events;
pub mod http;
pub mod inbox;
pub mod notifications;
pub mod outbox;
pub mod records;
pub mod services;
pub mod sessions;
pub mod subscriptions;
pub mod telemetry;
pub mod wiring;
