//! The composition root: the one place that knows the adapters. One builder,
//! [`Wiring`], takes the configuration, the backend (where state lives) and
//! the role (what the process does) and makes the [`Services`]; the five
//! Lambda functions, `herald-local`, the tests and the benchmarks all build
//! theirs with it.
//!
//! Backends and roles are types, not values: a Lambda binary names its own
//! (`Wiring::new(config, Aws, ApiFunction)`), so it links only the adapters
//! and SDKs they use (docs/decisions.md, "Cold start and size").
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use crate::adapters::aws::{
    self, tables, DynamoBusStore, DynamoClient, DynamoDirectoryStore, DynamoInboxStore, DynamoNotificationStore, DynamoRecordStore,
    DynamoSessionStore, DynamoSubscriptionStore, DynamoTemplateStore, DynamoTypeStore, RequestCount, SdkClient, SdkConfig, SesMailer, SqsQueue, Table,
};
use crate::adapters::embedded::{
    Database, Durability, EmbeddedBusStore, EmbeddedDirectoryStore, EmbeddedInboxStore, EmbeddedNotificationStore, EmbeddedPublication, EmbeddedQueue,
    EmbeddedRecordStore, EmbeddedSessionStore, EmbeddedSubscriptionStore, EmbeddedTemplateStore, EmbeddedTypeStore, FileMailer, Location, OpenError,
};
use crate::adapters::unwired::Unwired;
use crate::auth::Authenticator;
use crate::bus::{Bus, BusStore};
use crate::config::{Config, ConfigError};
use crate::directory::{Directory, DirectoryStore};
use crate::domain::{Clock, StoreError, StoreHealth, SystemClock};
use crate::inbox::{Inbox, InboxStore};
use crate::notifications::{NotificationStore, Notifier, NotifierSettings, OutboxQueue, Publication, TypeStore, Types};
use crate::outbox::{BusInboxWatch, Mailer, Outbox, OutboxSettings, QueueConsumer, DELIVERY_LEASE};
use crate::records::{RecordStore, Records};
use crate::services::Services;
use crate::sessions::{SessionStore, Sessions};
use crate::subscriptions::{Checker, CheckerSettings, SubscriptionStore, Subscriptions, TemplateStore, Templates};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Open(#[from] OpenError),
}

/// Every port the services need, whichever adapters implement them. Tests
/// and benchmarks may replace some between [`Wiring::adapters`] and
/// [`Wiring::services`].
pub struct Adapters {
    pub bus: Arc<dyn BusStore>,
    pub directory: Arc<dyn DirectoryStore>,
    pub types: Arc<dyn TypeStore>,
    pub notifications: Arc<dyn NotificationStore>,
    pub inbox: Arc<dyn InboxStore>,
    pub queue: Arc<dyn OutboxQueue>,
    /// A new notification's publication in one write, where the store and
    /// the queue share transactions (the embedded store). It writes the
    /// database itself, past `notifications` and `queue`: a test that
    /// replaces either to watch or fail the publications sets it to `None`.
    pub publication: Option<Arc<dyn Publication>>,
    pub consumer: Arc<dyn QueueConsumer>,
    pub mailer: Arc<dyn Mailer>,
    pub records: Arc<dyn RecordStore>,
    pub subscriptions: Arc<dyn SubscriptionStore>,
    pub templates: Arc<dyn TemplateStore>,
    pub sessions: Arc<dyn SessionStore>,
    /// Whether the store answers (`GET /health`).
    pub health: Arc<dyn StoreHealth>,
    /// Requests the DynamoDB stores sent, all together (benchmarks count
    /// the cost of an operation with it); zero on the embedded backend.
    pub dynamodb_requests: RequestCount,
}

/// The outbox's side of the wiring: where deliveries are queued, where
/// `herald-local` pulls them from, and how email is sent. What a role does
/// not use is [`Unwired`].
pub struct OutboxPorts {
    pub queue: Arc<dyn OutboxQueue>,
    /// Set where the queue shares the store's transactions.
    pub publication: Option<Arc<dyn Publication>>,
    pub consumer: Arc<dyn QueueConsumer>,
    pub mailer: Arc<dyn Mailer>,
}

