//! Message identifiers: MedCom letter and envelope identifiers, MeMo message UUIDs.
//!
//! Letter identifiers and MeMo UUIDs are derived from what identifies the letter (sender,
//! result, revision), so regenerating an unchanged letter gives it the same identifier,
//! which is MedCom's rule for a resend, and a re-run cannot mint a second letter. Envelope
//! identifiers must be new for every send, so they also take the generation instant and
//! attempt number.

use sha2::{Digest, Sha256};

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

fn digest(parts: &[&str]) -> [u8; 32] {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_be_bytes()); // length-prefixed: no ambiguous joins
        h.update(p.as_bytes());
    }
    h.finalize().into()
}

/// 14 base32 characters (70 bits) from the front of a digest.
fn base32_14(d: &[u8; 32]) -> String {
    let mut bits: u128 = 0;
    for b in &d[..9] {
        bits = (bits << 8) | *b as u128;
    }
    (0..14).map(|i| BASE32[((bits >> (72 - 5 * (i + 1))) & 31) as usize] as char).collect()
}

/// XDIS91 Letter/Identifier (at most 14 characters, unique per sender).
pub fn letter_id(sender_ean: &str, result_id: &str, revision: u32) -> String {
    base32_14(&digest(&["xdis91-letter", sender_ean, result_id, &revision.to_string()]))
}

/// XDIS91 Envelope/Identifier: new on every (re)send.
pub fn envelope_id(letter_id: &str, transmission: u32, generated_at_nanos: i64) -> String {
    base32_14(&digest(&["xdis91-envelope", letter_id, &transmission.to_string(), &generated_at_nanos.to_string()]))
}

/// A version-4 UUID whose "random" bits come from a digest: MeMo and MedCom demand v4.
fn uuid_v4(d: &[u8; 32]) -> uuid::Uuid {
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    uuid::Builder::from_random_bytes(b).into_uuid()
}

/// MeMo messageUUID: a version-4 UUID (the MeMo schema demands one), stable per letter revision.
pub(crate) fn memo_uuid(sender_cvr: &str, result_id: &str, revision: u32) -> uuid::Uuid {
    uuid_v4(&digest(&["memo-message", sender_cvr, result_id, &revision.to_string()]))
}

/// FHIR CareCommunication `MessageHeader.id`: identifies the letter, so it stays the same
/// when the same content is resent and changes with every revision (MedCom reliable
/// messaging: changed content is a new message).
pub(crate) fn fhir_message_id(sender_ean: &str, result_id: &str, revision: u32) -> uuid::Uuid {
    uuid_v4(&digest(&["fhir-message", sender_ean, result_id, &revision.to_string()]))
}

/// FHIR `Communication.identifier` (the thread). Every revision of a letter is a
/// `new-message`, and a new message starts a new thread (MedCom CareCommunication
/// governance), so the thread is per revision, stable across resends.
pub(crate) fn fhir_thread_id(sender_ean: &str, result_id: &str, revision: u32) -> uuid::Uuid {
    uuid_v4(&digest(&["fhir-thread", sender_ean, result_id, &revision.to_string()]))
}

/// FHIR `Bundle.id`, which is also the VANS envelope identifier: new on every send.
pub(crate) fn fhir_bundle_id(message_id: &uuid::Uuid, transmission: u32, generated_at_nanos: i64) -> uuid::Uuid {
    let m = message_id.hyphenated().to_string();
    uuid_v4(&digest(&["fhir-bundle", &m, &transmission.to_string(), &generated_at_nanos.to_string()]))
}

/// Ids inside one message (resource ids, payload identifiers), named by `role`: fixed by the
/// message id, so a resend of the same letter carries the same resources.
pub(crate) fn fhir_part_id(message_id: &uuid::Uuid, role: &str) -> uuid::Uuid {
    uuid_v4(&digest(&["fhir-part", &message_id.hyphenated().to_string(), role]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letter_ids_are_14_chars_stable_and_distinct_per_revision() {
        let a = letter_id("5790002727016", "R1", 0);
        assert_eq!(a.len(), 14);
        assert!(a.bytes().all(|b| BASE32.contains(&b)));
        assert_eq!(a, letter_id("5790002727016", "R1", 0));
        assert_ne!(a, letter_id("5790002727016", "R1", 1));
        assert_ne!(a, letter_id("5790002727016", "R2", 0));
        assert_ne!(a, letter_id("5790002727023", "R1", 0));
    }

    #[test]
    fn envelope_ids_change_with_every_attempt() {
        let l = letter_id("5790002727016", "R1", 0);
        assert_ne!(envelope_id(&l, 1, 5), envelope_id(&l, 2, 5));
        assert_ne!(envelope_id(&l, 1, 5), envelope_id(&l, 1, 6));
        assert_eq!(envelope_id(&l, 1, 5).len(), 14);
    }

    #[test]
    fn fhir_ids_follow_medcom_identity_rules() {
        let m = fhir_message_id("5790002727016", "R1", 0);
        assert_eq!(m.get_version_num(), 4);
        assert_eq!(m, fhir_message_id("5790002727016", "R1", 0), "a resend keeps MessageHeader.id");
        assert_ne!(m, fhir_message_id("5790002727016", "R1", 1), "a correction is a new message");
        assert_eq!(fhir_thread_id("5790002727016", "R1", 0).get_version_num(), 4);
        assert_ne!(fhir_thread_id("5790002727016", "R1", 0), fhir_thread_id("5790002727016", "R1", 1));
        assert_ne!(fhir_bundle_id(&m, 1, 5), fhir_bundle_id(&m, 2, 5), "Bundle.id is new on every send");
        assert_ne!(fhir_bundle_id(&m, 1, 5), fhir_bundle_id(&m, 1, 6));
        assert_ne!(fhir_part_id(&m, "Patient"), fhir_part_id(&m, "Practitioner"));
        assert_eq!(fhir_part_id(&m, "Patient").get_version_num(), 4);
    }

    #[test]
    fn memo_uuid_is_version_4() {
        let u = memo_uuid("29190925", "R1", 0);
        assert_eq!(u.get_version_num(), 4);
        assert_eq!(u.get_variant(), uuid::Variant::RFC4122);
        assert_ne!(u, memo_uuid("29190925", "R1", 1));
    }
}
