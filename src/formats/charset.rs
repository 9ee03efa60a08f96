//! Character repertoires flspost writes into: ISO-8859-1 for XDIS91, and the letter
//! font's glyphs for the PDF. Danish letters are in both.
//!
//! A character outside the repertoire is transliterated by one documented rule, and
//! reported, or refused with the field's name. The rule: a character from the Latin
//! Extended blocks (Ł, ą, č, ő ...), General Punctuation (“ ” – — … •) or the euro sign
//! is replaced by its ASCII spelling from the `deunicode` tables (Ł -> L, “ -> ", – -> -,
//! € -> EUR). Anything else (Greek, Cyrillic, CJK, emoji, symbols) is an error: guessing
//! would change a name.

use crate::input::InputError;
use crate::model::Warning;
use std::borrow::Cow;

/// A set of characters that can be written somewhere.
pub trait Repertoire {
    /// For messages: "ISO-8859-1", "the letter font".
    fn name(&self) -> &str;
    fn contains(&self, c: char) -> bool;
}

/// ISO-8859-1: every code point up to U+00FF is the byte of the same value.
pub(crate) struct Latin1;

impl Repertoire for Latin1 {
    fn name(&self) -> &str {
        "ISO-8859-1"
    }
    fn contains(&self, c: char) -> bool {
        (c as u32) <= 0xFF
    }
}

/// Returns `s` with every character inside `rep`, or the error for the first one that
/// cannot be. Each transliteration adds a warning naming the field and the character
/// (never the whole value: it may be a name).
pub fn fit<'a>(
    rep: &dyn Repertoire,
    field: &str,
    s: &'a str,
    warnings: &mut Vec<Warning>,
) -> Result<Cow<'a, str>, InputError> {
    if s.chars().all(|c| rep.contains(c)) {
        return Ok(Cow::Borrowed(s));
    }
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if rep.contains(c) {
            out.push(c);
            continue;
        }
        let ascii = transliterable(c)
            .then(|| deunicode::deunicode_char(c))
            .flatten()
            .filter(|t| !t.is_empty() && t.bytes().all(|b| (0x20..0x7F).contains(&b)));
        match ascii {
            Some(t) => {
                warnings.push(Warning {
                    field: field.to_string(),
                    message: format!(
                        "'{c}' (U+{:04X}) written as '{t}': {} has no such character",
                        c as u32,
                        rep.name()
                    ),
                });
                out.push_str(t);
            }
            None => {
                return Err(InputError::new(
                    field,
                    format!(
                        "character '{c}' (U+{:04X}) cannot be written in {} and has no safe transliteration",
                        c as u32,
                        rep.name()
                    ),
                ))
            }
        }
    }
    Ok(Cow::Owned(out))
}

fn transliterable(c: char) -> bool {
    matches!(c as u32, 0x0100..=0x024F | 0x1E00..=0x1EFF | 0x2000..=0x206F | 0x20AC)
}

/// Encodes text that went through [`fit`] with [`Latin1`].
pub(crate) fn latin1_encode(s: &str) -> Vec<u8> {
    s.chars().map(|c| u8::try_from(c as u32).expect("text was fitted to Latin-1 first")).collect()
}

pub(crate) fn latin1_decode(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| b as char).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn danish_letters_are_single_latin1_bytes() {
        let mut w = vec![];
        let s = fit(&Latin1, "f", "Æbleø Åge Ærø é ü", &mut w).unwrap();
        let bytes = latin1_encode(&s);
        assert_eq!(bytes.len(), 17);
        assert_eq!(bytes[0], 0xC6);
        assert_eq!(latin1_decode(&bytes), "Æbleø Åge Ærø é ü");
        assert!(w.is_empty());
    }

    #[test]
    fn polish_names_and_typographic_marks_are_transliterated_for_latin1() {
        let mut w = vec![];
        let s = fit(&Latin1, "patient.surname", "Łukasz Wąs “Kiki” – ok…", &mut w).unwrap();
        assert_eq!(s, "Lukasz Was \"Kiki\" - ok...");
        assert_eq!(w.len(), 6);
        assert!(w[0].message.contains("U+0141"), "{}", w[0]);
        assert_eq!(w[0].field, "patient.surname");
    }

    #[test]
    fn emoji_and_other_scripts_are_errors_naming_the_field() {
        let mut w = vec![];
        let e = fit(&Latin1, "patient.given_name", "Anna 😀", &mut w).unwrap_err();
        assert_eq!(e.field, "patient.given_name");
        assert!(e.reason.contains("U+1F600"), "{e}");
        assert!(fit(&Latin1, "x", "Ωmega", &mut w).is_err());
    }
}
