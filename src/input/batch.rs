//! Input documents, streamed: a JSON file is one document; a JSON Lines file (`.jsonl`,
//! `.ndjson`, or any input with `--jsonl`) is one document per line, read a chunk at a time
//! so memory stays flat however long the file is.
//!
//! Work is bounded whatever the input: a document (a file, or one line) longer than
//! [`MAX_DOCUMENT_BYTES`] is refused without being kept in memory; a line that has not ended
//! [`MAX_SKIP_BYTES`] further on (`/dev/zero`) ends the reading of that input.

use crate::error::Result;
use crate::input::InputError;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// One input document and where it came from.
#[derive(Clone, Debug)]
pub struct Source {
    /// `path` or `path:line` (or `-` for standard input), for messages.
    pub origin: String,
    pub line: Option<u64>,
    pub text: String,
    /// Refused as read (not UTF-8, too long); `text` is then empty.
    pub refused: Option<InputError>,
    /// The file could not be read (absent, a folder...): this document fails alone, exit 1,
    /// and the batch goes on (`text` is then empty).
    pub read_error: Option<String>,
}

/// How many documents are checked and built together. Large enough to keep every core
/// busy, small enough that memory does not grow with the input.
pub const CHUNK: usize = 256;

/// The largest document (a JSON file, or one JSON Lines line without its line end): 1 MiB,
/// some 300 times a real result, far below what would strain memory with a round in flight.
pub(crate) const MAX_DOCUMENT_BYTES: usize = 1 << 20;

/// How far past [`MAX_DOCUMENT_BYTES`] an over-long line is skipped looking for its end
/// before the rest of that input is given up.
pub(crate) const MAX_SKIP_BYTES: u64 = 64 << 20;

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

    /// The documents of one stream already open (a request's body), by the same rules as a
    /// file: one document, or one per line; `origin` names it as a path would.
    pub fn from_reader(origin: String, reader: Box<dyn BufRead>, lines: bool) -> Inputs {
        Inputs { paths: vec![], force_lines: lines, current: Some(Current { origin, reader, line: 0, whole: !lines }) }
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
                let limit = MAX_DOCUMENT_BYTES as u64 + 1;
                out.push(match (&mut cur.reader).take(limit).read_to_end(&mut bytes) {
                    Err(e) => unreadable(cur.origin.clone(), None, &e),
                    Ok(_) if bytes.len() > MAX_DOCUMENT_BYTES => {
                        refused(cur.origin.clone(), None, format!("document longer than {}", limit_text()))
                    }
                    Ok(_) => source(cur.origin.clone(), None, bytes),
                });
                self.current = None;
                continue;
            }
            let mut bytes = vec![];
            let read = match read_line_capped(&mut cur.reader, &mut bytes) {
                Ok(read) => read,
                // The rest of this file is lost to the error; the next file is read.
                Err(e) => {
                    out.push(unreadable(format!("{}:{}", cur.origin, cur.line + 1), Some(cur.line + 1), &e));
                    self.current = None;
                    continue;
                }
            };
            cur.line += 1;
            let origin = format!("{}:{}", cur.origin, cur.line);
            match read {
                Line::End => self.current = None,
                Line::Whole if is_document_line(&bytes) => out.push(source(origin, Some(cur.line), bytes)),
                Line::Whole => {}
                Line::TooLong => {
                    out.push(refused(origin, Some(cur.line), format!("line longer than {}", limit_text())))
                }
                Line::Endless => {
                    let reason = format!(
                        "line longer than {}, with no line end in the next {} MiB: the rest of {} is not read",
                        limit_text(),
                        MAX_SKIP_BYTES >> 20,
                        cur.origin
                    );
                    out.push(refused(origin, Some(cur.line), reason));
                    self.current = None;
                }
            }
        }
        Ok(out)
    }
}

