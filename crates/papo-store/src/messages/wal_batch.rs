//! A VFS for the message writer's connection that hands SQLite's log writes to the kernel
//! a commit at a time instead of two system calls per page.
//!
//! SQLite writes each log frame as two `write`s, its 24-byte header and then its page, one
//! after the other in the file; a commit of a hundred pages is two hundred system calls
//! before its `fsync`. On the AMD EPYC of 2026-12-04, `bench/log-writes.c` (100 frames a
//! commit, each commit synced) spent 5.0–6.2 µs of CPU a frame written that way, 1.7–1.9
//! written in one call and 2.1–2.4 in calls of at most [`CAPACITY`] bytes. This VFS is
//! SQLite's default one except for the log file, whose writes are gathered in memory while
//! each follows the one before in the file. They are given to the default VFS in one write
//! when a write does not follow, when the gathered bytes would pass [`CAPACITY`], and before
//! anything else is asked of the file (a read, a sync, its size, a truncation, a file
//! control, closing it).
//!
//! Why no other connection can read a frame still in memory: SQLite makes a commit's frames
//! visible to other connections (in the shared log index) only after they are written and,
//! with `synchronous=FULL`, synced; the sync writes them out first. That holds when SQLite
//! does not pad commits to a sector boundary (which it skips on files that report
//! `SQLITE_IOCAP_POWERSAFE_OVERWRITE`, as the default VFS's do) and asks for a sync at every
//! commit (`synchronous=FULL`, which [`super::sqlite_writer`] sets right after opening), also
//! when the sync itself is deferred ([`defer_syncs`]): the gathered bytes are written then all
//! the same. A log file
//! without that capability has its writes passed through as they come. The writer's
//! connection also never writes frames before its commit (`cache_spill` off), so a
//! rolled-back transaction leaves nothing gathered that could later be written over another
//! connection's frames ([`discard`] makes sure).

use std::ffi::{CStr, c_int, c_void};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use rusqlite::ffi;

/// The VFS's name, for `Connection::open_with_flags_and_vfs`.
pub(crate) const NAME: &CStr = c"papo-wal-batch";

/// The most bytes gathered before they are written (31 frames of 4 KiB pages, 63 of 2 KiB):
/// the most the unix VFS writes in one call (its `seekAndWrite` keeps a length's low 17 bits).
const CAPACITY: usize = 0x1ffff;

/// Writes of gathered bytes handed to the default VFS so far (for tests).
static FLUSHES: AtomicU64 = AtomicU64::new(0);

/// A log file: SQLite's file object, the gathered bytes, and the default VFS's file object
/// (in the same allocation, after this header).
#[repr(C)]
struct WalFile {
    base: ffi::sqlite3_file,
    inner: *mut ffi::sqlite3_file,
    /// Whether writes are gathered (see the module's comment).
    gather: bool,
    /// Gathered bytes (null until the first write), to be written at `start`.
    buf: *mut Vec<u8>,
    start: i64,
    /// Syncs are deferred ([`defer_syncs`]): a sync asked for writes the gathered bytes and
    /// is owed instead of done.
    defer: bool,
    /// A sync was deferred and not done since.
    owed: bool,
}

/// Bytes from the start of a file object to the default VFS's object inside it.
const INNER_OFFSET: usize = std::mem::size_of::<WalFile>().next_multiple_of(16);

/// Registers the VFS (once; it is not made the default). Returns SQLite's error code if
/// that failed.
pub(crate) fn register() -> Result<(), c_int> {
    static VFS: OnceLock<Result<(), c_int>> = OnceLock::new();
    *VFS.get_or_init(|| {
        // SAFETY: SQLite initialises itself on this call; the default VFS lives for the
        // process. The copy is leaked: SQLite keeps the pointer for the process's life.
        unsafe {
            let rc = ffi::sqlite3_initialize();
            if rc != ffi::SQLITE_OK {
                return Err(rc);
            }
            let default = ffi::sqlite3_vfs_find(std::ptr::null());
            if default.is_null() {
                return Err(ffi::SQLITE_ERROR);
            }
            let mut vfs = *default;
            vfs.pNext = std::ptr::null_mut();
            vfs.zName = NAME.as_ptr();
            // The default VFS's own methods (all but `xOpen`) are given this copy; the
            // unix VFS reads `pAppData` only in its `xOpen`, which is given the original.
            vfs.pAppData = default.cast();
            vfs.szOsFile = (INNER_OFFSET + (*default).szOsFile as usize) as c_int;
            vfs.xOpen = Some(open);
            let vfs = Box::into_raw(Box::new(vfs));
            let rc = ffi::sqlite3_vfs_register(vfs, 0);
            if rc != ffi::SQLITE_OK {
                drop(Box::from_raw(vfs));
                return Err(rc);
            }
            Ok(())
        }
    })
}

