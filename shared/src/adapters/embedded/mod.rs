//! In-process adapters: nothing to install, state lives in memory.
mod bus_store;
mod directory_store;
mod type_store;

pub use bus_store::EmbeddedBusStore;
pub use directory_store::EmbeddedDirectoryStore;
pub use type_store::EmbeddedTypeStore;
