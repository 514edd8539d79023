//! How a store (any port's adapter) fails: the errors every port shares.

/// A storage failure the caller cannot fix; maps to 503.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the store is unavailable: {0}")]
    Unavailable(String),
    #[error("the store gave up after too many conflicting writes")]
    Contention,
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

/// A conditional write that did not apply.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The item changed (or exists, or is gone) since it was read.
    #[error("the item changed concurrently")]
    Conflict,
    #[error(transparent)]
    Store(#[from] StoreError),
}
