//! The output folder: `out_dir/<result_id>/` holds a copy of each result's current
//! messages (and the patient's PDF). The journal is the record; this folder mirrors it.

use super::Engine;
use crate::compose::{Built, Kind, PDF_FILE_NAME};
use crate::error::{Error, Result};
use crate::journal::MessageRow;
use crate::{fsutil, sha256_hex};
use base64::Engine as _;
use std::path::Path;

impl Engine {
    /// Copies built messages (and the PDF) into `out_dir/<result_id>/`.
    pub(super) fn write_files<'b>(&self, result_id: &str, built: impl Iterator<Item = &'b Built>) -> Result<()> {
        let Some(dir) = self.result_dir(result_id) else { return Ok(()) };
        let mut files: Vec<(&str, &[u8])> = vec![];
        for b in built {
            files.push((b.kind.file_name(), &b.bytes));
            if let Some(pdf) = &b.pdf {
                files.push((PDF_FILE_NAME, pdf));
            }
        }
        if files.is_empty() {
            return Ok(());
        }
        fsutil::write_dir_atomic(&dir, &files).map_err(|e| Error::io(&dir, e))
    }

    /// Flushes the output folder itself, so the result folders renamed into it during a
    /// round are on disk before the round's summaries say they exist (one flush per round).
    pub(super) fn sync_out_dir(&self) -> Result<()> {
        match &self.out_dir {
            Some(dir) if dir.is_dir() => fsutil::sync_dir(dir).map_err(|e| Error::io(dir, e)),
            _ => Ok(()),
        }
    }
}

/// The PDF inside a MeMo message (for rewriting output files from the journal).
fn pdf_of_memo(memo: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(memo).ok()?;
    let start = text.find("<memo:content>")? + "<memo:content>".len();
    let end = start + text[start..].find("</memo:content>")?;
    base64::engine::general_purpose::STANDARD.decode(text[start..end].trim()).ok()
}

/// Rewrites output files that are missing or differ from the journal's bytes.
pub(super) fn heal_files(conn: &rusqlite::Connection, dir: &Path, current: &[&MessageRow]) -> Result<()> {
    for m in current {
        let path = dir.join(m.kind.file_name());
        let same = std::fs::read(&path).is_ok_and(|b| sha256_hex(&b) == m.sha256);
        let bytes: Vec<u8> = if same && m.kind != Kind::PatientMemo {
            continue;
        } else {
            conn.query_row("SELECT bytes FROM message_bytes WHERE message_id = ?1", [m.id], |r| r.get(0))?
        };
        let mut files: Vec<(&str, Vec<u8>)> = vec![];
        if !same {
            files.push((m.kind.file_name(), bytes.clone()));
        }
        if m.kind == Kind::PatientMemo {
            if let Some(pdf) = pdf_of_memo(&bytes) {
                if std::fs::read(dir.join(PDF_FILE_NAME)).ok().as_deref() != Some(&pdf[..]) {
                    files.push((PDF_FILE_NAME, pdf));
                }
            }
        }
        for (name, bytes) in files {
            fsutil::create_private_dir_durable(dir).map_err(|e| Error::io(dir, e))?;
            fsutil::replace_in_dir(dir, name, &bytes).map_err(|e| Error::io(dir.join(name), e))?;
        }
    }
    Ok(())
}
