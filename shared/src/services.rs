//! The services of one process: what the HTTP routers and the event
//! handlers use. Built by `wiring`, from ports only: nothing here knows an
//! adapter.
use std::sync::Arc;

use crate::auth::Authenticator;
use crate::bus::Bus;
use crate::directory::Directory;
use crate::domain::{Clock, StoreHealth};
use crate::inbox::Inbox;
use crate::notifications::{Notifier, Types};
use crate::outbox::{Outbox, QueueConsumer};
use crate::records::Records;
use crate::sessions::Sessions;
use crate::subscriptions::{Checker, Subscriptions, Templates};

/// Everything a handler may use. Cheap to clone.
#[derive(Clone)]
pub struct Services {
    pub auth: Arc<Authenticator>,
    pub bus: Arc<Bus>,
    pub directory: Directory,
    pub types: Types,
    pub notifier: Notifier,
    pub inbox: Inbox,
    pub outbox: Outbox,
    /// Where `herald-local` pulls outbox messages from (Lambda gets them
    /// from its SQS event source instead): `events::drain_outbox` only.
    pub(crate) outbox_consumer: Arc<dyn QueueConsumer>,
    pub records: Records,
    pub subscriptions: Subscriptions,
    pub templates: Templates,
    /// The subscription check (digests).
    pub checker: Checker,
    /// trytond's sessions, mirrored: Tryton clients' credentials.
    pub sessions: Sessions,
    pub clock: Arc<dyn Clock>,
    /// Whether the store answers (`GET /health`).
    pub health: Arc<dyn StoreHealth>,
}
