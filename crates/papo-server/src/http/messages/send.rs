//! The one path of a new message, for `POST /channels/{id}/messages` and the gateway's
//! `message_create`: checked and prepared by the sender ([`send_message`]), then stored by the
//! group-commit writer, which finishes each send once its batch is committed ([`Then`]):
//! announces the message and answers the sender ([`Answer`]).
//!
//! The writer finishes its batch's sends in the order of its queue, so messages are announced
//! in the order they were handed to it; a gateway connection hands over its sends one after
//! another, in the order of its frames. Nothing a send needs after its commit waits: what its
//! event needs from the database (its author's profile, the message it replies to) is read
//! before. A gateway send waiting for its commit holds no task and no channel of its own
//! (before, each was a task woken by a one-shot channel from the writer, then ordered by
//! another: docs/benchmarks/s4-writer.md, *Sends finished by the writer*); a REST request
//! waits on a one-shot channel.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use papo_core::error::{ErrorCode, FieldCode, FieldError, FieldErrors};
use papo_core::id::{ChannelId, MessageId, Snowflake, UserId};
use papo_core::markup::parse_mentions;
use papo_core::permissions::Permissions;
use papo_gateway::answers::AnswerSlot;
use papo_gateway::hub::Topic;
use papo_gateway::protocol::{EncodedEvent, EventKind};
use papo_store::messages::{self, Inserted, MessageRow, join_ids};
use papo_store::{StoreError, servers};
use serde_json::value::RawValue;
use tokio::sync::oneshot;

use super::dto::{Message, MessageRef, build};
use super::writer::WriteError;
use super::{CreateMessage, MAX_NONCE, check_content, json, text_channel};
use crate::http::error::{ApiError, ApiResult};
use crate::http::servers::access::{ChannelAccess, unknown_channel};
use crate::http::users::PublicUser;
use crate::state::AppState;

/// What a send did.
#[derive(Debug)]
pub enum Sent {
    /// Committed and fanned out now: the JSON of the message its event carried.
    Created(String),
    /// The original of a repeated nonce (rare: boxed, so that a new message's answer is
    /// small to move).
    Repeated(Box<Message>),
}

impl Sent {
    /// The message as answered, in JSON. A new message's is its event's JSON with its (empty)
    /// reactions added, so a gateway send serializes the message once for both.
    pub fn into_json(self) -> String {
        match self {
            Self::Created(mut json) => {
                // An event's message is an object without reactions: close it with them.
                json.pop();
                json.push_str(r#","reactions":[]}"#);
                json
            }
            Self::Repeated(m) => m.to_json(),
        }
    }
}

/// Where a send's outcome goes.
#[derive(Debug)]
pub enum Answer {
    /// A REST request, waiting for it.
    Wait(oneshot::Sender<ApiResult<Sent>>),
    /// A gateway connection: an acknowledgement or a refusal frame.
    Gateway(AnswerSlot),
}

impl Answer {
    /// Gives the send's outcome to whoever waits for it.
    pub fn give(self, state: &AppState, outcome: ApiResult<Sent>) {
        match self {
            // The request may have gone (client hung up): the message is stored anyway.
            Self::Wait(tx) => {
                let _ = tx.send(outcome);
            }
            Self::Gateway(slot) => {
                state.metrics.gateway_send.observe(slot.read_at().elapsed());
                match outcome {
                    Ok(sent) => {
                        let created = matches!(sent, Sent::Created(..));
                        slot.ack(created, &sent.into_json());
                    }
                    Err(err) => slot.refuse(&error_json(err)),
                }
            }
        }
    }
}

/// An error as the REST error body, in JSON.
fn error_json(err: ApiError) -> Box<RawValue> {
    serde_json::value::to_raw_value(&err.into_body())
        .unwrap_or_else(|_| RawValue::from_string("{}".into()).expect("an empty object"))
}

/// Sends a message as `user` into channel `channel` (the raw id as given) with id `id`
/// (taken when the request came, so that one client's messages are numbered in the order it
/// sent them); the outcome goes to `to`. The future ends once the message is handed to the
/// writer (or refused), not when it is committed.
///
/// This and what it awaits are plain functions returning an `async` block, not `async fn`s:
/// an `async fn` keeps a second copy of its arguments for as long as it runs, and these nest
/// (docs/benchmarks/s4-writer.md, *Smaller sends*).
///
/// The channel's access and the sender's profile are taken from `cache` when the sender's
/// last send checked the same channel and nothing changed since ([`SendCache`]).
#[allow(clippy::manual_async_fn)] // deliberately not `async fn`: see above
pub fn send_message<'a>(
    state: &'a AppState,
    user: UserId,
    channel: &'a str,
    (req, id): (CreateMessage, Snowflake),
    to: Answer,
    cache: &'a SendCache,
) -> impl Future<Output = ()> + Send + 'a {
    async move {
        let (ca, author) = match cache.get(state, channel) {
            Some(kept) => kept,
            // The rare path boxed: a future is as large as its largest await.
            None => match Box::pin(cache.check(state, channel, user)).await {
                Ok(checked) => checked,
                Err(err) => return to.give(state, Err(err)),
            },
        };
        if let Err(err) = ca.require(Permissions::SEND_MESSAGES) {
            return to.give(state, Err(err));
        }
        send(state, ca, user, req, id, to, Some(author)).await
    }
}

