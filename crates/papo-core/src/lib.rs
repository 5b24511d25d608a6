//! Papo's domain core: everything that needs no I/O.
//!
//! Typed ids ([`id`]), validated values built once at the edge ([`validate`]), user settings
//! ([`settings`]), the presence a user chooses ([`presence`]) and the stable error codes
//! shared by REST and the gateway ([`error`]).
//! No tokio, no sqlx: everything here is tested with plain unit tests.
#![deny(missing_docs)]

pub mod change;
pub mod error;
pub mod id;
pub mod markup;
pub mod permissions;
pub mod presence;
pub mod settings;
pub mod validate;

mod common_passwords;