/// How the limit reads in an error: `1 MiB (1048576 bytes), the limit for one result`.
pub(crate) fn limit_text() -> String {
    format!("{} MiB ({MAX_DOCUMENT_BYTES} bytes), the limit for one result", MAX_DOCUMENT_BYTES >> 20)
}

/// One whole document from a file (or `-`, standard input), as `regenerate --input` reads a
/// corrected input: refused when longer than [`MAX_DOCUMENT_BYTES`] or not UTF-8 text.
pub fn read_document(path: &Path) -> Result<String> {
    let bytes = crate::support::files::read_input(path, MAX_DOCUMENT_BYTES as u64 + 1)
        .map_err(|e| crate::error::Error::io(path, e))?;
    if bytes.len() > MAX_DOCUMENT_BYTES {
        return Err(crate::error::Error::Usage(format!("{}: document longer than {}", path.display(), limit_text())));
    }
    String::from_utf8(bytes).map_err(|_| crate::error::Error::Usage(format!("{}: not UTF-8 text", path.display())))
}

/// What [`read_line_capped`] found.
#[derive(Debug, PartialEq, Eq)]
enum Line {
    /// No more input.
    End,
    /// A line of at most [`MAX_DOCUMENT_BYTES`] (plus its line end, `\n` or `\r\n`), in the buffer.
    Whole,
    /// A longer line, skipped to its end; the buffer holds its start only.
    TooLong,
    /// A longer line without an end within [`MAX_SKIP_BYTES`].
    Endless,
}

/// Reads one line, keeping at most [`MAX_DOCUMENT_BYTES`] + 2 bytes of it.
fn read_line_capped(reader: &mut dyn BufRead, line: &mut Vec<u8>) -> io::Result<Line> {
    let mut skipped: u64 = 0;
    let mut any = false;
    loop {
        let available = match reader.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            return Ok(if !any {
                Line::End
            } else if skipped == 0 && line.len() <= MAX_DOCUMENT_BYTES {
                Line::Whole
            } else {
                Line::TooLong
            });
        }
        any = true;
        let (take, ended) = match available.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (available.len(), false),
        };
        // Room for the limit and a line end (`\r\n`), which is not content.
        let room = (MAX_DOCUMENT_BYTES + 2).saturating_sub(line.len());
        let keep = take.min(room);
        line.extend_from_slice(&available[..keep]);
        skipped += (take - keep) as u64;
        reader.consume(take);
        if ended {
            let content = line.strip_suffix(b"\n").map_or(&line[..], |l| l.strip_suffix(b"\r").unwrap_or(l));
            return Ok(if skipped == 0 && content.len() <= MAX_DOCUMENT_BYTES { Line::Whole } else { Line::TooLong });
        }
        if skipped > MAX_SKIP_BYTES {
            return Ok(Line::Endless);
        }
    }
}

fn source(origin: String, line: Option<u64>, bytes: Vec<u8>) -> Source {
    match String::from_utf8(bytes) {
        Ok(text) => Source { origin, line, text, refused: None, read_error: None },
        Err(_) => Source {
            origin,
            line,
            text: String::new(),
            refused: Some(InputError::new("input", "is not UTF-8 text (the contract is UTF-8 JSON)")),
            read_error: None,
        },
    }
}

fn refused(origin: String, line: Option<u64>, reason: String) -> Source {
    Source { origin, line, text: String::new(), refused: Some(InputError::new("input", reason)), read_error: None }
}

/// A document that could not be read at all (a missing file, a folder, an I/O error): the
/// environment's failure, not the caller's input.
fn unreadable(origin: String, line: Option<u64>, e: &io::Error) -> Source {
    Source { origin, line, text: String::new(), refused: None, read_error: Some(e.to_string()) }
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
        loop {
            match read_line_capped(&mut reader, &mut line).ok()? {
                Line::End => break,
                Line::Whole => total += u64::from(is_document_line(&line)),
                Line::TooLong => total += 1,
                Line::Endless => {
                    total += 1;
                    break;
                }
            }
            line.clear();
        }
    }
    Some(total)
}
