use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tokio::sync::Notify;

use crate::domain::StoreError;
use crate::notifications::{DeliveryKey, OutboxQueue};
use crate::outbox::{QueueConsumer, Received};

struct Message {
    id: u64,
    body: String,
    receives: u32,
}

#[derive(Default)]
struct State {
    next_id: u64,
    ready: VecDeque<Message>,
    /// Released with a delay: visible again at that instant.
    delayed: Vec<(Instant, Message)>,
    in_flight: HashMap<String, Message>,
    dead: Vec<String>,
}

/// An in-process queue with SQS's contract: a received message is hidden
/// until deleted or released, and after `max_receives` receives it moves to
/// the dead-letter list instead.
pub struct EmbeddedQueue {
    state: Mutex<State>,
    max_receives: u32,
    arrived: Notify,
}

impl EmbeddedQueue {
    pub fn new(max_receives: u32) -> Self {
        Self { state: Mutex::new(State::default()), max_receives: max_receives.max(1), arrived: Notify::new() }
    }

    fn lock(&self) -> Result<MutexGuard<'_, State>, StoreError> {
        self.state.lock().map_err(|_| StoreError::Unavailable("queue lock poisoned".into()))
    }

    /// Bodies of the messages moved to the dead-letter list.
    pub fn dead_letters(&self) -> Vec<String> {
        self.state.lock().map(|s| s.dead.clone()).unwrap_or_default()
    }

    /// Messages waiting (not in flight, delayed ones included).
    pub fn ready_len(&self) -> usize {
        self.state.lock().map(|s| s.ready.len() + s.delayed.len()).unwrap_or(0)
    }

    /// Resolves when something is enqueued (for the local gateway's drainer).
    pub async fn arrived(&self) {
        self.arrived.notified().await;
    }
}

#[async_trait]
impl OutboxQueue for EmbeddedQueue {
    async fn enqueue(&self, keys: &[DeliveryKey]) -> Result<(), StoreError> {
        {
            let mut state = self.lock()?;
            for key in keys {
                let body = serde_json::to_string(key).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                state.next_id += 1;
                let id = state.next_id;
                state.ready.push_back(Message { id, body, receives: 0 });
            }
        }
        self.arrived.notify_one();
        Ok(())
    }
}

#[async_trait]
impl QueueConsumer for EmbeddedQueue {
    async fn receive(&self, max: usize) -> Result<Vec<Received>, StoreError> {
        let mut state = self.lock()?;
        let now = Instant::now();
        let (due, later): (Vec<_>, Vec<_>) = std::mem::take(&mut state.delayed).into_iter().partition(|(at, _)| *at <= now);
        state.delayed = later;
        state.ready.extend(due.into_iter().map(|(_, message)| message));
        let mut out = Vec::new();
        while out.len() < max {
            let Some(mut message) = state.ready.pop_front() else { break };
            if message.receives >= self.max_receives {
                state.dead.push(message.body);
                continue;
            }
            message.receives += 1;
            let handle = format!("{}-{}", message.id, message.receives);
            out.push(Received { handle: handle.clone(), body: message.body.clone() });
            state.in_flight.insert(handle, message);
        }
        Ok(out)
    }

    async fn delete(&self, handle: &str) -> Result<(), StoreError> {
        self.lock()?.in_flight.remove(handle);
        Ok(())
    }

    async fn release(&self, handle: &str, after: Duration) -> Result<(), StoreError> {
        let mut state = self.lock()?;
        if let Some(message) = state.in_flight.remove(handle) {
            if after.is_zero() {
                state.ready.push_back(message);
            } else {
                state.delayed.push((Instant::now() + after, message));
            }
        }
        Ok(())
    }
}
