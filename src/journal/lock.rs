//! The lock that serialises `send` on one SQLite journal.

use super::Journal;
use crate::error::{Error, Result};
use crate::support::files::beside;

/// Held while a `send` runs; released when dropped or when the process ends.
pub struct SendLock {
    _file: Option<std::fs::File>,
}

impl Journal {
    /// Serialises `send` on an SQLite journal: holds an exclusive lock (beside the journal)
    /// until dropped, so two `send` processes never hand over the same message. The lock goes
    /// with the process, also when it is killed. A second `send` waits for the first to finish.
    ///
    /// A PostgreSQL journal takes no such lock: `send` on several hosts runs at once, each
    /// hand-over claimed with a lease (`sending.rs`).
    pub(crate) fn lock_for_sending(&self) -> Result<SendLock> {
        use std::os::unix::fs::OpenOptionsExt;
        let Some(journal) = self.file() else {
            return Ok(SendLock { _file: None });
        };
        let path = beside(journal, ".send-lock");
        // Never through a link someone put beside the journal.
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        // Blocks until the other holder is done (flock on Unix).
        file.lock().map_err(|e| Error::io(&path, e))?;
        Ok(SendLock { _file: Some(file) })
    }
}
