//! trytond's sessions, mirrored: a Tryton site's module tells Herald of each
//! session its users open and close (a hash of the key, never the key), so
//! the unchanged Tryton clients poll Herald's bus with the session trytond
//! gave them (`Authorization: Session base64(login:uid:key)`), and Herald
//! checks it without calling trytond (docs/tryton.md).
pub mod model;
pub mod service;
pub mod store;

pub use model::{KeyHash, MirroredSession, MAX_SESSION_AGE};
pub use service::{MirrorRequest, Refusal, RemoveRequest, SessionError, SessionGrant, Sessions, SessionSettings, MAX_SESSIONS_PER_REQUEST, PRUNE_PAGE};
pub use store::SessionStore;
