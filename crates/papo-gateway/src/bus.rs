//! The cluster bus over Redis pub/sub.
//!
//! Each node runs **one** subscription (not one per connection) that feeds its hub, and one
//! publisher task fed by a bounded queue. Messages carry the sending node's id; a node
//! ignores its own messages coming back, because it already applied them locally when it
//! published them. Events travel pre-serialized (`t` + `d`), so a node re-frames them once.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use papo_core::change::Change;
use papo_core::id::{ServerId, SessionId, UserId};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use tokio::sync::mpsc;

use crate::hub::{BusMessage, Hub, Topic};
use crate::presence::NodePresence;
use crate::protocol::{CustomStatus, EncodedEvent, Status};

/// The default pub/sub channel all nodes of a cluster share.
pub const CHANNEL: &str = "papo:bus:v1";
/// Messages waiting for the publisher before new ones are dropped (and logged).
const QUEUE: usize = 65_536;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Kind {
    Dispatch,
    Revoke,
    Subscription,
    Forget,
    Presence,
    Choice,
    Invalidate,
}

/// One flat record (not an internally tagged enum: those cannot borrow a `RawValue`).
#[derive(Serialize, Deserialize)]
struct Wire<'a> {
    node: u16,
    m: Kind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    topic: Option<Topic>,
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    t: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    d: Option<&'a RawValue>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    sessions: Vec<SessionId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    user: Option<UserId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status: Option<Status>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    custom_status: Option<CustomStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    follow: Option<bool>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    topics: Vec<Topic>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    servers: Vec<ServerId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    change: Option<Change>,
}

impl<'a> Wire<'a> {
    fn new(node: u16, m: Kind) -> Self {
        Self {
            node,
            m,
            topic: None,
            t: None,
            d: None,
            sessions: Vec::new(),
            user: None,
            status: None,
            custom_status: None,
            follow: None,
            topics: Vec::new(),
            servers: Vec::new(),
            change: None,
        }
    }
}

/// Encodes a message for the wire.
pub fn encode(node: u16, msg: &BusMessage) -> Option<String> {
    let wire = match msg {
        BusMessage::Dispatch { topic, event } => {
            let (t, d) = event.parts();
            Wire {
                topic: Some(*topic),
                t: Some(t.into()),
                d: Some(serde_json::from_str::<&RawValue>(d).ok()?),
                ..Wire::new(node, Kind::Dispatch)
            }
        }
        BusMessage::Revoke { auth_sessions } => Wire {
            sessions: auth_sessions.clone(),
            ..Wire::new(node, Kind::Revoke)
        },
        BusMessage::Subscription {
            user,
            topics,
            follow,
        } => Wire {
            user: Some(*user),
            topics: topics.clone(),
            follow: Some(*follow),
            ..Wire::new(node, Kind::Subscription)
        },
        BusMessage::Forget { topic } => Wire {
            topic: Some(*topic),
            ..Wire::new(node, Kind::Forget)
        },
        BusMessage::Presence {
            node,
            user,
            presence,
            servers,
        } => Wire {
            user: Some(*user),
            status: Some(presence.status),
            custom_status: presence.custom_status.clone(),
            servers: servers.clone(),
            ..Wire::new(*node, Kind::Presence)
        },
        BusMessage::Choice {
            user,
            status,
            custom_status,
        } => Wire {
            user: Some(*user),
            status: Some(*status),
            custom_status: custom_status.clone(),
            ..Wire::new(node, Kind::Choice)
        },
        BusMessage::Invalidate { change } => Wire {
            change: Some(change.clone()),
            ..Wire::new(node, Kind::Invalidate)
        },
    };
    serde_json::to_string(&wire).ok()
}

/// Decodes a message: `(sending node, message)`.
pub fn decode(text: &str) -> Option<(u16, BusMessage)> {
    let w: Wire<'_> = serde_json::from_str(text).ok()?;
    let msg = match w.m {
        Kind::Dispatch => BusMessage::Dispatch {
            topic: w.topic?,
            event: EncodedEvent::from_json(&w.t?, w.d?.get()),
        },
        Kind::Revoke => BusMessage::Revoke {
            auth_sessions: w.sessions,
        },
        Kind::Subscription => BusMessage::Subscription {
            user: w.user?,
            topics: w.topics,
            follow: w.follow?,
        },
        Kind::Forget => BusMessage::Forget { topic: w.topic? },
        Kind::Presence => BusMessage::Presence {
            node: w.node,
            user: w.user?,
            presence: NodePresence {
                status: w.status?,
                custom_status: w.custom_status,
            },
            servers: w.servers,
        },
        Kind::Choice => BusMessage::Choice {
            user: w.user?,
            status: w.status?,
            custom_status: w.custom_status,
        },
        Kind::Invalidate => BusMessage::Invalidate { change: w.change? },
    };
    Some((w.node, msg))
}

/// Connects `hub` to the Redis at `url`: starts the subscriber and the publisher. Returns once
/// the subscription is active, so events published afterwards by other nodes are received.
pub async fn connect(hub: Arc<Hub>, url: &str, channel: &str) -> Result<(), redis::RedisError> {
    let client = redis::Client::open(url)?;
    let mut pubsub = client.get_async_pubsub().await?;
    pubsub.subscribe(channel).await?;
    let channel: Arc<str> = channel.into();
    let publisher = client.get_multiplexed_async_connection().await?;
    let (tx, rx) = mpsc::channel(QUEUE);
    hub.set_remote(tx);
    tokio::spawn(run_publisher(hub.clone(), publisher, rx, channel.clone()));
    tokio::spawn(run_subscriber(hub, client, pubsub, channel));
    Ok(())
}