impl OutboxPorts {
    /// Neither queues, pulls nor mails.
    pub fn unwired() -> Self {
        let queue = Arc::new(Unwired("the outbox queue"));
        Self { queue: queue.clone(), publication: None, consumer: queue, mailer: Arc::new(Unwired("the mailer")) }
    }

    fn queueing(queue: Arc<dyn OutboxQueue>) -> Self {
        Self { queue, consumer: Arc::new(Unwired("the outbox queue consumer")), ..Self::unwired() }
    }

    /// Queues into the embedded database's own queue (and pulls from it
    /// if `pulls`), publishing new notifications in one transaction with it.
    fn embedded_queueing(embedded: &EmbeddedSetup, pulls: bool) -> Self {
        let queue = Arc::new(EmbeddedQueue::new(embedded.db.clone(), embedded.clock.clone(), embedded.config.outbox_max_attempts));
        let publication: Arc<dyn Publication> = Arc::new(EmbeddedPublication::new(embedded.db.clone(), queue.clone()));
        let ports = Self { publication: Some(publication), ..Self::queueing(queue.clone()) };
        if pulls {
            Self { consumer: queue, ..ports }
        } else {
            ports
        }
    }

    fn mailing(mailer: Arc<dyn Mailer>) -> Self {
        Self { mailer, ..Self::unwired() }
    }
}

/// What a role sets up on AWS from: the environment's SDK configuration,
/// Herald's, and the DynamoDB client every store shares.
pub struct AwsSetup {
    pub sdk: SdkConfig,
    pub config: Config,
    pub dynamodb: SdkClient<DynamoClient>,
}

/// Where the state lives: [`Embedded`] or [`Aws`].
pub trait Backend: Send + Sync {
    /// The ports on this backend, with the outbox ports `role` wires.
    fn adapters<R: Role>(&self, config: &Config, role: &R, clock: &Arc<dyn Clock>) -> impl Future<Output = Result<Adapters, StartError>> + Send;
}

/// What the process does, which decides the outbox ports it wires.
pub trait Role: Send + Sync {
    /// The outbox ports on the embedded backend.
    fn embedded_outbox(&self, embedded: &EmbeddedSetup) -> OutboxPorts;
    /// The outbox ports on AWS (SDK clients are built on first use).
    fn aws_outbox(&self, aws: &AwsSetup) -> impl Future<Output = Result<OutboxPorts, StartError>> + Send;
}

/// In-process state in the embedded database (a data directory, or
/// memory), emails as `.eml` files in the configured mail folder.
#[derive(Clone)]
pub struct Embedded {
    db: Arc<Database>,
}

impl Embedded {
    /// A fresh database in memory, gone with the process (tests,
    /// `herald-local --memory`).
    pub fn memory() -> Self {
        Self { db: Database::in_memory() }
    }

    /// The database at `location`, opened (created, migrated) and, in a
    /// directory, locked for this process.
    pub fn open(location: &Location, durability: Durability) -> Result<Self, OpenError> {
        Ok(Self { db: Database::open(location, durability)? })
    }

    /// The database, for the local gateway's sweeper and backups.
    pub fn database(&self) -> &Arc<Database> {
        &self.db
    }
}

/// What a role sets up on the embedded backend from.
pub struct EmbeddedSetup<'a> {
    pub config: &'a Config,
    pub db: &'a Arc<Database>,
    pub clock: &'a Arc<dyn Clock>,
}

/// DynamoDB, SQS and SES v2 through the SDK configuration of the
/// environment (`AWS_ENDPOINT_URL` for moto).
#[derive(Debug, Clone, Copy)]
pub struct Aws;

impl Backend for Embedded {
    async fn adapters<R: Role>(&self, config: &Config, role: &R, clock: &Arc<dyn Clock>) -> Result<Adapters, StartError> {
        let db = &self.db;
        let outbox = role.embedded_outbox(&EmbeddedSetup { config, db, clock });
        Ok(Adapters {
            bus: Arc::new(EmbeddedBusStore::new(db.clone())),
            directory: Arc::new(EmbeddedDirectoryStore::new(db.clone())),
            types: Arc::new(EmbeddedTypeStore::new(db.clone())),
            notifications: Arc::new(EmbeddedNotificationStore::new(db.clone())),
            inbox: Arc::new(EmbeddedInboxStore::new(db.clone())),
            queue: outbox.queue,
            publication: outbox.publication,
            consumer: outbox.consumer,
            mailer: outbox.mailer,
            records: Arc::new(EmbeddedRecordStore::new(db.clone())),
            subscriptions: Arc::new(EmbeddedSubscriptionStore::new(db.clone())),
            templates: Arc::new(EmbeddedTemplateStore::new(db.clone())),
            sessions: Arc::new(EmbeddedSessionStore::new(db.clone())),
            health: db.clone(),
            dynamodb_requests: RequestCount::default(),
        })
    }
}