/// `conn`'s log file, if it is open through this VFS. The connection's thread may use it
/// while no statement of the connection runs.
fn log_of(conn: &rusqlite::Connection) -> Option<std::ptr::NonNull<WalFile>> {
    let mut file: *mut ffi::sqlite3_file = std::ptr::null_mut();
    // SAFETY: SQLite answers this control itself (the database's log file object, which
    // lives as long as the connection in WAL mode), without calling the VFS.
    unsafe {
        let rc = ffi::sqlite3_file_control(
            conn.handle(),
            c"main".as_ptr(),
            ffi::SQLITE_FCNTL_JOURNAL_POINTER,
            (&raw mut file).cast(),
        );
        if rc != ffi::SQLITE_OK || file.is_null() || !std::ptr::eq((*file).pMethods, &WAL_METHODS) {
            return None;
        }
    }
    std::ptr::NonNull::new(file.cast())
}

/// Drops, unwritten, what is gathered for `conn`'s log; called once a transaction ended
/// without committing, whose frames are never used and, written later, could land over
/// frames another connection committed meanwhile. Nothing should be left by then (with
/// `cache_spill` off nothing is written before the commit, whose sync writes everything,
/// and a rollback reads the log, which writes out what is gathered while it still holds
/// the write lock); this keeps it so whatever path a failed batch took. Returns how many
/// bytes were dropped.
pub(crate) fn discard(conn: &rusqlite::Connection) -> usize {
    let Some(mut w) = log_of(conn) else {
        return 0;
    };
    // SAFETY: called on the connection's thread between its statements.
    let w = unsafe { w.as_mut() };
    let gathered = w.gathered();
    if gathered > 0 {
        // SAFETY: as in `WalFile::flush`.
        unsafe { (*w.buf).clear() };
    }
    gathered
}

/// Defers the syncs of `conn`'s log from now on (`true`) or ends that (`false`); returns
/// whether a sync is owed, and forgets it. While deferred, a sync SQLite asks for (its
/// commit's, with `synchronous=FULL`) writes the gathered bytes out, so that the commit is
/// whole in the file and other connections may read it, but does not wait for the disk:
/// the caller syncs the log itself before it tells anyone the commit is durable (on its own
/// descriptor of the file, from another thread: [`super::sqlite_writer`]).
///
/// Nothing is copied from the log into the database file before it is durable: a read of
/// the log while a sync is owed (a checkpoint copying frames reads them first) does the
/// sync. The checkpoints of other connections sync the log themselves.
pub(crate) fn defer_syncs(conn: &rusqlite::Connection, on: bool) -> bool {
    let Some(mut w) = log_of(conn) else {
        return false;
    };
    // SAFETY: called on the connection's thread between its statements.
    let w = unsafe { w.as_mut() };
    w.defer = on;
    std::mem::take(&mut w.owed)
}

/// The bytes gathered for `conn`'s log.
#[cfg(test)]
fn gathered(conn: &rusqlite::Connection) -> usize {
    // SAFETY: as in `discard`.
    log_of(conn).map_or(0, |w| unsafe { w.as_ref() }.gathered())
}

/// Gathered writes handed to the default VFS since the process started.
#[cfg(test)]
pub(crate) fn flushes() -> u64 {
    FLUSHES.load(Ordering::Relaxed)
}

