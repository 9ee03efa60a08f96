//! Answers in the other format, as MedCom's VANS conversion service (Konverteringsløsning) can
//! deliver them: which receipt identifiers name which of our letters, and what a FHIR
//! Acknowledgement does to a letter flspost sent as XDIS91. The decision only; the journal
//! finds the letter and applies it.
//!
//! The sources (`medcomdk/dk-medcom-carecommunication`, branch `githubpagesmaster`): the use
//! cases "UseCases-VANSKonverteringslosning_200126.pdf" (v3.1.0, 2026-01-20) and the mapping
//! sheets `Mapning-XDIS91-CareCommunication_v500_januar2026.xlsx` and
//! `Mapning-XCTL-Acknowledgement.xlsx`. What they say, and what flspost makes of it:
//!
//! - **Which way each conversion goes.** VANS converts only when sender and receiver take
//!   different formats (§1.4). Our XDIS91 to a GP on FHIR arrives as a CareCommunication; the
//!   GP's Acknowledgement comes back to us converted to XCTL (§4.3.1, table 3: positive ->
//!   XCTL03, negative -> XCTL02), naming our Envelope/Identifier and Letter/Identifier, because
//!   VANS stored them (§4.1.1: "ellers ikke er muligt at koble en kvittering i et andet format").
//!   Our CareCommunication to a GP on XDIS91 arrives as XDIS91 (+ XBIN01 for the PDF); the
//!   GP's XCTLs come back merged into one Acknowledgement (§4.3.2, table 4) naming our
//!   MessageHeader.id. Both are the ordinary answers of the format we sent, applied as such.
//! - **Unconverted.** VANS waits up to 3 months to merge XCTLs into one Acknowledgement; a
//!   receipt that comes later, when VANS no longer holds the link, "skal VANS videresende
//!   kvitteringen uden konvertering" (§4.5.1). That is an XCTL reaching a CareCommunication
//!   sender, and it names the identifiers VANS gave its XDIS91/XBIN01 (§4.1.2: Bundle.id ->
//!   Envelope.identifier `KuvNrerwerwe99`, MessageHeader.id -> Letter.identifier
//!   `BrevNr00129`), never ours: an XCTL's identifiers are at most 14 characters (2005/08/07
//!   `String_1_14`), ours are 36-character UUIDs. No identifier matches, so flspost cannot
//!   apply it; it stays unmatched for a person (`unknown-envelope`), with the CareCommunication
//!   to that GP the likely letter. The opposite case, an Acknowledgement VANS did not convert
//!   reaching an XDIS91 sender, is what this module decides.
//! - **Which identifiers match.** The XCTL <-> Acknowledgement mapping pairs
//!   `OriginalLetter/OriginalLetterIdentifier` with `MessageHeader.response.identifier` ("Brevid
//!   for den meddelelse der kvitteres for"), and the XDIS91 <-> CareCommunication mapping pairs
//!   `Letter/Identifier` with `MessageHeader.id`. So an Acknowledgement whose
//!   `response.identifier` is one of our XDIS91 Letter/Identifiers answers that letter (ours
//!   are 14 base32 characters, a valid FHIR `id`). One naming the UUID VANS minted for its
//!   CareCommunication (§4.1.1, as in MedCom's Flow1/Flow2 examples) names nothing of ours and
//!   stays unmatched (`unknown-letter`).
//! - **What it means.** Read as the XCTL VANS would have made of it (§4.3): `ok` is a positive
//!   receipt (XCTL03), `fatal-error` and `transient-error` a negative one (XCTL02), applied by
//!   the XCTL rule ([`super::receipt`]), to the letter's newest transmission handed over (an
//!   Acknowledgement names no envelope: the mapping's "Bundle.id (previous message)" is
//!   VANS's stored data). An XDIS91 has no resend rules, so a negative one is a rejection a
//!   person resends (`regenerate`), not an automatic resend. Only the GP the letter went to
//!   answers it, as for any Acknowledgement.

use super::acknowledgement::{from_elsewhere, Answer, Code, Decision, Parties};
use super::history::LetterHistory;
use super::receipt;

/// Whether Acknowledgement code `code` reads as a positive receipt (XCTL03) rather than a
/// negative one (XCTL02): use cases §4.3.
pub fn positive(code: Code) -> bool {
    code == Code::Ok
}