/// The channel a gateway connection last sent to, as checked then, and its sender's
/// profile, for its next send there (each connection's backend holds one: an idle
/// connection's task does not grow). They hold while the directory is unchanged
/// ([`Directory::generation`]: any membership, role, channel or profile change anywhere
/// moves it) and their copies not expired, and only for someone not timed out (which a
/// timeout's end would change with no change reported). Looking a channel's access up in
/// the directory each time (its channel, server and membership maps, and the permissions
/// computed anew) was about 7 % of the server's core at S4's 50k msg/s, mostly cache misses
/// (docs/benchmarks/s4-writer.md, *The channel's access kept by the connection*).
///
/// [`Directory::generation`]: crate::directory::Directory::generation
#[derive(Default)]
pub struct SendCache(Mutex<Option<Checked>>);

/// A channel's access and the sender's profile (as a message's event shows its author),
/// read while the directory's generation was `seen` from copies loaded at `loaded` or
/// later. Checked without touching the copies themselves (`channel`, `loaded`).
struct Checked {
    seen: u64,
    loaded: Instant,
    channel: ChannelId,
    access: Arc<ChannelAccess>,
    author: Arc<str>,
}

impl SendCache {
    /// The access and profile kept for `channel` (the raw id as given), if they still hold.
    fn get(&self, state: &AppState, channel: &str) -> Option<(Arc<ChannelAccess>, Arc<str>)> {
        let id = channel.parse::<ChannelId>().ok()?;
        let kept = self.0.lock().expect("send cache poisoned");
        let c = kept.as_ref()?;
        (c.channel == id && state.directory.unchanged_since(c.loaded, c.seen))
            .then(|| (c.access.clone(), c.author.clone()))
    }

    /// Checks `user`'s access to `channel` and reads their profile, and keeps both (unless
    /// the user is timed out).
    async fn check(
        &self,
        state: &AppState,
        channel: &str,
        user: UserId,
    ) -> ApiResult<(Arc<ChannelAccess>, Arc<str>)> {
        let seen = state.directory.generation();
        let access = Arc::new(text_channel(state, channel, user).await?);
        let (author, user_loaded) = (state.directory)
            .user_json_loaded(&state.db, user.as_i64())
            .await?;
        let kept = (!access.timed_out()).then(|| Checked {
            seen,
            loaded: access.access.entry.loaded().min(user_loaded),
            channel: access.id(),
            access: access.clone(),
            author: author.clone(),
        });
        *self.0.lock().expect("send cache poisoned") = kept;
        Ok((access, author))
    }
}

/// The send once the channel is known ([`send_message`]); `author`: the sender's profile
/// as a message's event shows it, if already read (else it is read here).
#[allow(clippy::manual_async_fn)] // deliberately not `async fn`: see `send_message`
pub fn send<'a>(
    state: &'a AppState,
    ca: Arc<ChannelAccess>,
    user: UserId,
    req: CreateMessage,
    id: Snowflake,
    to: Answer,
    author: Option<Arc<str>>,
) -> impl Future<Output = ()> + Send + 'a {
    async move {
        let (row, author) = match prepare(state, &ca, user, (req, id), author).await {
            Ok(prepared) => prepared,
            Err(err) => return to.give(state, Err(err)),
        };
        let then = Then {
            state: state.clone(),
            slowmode: ca.channel().slowmode_secs > 0,
            author,
            to,
        };
        state.writer.write(row, then).await;
    }
}

