//! Which wire format each GP's copy travels in.
//!
//! Senders learn what a receiver accepts from SOR-EDI. The config names a receiver table (a
//! CSV export of it: EAN, SOR, accepted formats) and a default for GPs not in it. A GP that
//! accepts CareCommunication gets it (MedCom's FHIR correspondence, replacing XDIS91 as
//! receivers move); one that accepts only XDIS91 gets XDIS91.
//!
//! The table's columns are found by their header, in any order and case: `ean` (or `gln`),
//! `sor` (or `sor_id`, `sorkode`, `sor-kode`), `formats` (or `format`). Other columns are ignored, as
//! are format names flspost does not send (an export lists every EDI type a receiver has).
//! The delimiter is `;`, `,` or a tab, whichever the header uses. Formats in one cell are
//! separated by spaces, `|`, `,` or `;` (in a quoted cell). Names: `XDIS91`, and
//! `CareCommunication` (also `FDIS91`, its VANS document name).

use crate::error::{Error, Result};
use crate::model::identifiers::{Gln, Sor};
use crate::model::{Gp, GpFormat};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The csv crate's reason without its own position (flspost gives the line).
fn csv_reason(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Io(e) => e.to_string(),
        csv::ErrorKind::Utf8 { err, .. } => format!("not UTF-8 text ({err})"),
        _ => e.to_string(),
    }
}

/// One receiver as the table lists it.
#[derive(Clone, Debug)]
pub struct Receiver {
    pub sor: Option<Sor>,
    /// The formats flspost sends that it accepts (maybe none).
    pub formats: Vec<GpFormat>,
    /// Its line in the file, for messages.
    pub line: u64,
}

/// A receiver table, by EAN.
#[derive(Clone, Debug, Default)]
pub(crate) struct ReceiverTable {
    pub path: PathBuf,
    by_ean: HashMap<String, Receiver>,
}

/// A table bigger than this is not an export of SOR-EDI (~3,000 GP practices).
const MAX_TABLE_BYTES: u64 = 64 << 20;

/// Header names of each column flspost reads (compared without case).
const EAN_NAMES: &[&str] = &["ean", "gln", "ean/gln", "ean-nummer", "lokationsnummer"];
const SOR_NAMES: &[&str] =
    &["sor", "sor_id", "sor-id", "sor id", "sorid", "sorkode", "sor-kode", "sor_kode", "sor kode"];
const FORMATS_NAMES: &[&str] = &["formats", "format", "accepted_formats", "accepted formats"];

impl ReceiverTable {
    /// Reads and checks the table at `path` (a regular file, not a link): every error names
    /// the line and column.
    pub fn load(path: &Path) -> Result<ReceiverTable> {
        let bytes = crate::support::files::read_regular_file(path, MAX_TABLE_BYTES).map_err(|e| Error::Config {
            path: path.to_path_buf(),
            reason: match e {
                crate::support::files::NotRead::TooLong => {
                    format!("receiver table is larger than {} MiB", MAX_TABLE_BYTES >> 20)
                }
                e => format!("receiver table {e}"),
            },
        })?;
        ReceiverTable::parse(path, &bytes)
    }

