//! What messages look like on the wire.

use std::collections::HashMap;

use papo_core::id::{ChannelId, MessageId, RoleId, ServerId, UserId};
use papo_store::messages::{self, MessageRow};
use serde::Serialize;
use utoipa::ToSchema;

use crate::http::error::ApiResult;
use crate::http::rfc3339;
use crate::http::users::PublicUser;
use crate::state::AppState;

/// A message.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Message {
    /// Id (time ordered).
    pub id: MessageId,
    /// Channel.
    pub channel_id: ChannelId,
    /// Server.
    pub server_id: ServerId,
    /// Author.
    pub author: PublicUser,
    /// Raw markdown.
    pub content: String,
    /// The client's nonce, echoed.
    pub nonce: Option<String>,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339 of the last edit.
    pub edited_at: Option<String>,
    /// The message replied to.
    pub reply_to: Option<MessageId>,
    /// An excerpt of the message replied to (`null` if it was deleted).
    pub referenced_message: Option<MessageRef>,
    /// Mentioned users.
    pub mentions: Vec<UserId>,
    /// Mentioned roles.
    pub mention_roles: Vec<RoleId>,
    /// `@everyone` / `@here`.
    pub mention_everyone: bool,
    /// Pinned in its channel.
    pub pinned: bool,
    /// Reaction totals (REST answers only; events leave them out).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reactions: Option<Vec<ReactionCount>>,
}

/// The message a reply refers to.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct MessageRef {
    /// Id.
    pub id: MessageId,
    /// Author.
    pub author: PublicUser,
    /// Content.
    pub content: String,
}

/// One emoji's reactions on a message.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ReactionCount {
    /// The emoji.
    pub emoji: String,
    /// How many reacted.
    pub count: i64,
    /// Whether the caller did.
    pub me: bool,
}

/// Builds wire messages from `rows` (same order), moving their text. With `me`, reaction
/// totals are included with `me` set for that user.
pub async fn build(
    state: &AppState,
    rows: Vec<MessageRow>,
    me: Option<UserId>,
) -> ApiResult<Vec<Message>> {
    let reply_ids: Vec<i64> = rows.iter().filter_map(|r| r.reply_to).collect();
    let replied: HashMap<i64, MessageRow> = messages::by_ids(&state.db, &reply_ids)
        .await?
        .into_iter()
        .map(|m| (m.id, m))
        .collect();
    let mut author_ids: Vec<i64> = rows.iter().map(|r| r.author_id).collect();
    author_ids.extend(replied.values().map(|m| m.author_id));
    author_ids.sort_unstable();
    author_ids.dedup();
    let authors = state.directory.public_users(&state.db, &author_ids).await?;
    let mut reactions: HashMap<i64, Vec<ReactionCount>> = HashMap::new();
    if let Some(me) = me {
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        for (m, emoji, count, mine) in messages::reactions(&state.db, &ids, me.as_i64()).await? {
            reactions.entry(m).or_default().push(ReactionCount {
                emoji,
                count,
                me: mine,
            });
        }
    }
    let author = |id: i64| match authors.binary_search_by_key(&id, |u| u.id.as_i64()) {
        Ok(i) => authors[i].clone(),
        Err(_) => PublicUser::deleted(UserId::from_i64(id)),
    };
    Ok(rows
        .into_iter()
        .map(|r| {
            let referenced = r
                .reply_to
                .and_then(|id| replied.get(&id))
                .map(|m| MessageRef::of(m, author(m.author_id)));
            let reactions = me.map(|_| reactions.remove(&r.id).unwrap_or_default());
            let author = author(r.author_id);
            Message::from_row(r, author, referenced, reactions)
        })
        .collect())
}

impl MessageRef {
    /// The excerpt of `m` (by `author`) that a reply to it carries.
    pub fn of(m: &MessageRow, author: PublicUser) -> Self {
        Self {
            id: MessageId::from_i64(m.id),
            author,
            content: m.content.chars().take(200).collect(),
        }
    }
}

impl Message {
    /// The wire message of `row`, moving its text, with its author's profile, the excerpt
    /// of the message it replies to and its reaction totals (REST answers only).
    pub fn from_row(
        r: MessageRow,
        author: PublicUser,
        referenced_message: Option<MessageRef>,
        reactions: Option<Vec<ReactionCount>>,
    ) -> Self {
        Self {
            id: MessageId::from_i64(r.id),
            channel_id: ChannelId::from_i64(r.channel_id),
            server_id: ServerId::from_i64(r.server_id),
            author,
            mentions: r.mentioned().map(UserId::from_i64).collect(),
            mention_roles: r.mentioned_roles().map(RoleId::from_i64).collect(),
            created_at: rfc3339(r.created_at),
            edited_at: r.edited_at.map(rfc3339),
            reply_to: r.reply_to.map(MessageId::from_i64),
            referenced_message,
            mention_everyone: r.mention_everyone,
            pinned: r.pinned_at.is_some(),
            reactions,
            content: r.content,
            nonce: r.nonce,
        }
    }
}