/// Checks a send (content, nonce, reply, rate and slow mode, mentions) and makes its row,
/// with what its event will need of its author.
#[allow(clippy::manual_async_fn)] // deliberately not `async fn`: see `send_message`
fn prepare<'a>(
    state: &'a AppState,
    ca: &'a ChannelAccess,
    user: UserId,
    (req, id): (CreateMessage, Snowflake),
    author: Option<Arc<str>>,
) -> impl Future<Output = ApiResult<(MessageRow, Author)>> + Send + 'a {
    async move {
        let mut errors = FieldErrors::new();
        let content = check_content(req.content)
            .map_err(|e| errors.insert("content".into(), e))
            .unwrap_or_default();
        if let Some(n) = &req.nonce
            && (n.is_empty() || n.chars().count() > MAX_NONCE || n.chars().any(char::is_control))
        {
            errors.insert(
                "nonce".into(),
                FieldError::new(
                    FieldCode::InvalidValue,
                    "1 to 64 characters, none of them a control character.",
                ),
            );
        }
        // Rare paths' queries are boxed: a future is as large as its largest await.
        let mut replied = None;
        if let Some(r) = req.reply_to {
            // The answer quotes the message replied to: without read_message_history, old
            // messages are as unknown as in the history.
            if ca.perms.contains(Permissions::READ_MESSAGE_HISTORY) {
                replied = Box::pin(messages::by_id(&state.db, ca.id(), r.as_i64())).await?;
            }
            if replied.is_none() {
                errors.insert(
                    "reply_to".into(),
                    FieldError::new(FieldCode::InvalidValue, "Not a message of this channel."),
                );
            }
        }
        if !errors.is_empty() {
            return Err(ApiError::invalid_fields(errors));
        }
        let too_fast =
            |wait| ApiError::rate_limited(wait).with_message("You are sending messages too fast.");
        let exempt = ca.perms.contains(Permissions::MANAGE_MESSAGES)
            || ca.perms.contains(Permissions::MANAGE_CHANNELS);
        let now = crate::now_ms();
        if ca.channel().slowmode_secs <= 0 || exempt {
            // Checked and recorded in one lookup: nothing else can refuse the send here.
            state.message_rate.hit(&user.as_i64()).map_err(too_fast)?;
        } else {
            state.message_rate.check(&user.as_i64()).map_err(too_fast)?;
            let last = match state.slowmode.last(ca.channel().id, user.as_i64()) {
                Some(t) => Some(t),
                // When the author's newest message there was made (its id says when).
                None => Box::pin(papo_store::read_states::own_newest(
                    &state.db,
                    user.as_i64(),
                    ca.id(),
                ))
                .await?
                .map(|id| Snowflake::from_raw(id as u64).unix_ms() as i64),
            };
            if let Some(t) = last {
                let free_at = t + ca.channel().slowmode_secs * 1000;
                if free_at > now {
                    return Err(ApiError::new(ErrorCode::Slowmode)
                        .with_retry_after(Duration::from_millis((free_at - now) as u64)));
                }
            }
            state.message_rate.record(&user.as_i64());
        }
        let mentions = resolve_mentions(state, ca, &content).await?;
        let author = match replied {
            None => match author {
                Some(json) => Author::Json(json),
                None => Author::Json(state.directory.user_json(&state.db, user.as_i64()).await?),
            },
            Some(replied) => Box::pin(reply_author(state, user, replied)).await?,
        };
        let row = MessageRow {
            id: id.as_i64(),
            channel_id: ca.channel().id,
            server_id: ca.channel().server_id,
            author_id: user.as_i64(),
            content,
            nonce: req.nonce,
            reply_to: req.reply_to.map(MessageId::as_i64),
            mentions: mentions.users,
            mention_roles: mentions.roles,
            mention_everyone: mentions.everyone,
            pinned_at: None,
            edited_at: None,
            created_at: now,
        };
        Ok((row, author))
    }
}

/// What a new message's event needs besides its row, read before it is stored so that
/// nothing waits once it is.
#[derive(Debug)]
pub enum Author {
    /// The author's profile as JSON (shared with the directory's copy).
    Json(Arc<str>),
    /// A reply: the author's profile and the excerpt of the message replied to.
    Reply(Box<(PublicUser, MessageRef)>),
}

