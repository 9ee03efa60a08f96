//! Masking of what could be a CPR number in text and identifiers from outside, on its way
//! to any output (logs, JSON, screens). No domain types: it works on strings.

/// Masks what looks like a CPR number in either written form: a run of exactly ten digits
/// (`xxxxxxxxxx`) and exactly six digits, a hyphen and exactly four (`xxxxxx-xxxx`). For
/// text from outside (parser messages, refuse texts, server replies) on its way to any output.
/// Longer runs (GLNs, SOR codes) are kept.
pub fn redact_cpr_like(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let digits_from = |i: usize| chars[i.min(chars.len())..].iter().take_while(|c| c.is_ascii_digit()).count();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        // `i` starts a run of digits (runs are taken whole).
        let n = digits_from(i);
        if n == 10 {
            out.push_str("xxxxxxxxxx");
        } else if n == 6 && chars.get(i + 6) == Some(&'-') && digits_from(i + 7) == 4 {
            out.push_str("xxxxxx-xxxx");
            i += 11;
            continue;
        } else {
            out.extend(&chars[i..i + n]);
        }
        i += n;
    }
    out
}

/// Masks what could be a CPR number inside an identifier from outside (a receiver's UUID, an
/// identifier an Acknowledgement names): every run of ten or more digits, hyphens not breaking
/// a run, so both written forms are caught wherever they sit (`…-8000-000211223989` hides
/// `0211223989`, `…00211122-3989…` hides `211122-3989`). Unlike prose, an identifier has no
/// GLN or SOR code worth keeping; the hyphens stay where they were.
pub fn redact_cpr_like_id(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    let mut out = chars.clone();
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        // A run from `i`: digits, and hyphens between digits.
        let mut end = i;
        let mut digits = 0;
        let mut j = i;
        while j < chars.len() && (chars[j].is_ascii_digit() || chars[j] == '-') {
            if chars[j].is_ascii_digit() {
                digits += 1;
                end = j + 1;
            }
            j += 1;
        }
        if digits >= 10 {
            for c in &mut out[i..end] {
                if c.is_ascii_digit() {
                    *c = 'x';
                }
            }
        }
        i = j.max(i + 1);
    }
    out.into_iter().collect()
}

/// For `#[serde(serialize_with)]` on summary fields that quote input (a field name, an
/// error's reason): the one place such text is masked on its way into JSON, whoever built it.
pub(crate) fn serialize_redacted<S: serde::Serializer>(text: &str, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&redact_cpr_like(text))
}

/// As [`serialize_redacted`], for an optional field.
pub(crate) fn serialize_redacted_opt<S: serde::Serializer>(text: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
    match text {
        Some(t) => serialize_redacted(t, s),
        None => s.serialize_none(),
    }
}

/// For `#[serde(serialize_with)]` on an identifier from outside (a receipt's own envelope
/// identifier, an Acknowledgement's Bundle.id): masked as [`redact_cpr_like_id`] masks it.
pub(crate) fn serialize_redacted_id<S: serde::Serializer>(id: &str, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&redact_cpr_like_id(id))
}

/// Masks CPR-like numbers in every string inside a JSON value (for text from outside).
pub fn redact_cpr_like_json(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::String(s) => *s = redact_cpr_like(s),
        serde_json::Value::Array(a) => a.iter_mut().for_each(redact_cpr_like_json),
        serde_json::Value::Object(o) => o.values_mut().for_each(redact_cpr_like_json),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpr_like_numbers_are_redacted_but_other_numbers_kept() {
        assert_eq!(
            redact_cpr_like("line 12 column 5790000128686 x 0101011234: 20 patients"),
            "line 12 column 5790000128686 x xxxxxxxxxx: 20 patients"
        );
        assert_eq!(
            redact_cpr_like("251248-9996, 251248-99961, 1251248-9996; 2512489996"),
            "xxxxxx-xxxx, 251248-99961, 1251248-9996; xxxxxxxxxx"
        );
        assert_eq!(redact_cpr_like("ends 251248-"), "ends 251248-");
        assert_eq!(redact_cpr_like("Ærø 251248-9996"), "Ærø xxxxxx-xxxx");
    }

    #[test]
    fn cpr_like_runs_in_identifiers_are_redacted_across_hyphens() {
        assert_eq!(
            redact_cpr_like_id("00000000-0000-4000-8000-000211223989"),
            "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx",
            "a CPR number inside a longer run"
        );
        assert_eq!(redact_cpr_like_id("e90e15ae-e019-496b-aa65-a1234567890b"), "e90e15ae-e019-496b-aa65-axxxxxxxxxxb");
        assert_eq!(redact_cpr_like_id("ab211122-3989-4c2d-8e1f-abcdefabcdef"), "abxxxxxx-xxxx-xc2d-8e1f-abcdefabcdef");
        assert_eq!(redact_cpr_like_id("2082f05f-624e-477f-a9f9-562348b8c41f"), "2082f05f-624e-477f-a9f9-562348b8c41f");
        assert_eq!(redact_cpr_like_id("123456789-"), "123456789-", "nine digits and a trailing hyphen");
        assert_eq!(redact_cpr_like_id("ÆØÅ 0211223989 é"), "ÆØÅ xxxxxxxxxx é");
        assert_eq!(redact_cpr_like_id(""), "");
    }
}
