//! The composition root: builds the services every handler needs, on the
//! embedded adapters or on AWS.
use std::sync::Arc;
use std::time::Duration;

use crate::adapters::aws::{
    self, DynamoBusStore, DynamoDirectoryStore, DynamoInboxStore, DynamoNotificationStore, DynamoRecordStore, DynamoSubscriptionStore,
    DynamoTemplateStore, DynamoTypeStore, SdkClient, SesMailer, SqsQueue,
};
use crate::adapters::embedded::{
    EmbeddedBusStore, EmbeddedDirectoryStore, EmbeddedInboxStore, EmbeddedNotificationStore, EmbeddedQueue, EmbeddedRecordStore,
    EmbeddedSubscriptionStore, EmbeddedTemplateStore, EmbeddedTypeStore, FileMailer,
};
use crate::adapters::unwired::Unwired;
use crate::auth::Authenticator;
use crate::bus::{Bus, BusStore};
use crate::config::{Config, ConfigError};
use crate::directory::DirectoryStore;
use crate::domain::Clock;
use crate::inbox::{Inbox, InboxStore};
use crate::notifications::{NotificationStore, Notifier, NotifierSettings, TypeStore};
use crate::outbox::{Mailer, Outbox, OutboxQueue, OutboxSettings, QueueConsumer};
use crate::ports::StoreError;
use crate::records::{RecordStore, Records};
use crate::subscriptions::render::TemplateStore;
use crate::subscriptions::{Checker, CheckerSettings, SubscriptionStore, Subscriptions};

/// Everything a handler may use. Cheap to clone.
#[derive(Clone)]
pub struct Services {
    pub auth: Arc<Authenticator>,
    pub bus: Arc<Bus>,
    pub directory: Arc<dyn DirectoryStore>,
    pub types: Arc<dyn TypeStore>,
    pub notifier: Notifier,
    pub inbox: Inbox,
    pub outbox: Outbox,
    /// Where the local gateway pulls outbox messages from (Lambda gets
    /// them from its SQS event source instead).
    pub outbox_consumer: Arc<dyn QueueConsumer>,
    pub records: Records,
    pub subscriptions: Subscriptions,
    /// The subscription check (digests).
    pub checker: Checker,
    pub clock: Arc<dyn Clock>,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Every port the services need, whichever adapters implement them
/// (tests and benchmarks mix their own in).
pub struct Adapters {
    pub bus: Arc<dyn BusStore>,
    pub directory: Arc<dyn DirectoryStore>,
    pub types: Arc<dyn TypeStore>,
    pub notifications: Arc<dyn NotificationStore>,
    pub inbox: Arc<dyn InboxStore>,
    pub queue: Arc<dyn OutboxQueue>,
    pub consumer: Arc<dyn QueueConsumer>,
    pub mailer: Arc<dyn Mailer>,
    pub records: Arc<dyn RecordStore>,
    pub subscriptions: Arc<dyn SubscriptionStore>,
    pub templates: Arc<dyn TemplateStore>,
}

impl Adapters {
    /// The DynamoDB stores on the configured tables, with `outbox`.
    fn dynamodb(config: &Config, dynamodb: &SdkClient<aws_sdk_dynamodb::Client>, bus: &DynamoBusStore, outbox: OutboxPorts) -> Self {
        let table = || config.data_table.clone();
        Self {
            bus: Arc::new(bus.clone()),
            directory: Arc::new(DynamoDirectoryStore::new(dynamodb.clone(), table())),
            types: Arc::new(DynamoTypeStore::new(dynamodb.clone(), table())),
            notifications: Arc::new(DynamoNotificationStore::new(dynamodb.clone(), table())),
            inbox: Arc::new(DynamoInboxStore::new(dynamodb.clone(), table())),
            queue: outbox.queue,
            consumer: outbox.consumer,
            mailer: outbox.mailer,
            records: Arc::new(DynamoRecordStore::new(dynamodb.clone(), table())),
            subscriptions: Arc::new(DynamoSubscriptionStore::new(dynamodb.clone(), table())),
            templates: Arc::new(DynamoTemplateStore::new(dynamodb.clone(), table())),
        }
    }

