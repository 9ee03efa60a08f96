//! The outbox: a folder a gateway (the VANS client, the Digital Post client) picks files
//! up from. Files appear whole (temporary name, flush, rename, flush of the folder) under
//! names no two messages share; sending the same message again finds its file there and is
//! a no-op.

use super::{Outgoing, SendError, Transport};
use crate::support::files;
use std::path::PathBuf;

pub struct Outbox {
    dir: PathBuf,
}

impl Outbox {
    /// Also clears temporary files a killed `send` left, so the gateway never sees them.
    pub fn new(dir: PathBuf) -> Outbox {
        files::sweep_temporaries(&dir);
        Outbox { dir }
    }
}

impl Transport for Outbox {
    fn describe(&self) -> String {
        format!("outbox {}", self.dir.display())
    }

    fn kind(&self) -> &'static str {
        "outbox"
    }

    fn send(&mut self, m: &Outgoing<'_>) -> Result<(), SendError> {
        let path = self.dir.join(m.file_name());
        match std::fs::read(&path) {
            // Handed over before a crash, maybe not yet flushed: flush it now, since the
            // journal will say `sent`.
            Ok(existing) if existing == m.bytes => {
                return files::sync_existing(&path)
                    .map_err(|e| SendError::Transient(format!("cannot flush {}: {e}", path.display())))
            }
            Ok(_) => return Err(SendError::Permanent(format!("{} already holds a different message", path.display()))),
            Err(_) => {}
        }
        files::create_private_dir_durable(&self.dir)
            .and_then(|_| files::write_atomic(&path, m.bytes))
            .map_err(|e| SendError::Transient(format!("cannot write {}: {e}", path.display())))
    }
}