async fn run_publisher(
    hub: Arc<Hub>,
    mut conn: redis::aio::MultiplexedConnection,
    mut rx: mpsc::Receiver<BusMessage>,
    channel: Arc<str>,
) {
    let node = hub.node_id();
    let mut batch = Vec::with_capacity(256);
    // Everything queued meanwhile goes out in one pipelined round trip.
    while rx.recv_many(&mut batch, 256).await > 0 {
        let mut pipe = redis::pipe();
        for msg in batch.drain(..) {
            match encode(node, &msg) {
                Some(text) => {
                    pipe.cmd("PUBLISH").arg(&*channel).arg(text).ignore();
                }
                None => tracing::error!("bus message not encodable"),
            }
        }
        let mut tries = 0;
        loop {
            match pipe.query_async::<()>(&mut conn).await {
                Ok(()) => break,
                Err(err) if tries < 5 => {
                    tries += 1;
                    tracing::warn!(%err, "publishing to Redis failed; retrying");
                    tokio::time::sleep(Duration::from_millis(100 * tries)).await;
                }
                Err(err) => {
                    tracing::error!(%err, "publishing to Redis failed; messages lost for other nodes");
                    break;
                }
            }
        }
    }
}

async fn run_subscriber(
    hub: Arc<Hub>,
    client: redis::Client,
    mut pubsub: redis::aio::PubSub,
    channel: Arc<str>,
) {
    let node = hub.node_id();
    loop {
        {
            let mut stream = pubsub.on_message();
            loop {
                tokio::select! {
                    () = hub.shutdown.cancelled() => return,
                    msg = stream.next() => {
                        let Some(msg) = msg else { break };
                        let Ok(text) = msg.get_payload::<String>() else { continue };
                        match decode(&text) {
                            Some((from, m)) if from != node => hub.apply(m),
                            Some(_) => {}
                            None => tracing::warn!("undecodable bus message"),
                        }
                    }
                }
            }
        }
        tracing::warn!("Redis subscription lost; reconnecting");
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            match client.get_async_pubsub().await {
                Ok(mut p) => {
                    if p.subscribe(&*channel).await.is_ok() {
                        pubsub = p;
                        break;
                    }
                }
                Err(err) => tracing::warn!(%err, "Redis reconnect failed"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::EventKind;

    #[test]
    fn messages_survive_the_wire() {
        let event =
            EncodedEvent::new(EventKind::UserUpdated, &serde_json::json!({"id": "5"})).unwrap();
        let msg = BusMessage::Dispatch {
            topic: Topic::User(UserId::from_i64(5)),
            event: event.clone(),
        };
        let text = encode(3, &msg).unwrap();
        let (node, back) = decode(&text).unwrap();
        assert_eq!(node, 3);
        match back {
            BusMessage::Dispatch { topic, event: e } => {
                assert_eq!(topic, Topic::User(UserId::from_i64(5)));
                assert_eq!(e.parts(), event.parts());
            }
            _ => panic!("wrong kind"),
        }
        let text = encode(
            1,
            &BusMessage::Revoke {
                auth_sessions: vec![SessionId::from_i64(9)],
            },
        )
        .unwrap();
        assert!(
            matches!(decode(&text), Some((1, BusMessage::Revoke { auth_sessions })) if auth_sessions == vec![SessionId::from_i64(9)])
        );
        let p = BusMessage::Presence {
            node: 2,
            user: UserId::from_i64(1),
            presence: NodePresence {
                status: Status::Dnd,
                custom_status: None,
            },
            servers: vec![ServerId::from_i64(5)],
        };
        assert!(matches!(
            decode(&encode(2, &p).unwrap()),
            Some((2, BusMessage::Presence { servers, .. })) if servers == vec![ServerId::from_i64(5)]
        ));
        let c = BusMessage::Choice {
            user: UserId::from_i64(4),
            status: Status::Invisible,
            custom_status: Some(CustomStatus {
                text: "away".into(),
                emoji: None,
                expires_at: None,
            }),
        };
        assert!(matches!(
            decode(&encode(2, &c).unwrap()),
            Some((2, BusMessage::Choice { user, status: Status::Invisible, custom_status: Some(c) }))
                if user == UserId::from_i64(4) && c.text == "away"
        ));
        let s = BusMessage::Subscription {
            user: UserId::from_i64(1),
            topics: vec![Topic::Channel(7), Topic::Server(ServerId::from_i64(5))],
            follow: false,
        };
        assert!(matches!(
            decode(&encode(2, &s).unwrap()),
            Some((2, BusMessage::Subscription { topics, follow: false, .. })) if topics.len() == 2
        ));
        assert!(matches!(
            decode(
                &encode(
                    2,
                    &BusMessage::Forget {
                        topic: Topic::Channel(7)
                    }
                )
                .unwrap()
            ),
            Some((
                2,
                BusMessage::Forget {
                    topic: Topic::Channel(7)
                }
            ))
        ));
        assert!(decode("garbage").is_none());
    }
}
