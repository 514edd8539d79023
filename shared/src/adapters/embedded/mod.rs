//! In-process adapters: nothing to install, state lives in memory.
mod bus_store;

pub use bus_store::EmbeddedBusStore;
