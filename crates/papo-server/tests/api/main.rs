//! HTTP integration tests: every route and every named error, on SQLite and PostgreSQL.
//! One binary for all of them, so the crate graph is linked once.

mod helpers;

mod invites;
mod messages;
mod moderation;

mod accounts;
mod audit;
mod caps;
mod categories;
mod cluster;
mod denials;
mod edge;
mod flood;
mod gateway;
mod gateway_sends;
mod gateway_upgrade;
mod presence;
mod process;
mod proxy;
mod servers;
mod sessions;
mod timeouts;
mod users;
mod ws;