    /// Parses a table read from `path`. Only the columns flspost reads must be UTF-8 (they
    /// hold digits and format names), so an export in Windows-1252 with Danish practice
    /// names in another column reads as well.
    pub fn parse(path: &Path, bytes: &[u8]) -> Result<ReceiverTable> {
        let at = |line: usize, column: usize, message: String| Error::ConfigSyntax {
            path: path.to_path_buf(),
            line,
            column,
            message,
        };
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let header_line = bytes.split(|b| *b == b'\n').next().unwrap_or(b"");
        let delimiter = [b';', b'\t', b',']
            .into_iter()
            .max_by_key(|d| header_line.iter().filter(|b| *b == d).count())
            .expect("three candidates");
        // Where a record or field starts, as an editor counts: line from the byte offset
        // (the csv crate counts records, not lines, across blank lines and CRLF), column by
        // characters up to the field (unquoted lines; a quoted one is pointed at its start).
        let line_of = |offset: usize| bytes[..offset.min(bytes.len())].iter().filter(|b| **b == b'\n').count() + 1;
        let column_of = |offset: usize, field: usize| {
            let line = &bytes[offset.min(bytes.len())..];
            let line = &line[..line.iter().position(|b| *b == b'\n').unwrap_or(line.len())];
            if line.contains(&b'"') {
                return 1;
            }
            let start: usize = line.split(|b| *b == delimiter).take(field).map(|f| f.len() + 1).sum();
            String::from_utf8_lossy(&line[..start.min(line.len())]).chars().count() + 1
        };
        let mut reader = csv::ReaderBuilder::new().delimiter(delimiter).flexible(true).from_reader(bytes);
        let headers: Vec<String> = reader
            .byte_headers()
            .map_err(|e| at(1, 1, format!("receiver table header: {}", csv_reason(&e))))?
            .iter()
            .map(|h| String::from_utf8_lossy(h).trim().to_string())
            .collect();
        let column = |names: &[&str]| headers.iter().position(|h| names.iter().any(|n| h.eq_ignore_ascii_case(n)));
        let missing = |names: &[&str]| {
            at(1, 1, format!("receiver table header names no `{}` column (nor {})", names[0], names[1..].join(", ")))
        };
        let ean_col = column(EAN_NAMES).ok_or_else(|| missing(EAN_NAMES))?;
        let sor_col = column(SOR_NAMES);
        let formats_col = column(FORMATS_NAMES).ok_or_else(|| missing(FORMATS_NAMES))?;
        let mut by_ean: HashMap<String, Receiver> = HashMap::new();
        let mut record = csv::ByteRecord::new();
        loop {
            let more = reader.read_byte_record(&mut record).map_err(|e| {
                let offset = e.position().map_or(0, |p| p.byte() as usize);
                at(line_of(offset), 1, format!("receiver table: {}", csv_reason(&e)))
            })?;
            if !more {
                break;
            }
            // With CRLF the crate starts a record at the `\n` that ends the line before.
            let mut offset = record.position().map_or(0, |p| p.byte() as usize);
            while bytes.get(offset).is_some_and(|b| *b == b'\r' || *b == b'\n') {
                offset += 1;
            }
            let line = line_of(offset);
            if record.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) {
                continue;
            }
            if record.len() > headers.len() {
                return Err(at(
                    line,
                    1,
                    format!(
                        "{} fields where the header has {}: a format list with `{}` in it must be quoted",
                        record.len(),
                        headers.len(),
                        delimiter as char
                    ),
                ));
            }
            let cell = |i: usize| -> Result<&str> {
                let raw = record.get(i).unwrap_or(b"");
                std::str::from_utf8(raw)
                    .map(str::trim)
                    .map_err(|_| at(line, column_of(offset, i), format!("{} is not UTF-8 text", headers[i])))
            };
            let ean_text = cell(ean_col)?;
            let ean = Gln::parse(ean_text)
                .map_err(|e| at(line, column_of(offset, ean_col), format!("ean `{ean_text}`: {e}")))?;
            let sor = match sor_col {
                Some(c) if !cell(c)?.is_empty() => {
                    let text = cell(c)?;
                    Some(Sor::parse(text).map_err(|e| at(line, column_of(offset, c), format!("sor `{text}`: {e}")))?)
                }
                _ => None,
            };
            let mut formats = vec![];
            for name in cell(formats_col)?.split(|c: char| c.is_whitespace() || matches!(c, '|' | ',' | ';')) {
                if let Some(f) = GpFormat::from_name(name).filter(|f| !formats.contains(f)) {
                    formats.push(f);
                }
            }
            if let Some(earlier) = by_ean.get(ean.as_str()) {
                return Err(at(
                    line,
                    column_of(offset, ean_col),
                    format!(
                        "EAN {} is listed twice (line {} too): which formats it takes is unclear",
                        ean.as_str(),
                        earlier.line
                    ),
                ));
            }
            by_ean.insert(ean.as_str().to_string(), Receiver { sor, formats, line: line as u64 });
        }
        Ok(ReceiverTable { path: path.to_path_buf(), by_ean })
    }

    pub fn get(&self, ean: &str) -> Option<&Receiver> {
        self.by_ean.get(ean)
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.by_ean.len()
    }
}

/// The routing rule: a receiver table (optional) and the format for GPs not in it.
#[derive(Clone, Debug)]
pub(crate) struct GpRouting {
    pub table: Option<ReceiverTable>,
    pub default: GpFormat,
}