    /// The embedded adapters on `queue`, with emails as `.eml` files in the
    /// configured mail folder.
    pub fn embedded(config: &Config, queue: Arc<EmbeddedQueue>) -> Self {
        Self {
            bus: Arc::new(EmbeddedBusStore::new()),
            directory: Arc::new(EmbeddedDirectoryStore::new()),
            types: Arc::new(EmbeddedTypeStore::new()),
            notifications: Arc::new(EmbeddedNotificationStore::new()),
            inbox: Arc::new(EmbeddedInboxStore::new()),
            queue: queue.clone(),
            consumer: queue,
            mailer: Arc::new(FileMailer::new(config.mail_dir.clone())),
            records: Arc::new(EmbeddedRecordStore::new()),
            subscriptions: Arc::new(EmbeddedSubscriptionStore::new()),
            templates: Arc::new(EmbeddedTemplateStore::new()),
        }
    }
}

/// The outbox's side of the wiring: where deliveries are queued, where the
/// local gateway pulls them from, and how email is sent.
pub struct OutboxPorts {
    pub queue: Arc<dyn OutboxQueue>,
    pub consumer: Arc<dyn QueueConsumer>,
    pub mailer: Arc<dyn Mailer>,
}

/// The bus and api functions neither queue deliveries nor send email.
pub fn no_outbox(_: &aws::SdkConfig, _: &Config) -> Result<OutboxPorts, StartError> {
    let queue = Arc::new(Unwired("the outbox queue"));
    Ok(OutboxPorts { queue: queue.clone(), consumer: queue, mailer: Arc::new(Unwired("the mailer")) })
}

/// The notify and check functions queue deliveries on SQS (the template
/// gives the queue's URL); they send no email.
pub fn queue_outbox(sdk: &aws::SdkConfig, config: &Config) -> Result<OutboxPorts, StartError> {
    let url = config.outbox_queue_url.clone().ok_or(ConfigError::Missing("HERALD_OUTBOX_QUEUE_URL"))?;
    let queue = Arc::new(SqsQueue::new(SdkClient::<aws_sdk_sqs::Client>::deferred(sdk), url));
    Ok(OutboxPorts { queue, consumer: Arc::new(Unwired("the outbox queue consumer")), mailer: Arc::new(Unwired("the mailer")) })
}

/// The outbox function sends email with SES v2; its messages come from its
/// SQS event source, so it neither queues nor pulls.
pub fn mail_outbox(sdk: &aws::SdkConfig, _: &Config) -> Result<OutboxPorts, StartError> {
    let mailer = Arc::new(SesMailer::new(SdkClient::<aws_sdk_sesv2::Client>::deferred(sdk)));
    let queue = Arc::new(Unwired("the outbox queue"));
    Ok(OutboxPorts { queue: queue.clone(), consumer: queue, mailer })
}

impl Services {
    /// In-process state, emails as `.eml` files: the local gateway's default
    /// and fast tests.
    pub fn embedded(config: &Config, clock: Arc<dyn Clock>) -> Result<Self, StartError> {
        let queue = Arc::new(EmbeddedQueue::new(config.outbox_max_attempts));
        Self::embedded_with_queue(config, clock, queue)
    }

    /// As `embedded`, with a queue the caller keeps (to wait on it, or to
    /// look at its dead letters).
    pub fn embedded_with_queue(config: &Config, clock: Arc<dyn Clock>, queue: Arc<EmbeddedQueue>) -> Result<Self, StartError> {
        Ok(Self::from_adapters(config, clock, Adapters::embedded(config, queue))?)
    }

