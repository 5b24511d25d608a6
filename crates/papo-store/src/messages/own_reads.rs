//! SQLite: each author's newest message in a channel, not yet written into their read state.
//!
//! A send moves its author's read state on to the message (authors have read their own
//! messages). Written by every commit, that was an update of a `read_states` row for each
//! message, and with S4's thousand authors each commit rewrote about a dozen of the table's
//! leaves, however few messages it held. SQLite's message writer now keeps them here and
//! writes them all when the mark of [`super::unlisted`] moves up (at most every
//! `MARK_EVERY`, 100 ms), each author's newest in a channel once. With the update left out
//! altogether (an experiment, *The authors' read states* in docs/benchmarks/s4-writer.md),
//! the writer took about 1 µs a message less at S4's 35k msg/s; written this way, about 0.4
//! less at 35k and 0.15 at 50k (each author's row is still written a few times a second).
//!
//! Readers raise what they read from `read_states` to what waits here, copied before the
//! read (as for the channel lists): what a commit writes meanwhile is in one or both. Every
//! message below the mark has its author's read state written, so a restart finds what
//! waited again among the messages from the mark on ([`super::unlisted::recover`]).

use foldhash::HashMap;

/// What waits, by author, then by channel: the newest message and the channel's server.
#[derive(Clone, Debug, Default)]
pub(crate) struct OwnReads {
    by_author: HashMap<i64, HashMap<i64, (i64, i64)>>,
}

/// One read state to write: `author`'s newest message `id` in `channel` (of `server`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct OwnRead {
    pub author: i64,
    pub channel: i64,
    pub server: i64,
    pub id: i64,
}

impl OwnReads {
    /// Notes that `author` sent message `id` in `channel` of `server` (a committed message).
    pub(crate) fn note(&mut self, author: i64, channel: i64, server: i64, id: i64) {
        let newest = self
            .by_author
            .entry(author)
            .or_default()
            .entry(channel)
            .or_insert((id, server));
        newest.0 = newest.0.max(id);
    }

    /// `author`'s newest waiting message in each channel where one waits.
    pub(crate) fn of(&self, author: i64) -> HashMap<i64, i64> {
        self.by_author
            .get(&author)
            .map_or_else(HashMap::default, |c| {
                c.iter().map(|(channel, (id, _))| (*channel, *id)).collect()
            })
    }

    /// `author`'s newest waiting message in `channel`.
    pub(crate) fn newest(&self, author: i64, channel: i64) -> Option<i64> {
        Some(self.by_author.get(&author)?.get(&channel)?.0)
    }

    /// Everything waiting, in the order of the table's key (author, channel), so that the
    /// writes walk its leaves in order.
    pub(crate) fn pending(&self) -> Vec<OwnRead> {
        let mut all: Vec<OwnRead> = self
            .by_author
            .iter()
            .flat_map(|(author, channels)| {
                channels.iter().map(|(channel, (id, server))| OwnRead {
                    author: *author,
                    channel: *channel,
                    server: *server,
                    id: *id,
                })
            })
            .collect();
        all.sort_unstable_by_key(|o| (o.author, o.channel));
        all
    }

    /// Forgets everything (what [`OwnReads::pending`] gave is committed, and nothing was
    /// noted since).
    pub(crate) fn clear(&mut self) {
        self.by_author.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_authors_newest_per_channel_waits_until_cleared() {
        let mut own = OwnReads::default();
        own.note(7, 10, 1, 100);
        own.note(7, 10, 1, 99);
        own.note(7, 11, 2, 101);
        own.note(8, 10, 1, 102);
        assert_eq!(
            own.newest(7, 10),
            Some(100),
            "the newest, not the last noted"
        );
        assert_eq!(own.newest(7, 12), None);
        assert_eq!(own.newest(9, 10), None);
        assert_eq!(own.of(7), HashMap::from_iter([(10, 100), (11, 101)]));
        assert!(own.of(9).is_empty());
        let read = |author, channel, server, id| OwnRead {
            author,
            channel,
            server,
            id,
        };
        assert_eq!(
            own.pending(),
            [
                read(7, 10, 1, 100),
                read(7, 11, 2, 101),
                read(8, 10, 1, 102)
            ]
        );
        own.clear();
        assert!(own.pending().is_empty());
        assert_eq!(own.newest(7, 10), None);
    }
}