static WAL_METHODS: ffi::sqlite3_io_methods = ffi::sqlite3_io_methods {
    iVersion: 1,
    xClose: Some(close),
    xRead: Some(read),
    xWrite: Some(write),
    xTruncate: Some(truncate),
    xSync: Some(sync),
    xFileSize: Some(file_size),
    xLock: Some(lock),
    xUnlock: Some(unlock),
    xCheckReservedLock: Some(check_reserved_lock),
    xFileControl: Some(file_control),
    xSectorSize: Some(sector_size),
    xDeviceCharacteristics: Some(device_characteristics),
    xShmMap: None,
    xShmLock: None,
    xShmBarrier: None,
    xShmUnmap: None,
    xFetch: None,
    xUnfetch: None,
};

unsafe extern "C" fn open(
    vfs: *mut ffi::sqlite3_vfs,
    name: ffi::sqlite3_filename,
    file: *mut ffi::sqlite3_file,
    flags: c_int,
    out_flags: *mut c_int,
) -> c_int {
    // SAFETY: SQLite gives a file object of `szOsFile` bytes, and this VFS's `pAppData` is
    // the default VFS.
    unsafe {
        let default = (*vfs).pAppData.cast::<ffi::sqlite3_vfs>();
        let default_open = (*default).xOpen.expect("the default VFS opens files");
        if flags & ffi::SQLITE_OPEN_WAL == 0 {
            // Any other file is the default VFS's own object, at the start.
            return default_open(default, name, file, flags, out_flags);
        }
        let inner = file
            .cast::<u8>()
            .add(INNER_OFFSET)
            .cast::<ffi::sqlite3_file>();
        let rc = default_open(default, name, inner, flags, out_flags);
        let methods = (*inner).pMethods;
        if rc != ffi::SQLITE_OK || methods.is_null() {
            (*file).pMethods = std::ptr::null();
            return rc;
        }
        // Without it SQLite pads commits and makes frames written after its sync visible:
        // such a log's writes are passed through as they come.
        let characteristics = (*methods).xDeviceCharacteristics.map_or(0, |f| f(inner));
        file.cast::<WalFile>().write(WalFile {
            base: ffi::sqlite3_file {
                pMethods: &WAL_METHODS,
            },
            inner,
            gather: characteristics & ffi::SQLITE_IOCAP_POWERSAFE_OVERWRITE != 0,
            buf: std::ptr::null_mut(),
            start: 0,
            defer: false,
            owed: false,
        });
        rc
    }
}

/// The log file behind SQLite's file object.
///
/// # Safety
/// `file` was opened by [`open`] with [`WAL_METHODS`] and is not closed.
unsafe fn wal<'a>(file: *mut ffi::sqlite3_file) -> &'a mut WalFile {
    unsafe { &mut *file.cast::<WalFile>() }
}

impl WalFile {
    fn methods(&self) -> &ffi::sqlite3_io_methods {
        // SAFETY: the default VFS set its methods when it opened the file.
        unsafe { &*(*self.inner).pMethods }
    }

    /// Writes the gathered bytes; they are dropped even if that fails (the failure fails
    /// the transaction, whose frames SQLite then never uses).
    fn flush(&mut self) -> c_int {
        if self.buf.is_null() {
            return ffi::SQLITE_OK;
        }
        // SAFETY: `buf` came from `Box::into_raw` and is only used on this connection's thread.
        let buf = unsafe { &mut *self.buf };
        if buf.is_empty() {
            return ffi::SQLITE_OK;
        }
        FLUSHES.fetch_add(1, Ordering::Relaxed);
        let write = self.methods().xWrite.expect("files are writable");
        // SAFETY: the default VFS's write on its own object, with the bytes' length.
        let rc = unsafe {
            write(
                self.inner,
                buf.as_ptr().cast(),
                buf.len() as c_int,
                self.start,
            )
        };
        buf.clear();
        rc
    }

    /// Writes the gathered bytes and syncs the file (what was owed with it).
    fn sync_now(&mut self, flags: c_int) -> c_int {
        let rc = self.flush();
        if rc != ffi::SQLITE_OK {
            return rc;
        }
        let sync = self.methods().xSync.expect("the default VFS syncs");
        // SAFETY: the default VFS's sync on its own object.
        let rc = unsafe { sync(self.inner, flags) };
        if rc == ffi::SQLITE_OK {
            self.owed = false;
        }
        rc
    }

