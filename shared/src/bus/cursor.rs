//! The `message_id` Herald hands out: an opaque cursor holding the client's
//! position on each channel it listens to, plus the publish time of the last
//! message it got (used only for channels the cursor does not know yet).
//!
//! Clients echo it back as `last_message`; anything that does not decode is
//! treated like `null` (start from the oldest retained message), as trytond
//! does for an unknown id.
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use std::hash::Hasher;

use super::channel::ChannelKey;
use super::store::Seq;
use crate::domain::Timestamp;

const VERSION: u8 = 1;
/// Longest `last_message` accepted; a cursor for 32 channels is ~700 bytes.
pub const MAX_CURSOR_LEN: usize = 2048;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Cursor {
    /// Publish time of the last delivered message.
    pub last_published: Timestamp,
    positions: Vec<(u64, Seq)>,
}

fn channel_hash(key: &ChannelKey) -> u64 {
    let mut hasher = fnv::FnvHasher::default();
    hasher.write(key.as_str().as_bytes());
    hasher.finish()
}

impl Cursor {
    pub fn new(last_published: Timestamp) -> Self {
        Self { last_published, positions: Vec::new() }
    }

    /// The last sequence number delivered on `key`, if the cursor knows it.
    pub fn position(&self, key: &ChannelKey) -> Option<Seq> {
        let h = channel_hash(key);
        self.positions.iter().find(|(k, _)| *k == h).map(|(_, s)| *s)
    }

    pub fn set_position(&mut self, key: &ChannelKey, seq: Seq) {
        let h = channel_hash(key);
        match self.positions.iter_mut().find(|(k, _)| *k == h) {
            Some(entry) => entry.1 = seq,
            None => self.positions.push((h, seq)),
        }
    }

    pub fn encode(&self) -> String {
        let mut bytes = Vec::with_capacity(9 + self.positions.len() * 16);
        bytes.push(VERSION);
        bytes.extend_from_slice(&self.last_published.as_millis().to_be_bytes());
        for (h, s) in &self.positions {
            bytes.extend_from_slice(&h.to_be_bytes());
            bytes.extend_from_slice(&s.to_be_bytes());
        }
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// `None` for anything that is not a cursor this version wrote.
    pub fn decode(text: &str) -> Option<Self> {
        if text.len() > MAX_CURSOR_LEN {
            return None;
        }
        let bytes = URL_SAFE_NO_PAD.decode(text).ok()?;
        let (&version, rest) = bytes.split_first()?;
        if version != VERSION || rest.len() < 8 || (rest.len() - 8) % 16 != 0 {
            return None;
        }
        let (ts, rest) = rest.split_at(8);
        let last_published = Timestamp::from_millis(i64::from_be_bytes(ts.try_into().ok()?));
        let positions = rest
            .chunks_exact(16)
            .map(|c| {
                let (h, s) = c.split_at(8);
                Some((u64::from_be_bytes(h.try_into().ok()?), u64::from_be_bytes(s.try_into().ok()?)))
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Self { last_published, positions })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::UserId;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn round_trips(ts in any::<i64>(), seqs in proptest::collection::vec(any::<u64>(), 0..32)) {
            let mut cursor = Cursor::new(Timestamp::from_millis(ts));
            for (i, s) in seqs.iter().enumerate() {
                cursor.set_position(&ChannelKey::user(&UserId::parse(i.to_string()).unwrap()), *s);
            }
            let text = cursor.encode();
            prop_assert!(text.len() <= MAX_CURSOR_LEN);
            prop_assert_eq!(Cursor::decode(&text), Some(cursor));
        }

        #[test]
        fn never_panics_on_garbage(text in ".{0,300}") {
            let _ = Cursor::decode(&text);
        }
    }

    #[test]
    fn foreign_ids_are_unknown() {
        assert_eq!(Cursor::decode("7d1f0a4e-1b2c-4d5e-8f90-123456789abc"), None);
        assert_eq!(Cursor::decode(""), None);
    }
}