impl Default for GpRouting {
    /// Without a table every GP gets XDIS91, as before CareCommunication.
    fn default() -> Self {
        GpRouting { table: None, default: GpFormat::Xdis91 }
    }
}

/// What the routing decided for one GP.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Route {
    pub format: GpFormat,
    /// The practice's SOR id from the table, for an input that gives none.
    pub table_sor: Option<Sor>,
}

impl GpRouting {
    /// The format for `gp`. `Err` when the table lists the GP with no format flspost sends
    /// (the reason names the table and line).
    pub fn route(&self, gp: &Gp) -> std::result::Result<Route, String> {
        let Some((table, receiver)) = self.table.as_ref().and_then(|t| t.get(gp.ean.as_str()).map(|r| (t, r))) else {
            return Ok(Route { format: self.default, table_sor: None });
        };
        let format = if receiver.formats.contains(&GpFormat::CareCommunication) {
            GpFormat::CareCommunication
        } else if receiver.formats.contains(&GpFormat::Xdis91) {
            GpFormat::Xdis91
        } else {
            return Err(format!(
                "the receiver table {}:{} lists this GP with neither XDIS91 nor CareCommunication: \
                 it cannot receive the letter",
                table.path.display(),
                receiver.line
            ));
        };
        Ok(Route { format, table_sor: receiver.sor.clone() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::identifiers::OrgIdentifier;

    fn gp(ean: &str) -> Gp {
        Gp {
            ean: Gln::parse(ean).unwrap(),
            identifier: OrgIdentifier::parse("ydernummer", "012345", &["ydernummer"]).unwrap(),
            name: None,
            address: None,
            sor_id: None,
        }
    }

    const FHIR_GP: &str = "5790000123452";
    const XDIS_GP: &str = "5790000201747";

    fn table(text: &str) -> Result<ReceiverTable> {
        ReceiverTable::parse(Path::new("receivers.csv"), text.as_bytes())
    }

    #[test]
    fn a_gp_that_accepts_carecommunication_gets_it_others_xdis91_or_the_default() {
        let t = table(&format!(
            "\u{feff}Navn;EAN;SOR;Formats\nLægerne A;{FHIR_GP};123456789012;XDIS91 FDIS91 XREF14\nLægerne B;{XDIS_GP};;xdis91\n"
        ))
        .unwrap();
        assert_eq!(t.len(), 2);
        let routing = GpRouting { table: Some(t), default: GpFormat::Xdis91 };
        let r = routing.route(&gp(FHIR_GP)).unwrap();
        assert_eq!(r.format, GpFormat::CareCommunication);
        assert_eq!(r.table_sor.unwrap().as_str(), "123456789012");
        assert_eq!(routing.route(&gp(XDIS_GP)).unwrap(), Route { format: GpFormat::Xdis91, table_sor: None });
        let other = "5790000000012";
        Gln::parse(other).unwrap();
        assert_eq!(routing.route(&gp(other)).unwrap().format, GpFormat::Xdis91);
        let routing = GpRouting { default: GpFormat::CareCommunication, ..routing };
        assert_eq!(routing.route(&gp(other)).unwrap().format, GpFormat::CareCommunication);
    }

    #[test]
    fn comma_files_quoted_lists_and_any_column_order() {
        let t = table(&format!("formats,gln\n\"CareCommunication, XDIS91\",{FHIR_GP}\n\n")).unwrap();
        assert_eq!(t.get(FHIR_GP).unwrap().formats, vec![GpFormat::CareCommunication, GpFormat::Xdis91]);
    }

    #[test]
    fn a_gp_listed_with_no_format_flspost_sends_is_refused_naming_the_line() {
        let t = table(&format!("ean;formats\n{FHIR_GP};XREF14\n")).unwrap();
        let e = GpRouting { table: Some(t), default: GpFormat::Xdis91 }.route(&gp(FHIR_GP)).unwrap_err();
        assert!(e.contains("receivers.csv:2 lists this GP with neither"), "{e}");
    }

    #[test]
    fn errors_name_the_line_and_column() {
        let e = table("ean;formats\n5790000123450;XDIS91\n").unwrap_err().to_string();
        assert!(e.starts_with("receivers.csv:2:1: ean `5790000123450`: bad GS1 check digit"), "{e}");
        let e = table(&format!("ean;sor;formats\n{FHIR_GP};12;XDIS91\n")).unwrap_err().to_string();
        assert!(e.starts_with("receivers.csv:2:15: sor `12`"), "{e}");
        let e = table(&format!("ean;formats\n{FHIR_GP};XDIS91\n{FHIR_GP};FDIS91\n")).unwrap_err().to_string();
        assert!(e.starts_with(&format!("receivers.csv:3:1: EAN {FHIR_GP} is listed twice (line 2 too)")), "{e}");
        let e = table("name;formats\nx;XDIS91\n").unwrap_err().to_string();
        assert!(e.contains("receivers.csv:1:1: receiver table header names no `ean` column"), "{e}");
    }

    #[test]
    fn lines_are_counted_as_an_editor_does_across_crlf_and_blank_lines() {
        let crlf = format!("ean;formats\r\n{FHIR_GP};XDIS91\r\n{FHIR_GP};FDIS91\r\n");
        let e = table(&crlf).unwrap_err().to_string();
        assert!(e.starts_with(&format!("receivers.csv:3:1: EAN {FHIR_GP} is listed twice (line 2 too)")), "{e}");
        let blank = format!("ean;formats\n\n{XDIS_GP};XDIS91\n\n{FHIR_GP};XREF14\n");
        let t = table(&blank).unwrap();
        assert_eq!(t.get(FHIR_GP).unwrap().line, 5);
        let e = GpRouting { table: Some(t), default: GpFormat::Xdis91 }.route(&gp(FHIR_GP)).unwrap_err();
        assert!(e.contains("receivers.csv:5 lists"), "{e}");
        let e = table(&format!("ean;sor;formats\r\n\r\n{FHIR_GP};12;XDIS91\r\n")).unwrap_err().to_string();
        assert!(e.starts_with("receivers.csv:3:15: sor `12`"), "{e}");
    }

    #[test]
    fn an_unquoted_list_in_a_comma_file_is_refused_not_cut() {
        let e = table(&format!("ean,formats\n{FHIR_GP},XDIS91,CareCommunication\n")).unwrap_err().to_string();
        assert!(e.starts_with("receivers.csv:2:1: 3 fields where the header has 2"), "{e}");
    }

    #[test]
    fn a_windows_1252_export_reads_when_the_columns_flspost_reads_are_ascii() {
        let mut bytes = b"Navn;EAN;SOR-kode;Formats\n".to_vec();
        bytes.extend(b"L\xe6gerne i Vestergade;");
        bytes.extend(format!("{FHIR_GP};123456789012;FDIS91\n").as_bytes());
        let t = ReceiverTable::parse(Path::new("receivers.csv"), &bytes).unwrap();
        let r = t.get(FHIR_GP).unwrap();
        assert_eq!(
            (r.formats.as_slice(), r.sor.as_ref().map(Sor::as_str)),
            (&[GpFormat::CareCommunication][..], Some("123456789012"))
        );
        // A column flspost reads must be text: its place is named.
        let mut bad = b"ean;formats\n".to_vec();
        bad.extend(format!("{FHIR_GP};XDIS91 ").as_bytes());
        bad.extend(b"\xe6\n");
        let e = ReceiverTable::parse(Path::new("receivers.csv"), &bad).unwrap_err().to_string();
        assert!(e.starts_with("receivers.csv:2:15: formats is not UTF-8 text"), "{e}");
    }

    #[test]
    fn a_link_or_a_fifo_in_place_of_the_table_is_refused_without_reading_it() {
        let d = tempfile::tempdir().unwrap();
        let real = d.path().join("real.csv");
        std::fs::write(&real, format!("ean;formats\n{FHIR_GP};XDIS91\n")).unwrap();
        ReceiverTable::load(&real).unwrap();
        let link = d.path().join("link.csv");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let e = ReceiverTable::load(&link).unwrap_err().to_string();
        assert!(e.contains("receiver table is a symbolic link"), "{e}");
        let fifo = d.path().join("fifo.csv");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path; mkfifo only creates a file.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let e = ReceiverTable::load(&fifo).unwrap_err().to_string();
        assert!(e.contains("receiver table is not a regular file"), "{e}");
    }
}