    fn gathered(&self) -> usize {
        // SAFETY: as in `flush`.
        if self.buf.is_null() {
            0
        } else {
            unsafe { (*self.buf).len() }
        }
    }
}

unsafe extern "C" fn write(
    file: *mut ffi::sqlite3_file,
    data: *const c_void,
    amount: c_int,
    offset: i64,
) -> c_int {
    // SAFETY: SQLite calls this on an open log file with `amount` readable bytes at `data`.
    unsafe {
        let w = wal(file);
        if !w.gather {
            let write = w.methods().xWrite.expect("files are writable");
            return write(w.inner, data, amount, offset);
        }
        let len = amount as usize;
        let gathered = w.gathered();
        let follows = gathered > 0 && offset == w.start + gathered as i64;
        if !(follows && gathered + len <= CAPACITY) {
            let rc = w.flush();
            if rc != ffi::SQLITE_OK {
                return rc;
            }
            if len > CAPACITY {
                let write = w.methods().xWrite.expect("files are writable");
                return write(w.inner, data, amount, offset);
            }
            w.start = offset;
        }
        if w.buf.is_null() {
            w.buf = Box::into_raw(Box::new(Vec::with_capacity(CAPACITY)));
        }
        (*w.buf).extend_from_slice(std::slice::from_raw_parts(data.cast::<u8>(), len));
        ffi::SQLITE_OK
    }
}

unsafe extern "C" fn close(file: *mut ffi::sqlite3_file) -> c_int {
    // SAFETY: SQLite closes an open log file once.
    unsafe {
        let w = wal(file);
        let flushed = w.flush();
        if !w.buf.is_null() {
            drop(Box::from_raw(w.buf));
            w.buf = std::ptr::null_mut();
        }
        let close = w.methods().xClose.expect("files close");
        let rc = close(w.inner);
        if flushed != ffi::SQLITE_OK {
            flushed
        } else {
            rc
        }
    }
}

/// Defines a log file method that writes the gathered bytes first, then calls the default
/// VFS's.
macro_rules! flushing {
    ($name:ident, $method:ident, ($($arg:ident: $ty:ty),*)) => {
        unsafe extern "C" fn $name(file: *mut ffi::sqlite3_file $(, $arg: $ty)*) -> c_int {
            // SAFETY: SQLite calls this on an open log file.
            unsafe {
                let w = wal(file);
                let rc = w.flush();
                if rc != ffi::SQLITE_OK {
                    return rc;
                }
                let method = w.methods().$method.expect("the default VFS has every method");
                method(w.inner $(, $arg)*)
            }
        }
    };
}

/// Defines a log file method that only calls the default VFS's.
macro_rules! passing {
    ($name:ident, $method:ident, ($($arg:ident: $ty:ty),*)) => {
        unsafe extern "C" fn $name(file: *mut ffi::sqlite3_file $(, $arg: $ty)*) -> c_int {
            // SAFETY: SQLite calls this on an open log file.
            unsafe {
                let w = wal(file);
                let method = w.methods().$method.expect("the default VFS has every method");
                method(w.inner $(, $arg)*)
            }
        }
    };
}

/// Writes the gathered bytes, then syncs the log, unless syncs are deferred
/// ([`defer_syncs`]).
unsafe extern "C" fn sync(file: *mut ffi::sqlite3_file, flags: c_int) -> c_int {
    // SAFETY: SQLite calls this on an open log file.
    let w = unsafe { wal(file) };
    if !w.defer {
        return w.sync_now(flags);
    }
    let rc = w.flush();
    if rc == ffi::SQLITE_OK {
        w.owed = true;
    }
    rc
}

