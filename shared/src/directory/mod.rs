//! The directory: users, their groups, companies and contacts; who a
//! notification reaches is resolved from here.
pub mod model;
pub mod service;
pub mod store;

pub use model::{Company, Contact, ContactMethod, User};
pub use service::{CompanyRequest, Directory, DirectoryError, DirectoryQuota, UserRequest};
pub use store::DirectoryStore;