impl Backend for Aws {
    async fn adapters<R: Role>(&self, config: &Config, role: &R, _clock: &Arc<dyn Clock>) -> Result<Adapters, StartError> {
        let sdk = aws::load_config().await;
        // Built on first use: a cold start that needs no AWS call makes none
        // of the clients (see adapters/aws/sdk_client.rs).
        let setup = AwsSetup { dynamodb: SdkClient::deferred(&sdk), sdk, config: config.clone() };
        let outbox = role.aws_outbox(&setup).await?;
        let requests = RequestCount::default();
        let bus = Table::new(setup.dynamodb.clone(), config.bus_table.clone()).counting(&requests);
        let data = Table::new(setup.dynamodb.clone(), config.data_table.clone()).counting(&requests);
        Ok(Adapters {
            bus: Arc::new(DynamoBusStore::new(bus)),
            directory: Arc::new(DynamoDirectoryStore::new(data.clone())),
            types: Arc::new(DynamoTypeStore::new(data.clone())),
            notifications: Arc::new(DynamoNotificationStore::new(data.clone())),
            inbox: Arc::new(DynamoInboxStore::new(data.clone())),
            queue: outbox.queue,
            publication: outbox.publication,
            consumer: outbox.consumer,
            mailer: outbox.mailer,
            records: Arc::new(DynamoRecordStore::new(data.clone())),
            subscriptions: Arc::new(DynamoSubscriptionStore::new(data.clone())),
            templates: Arc::new(DynamoTemplateStore::new(data.clone())),
            sessions: Arc::new(DynamoSessionStore::new(data.clone())),
            health: Arc::new(data),
            dynamodb_requests: requests,
        })
    }
}

/// `herald-local` and the tests: every route, every scheduled job, and the
/// outbox drained in-process. On AWS it creates missing tables and, unless
/// `HERALD_OUTBOX_QUEUE_URL` names one, the `{data table}-outbox` queue with
/// its dead-letter queue (in AWS, template.yaml creates them).
#[derive(Debug, Clone, Copy)]
pub struct LocalGateway;

/// The `bus` function: long polls. It neither queues deliveries nor mails.
#[derive(Debug, Clone, Copy)]
pub struct BusFunction;

/// The `api` function: directory, types, inbox, records, subscriptions,
/// templates. It neither queues deliveries nor mails.
#[derive(Debug, Clone, Copy)]
pub struct ApiFunction;

/// The `notify` function: every way of sending. It queues deliveries on SQS
/// (`HERALD_OUTBOX_QUEUE_URL`, which the template sets) and sends no email.
#[derive(Debug, Clone, Copy)]
pub struct NotifyFunction;

/// The `check` function: the scheduled jobs. It queues the deliveries of
/// what it publishes, as `notify` does, and sends no email.
#[derive(Debug, Clone, Copy)]
pub struct CheckFunction;

/// The `outbox` function: delivers. It mails with SES v2; its messages come
/// from its SQS event source, so it neither queues nor pulls.
#[derive(Debug, Clone, Copy)]
pub struct OutboxFunction;

fn file_mailer(config: &Config) -> Arc<dyn Mailer> {
    Arc::new(FileMailer::new(config.mail_dir.clone()))
}

fn ses_mailer(aws: &AwsSetup) -> Arc<dyn Mailer> {
    Arc::new(SesMailer::new(SdkClient::<aws_sdk_sesv2::Client>::deferred(&aws.sdk)))
}

/// The configured outbox queue; a function cannot start without one.
fn configured_queue(aws: &AwsSetup) -> Result<Arc<dyn OutboxQueue>, StartError> {
    let url = aws.config.outbox_queue_url.clone().ok_or(ConfigError::Missing("HERALD_OUTBOX_QUEUE_URL"))?;
    Ok(Arc::new(SqsQueue::new(SdkClient::<aws_sdk_sqs::Client>::deferred(&aws.sdk), url)))
}

