//! The composition root: builds the services every router needs, on the
//! embedded adapters or on AWS.
use std::sync::Arc;

use crate::adapters::aws::{self, DynamoBusStore};
use crate::adapters::embedded::EmbeddedBusStore;
use crate::auth::Authenticator;
use crate::bus::Bus;
use crate::config::{Config, ConfigError};
use crate::domain::Clock;
use crate::ports::StoreError;

/// Everything a request handler may use. Cheap to clone.
#[derive(Clone)]
pub struct Services {
    pub auth: Arc<Authenticator>,
    pub bus: Arc<Bus>,
    pub clock: Arc<dyn Clock>,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Services {
    /// In-process state: the local gateway's default and fast tests.
    pub fn embedded(config: &Config, clock: Arc<dyn Clock>) -> Result<Self, StartError> {
        let store = Arc::new(EmbeddedBusStore::new());
        Ok(Self::assemble(config, clock, store)?)
    }

    /// DynamoDB through the SDK configuration of the environment.
    pub async fn aws(config: &Config, clock: Arc<dyn Clock>) -> Result<AwsServices, StartError> {
        let sdk = aws::load_config().await;
        let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
        let bus_store = DynamoBusStore::new(dynamodb.clone(), config.bus_table.clone());
        let services = Self::assemble(config, clock, Arc::new(bus_store.clone()))?;
        Ok(AwsServices { services, dynamodb, bus_store, bus_table: config.bus_table.clone() })
    }

    fn assemble(
        config: &Config,
        clock: Arc<dyn Clock>,
        bus_store: Arc<dyn crate::bus::BusStore>,
    ) -> Result<Self, ConfigError> {
        let secret = config.require_jwt_secret()?;
        Ok(Self {
            auth: Arc::new(Authenticator::hs256(secret.expose())),
            bus: Arc::new(Bus::new(bus_store, clock.clone(), config.bus.clone())),
            clock,
        })
    }
}

/// The services on AWS, with the handles benchmarks and the local gateway use.
pub struct AwsServices {
    pub services: Services,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub bus_store: DynamoBusStore,
    bus_table: String,
}

impl AwsServices {
    /// Creates missing tables (template.yaml creates them in AWS).
    pub async fn ensure_tables(&self) -> Result<(), StoreError> {
        aws::tables::ensure_bus_table(&self.dynamodb, &self.bus_table).await
    }
}
