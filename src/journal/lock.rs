//! The lock that serialises `send`.

use super::Journal;
use crate::error::{Error, Result};
use crate::support::files::beside;

/// Held while a `send` runs; released when dropped or when the process ends.
pub struct SendLock {
    _file: std::fs::File,
}

impl Journal {
    /// Serialises `send`: holds an exclusive lock (beside the journal) until dropped, so two
    /// `send` processes never hand over the same message. The lock goes with the process,
    /// also when it is killed. A second `send` waits for the first to finish.
    pub(crate) fn lock_for_sending(&self) -> Result<SendLock> {
        use std::os::unix::fs::OpenOptionsExt;
        let path = beside(self.path(), ".send-lock");
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
        Ok(SendLock { _file: file })
    }
}