    /// DynamoDB, SQS and SES v2 through the SDK configuration of the
    /// environment.
    pub async fn aws(config: &Config, clock: Arc<dyn Clock>) -> Result<AwsServices, StartError> {
        let sdk = aws::load_config().await;
        // Built on first use: a cold start that needs no AWS call makes none
        // of the clients (see adapters/aws/sdk_client.rs).
        let dynamodb = SdkClient::<aws_sdk_dynamodb::Client>::deferred(&sdk);
        let sqs = SdkClient::<aws_sdk_sqs::Client>::deferred(&sdk);
        let queue_url = match &config.outbox_queue_url {
            Some(url) => url.clone(),
            // Outside AWS (moto, the local gateway): create the queue, named
            // after the data table so two deployments never share one.
            None => {
                let name = format!("{}-outbox", config.data_table);
                aws::queue::ensure_outbox_queue(&sqs, &name, config.outbox_max_attempts).await?
            }
        };
        let queue = Arc::new(SqsQueue::new(sqs.clone(), queue_url.clone()));
        let mailer = Arc::new(SesMailer::new(SdkClient::<aws_sdk_sesv2::Client>::deferred(&sdk)));
        let bus_store = DynamoBusStore::new(dynamodb.clone(), config.bus_table.clone());
        let adapters = Adapters::dynamodb(config, &dynamodb, &bus_store, OutboxPorts { queue: queue.clone(), consumer: queue, mailer });
        let services = Self::from_adapters(config, clock, adapters)?;
        Ok(AwsServices {
            services,
            dynamodb,
            sqs,
            queue_url,
            bus_store,
            bus_table: config.bus_table.clone(),
            data_table: config.data_table.clone(),
        })
    }

    /// A Lambda function's services: the DynamoDB stores, and the outbox
    /// ports `outbox` makes. Each function names the ones it uses
    /// ([`no_outbox`], [`queue_outbox`], [`mail_outbox`]), so the SDKs of
    /// the others stay out of its binary.
    pub async fn lambda(config: &Config, clock: Arc<dyn Clock>, outbox: fn(&aws::SdkConfig, &Config) -> Result<OutboxPorts, StartError>) -> Result<Self, StartError> {
        let sdk = aws::load_config().await;
        let dynamodb = SdkClient::<aws_sdk_dynamodb::Client>::deferred(&sdk);
        let bus_store = DynamoBusStore::new(dynamodb.clone(), config.bus_table.clone());
        let adapters = Adapters::dynamodb(config, &dynamodb, &bus_store, outbox(&sdk, config)?);
        Ok(Self::from_adapters(config, clock, adapters)?)
    }

    /// The services over any adapters, configured by `config`.
    pub fn from_adapters(config: &Config, clock: Arc<dyn Clock>, adapters: Adapters) -> Result<Self, ConfigError> {
        let secret = config.require_jwt_secret()?;
        let bus = Arc::new(Bus::new(adapters.bus, clock.clone(), config.bus.clone()));
        let inbox = Inbox::new(adapters.inbox, clock.clone(), config.inbox_read_retention);
        let notifier = Notifier::new(
            adapters.notifications.clone(),
            adapters.directory.clone(),
            adapters.types.clone(),
            adapters.queue,
            clock.clone(),
            NotifierSettings::default(),
        );
        let outbox = Outbox::new(
            adapters.notifications,
            inbox.clone(),
            bus.clone(),
            adapters.mailer,
            clock.clone(),
            OutboxSettings {
                sender: config.email_from.clone(),
                max_attempts: config.outbox_max_attempts,
                lease: Duration::from_secs(60),
                retention: Duration::from_secs(30 * 86_400),
            },
        );
        Ok(Self {
            auth: Arc::new(Authenticator::hs256(secret.expose())),
            bus,
            directory: adapters.directory.clone(),
            types: adapters.types,
            notifier: notifier.clone(),
            inbox,
            outbox,
            outbox_consumer: adapters.consumer,
            records: Records::new(adapters.records.clone(), clock.clone()),
            subscriptions: Subscriptions::new(adapters.subscriptions.clone(), adapters.records.clone(), clock.clone()),
            checker: Checker::new(
                adapters.subscriptions,
                adapters.records,
                adapters.directory.clone(),
                adapters.templates,
                notifier.clone(),
                clock.clone(),
                CheckerSettings { system_name: config.system_name.clone(), email_format: config.email_format, ..CheckerSettings::default() },
            ),
            clock,
        })
    }
}

/// The services on AWS, with the handles benchmarks, tests and the local
/// gateway use.
pub struct AwsServices {
    pub services: Services,
    pub dynamodb: SdkClient<aws_sdk_dynamodb::Client>,
    pub sqs: SdkClient<aws_sdk_sqs::Client>,
    pub queue_url: String,
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
