//! The store health port: `GET /health` asks it whether the store answers.
use async_trait::async_trait;

use super::StoreError;

#[async_trait]
pub trait StoreHealth: Send + Sync {
    /// `Ok` if the store reads and writes now.
    async fn check(&self) -> Result<(), StoreError>;
}
