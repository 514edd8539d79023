use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Counts the requests an adapter sends to AWS, so benchmarks can report
/// requests (and so cost) per operation.
#[derive(Debug, Clone, Default)]
pub struct RequestCount(Arc<AtomicU64>);

impl RequestCount {
    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}
