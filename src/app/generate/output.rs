//! The output folder: `out_dir/<result_id>/` holds a copy of each result's current
//! messages (and the patient's PDF). The journal is the record; this folder mirrors it.

use super::Engine;
use crate::compose::{Addressee, Built, PDF_FILE_NAME};
use crate::error::{Error, Result};
use crate::journal::{MessageRow, Writer};
use crate::support::digest::sha256_hex;
use crate::support::files;
use std::path::{Path, PathBuf};

impl Engine {
    /// Copies built messages (and the PDF) into `out_dir/<result_id>/`.
    pub(crate) fn write_files<'b>(&self, result_id: &str, built: impl Iterator<Item = &'b Built>) -> Result<()> {
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
        files::write_dir_atomic(&dir, &files).map_err(|e| Error::io(&dir, e))
    }

    /// [`Engine::write_files`]' first half, for a batch round: the files written into the
    /// staging folder, to be flushed with the round's others by [`Engine::finish_files`].
    pub(super) fn stage_files<'b>(
        &self,
        result_id: &str,
        built: impl Iterator<Item = &'b Built>,
    ) -> Result<Option<files::StagedDir>> {
        let Some(dir) = self.result_dir(result_id) else { return Ok(None) };
        let mut list: Vec<(&str, &[u8])> = vec![];
        for b in built {
            list.push((b.kind.file_name(), &b.bytes));
            if let Some(pdf) = &b.pdf {
                list.push((PDF_FILE_NAME, pdf));
            }
        }
        if list.is_empty() {
            return Ok(None);
        }
        files::stage_dir(&dir, &list).map_err(|e| Error::io(&dir, e))
    }

    /// The round's staged folders flushed (concurrently) and put in place: one answer each.
    pub(super) fn finish_files(&self, staged: Vec<(PathBuf, files::StagedDir)>) -> Vec<Result<()>> {
        let (dirs, staged): (Vec<PathBuf>, Vec<files::StagedDir>) = staged.into_iter().unzip();
        files::finish_staged(staged).into_iter().zip(dirs).map(|(r, dir)| r.map_err(|e| Error::io(&dir, e))).collect()
    }

    /// Flushes the output folder itself, so the result folders renamed into it during a
    /// round are on disk before the round's summaries say they exist (one flush per round).
    pub(crate) fn sync_out_dir(&self) -> Result<()> {
        match &self.out_dir {
            Some(dir) if dir.is_dir() => files::sync_dir(dir).map_err(|e| Error::io(dir, e)),
            _ => Ok(()),
        }
    }
}

/// Rewrites output files that are missing or differ from the journal's bytes.
pub(crate) fn heal_files(w: &Writer<'_>, dir: &Path, current: &[&MessageRow]) -> Result<()> {
    // Checked before reading too: a link would show someone else's files as ours.
    let exists = files::real_dir(dir).map_err(|e| Error::io(dir, e))?;
    if !exists {
        files::create_private_dir_durable(dir).map_err(|e| Error::io(dir, e))?;
    }
    for m in current {
        if m.pruned_at.is_some() {
            continue; // retention removed its bytes (a final letter): nothing to put back
        }
        let path = dir.join(m.kind.file_name());
        // No length: the bytes row is damaged, which `verified_bytes` below reports.
        let same = match w.stored_len(m.id)? {
            Some(len) => holds(&path, len, |b| sha256_hex(b) == m.sha256)?,
            None => false,
        };
        let patient = m.kind.addressee() == Addressee::Patient;
        if same && !patient {
            continue;
        }
        let bytes = match w.verified_bytes(m) {
            Ok(b) => b,
            Err(Error::Damaged(reason)) => {
                w.fail_damaged(m.id, &reason)?;
                return Err(Error::Damaged(format!("{reason}; not restored to {}", dir.display())));
            }
            Err(e) => return Err(e),
        };
        let mut files: Vec<(&str, Vec<u8>)> = vec![];
        if !same {
            files.push((m.kind.file_name(), bytes.clone()));
        }
        if patient {
            if let Some(pdf) = m.kind.wire().pdf_in(&bytes) {
                if !holds(&dir.join(PDF_FILE_NAME), pdf.len() as u64, |b| b == &pdf[..])? {
                    files.push((PDF_FILE_NAME, pdf));
                }
            }
        }
        for (name, bytes) in files {
            files::replace_in_dir(dir, name, &bytes).map_err(|e| Error::io(dir.join(name), e))?;
        }
    }
    Ok(())
}

/// Whether the output file at `path` holds `len` bytes that pass `check`. Absent or of
/// another size: false, and it is replaced without being read (a huge file would take as
/// much memory). A FIFO (which would block the read forever), device, folder or symbolic
/// link (never read through) is an error naming it: none of them is a copy flspost made.
fn holds(path: &Path, len: u64, check: impl FnOnce(&[u8]) -> bool) -> Result<bool> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let file = match std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK).open(path)
    {
        Ok(f) => f,
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            return Err(Error::io(
                path,
                std::io::Error::other("is a symbolic link; flspost does not read through links"),
            ))
        }
        // Absent, or unreadable: replaced by the rename that follows.
        Err(_) => return Ok(false),
    };
    let meta = file.metadata().map_err(|e| Error::io(path, e))?;
    if !meta.is_file() {
        return Err(Error::io(
            path,
            std::io::Error::other(
                "is not a regular file (a FIFO, device or folder); flspost neither reads nor replaces it",
            ),
        ));
    }
    if meta.len() != len {
        return Ok(false);
    }
    let mut bytes = Vec::with_capacity(len as usize);
    // Bounded even if the file grows meanwhile.
    file.take(len + 1).read_to_end(&mut bytes).map_err(|e| Error::io(path, e))?;
    Ok(bytes.len() as u64 == len && check(&bytes))
}

/// The letter a patient message flspost wrote carries (MeMo, or kombi's MeMo part).
pub(crate) fn read_patient_letter(bytes: &[u8]) -> Result<crate::formats::memo::write::MainDocument> {
    crate::formats::memo::write::read_main_document(bytes)
        .map_err(|e| crate::error::Error::Internal(format!("the patient's letter cannot be read back: {e}")))
}
