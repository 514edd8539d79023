//! In-process adapters: nothing to install, state lives in memory.
mod bus_store;
mod directory_store;

pub use bus_store::EmbeddedBusStore;
pub use directory_store::EmbeddedDirectoryStore;