impl Role for LocalGateway {
    fn embedded_outbox(&self, embedded: &EmbeddedSetup) -> OutboxPorts {
        OutboxPorts { mailer: file_mailer(embedded.config), ..OutboxPorts::embedded_queueing(embedded, true) }
    }

    async fn aws_outbox(&self, aws: &AwsSetup) -> Result<OutboxPorts, StartError> {
        let config = &aws.config;
        tables::ensure_bus_table(&aws.dynamodb, &config.bus_table).await?;
        tables::ensure_data_table(&aws.dynamodb, &config.data_table).await?;
        let sqs = SdkClient::<aws_sdk_sqs::Client>::deferred(&aws.sdk);
        let url = match &config.outbox_queue_url {
            Some(url) => url.clone(),
            // Named after the data table, so two deployments never share one.
            None => aws::queue::ensure_outbox_queue(&sqs, &format!("{}-outbox", config.data_table), config.outbox_max_attempts).await?,
        };
        let queue = Arc::new(SqsQueue::new(sqs, url));
        Ok(OutboxPorts { queue: queue.clone(), publication: None, consumer: queue, mailer: ses_mailer(aws) })
    }
}

impl Role for BusFunction {
    fn embedded_outbox(&self, _: &EmbeddedSetup) -> OutboxPorts {
        OutboxPorts::unwired()
    }

    async fn aws_outbox(&self, _: &AwsSetup) -> Result<OutboxPorts, StartError> {
        Ok(OutboxPorts::unwired())
    }
}

impl Role for ApiFunction {
    fn embedded_outbox(&self, embedded: &EmbeddedSetup) -> OutboxPorts {
        BusFunction.embedded_outbox(embedded)
    }

    async fn aws_outbox(&self, aws: &AwsSetup) -> Result<OutboxPorts, StartError> {
        BusFunction.aws_outbox(aws).await
    }
}

impl Role for NotifyFunction {
    fn embedded_outbox(&self, embedded: &EmbeddedSetup) -> OutboxPorts {
        OutboxPorts::embedded_queueing(embedded, false)
    }

    async fn aws_outbox(&self, aws: &AwsSetup) -> Result<OutboxPorts, StartError> {
        Ok(OutboxPorts::queueing(configured_queue(aws)?))
    }
}

impl Role for CheckFunction {
    fn embedded_outbox(&self, embedded: &EmbeddedSetup) -> OutboxPorts {
        NotifyFunction.embedded_outbox(embedded)
    }

    async fn aws_outbox(&self, aws: &AwsSetup) -> Result<OutboxPorts, StartError> {
        NotifyFunction.aws_outbox(aws).await
    }
}

impl Role for OutboxFunction {
    fn embedded_outbox(&self, embedded: &EmbeddedSetup) -> OutboxPorts {
        OutboxPorts::mailing(file_mailer(embedded.config))
    }

    /// SES, and the queue only to delay a failed send's retry
    /// (`ChangeMessageVisibility`); the event source receives for it.
    async fn aws_outbox(&self, aws: &AwsSetup) -> Result<OutboxPorts, StartError> {
        let url = aws.config.outbox_queue_url.clone().ok_or(ConfigError::Missing("HERALD_OUTBOX_QUEUE_URL"))?;
        let consumer = Arc::new(SqsQueue::new(SdkClient::<aws_sdk_sqs::Client>::deferred(&aws.sdk), url));
        Ok(OutboxPorts { consumer, ..OutboxPorts::mailing(ses_mailer(aws)) })
    }
}

/// The one builder of [`Services`].
pub struct Wiring<B, R> {
    config: Config,
    clock: Arc<dyn Clock>,
    backend: B,
    role: R,
}

impl<B: Backend, R: Role> Wiring<B, R> {
    /// On the wall clock.
    pub fn new(config: Config, backend: B, role: R) -> Self {
        Self { config, clock: Arc::new(SystemClock), backend, role }
    }

    /// Another clock (`herald-local` and the tests move theirs).
    pub fn with_clock(self, clock: Arc<dyn Clock>) -> Self {
        Self { clock, ..self }
    }