/// Defines a log file method that does the sync owed, if any ([`defer_syncs`]), then writes
/// the gathered bytes and calls the default VFS's.
macro_rules! settling {
    ($name:ident, $method:ident, ($($arg:ident: $ty:ty),*)) => {
        unsafe extern "C" fn $name(file: *mut ffi::sqlite3_file $(, $arg: $ty)*) -> c_int {
            // SAFETY: SQLite calls this on an open log file.
            unsafe {
                let w = wal(file);
                if w.owed {
                    let rc = w.sync_now(ffi::SQLITE_SYNC_NORMAL);
                    if rc != ffi::SQLITE_OK {
                        return rc;
                    }
                }
                let rc = w.flush();
                if rc != ffi::SQLITE_OK {
                    return rc;
                }
                let method = w.methods().$method.expect("the default VFS has every method");
                method(w.inner $(, $arg)*)
            }
        }
    };
}

settling!(read, xRead, (data: *mut c_void, amount: c_int, offset: i64));
settling!(truncate, xTruncate, (size: i64));
flushing!(file_size, xFileSize, (size: *mut i64));
flushing!(file_control, xFileControl, (op: c_int, arg: *mut c_void));
passing!(lock, xLock, (level: c_int));
passing!(unlock, xUnlock, (level: c_int));
passing!(check_reserved_lock, xCheckReservedLock, (out: *mut c_int));
passing!(sector_size, xSectorSize, ());
passing!(device_characteristics, xDeviceCharacteristics, ());

#[cfg(test)]
mod tests {
    use rusqlite::{Connection, params};

    use super::*;
    use crate::messages::sqlite_writer::open as open_writer;
    use crate::messages::test_support::temp_db;

