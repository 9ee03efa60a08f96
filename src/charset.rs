//! The single-byte character sets flspost writes: ISO-8859-1 (XDIS91) and PDF's
//! WinAnsiEncoding (the letter PDF's fonts). Danish letters are single bytes in both.
//!
//! A character a set cannot hold is transliterated by one documented rule, and reported,
//! or refused with the field's name. The rule: a character from the Latin Extended blocks
//! (Ł, ą, č, ő ...), General Punctuation (“ ” – — … •) or the euro sign is replaced by its
//! ASCII spelling from the `deunicode` tables (Ł -> L, “ -> ", – -> -, € -> EUR). Anything
//! else (Greek, Cyrillic, CJK, emoji, symbols) is an error: guessing would change a name.

use crate::input::InputError;
use crate::Warning;
use std::borrow::Cow;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Charset {
    /// ISO-8859-1: every code point up to U+00FF is the byte of the same value.
    Latin1,
    /// PDF WinAnsiEncoding: Latin-1's printable characters plus 27 extras at 0x80-0x9F.
    WinAnsi,
}

/// The WinAnsi bytes 0x80..=0x9F (0 = unused).
const WINANSI_80: [u16; 32] = [
    0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017D, 0,
    0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178,
];

impl Charset {
    pub fn name(self) -> &'static str {
        match self {
            Charset::Latin1 => "ISO-8859-1",
            Charset::WinAnsi => "the letter font (WinAnsi)",
        }
    }

    /// The byte for `c`, if this set has one.
    pub fn byte(self, c: char) -> Option<u8> {
        let u = c as u32;
        match self {
            Charset::Latin1 => u8::try_from(u).ok(),
            Charset::WinAnsi => match u {
                0x20..=0x7E | 0xA0..=0xFF => Some(u as u8),
                _ => WINANSI_80.iter().position(|&w| w != 0 && w as u32 == u).map(|i| 0x80 + i as u8),
            },
        }
    }

    /// The character for byte `b` (WinAnsi's unused codes give `None`).
    pub fn char(self, b: u8) -> Option<char> {
        match (self, b) {
            (Charset::Latin1, _) => Some(b as char),
            (Charset::WinAnsi, 0x80..=0x9F) => {
                let w = WINANSI_80[(b - 0x80) as usize];
                (w != 0).then(|| char::from_u32(w as u32)).flatten()
            }
            (Charset::WinAnsi, 0x20..=0x7E | 0xA0..=0xFF) => Some(b as char),
            _ => None,
        }
    }

    /// Returns `s` with every character inside this set, or the error for the first one
    /// that cannot be. Each transliteration adds a warning naming the field and the
    /// character (never the whole value: it may be a name).
    pub fn fit<'a>(self, field: &str, s: &'a str, warnings: &mut Vec<Warning>) -> Result<Cow<'a, str>, InputError> {
        if s.chars().all(|c| self.byte(c).is_some()) {
            return Ok(Cow::Borrowed(s));
        }
        let mut out = String::with_capacity(s.len());
        for c in s.chars() {
            if self.byte(c).is_some() {
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
                        message: format!("'{c}' (U+{:04X}) written as '{t}': {} has no such character", c as u32, self.name()),
                    });
                    out.push_str(t);
                }
                None => {
                    return Err(InputError::new(
                        field,
                        format!(
                            "character '{c}' (U+{:04X}) cannot be written in {} and has no safe transliteration",
                            c as u32,
                            self.name()
                        ),
                    ))
                }
            }
        }
        Ok(Cow::Owned(out))
    }

    /// Encodes text that went through [`Charset::fit`].
    pub fn encode(self, s: &str) -> Vec<u8> {
        s.chars().map(|c| self.byte(c).expect("text was passed through `fit` first")).collect()
    }

    pub fn decode(self, bytes: &[u8]) -> String {
        bytes.iter().map(|&b| self.char(b).unwrap_or('\u{FFFD}')).collect()
    }
}

fn transliterable(c: char) -> bool {
    matches!(c as u32, 0x0100..=0x024F | 0x1E00..=0x1EFF | 0x2000..=0x206F | 0x20AC)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Charset::*;

    #[test]
    fn danish_letters_are_single_bytes_in_both_sets() {
        let mut w = vec![];
        for cs in [Latin1, WinAnsi] {
            let s = cs.fit("f", "Æbleø Åge Ærø é ü", &mut w).unwrap();
            let bytes = cs.encode(&s);
            assert_eq!(bytes.len(), 17);
            assert_eq!(bytes[0], 0xC6);
            assert_eq!(cs.decode(&bytes), "Æbleø Åge Ærø é ü");
        }
        assert!(w.is_empty());
    }

    #[test]
    fn polish_names_and_typographic_marks_are_transliterated_for_latin1() {
        let mut w = vec![];
        let s = Latin1.fit("patient.surname", "Łukasz Wąs “Kiki” – ok…", &mut w).unwrap();
        assert_eq!(s, "Lukasz Was \"Kiki\" - ok...");
        assert_eq!(w.len(), 6);
        assert!(w[0].message.contains("U+0141"), "{}", w[0]);
        assert_eq!(w[0].field, "patient.surname");
    }

    #[test]
    fn winansi_keeps_typographic_quotes_and_dashes() {
        let mut w = vec![];
        let s = WinAnsi.fit("f", "“Kiki” – 5 €", &mut w).unwrap();
        assert!(w.is_empty());
        assert_eq!(WinAnsi.encode(&s), vec![0x93, b'K', b'i', b'k', b'i', 0x94, b' ', 0x96, b' ', b'5', b' ', 0x80]);
        assert_eq!(WinAnsi.fit("f", "Łukasz", &mut w).unwrap(), "Lukasz");
    }

    #[test]
    fn emoji_and_other_scripts_are_errors_naming_the_field() {
        let mut w = vec![];
        let e = Latin1.fit("patient.given_name", "Anna 😀", &mut w).unwrap_err();
        assert_eq!(e.field, "patient.given_name");
        assert!(e.reason.contains("U+1F600"), "{e}");
        assert!(WinAnsi.fit("x", "Ωmega", &mut w).is_err());
    }
}