    /// The ports, to use as they are ([`Wiring::build`]) or to replace some
    /// of first ([`Wiring::services`]).
    pub async fn adapters(&self) -> Result<Adapters, StartError> {
        self.backend.adapters(&self.config, &self.role, &self.clock).await
    }

    /// The services over `adapters`.
    pub fn services(&self, adapters: Adapters) -> Result<Services, StartError> {
        let (config, clock) = (&self.config, &self.clock);
        let secret = config.require_jwt_secret()?;
        let bus = Arc::new(Bus::new(adapters.bus, clock.clone(), config.bus.clone()));
        let inbox = Inbox::new(adapters.inbox, clock.clone(), config.inbox_read_retention).watched_by(Arc::new(BusInboxWatch::new(bus.clone())));
        let types = Types::new(adapters.types, config.max_types_per_tenant);
        let notifier = Notifier::new(
            adapters.notifications.clone(),
            adapters.directory.clone(),
            types.clone(),
            adapters.queue,
            adapters.publication,
            clock.clone(),
            NotifierSettings::default(),
        );
        let outbox_settings = OutboxSettings {
            sender: config.email_from.clone(),
            max_attempts: config.outbox_max_attempts,
            lease: DELIVERY_LEASE,
            retention: Duration::from_secs(30 * 86_400),
            retry_base: config.outbox_retry_base,
        };
        let checker_settings = CheckerSettings { system_name: config.system_name.clone(), email_format: config.email_format, ..CheckerSettings::default() };
        Ok(Services {
            auth: Arc::new(Authenticator::hs256(secret.expose(), config.tokens.clone())),
            outbox: Outbox::new(adapters.notifications, inbox.clone(), bus.clone(), adapters.mailer, clock.clone(), outbox_settings),
            bus,
            directory: Directory::new(adapters.directory.clone(), config.directory_quota),
            types,
            inbox,
            outbox_consumer: adapters.consumer,
            records: Records::new(adapters.records.clone(), clock.clone(), config.max_resources_per_tenant),
            subscriptions: Subscriptions::new(adapters.subscriptions.clone(), adapters.records.clone(), clock.clone(), config.subscription_quota),
            templates: Templates::new(adapters.templates.clone(), config.max_templates_per_tenant),
            checker: Checker::new(adapters.subscriptions, adapters.records, adapters.directory, adapters.templates, notifier.clone(), clock.clone(), checker_settings),
            notifier,
            sessions: Sessions::new(adapters.sessions, clock.clone(), config.tryton_sessions.clone()),
            health: adapters.health,
            clock: clock.clone(),
        })
    }

    /// The services of this backend and role.
    pub async fn build(&self) -> Result<Services, StartError> {
        self.services(self.adapters().await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(queue_url: Option<&str>) -> Config {
        let queue_url = queue_url.map(str::to_owned);
        Config::from_lookup(move |name| match name {
            "HERALD_JWT_SECRET" => Some("unwired-test-secret-0123456789".into()),
            "HERALD_OUTBOX_QUEUE_URL" => queue_url.clone(),
            _ => None,
        })
        .unwrap()
    }

    fn setup(config: Config) -> AwsSetup {
        let sdk = SdkConfig::builder().build();
        AwsSetup { dynamodb: SdkClient::deferred(&sdk), sdk, config }
    }

    #[tokio::test]
    async fn an_unwired_port_reports_an_unavailable_store() {
        let ports = ApiFunction.aws_outbox(&setup(config(None))).await.unwrap();
        let error = ports.queue.enqueue(&[]).await.unwrap_err();
        assert!(matches!(&error, StoreError::Unavailable(m) if m.contains("not wired")), "{error}");
        assert!(ports.consumer.receive(1).await.is_err());
    }

    #[tokio::test]
    async fn a_queueing_function_needs_the_queue_url() {
        assert!(matches!(NotifyFunction.aws_outbox(&setup(config(None))).await, Err(StartError::Config(ConfigError::Missing("HERALD_OUTBOX_QUEUE_URL")))));
        assert!(NotifyFunction.aws_outbox(&setup(config(Some("https://sqs.us-east-1.amazonaws.com/1/q")))).await.is_ok());
    }
}
