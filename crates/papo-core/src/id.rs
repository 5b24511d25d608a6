//! Time-ordered 64-bit ids (snowflakes) and the typed ids built on them.
//!
//! Layout, most significant first: 41 bits of milliseconds since [`EPOCH_MS`], 10 bits of node
//! id, 12 bits of per-millisecond sequence. Ids sort by creation time, fit in a signed 64-bit
//! database column, and are serialized as decimal **strings** because JavaScript numbers lose
//! precision past 2^53.

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};

/// 2026-01-01T00:00:00Z in Unix milliseconds: the zero of every Papo id.
pub const EPOCH_MS: u64 = 1_767_225_600_000;
const NODE_BITS: u32 = 10;
const SEQ_BITS: u32 = 12;
/// The largest node id a generator accepts.
pub const MAX_NODE: u16 = (1 << NODE_BITS) - 1;
const SEQ_MASK: u64 = (1 << SEQ_BITS) - 1;

/// A raw time-ordered id. Use the typed wrappers ([`UserId`], …) in APIs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Snowflake(u64);

impl Snowflake {
    /// Wraps a raw value (as read back from storage).
    pub const fn from_raw(raw: u64) -> Self {
        Self(raw)
    }

    /// The raw value.
    pub const fn get(self) -> u64 {
        self.0
    }

    /// The value as stored in a signed 64-bit column. Ids never use the sign bit.
    pub const fn as_i64(self) -> i64 {
        self.0 as i64
    }

    /// Unix milliseconds at which the id was made.
    pub const fn unix_ms(self) -> u64 {
        (self.0 >> (NODE_BITS + SEQ_BITS)) + EPOCH_MS
    }

    /// The smallest id made at `unix_ms`: every id made then or later is at least this
    /// (times before [`EPOCH_MS`] give the smallest id).
    pub const fn first_at(unix_ms: u64) -> Self {
        Self(unix_ms.saturating_sub(EPOCH_MS) << (NODE_BITS + SEQ_BITS))
    }
}

/// Why a string is not an id.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("not a valid id")]
pub struct InvalidId;

impl FromStr for Snowflake {
    type Err = InvalidId;
    fn from_str(s: &str) -> Result<Self, InvalidId> {
        if s.is_empty() || s.len() > 20 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(InvalidId);
        }
        let v: u64 = s.parse().map_err(|_| InvalidId)?;
        if v > i64::MAX as u64 {
            return Err(InvalidId);
        }
        Ok(Self(v))
    }
}

impl fmt::Display for Snowflake {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Makes unique, time-ordered ids for one node without locks.
///
/// The state packs `(milliseconds since epoch << 12) | sequence` in one atomic so that two
/// threads can never hand out the same id; when 4096 ids were made in one millisecond the
/// generator borrows from the next millisecond rather than waiting (the clock catches up).
#[derive(Debug)]
pub struct IdGenerator {
    node: u64,
    last: AtomicU64,
}

impl IdGenerator {
    /// A generator for `node` (0..=[`MAX_NODE`]; larger values are masked).
    pub fn new(node: u16) -> Self {
        Self {
            node: u64::from(node & MAX_NODE),
            last: AtomicU64::new(0),
        }
    }

    /// The next id, given the current Unix time in milliseconds.
    pub fn next(&self, now_unix_ms: u64) -> Snowflake {
        let now = now_unix_ms.saturating_sub(EPOCH_MS) << SEQ_BITS;
        let mut prev = self.last.load(Ordering::Relaxed);
        loop {
            let candidate = if now > prev { now } else { prev + 1 };
            match self.last.compare_exchange_weak(
                prev,
                candidate,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => {
                    let ms = candidate >> SEQ_BITS;
                    let seq = candidate & SEQ_MASK;
                    return Snowflake(
                        (ms << (NODE_BITS + SEQ_BITS)) | (self.node << SEQ_BITS) | seq,
                    );
                }
                Err(actual) => prev = actual,
            }
        }
    }
}

macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub Snowflake);

        impl $name {
            /// The id as stored in a signed 64-bit column.
            pub const fn as_i64(self) -> i64 {
                self.0.as_i64()
            }
            /// Rebuilds the id from its stored form.
            pub const fn from_i64(v: i64) -> Self {
                Self(Snowflake::from_raw(v as u64))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = InvalidId;
            fn from_str(s: &str) -> Result<Self, InvalidId> {
                s.parse().map(Self)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                // Not `collect_str`: that writes through `fmt` and an escaping adapter.
                s.serialize_str(itoa::Buffer::new().format(self.0.get()))
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .description(Some("A time-ordered 64-bit id as a decimal string."))
                    .examples([serde_json::json!("1234567890123456789")])
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {}
    };
}

typed_id!(
    /// A user account.
    UserId
);
typed_id!(
    /// A login session (one device); its tokens all belong to it.
    SessionId
);
typed_id!(
    /// A server (community). Its `@everyone` role has the same id.
    ServerId
);
typed_id!(
    /// A channel of a server.
    ChannelId
);
typed_id!(
    /// A role of a server.
    RoleId
);
typed_id!(
    /// A message in a channel.
    MessageId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_ordered_within_one_millisecond() {
        let g = IdGenerator::new(3);
        let now = EPOCH_MS + 1_000;
        let ids: Vec<_> = (0..10_000).map(|_| g.next(now)).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(ids[0].unix_ms(), now);
    }

    #[test]
    fn the_first_id_of_a_millisecond_bounds_every_id_made_then_or_later() {
        let g = IdGenerator::new(MAX_NODE);
        let t = EPOCH_MS + 86_400_000;
        let first = Snowflake::first_at(t);
        assert_eq!(first.unix_ms(), t);
        assert!(g.next(t) >= first);
        assert!(g.next(t + 1) > first);
        assert!(IdGenerator::new(MAX_NODE).next(t - 1) < first);
        assert_eq!(Snowflake::first_at(0).get(), 0);
    }

    #[test]
    fn a_clock_going_backwards_never_repeats_ids() {
        let g = IdGenerator::new(0);
        let a = g.next(EPOCH_MS + 5_000);
        let b = g.next(EPOCH_MS + 4_000);
        assert!(b > a);
    }

    #[test]
    fn node_id_is_embedded() {
        let g1 = IdGenerator::new(1);
        let g2 = IdGenerator::new(2);
        assert_ne!(g1.next(EPOCH_MS + 7), g2.next(EPOCH_MS + 7));
    }

    #[test]
    fn typed_ids_are_strings_on_the_wire() {
        let id = UserId::from_i64(1_234_567_890_123_456_789);
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, "\"1234567890123456789\"");
        let back: UserId = serde_json::from_str(&json).unwrap();
        assert_eq!(back, id);
        assert!(serde_json::from_str::<UserId>("\"12a\"").is_err());
        assert!(serde_json::from_str::<UserId>("\"99999999999999999999\"").is_err());
        assert!("".parse::<UserId>().is_err());
        for v in [0, 7, 10, i64::MAX] {
            let json = serde_json::to_string(&MessageId::from_i64(v)).unwrap();
            assert_eq!(json, format!("\"{v}\""));
        }
    }
}
