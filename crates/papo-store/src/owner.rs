//! One `papo serve` per SQLite database.
//!
//! On SQLite one process owns the messages: its writer thread is the only one to store them,
//! and it remembers the recent nonces itself (`messages::recent_nonces`). A second server on
//! the same file would keep its own, so a retried send could be stored twice, and neither
//! would see the other's sessions. So a server claims the file first, with an exclusive
//! `flock` on a file beside it that the kernel releases when the process ends, however it
//! ends. PostgreSQL needs no claim: a cluster's nodes share it through its own constraints.

use std::fs::{File, OpenOptions};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use sqlx::sqlite::SqliteConnectOptions;

/// Why the database could not be claimed.
#[derive(Debug, thiserror::Error)]
pub enum ClaimError {
    /// Another process holds it.
    #[error(
        "another papo server is using the SQLite database {0}: stop it first, or give this one \
         its own data directory"
    )]
    Taken(PathBuf),
    /// The lock file could not be opened or locked.
    #[error("claiming the SQLite database {0}: {1}")]
    Io(PathBuf, std::io::Error),
    /// The URL is not a SQLite URL sqlx understands.
    #[error(transparent)]
    Url(#[from] sqlx::Error),
}

/// The claim on a SQLite database: held until dropped (or the process ends).
#[derive(Debug)]
pub struct Claim {
    _file: File,
}

/// Claims the SQLite database at `url` for this process; `Ok(None)` for PostgreSQL.
pub fn claim(url: &str) -> Result<Option<Claim>, ClaimError> {
    if url.starts_with("postgres") {
        return Ok(None);
    }
    let opts = SqliteConnectOptions::from_str(url)?;
    claim_file(opts.get_filename()).map(Some)
}

fn claim_file(db: &Path) -> Result<Claim, ClaimError> {
    let mut name = db.as_os_str().to_owned();
    name.push(".owner");
    let path = PathBuf::from(name);
    if let Some(parent) = path.parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent).map_err(|e| ClaimError::Io(path.clone(), e))?;
    }
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| ClaimError::Io(path.clone(), e))?;
    // SAFETY: `file` is open for the whole call; flock only reads the descriptor.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        let err = std::io::Error::last_os_error();
        return Err(if err.kind() == std::io::ErrorKind::WouldBlock {
            ClaimError::Taken(db.to_owned())
        } else {
            ClaimError::Io(path, err)
        });
    }
    Ok(Claim { _file: file })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_is_claimed_by_one_owner_at_a_time() {
        let dir = std::env::temp_dir().join(format!("papo-claim-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let url = format!("sqlite://{}", dir.join("papo.db").display());
        let first = claim(&url).unwrap().expect("a SQLite claim");
        let err = claim(&url).unwrap_err();
        assert!(matches!(err, ClaimError::Taken(_)), "{err}");
        assert!(err.to_string().contains("another papo server"));
        drop(first);
        assert!(claim(&url).unwrap().is_some(), "free again once dropped");
        assert!(claim("postgres://localhost/test").unwrap().is_none());
    }
}