/// The XCTL receipt type an Acknowledgement with `code` stands for (use cases §4.3).
pub fn xctl_type(code: Code) -> &'static str {
    if positive(code) {
        "XCTL03"
    } else {
        "XCTL02"
    }
}

/// What Acknowledgement `a`, whose `response.identifier` is XDIS91 letter `h`'s
/// Letter/Identifier, does to it (letter end points `parties`). The answers are
/// [`Decision`]'s: `Acknowledge`, `Reject` (never with resends to cancel: a negative XCTL
/// leaves a queued resend to its person), `Unchanged`, `Conflict`, `NotSent`, `WrongSender`,
/// `EnvelopeMismatch`; `UnknownLetter` for a history without transmissions.
pub fn decide(h: &LetterHistory, parties: &Parties, a: &Answer<'_>) -> Decision {
    let by_newest = h.newest_first();
    let Some(newest) = by_newest.first().copied() else { return Decision::UnknownLetter };
    if let Some(refused) = from_elsewhere(newest.message_id, parties, a) {
        return refused;
    }
    // An Acknowledgement names no envelope: it answers the newest transmission handed over.
    let answered = by_newest.iter().copied().find(|t| t.handed_over).unwrap_or(newest);
    match receipt::decide(Some((h, answered)), &h.letter_id, positive(a.code)) {
        receipt::Decision::Acknowledge { message_id, cancel } => Decision::Acknowledge { message_id, cancel },
        receipt::Decision::Reject { message_id } => Decision::Reject { message_id, cancel: vec![] },
        receipt::Decision::Unchanged { message_id, status } => Decision::Unchanged { message_id, status },
        receipt::Decision::Conflict { message_id, status } => {
            Decision::Conflict { message_id, status, contradicts: None }
        }
        receipt::Decision::NotSent { message_id, status } => Decision::NotSent { message_id, status },
        // The letter is the one named, and the transmission is the letter's own.
        receipt::Decision::UnknownEnvelope | receipt::Decision::LetterMismatch { .. } => {
            Decision::NotSent { message_id: answered.message_id, status: answered.status }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::history::build::*;
    use super::*;
    use crate::model::{Kind, Status::*};

    const GP: &str = "5790000000001";

    fn answer(code: Code) -> Answer<'static> {
        Answer { code, sender_gln: Some(GP), answers_sent: None, envelope: None }
    }

    fn gp() -> Parties {
        Parties { receiver_gln: Some(GP.into()), sender_gln: None }
    }

    #[test]
    fn ok_reads_as_xctl03_and_both_errors_as_xctl02() {
        assert_eq!([Code::Ok, Code::FatalError, Code::TransientError].map(xctl_type), ["XCTL03", "XCTL02", "XCTL02"]);
    }

    #[test]
    fn it_answers_the_newest_transmission_handed_over_by_the_xctl_rule() {
        let h = letter(Kind::GpXdis91, vec![tx(1, Rejected), tx(2, Sent), tx(3, Generated)]);
        assert_eq!(decide(&h, &gp(), &answer(Code::Ok)), Decision::Acknowledge { message_id: 20, cancel: vec![30] });
        assert_eq!(
            decide(&h, &gp(), &answer(Code::TransientError)),
            Decision::Reject { message_id: 20, cancel: vec![] }
        );
        let done = letter(Kind::GpXdis91, vec![tx(1, Acknowledged)]);
        assert_eq!(
            decide(&done, &gp(), &answer(Code::Ok)),
            Decision::Unchanged { message_id: 10, status: Acknowledged }
        );
        assert_eq!(
            decide(&done, &gp(), &answer(Code::FatalError)),
            Decision::Conflict { message_id: 10, status: Acknowledged, contradicts: None }
        );
        let queued = letter(Kind::GpXdis91, vec![tx(1, Generated)]);
        assert_eq!(decide(&queued, &gp(), &answer(Code::Ok)), Decision::NotSent { message_id: 10, status: Generated });
    }

    #[test]
    fn only_the_gp_the_letter_went_to_answers_it() {
        let h = letter(Kind::GpXdis91, vec![tx(1, Sent)]);
        let other = Answer { sender_gln: Some("5790000000009"), ..answer(Code::Ok) };
        assert!(matches!(decide(&h, &gp(), &other), Decision::WrongSender { message_id: 10, .. }));
        assert_eq!(decide(&letter(Kind::GpXdis91, vec![]), &gp(), &answer(Code::Ok)), Decision::UnknownLetter);
    }
}
