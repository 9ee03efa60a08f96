//! Which wire format each GP's copy travels in.
//!
//! Senders learn what a receiver accepts from SOR-EDI. The config names a receiver table (a
//! CSV export of it: EAN, SOR, accepted formats) and a default for GPs not in it. A GP that
//! accepts CareCommunication gets it (MedCom's FHIR correspondence, replacing XDIS91 as
//! receivers move); one that accepts only XDIS91 gets XDIS91.
//!
//! The table's columns are found by their header, in any order and case: `ean` (or `gln`),
//! `sor` (or `sor_id`, `sorkode`), `formats` (or `format`). Other columns are ignored, as
//! are format names flspost does not send (an export lists every EDI type a receiver has).
//! The delimiter is `;`, `,` or a tab, whichever the header uses. Formats in one cell are
//! separated by spaces, `|`, `,` or `;` (in a quoted cell). Names: `XDIS91`, and
//! `CareCommunication` (also `FDIS91`, its VANS document name).

use crate::error::{Error, Result};
use crate::identifiers::{Gln, Sor};
use crate::model::Gp;
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The formats a GP's copy can travel in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize, strum::IntoStaticStr)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum GpFormat {
    Xdis91,
    #[serde(rename = "carecommunication")]
    CareCommunication,
}

impl GpFormat {
    pub fn code(self) -> &'static str {
        self.into()
    }

    /// A format name as SOR-EDI exports and people write it; `None` for formats flspost
    /// does not send.
    fn from_name(name: &str) -> Option<GpFormat> {
        match name.to_ascii_lowercase().as_str() {
            "xdis91" => Some(GpFormat::Xdis91),
            "carecommunication" | "care-communication" | "fdis91" => Some(GpFormat::CareCommunication),
            _ => None,
        }
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
pub struct ReceiverTable {
    pub path: PathBuf,
    by_ean: HashMap<String, Receiver>,
}

/// A table bigger than this is not an export of SOR-EDI (~3,000 GP practices).
const MAX_TABLE_BYTES: u64 = 64 << 20;

impl ReceiverTable {
    /// Reads and checks the table at `path`: every error names the line (and the column).
    pub fn load(path: &Path) -> Result<ReceiverTable> {
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        let mut bytes = vec![];
        file.take(MAX_TABLE_BYTES + 1).read_to_end(&mut bytes).map_err(|e| Error::io(path, e))?;
        if bytes.len() as u64 > MAX_TABLE_BYTES {
            return Err(Error::Config {
                path: path.to_path_buf(),
                reason: format!("receiver table is larger than {} MiB", MAX_TABLE_BYTES >> 20),
            });
        }
        ReceiverTable::parse(path, &bytes)
    }

    /// Parses a table read from `path`.
    pub fn parse(path: &Path, bytes: &[u8]) -> Result<ReceiverTable> {
        let at = |line: u64, column: usize, message: String| Error::ConfigSyntax {
            path: path.to_path_buf(),
            line: line as usize,
            column,
            message,
        };
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let header_line = bytes.split(|b| *b == b'\n').next().unwrap_or(b"");
        let delimiter = [b';', b'\t', b',']
            .into_iter()
            .max_by_key(|d| header_line.iter().filter(|b| *b == d).count())
            .expect("three candidates");
        let mut reader = csv::ReaderBuilder::new().delimiter(delimiter).flexible(true).from_reader(bytes);
        let headers = reader.headers().map_err(|e| at(1, 1, format!("receiver table header: {e}")))?.clone();
        let column =
            |names: &[&str]| headers.iter().position(|h| names.iter().any(|n| h.trim().eq_ignore_ascii_case(n)));
        let missing = |what: &str| at(1, 1, format!("receiver table header names no {what} column"));
        let ean_col = column(&["ean", "gln", "ean/gln", "lokationsnummer"]).ok_or_else(|| missing("`ean`"))?;
        let sor_col = column(&["sor", "sor_id", "sor-id", "sorkode", "sor id"]);
        let formats_col = column(&["formats", "format", "accepted_formats", "accepted formats"])
            .ok_or_else(|| missing("`formats`"))?;
        let mut by_ean: HashMap<String, Receiver> = HashMap::new();
        for record in reader.records() {
            let record = record.map_err(|e| {
                let line = e.position().map_or(0, |p| p.line());
                at(line, 1, format!("receiver table: {e}"))
            })?;
            let line = record.position().map_or(0, |p| p.line());
            if record.iter().all(|f| f.trim().is_empty()) {
                continue;
            }
            let cell = |i: usize| record.get(i).map(str::trim).unwrap_or("");
            let ean = Gln::parse(cell(ean_col))
                .map_err(|e| at(line, ean_col + 1, format!("ean `{}`: {e}", cell(ean_col))))?;
            let sor = match sor_col.map(cell).filter(|s| !s.is_empty()) {
                Some(s) => {
                    Some(Sor::parse(s).map_err(|e| at(line, sor_col.unwrap_or(0) + 1, format!("sor `{s}`: {e}")))?)
                }
                None => None,
            };
            let mut formats = vec![];
            for name in cell(formats_col).split(|c: char| c.is_whitespace() || matches!(c, '|' | ',' | ';')) {
                if let Some(f) = GpFormat::from_name(name).filter(|f| !formats.contains(f)) {
                    formats.push(f);
                }
            }
            if let Some(earlier) = by_ean.get(ean.as_str()) {
                return Err(at(
                    line,
                    ean_col + 1,
                    format!(
                        "EAN {} is listed twice (line {} too): which formats it takes is unclear",
                        ean.as_str(),
                        earlier.line
                    ),
                ));
            }
            by_ean.insert(ean.as_str().to_string(), Receiver { sor, formats, line });
        }
        Ok(ReceiverTable { path: path.to_path_buf(), by_ean })
    }

    pub fn get(&self, ean: &str) -> Option<&Receiver> {
        self.by_ean.get(ean)
    }

    pub fn len(&self) -> usize {
        self.by_ean.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_ean.is_empty()
    }
}

/// The routing rule: a receiver table (optional) and the format for GPs not in it.
#[derive(Clone, Debug)]
pub struct GpRouting {
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
pub struct Route {
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
    use crate::identifiers::OrgIdentifier;

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
        assert!(e.starts_with("receivers.csv:2:2: sor `12`"), "{e}");
        let e = table(&format!("ean;formats\n{FHIR_GP};XDIS91\n{FHIR_GP};FDIS91\n")).unwrap_err().to_string();
        assert!(e.starts_with(&format!("receivers.csv:3:1: EAN {FHIR_GP} is listed twice (line 2 too)")), "{e}");
        let e = table("name;formats\nx;XDIS91\n").unwrap_err().to_string();
        assert!(e.contains("receivers.csv:1:1: receiver table header names no `ean` column"), "{e}");
    }
}
