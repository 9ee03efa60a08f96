//! A problem found in a document, and how libxml2's report of one is made readable (a column
//! found for an element it names, its `{namespace}` prefixes dropped): a leaf, so the crate's
//! error can carry problems without naming libxml2.

use std::collections::HashMap;
use std::fmt;

/// One problem, with its position in the document when libxml2 knows it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    pub line: Option<u32>,
    pub column: Option<u32>,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.line.unwrap_or(0), self.column.unwrap_or(0), self.message)
    }
}

/// libxml2 gives schema errors a line but no column. The element is named in the message
/// (`Element 'Priority': ...`), so the column is where its start tag begins on that line.
///
/// Each line with problems is scanned once, for the first start tag of every name on it:
/// a scan per problem was quadratic in a document written on one line.
pub(crate) fn locate_columns(bytes: &[u8], problems: &mut [Problem]) {
    let lines: Vec<&[u8]> = bytes.split(|b| *b == b'\n').collect();
    // Line -> (tag name, or its local part after a prefix -> column).
    let mut columns: HashMap<u32, HashMap<&[u8], u32>> = HashMap::new();
    for p in problems.iter_mut().filter(|p| p.column.is_none()) {
        let (Some(line), Some(name)) = (p.line, element_named(&p.message)) else { continue };
        let Some(text) = (line as usize).checked_sub(1).and_then(|i| lines.get(i)) else { continue };
        let tags = columns.entry(line).or_insert_with(|| first_tags(text));
        if let Some(c) = tags.get(name.as_bytes()) {
            p.column = Some(*c);
        }
    }
}

/// Where each start tag name first begins on `text` (a column, counting characters), under its
/// full name and its local part.
fn first_tags(text: &[u8]) -> HashMap<&[u8], u32> {
    let mut found = HashMap::new();
    // Characters before the current `<`, counted a piece between two `<` at a time: `<` is
    // ASCII, so the pieces decode (lossily) as the whole line does.
    let (mut chars, mut counted) = (0usize, 0usize);
    for (i, _) in text.iter().enumerate().filter(|(_, b)| **b == b'<') {
        chars += String::from_utf8_lossy(&text[counted..i]).chars().count();
        counted = i;
        let rest = &text[i + 1..];
        let tag = &rest[..rest.iter().position(|b| b" \t/>".contains(b)).unwrap_or(rest.len())];
        let column = u32::try_from(chars + 1).unwrap_or(u32::MAX);
        found.entry(tag).or_insert(column);
        if let Some(colon) = tag.iter().rposition(|b| *b == b':') {
            found.entry(&tag[colon + 1..]).or_insert(column);
        }
    }
    found
}

fn element_named(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("Element '")?;
    rest.split('\'').next()
}

/// libxml2 writes element names as `{namespace}Name`; the namespace is the document's own
/// and only makes the line unreadable.
pub(crate) fn without_namespaces(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len());
    let mut rest = msg;
    while let Some(start) = rest.find("{http") {
        match rest[start..].find('}') {
            Some(end) => {
                out.push_str(&rest[..start]);
                rest = &rest[start + end + 1..];
            }
            None => break,
        }
    }
    out.push_str(rest);
    out
}