    /// A database in WAL mode with one table of blobs, made by a plain connection.
    fn blobs(tag: &str) -> std::path::PathBuf {
        let path = temp_db(&format!("wal-batch-{tag}"));
        let c = Connection::open(&path).unwrap();
        c.pragma_update(None, "journal_mode", "WAL").unwrap();
        c.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB NOT NULL)")
            .unwrap();
        path
    }

    /// Rows `ids` with a blob of 3,000 bytes each (about one page a row), in the
    /// connection's open transaction or each in its own.
    fn insert_rows(c: &Connection, ids: std::ops::Range<i64>) {
        for id in ids {
            c.execute(
                "INSERT INTO t (id, v) VALUES (?1, zeroblob(3000))",
                params![id],
            )
            .unwrap();
        }
    }

    /// Rows `ids` as [`insert_rows`], committed together.
    fn insert(c: &Connection, ids: std::ops::Range<i64>) {
        let tx = c.unchecked_transaction().unwrap();
        insert_rows(&tx, ids);
        tx.commit().unwrap();
    }

    /// The ids stored, as a plain connection reads them, after an integrity check.
    fn stored(path: &std::path::Path) -> Vec<i64> {
        let c = Connection::open(path).unwrap();
        let check: String = c
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok");
        let mut st = c
            .prepare("SELECT id FROM t WHERE length(v) = 3000 ORDER BY id")
            .unwrap();
        st.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    #[test]
    fn the_writer_syncs_every_commit_and_writes_no_page_before_it() {
        let path = blobs("pragmas");
        let w = open_writer(&path).unwrap();
        let sync: i64 = w
            .pragma_query_value(None, "synchronous", |r| r.get(0))
            .unwrap();
        let spill: i64 = w
            .pragma_query_value(None, "cache_spill", |r| r.get(0))
            .unwrap();
        assert_eq!((sync, spill), (2, 0));
    }

    #[test]
    fn a_commit_is_written_in_few_calls_and_others_read_it() {
        let path = blobs("commit");
        let w = open_writer(&path).unwrap();
        let before = flushes();
        insert(&w, 0..200);
        let calls = flushes() - before;
        let frames = std::fs::metadata(path.with_extension("sqlite-wal"))
            .unwrap()
            .len()
            / 4120;
        // 200 pages or more, 31 frames a call (other tests may add a few calls).
        assert!(frames >= 200, "{frames} frames");
        assert!(
            (7..=20).contains(&calls),
            "{calls} writes for {frames} frames"
        );
        assert_eq!(stored(&path), (0..200).collect::<Vec<_>>());
    }

    #[test]
    fn a_deferred_commit_is_read_by_others_and_its_sync_owed() {
        let path = blobs("deferred");
        let w = open_writer(&path).unwrap();
        insert(&w, 0..1);
        defer_syncs(&w, true);
        insert(&w, 1..20);
        assert!(defer_syncs(&w, false), "the commit's sync is owed");
        assert_eq!(stored(&path), (0..20).collect::<Vec<_>>());
        insert(&w, 20..30);
        assert!(!defer_syncs(&w, false), "synced at its commit");
    }

    #[test]
    fn a_checkpoint_while_syncs_are_deferred_syncs_the_log_before_copying_it() {
        let path = blobs("deferred-checkpoint");
        let w = open_writer(&path).unwrap();
        insert(&w, 0..1);
        defer_syncs(&w, true);
        insert(&w, 1..20);
        let (log, copied): (i64, i64) = w
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
                Ok((r.get(1)?, r.get(2)?))
            })
            .unwrap();
        assert!(
            copied > 0 && copied == log,
            "{copied} of {log} frames copied"
        );
        assert!(
            !defer_syncs(&w, false),
            "the sync owed was done before the copy"
        );
        assert_eq!(stored(&path), (0..20).collect::<Vec<_>>());
    }

    #[test]
    fn commits_interleave_with_other_connections_and_log_restarts() {
        let path = blobs("interleave");
        let w = open_writer(&path).unwrap();
        let other = Connection::open(&path).unwrap();
        insert(&w, 0..50);
        insert(&other, 50..60);
        insert(&w, 60..120);
        // Everything copied into the database and the log emptied: the next commit writes
        // the log's header again, at its start.
        other
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
                r.get::<_, i64>(0)
            })
            .unwrap();
        insert(&w, 120..130);
        insert(&other, 130..140);
        insert(&w, 140..150);
        assert_eq!(stored(&path), (0..150).collect::<Vec<_>>());
        drop(w);
        drop(other);
        assert_eq!(stored(&path), (0..150).collect::<Vec<_>>());
    }

    #[test]
    fn frames_written_before_the_commit_can_be_dropped() {
        let path = blobs("discard");
        register().unwrap();
        let flags = rusqlite::OpenFlags::default();
        // A connection through the VFS that writes pages before its commit, unlike the writer.
        let c = Connection::open_with_flags_and_vfs(&path, flags, NAME).unwrap();
        c.pragma_update(None, "synchronous", "FULL").unwrap();
        insert(&c, 0..10);
        let tx = c.unchecked_transaction().unwrap();
        // About 5 MB of pages, more than the page cache holds (2 MB): some go to the log.
        insert_rows(&tx, 10..1700);
        let gathered = gathered(&c);
        assert!(gathered > 0, "nothing gathered");
        // Dropped before the rollback, which would otherwise write them out (it reads the
        // log) while it still holds the write lock.
        assert_eq!(discard(&c), gathered);
        assert_eq!(discard(&c), 0);
        tx.rollback().unwrap();
        let other = Connection::open(&path).unwrap();
        insert(&other, 5000..7000);
        insert(&c, 8000..8010);
        let mut expected: Vec<i64> = (0..10).collect();
        expected.extend(5000..7000);
        expected.extend(8000..8010);
        assert_eq!(stored(&path), expected);
    }

    #[test]
    fn a_rolled_back_transaction_writes_nothing_over_others() {
        let path = blobs("rollback");
        let w = open_writer(&path).unwrap();
        insert(&w, 0..10);
        {
            let tx = w.unchecked_transaction().unwrap();
            // About 5 MB of pages, more than the page cache holds (2 MB).
            insert_rows(&tx, 10..1700);
            tx.rollback().unwrap();
        }
        // The other's frames take the places in the log that the rolled-back ones had.
        let other = Connection::open(&path).unwrap();
        insert(&other, 5000..7000);
        // The writer reads (through the log) and writes again after the other's commit.
        let n: i64 = w
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 2010);
        insert(&w, 8000..8010);
        let mut expected: Vec<i64> = (0..10).collect();
        expected.extend(5000..7000);
        expected.extend(8000..8010);
        assert_eq!(stored(&path), expected);
    }
}
