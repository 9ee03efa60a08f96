//! Input documents, streamed: a JSON file is one document; a JSON Lines file (`.jsonl`,
//! `.ndjson`, or any input with `--jsonl`) is one document per line, read a chunk at a time
//! so memory stays flat however long the file is.

use crate::error::Result;
use crate::generate::Source;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// How many documents are checked and built together. Large enough to keep every core
/// busy, small enough that memory does not grow with the input.
pub const CHUNK: usize = 256;

/// Reads documents from several inputs in order.
pub struct Inputs {
    paths: Vec<PathBuf>,
    force_lines: bool,
    current: Option<Current>,
}

struct Current {
    origin: String,
    reader: Box<dyn BufRead>,
    line: u64,
    /// A whole-file document (not JSON Lines).
    whole: bool,
}

pub fn is_jsonl(path: &Path) -> bool {
    matches!(path.extension().and_then(|e| e.to_str()), Some("jsonl" | "ndjson"))
}

impl Inputs {
    pub fn new(paths: Vec<PathBuf>, force_lines: bool) -> Inputs {
        Inputs { paths: paths.into_iter().rev().collect(), force_lines, current: None }
    }

    /// Opens the next input; `Err` is a file that cannot be opened, as the document
    /// standing for it (it fails alone, the other inputs are still read).
    fn open_next(&mut self) -> Option<std::result::Result<(), Source>> {
        let path = self.paths.pop()?;
        let origin = path.display().to_string();
        let reader: Box<dyn BufRead> = if path == Path::new("-") {
            Box::new(BufReader::with_capacity(1 << 16, io::stdin()))
        } else {
            match File::open(&path) {
                Ok(f) => Box::new(BufReader::with_capacity(1 << 16, f)),
                Err(e) => return Some(Err(unreadable(origin, None, &e))),
            }
        };
        let whole = !(self.force_lines || is_jsonl(&path));
        self.current = Some(Current { origin, reader, line: 0, whole });
        Some(Ok(()))
    }

    /// The next chunk of up to `max` documents; empty when all inputs are read.
    pub fn next_chunk(&mut self, max: usize) -> Result<Vec<Source>> {
        let mut out = vec![];
        while out.len() < max {
            if self.current.is_none() {
                match self.open_next() {
                    None => break,
                    Some(Err(unopened)) => {
                        out.push(unopened);
                        continue;
                    }
                    Some(Ok(())) => {}
                }
            }
            let cur = self.current.as_mut().expect("opened above");
            if cur.whole {
                let mut bytes = vec![];
                out.push(match cur.reader.read_to_end(&mut bytes) {
                    Ok(_) => source(cur.origin.clone(), None, bytes),
                    Err(e) => unreadable(cur.origin.clone(), None, &e),
                });
                self.current = None;
                continue;
            }
            let mut bytes = vec![];
            let n = match cur.reader.read_until(b'\n', &mut bytes) {
                Ok(n) => n,
                // The rest of this file is lost to the error; the next file is read.
                Err(e) => {
                    out.push(unreadable(format!("{}:{}", cur.origin, cur.line + 1), Some(cur.line + 1), &e));
                    self.current = None;
                    continue;
                }
            };
            if n == 0 {
                self.current = None;
                continue;
            }
            cur.line += 1;
            if is_document_line(&bytes) {
                out.push(source(format!("{}:{}", cur.origin, cur.line), Some(cur.line), bytes));
            }
        }
        Ok(out)
    }
}

fn source(origin: String, line: Option<u64>, bytes: Vec<u8>) -> Source {
    match String::from_utf8(bytes) {
        Ok(text) => Source { origin, line, text, utf8_error: false, read_error: None },
        Err(_) => Source { origin, line, text: String::new(), utf8_error: true, read_error: None },
    }
}

fn unreadable(origin: String, line: Option<u64>, e: &io::Error) -> Source {
    Source { origin, line, text: String::new(), utf8_error: false, read_error: Some(e.to_string()) }
}

/// Blank lines (a trailing newline) are not documents; a line that is not UTF-8 is one
/// (it fails with a clear error).
fn is_document_line(bytes: &[u8]) -> bool {
    std::str::from_utf8(bytes).map_or(true, |t| !t.trim().is_empty())
}

/// How many documents the inputs hold, for a progress bar's ETA: one pass counting lines
/// by the same rule as [`Inputs`]. `None` for standard input, which cannot be read twice.
pub fn count_documents(paths: &[PathBuf], force_lines: bool) -> Option<u64> {
    let mut total = 0;
    for p in paths {
        if p == Path::new("-") {
            return None;
        }
        if !(force_lines || is_jsonl(p)) {
            total += 1;
            continue;
        }
        let mut reader = BufReader::with_capacity(1 << 16, File::open(p).ok()?);
        let mut line = Vec::new();
        while reader.read_until(b'\n', &mut line).ok()? > 0 {
            total += u64::from(is_document_line(&line));
            line.clear();
        }
    }
    Some(total)
}
