//! The composition root: builds the services every router needs, on the
//! embedded adapters or on AWS.
use std::sync::Arc;

use crate::adapters::aws::{self, DynamoBusStore, DynamoDirectoryStore, DynamoTypeStore};
use crate::adapters::embedded::{EmbeddedBusStore, EmbeddedDirectoryStore, EmbeddedTypeStore};
use crate::auth::Authenticator;
use crate::bus::{Bus, BusStore};
use crate::directory::DirectoryStore;
use crate::notifications::TypeStore;
use crate::config::{Config, ConfigError};
use crate::domain::Clock;
use crate::ports::StoreError;

/// Everything a request handler may use. Cheap to clone.
#[derive(Clone)]
pub struct Services {
    pub auth: Arc<Authenticator>,
    pub bus: Arc<Bus>,
    pub directory: Arc<dyn DirectoryStore>,
    pub types: Arc<dyn TypeStore>,
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
        let stores = Stores {
            bus: Arc::new(EmbeddedBusStore::new()),
            directory: Arc::new(EmbeddedDirectoryStore::new()),
            types: Arc::new(EmbeddedTypeStore::new()),
        };
        Ok(Self::assemble(config, clock, stores)?)
    }

    /// DynamoDB through the SDK configuration of the environment.
    pub async fn aws(config: &Config, clock: Arc<dyn Clock>) -> Result<AwsServices, StartError> {
        let sdk = aws::load_config().await;
        let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
        let bus_store = DynamoBusStore::new(dynamodb.clone(), config.bus_table.clone());
        let directory_store = DynamoDirectoryStore::new(dynamodb.clone(), config.data_table.clone());
        let stores = Stores {
            bus: Arc::new(bus_store.clone()),
            directory: Arc::new(directory_store),
            types: Arc::new(DynamoTypeStore::new(dynamodb.clone(), config.data_table.clone())),
        };
        let services = Self::assemble(config, clock, stores)?;
        Ok(AwsServices {
            services,
            dynamodb,
            bus_store,
            bus_table: config.bus_table.clone(),
            data_table: config.data_table.clone(),
        })
    }

    fn assemble(config: &Config, clock: Arc<dyn Clock>, stores: Stores) -> Result<Self, ConfigError> {
        let secret = config.require_jwt_secret()?;
        Ok(Self {
            auth: Arc::new(Authenticator::hs256(secret.expose())),
            bus: Arc::new(Bus::new(stores.bus, clock.clone(), config.bus.clone())),
            directory: stores.directory,
            types: stores.types,
            clock,
        })
    }
}

struct Stores {
    bus: Arc<dyn BusStore>,
    directory: Arc<dyn DirectoryStore>,
    types: Arc<dyn TypeStore>,
}

/// The services on AWS, with the handles benchmarks and the local gateway use.
pub struct AwsServices {
    pub services: Services,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub bus_store: DynamoBusStore,
    bus_table: String,
    data_table: String,
}

impl AwsServices {
    /// Creates missing tables (template.yaml creates them in AWS).
    pub async fn ensure_tables(&self) -> Result<(), StoreError> {
        aws::tables::ensure_bus_table(&self.dynamodb, &self.bus_table).await?;
        aws::tables::ensure_data_table(&self.dynamodb, &self.data_table).await
    }
}