/// The author's profile and the excerpt of `replied`, with its own author's.
async fn reply_author(state: &AppState, user: UserId, replied: MessageRow) -> ApiResult<Author> {
    let ids = [user.as_i64(), replied.author_id];
    let users = state.directory.public_users(&state.db, &ids).await?;
    let profile = |id: i64| {
        users
            .iter()
            .find(|u| u.id.as_i64() == id)
            .cloned()
            .unwrap_or_else(|| PublicUser::deleted(UserId::from_i64(id)))
    };
    let excerpt = MessageRef::of(&replied, profile(replied.author_id));
    Ok(Author::Reply(Box::new((profile(user.as_i64()), excerpt))))
}

/// What the writer does with a send once its batch is committed (or failed): announces a new
/// message to its channel and answers the sender. Runs on the writer's task, so it does not
/// wait.
pub struct Then {
    state: AppState,
    /// The channel has a slow mode: the author's last message there is noted.
    slowmode: bool,
    author: Author,
    to: Answer,
}

impl Then {
    /// Finishes the send with the writer's outcome.
    pub fn committed(self, written: Result<(MessageRow, Inserted), WriteError>) {
        let Self {
            state,
            slowmode,
            author,
            to,
        } = self;
        let (row, outcome) = match written {
            Ok(written) => written,
            // The channel was deleted after the checks (accounts are never deleted).
            Err(WriteError::Store(StoreError::MissingParent(_))) => {
                return to.give(&state, Err(unknown_channel()));
            }
            Err(WriteError::Store(err)) => return to.give(&state, Err(err.into())),
            Err(WriteError::Stopped) => {
                return to.give(&state, Err(ApiError::new(ErrorCode::ServiceUnavailable)));
            }
        };
        match outcome {
            Inserted::New => {
                if slowmode {
                    state
                        .slowmode
                        .sent(row.channel_id, row.author_id, row.created_at);
                }
                let (channel, author_id) = (row.channel_id, row.author_id);
                let json = match author {
                    // Written from the row and the author's profile, as `build` and `to_json`
                    // would write it.
                    Author::Json(author) => json::created_json(&row, &author),
                    Author::Reply(reply) => {
                        let (author, excerpt) = *reply;
                        Message::from_row(row, author, Some(excerpt), None).to_json()
                    }
                };
                state.hub.dispatch(
                    Topic::Channel(channel as u64),
                    EncodedEvent::of_kind(EventKind::MessageCreated, &json),
                );
                state
                    .hub
                    .typing_ended(UserId::from_i64(author_id), channel as u64);
                to.give(&state, Ok(Sent::Created(json)));
            }
            // Rare, and announces nothing: the original is built as REST shows it, off the
            // writer's task.
            Inserted::Duplicate(original) => {
                let user = UserId::from_i64(row.author_id);
                tokio::spawn(async move {
                    let built = build(&state, vec![*original], Some(user)).await;
                    let sent = built.map(|mut m| Sent::Repeated(Box::new(m.remove(0))));
                    to.give(&state, sent);
                });
            }
        }
    }
}

/// Who a message may mention: members of the server, mentionable roles (any role with
/// `mention_everyone`), `@everyone`/`@here` only with `mention_everyone`: those of
/// `content`.
pub(super) async fn resolve_mentions(
    state: &AppState,
    ca: &ChannelAccess,
    content: &str,
) -> ApiResult<Mentions> {
    let found = parse_mentions(content);
    let may_everyone = ca.perms.contains(Permissions::MENTION_EVERYONE);
    let ids: Vec<i64> = found.users.iter().map(|u| *u as i64).collect();
    // Boxed, and only when someone is mentioned: the send's future would otherwise carry
    // the query's state in every send.
    let users: Vec<i64> = if ids.is_empty() {
        ids
    } else {
        let members = Box::pin(servers::members_among(&state.db, ca.server_id(), &ids)).await?;
        ids.into_iter().filter(|u| members.contains(u)).collect()
    };
    let roles: Vec<i64> = found
        .roles
        .iter()
        .map(|r| *r as i64)
        .filter(|r| {
            *r != ca.channel().server_id
                && ca
                    .access
                    .roles()
                    .iter()
                    .any(|x| x.id == *r && (x.mentionable || may_everyone))
        })
        .collect();
    Ok(Mentions {
        users: join_ids(&users),
        roles: join_ids(&roles),
        everyone: found.everyone && may_everyone,
    })
}

/// A message's mentions as stored ([`MessageRow`]'s columns).
pub(super) struct Mentions {
    pub(super) users: String,
    pub(super) roles: String,
    pub(super) everyone: bool,
}
