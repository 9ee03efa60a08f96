//! Why a letter needs a person, as a stable cause code, and what to do about it in words: the
//! work queue's vocabulary. The codes are for programs and filters (`smtp_permanent`,
//! `xctl_refused/problem_med_modtagerID`, `fhir_fatal/MSG_RECEIVER_UNABLE_TO_RECEIVE_MSG_TYPE`,
//! `input_refused/gp.ean`); the actions are for support staff, from MedCom's refuse codes
//! (XCTL01/02 `RefuseCode`, the 2005/08/07 receipt schema) and the nine codes of MedCom's
//! CodeSystem `medcom-acknowledgement-error-codes` (terminology IG 2.0.1), and from what a
//! transport's reply means. `docs/support.md` has the same table (a test keeps them equal).

use crate::model::Status;

/// What the journal knows of one message, as the cause is read from it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Facts<'a> {
    pub status: Status,
    /// The message's reason (the server's reply, `FHIR fatal-error CODE: text`, `XCTL02 ...`).
    pub reason: Option<&'a str>,
    /// A receipt's RefuseCode or an Acknowledgement's issue code.
    pub refuse_code: Option<&'a str>,
    /// The outcome (`sent`, `transient`, `permanent`, `unknown`, `interrupted`) and transport
    /// (`smtp smtp://...`, `outbox /path`) of its last hand-over attempt.
    pub last_attempt: Option<(&'a str, &'a str)>,
}

/// A cause: its stable code and the action for a person.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Cause {
    pub code: String,
    pub action: &'static str,
}

impl Cause {
    fn new(code: impl Into<String>, action: &'static str) -> Cause {
        Cause { code: code.into(), action }
    }
}

/// The cause of a message that needs a person, or `None` when it needs none (waiting to be
/// sent, sent and answered, superseded).
pub(crate) fn of_message(f: &Facts<'_>) -> Option<Cause> {
    let reason = f.reason.unwrap_or("");
    let code = f.refuse_code.unwrap_or("");
    match f.status {
        Status::Rejected if reason.starts_with("FHIR fatal-error") => {
            let code = if code.is_empty() { "unspecified" } else { code };
            Some(Cause::new(format!("fhir_fatal/{code}"), fhir_action(code, true)))
        }
        Status::Rejected => {
            // A negative XCTL without a RefuseCode says no more than `ikke_specificeret`.
            let code = if code.is_empty() { "ikke_specificeret" } else { code };
            Some(Cause::new(format!("xctl_refused/{code}"), xctl_action(code)))
        }
        Status::Failed if reason.starts_with("FHIR transient-error") => {
            let code = if code.is_empty() { "unspecified" } else { code };
            Some(Cause::new(format!("fhir_transient/{code}"), fhir_action(code, false)))
        }
        // Every reason the journal's integrity check writes ends so.
        Status::Failed if reason.contains("(the journal is damaged)") => Some(Cause::new(
            "journal_damaged",
            "The stored message is damaged: run `flspost journal verify`, restore the journal from a backup, \
             or regenerate the result from its input (`regenerate ID --input`).",
        )),
        Status::Failed => {
            let transport = transport_name(f.last_attempt.map(|a| a.1));
            match f.last_attempt.map(|a| a.0) {
                Some("permanent") => Some(Cause::new(
                    format!("{transport}_permanent"),
                    "The transport refused the message for good (e.g. SMTP 5xx). If the same reply came for \
                     many receivers, the gateway is broken, not the letters: fix it, then resend them in bulk \
                     (`flspost regenerate --status failed --cause ... --yes`); otherwise check the receiver's \
                     address and correct the input.",
                )),
                _ => Some(Cause::new(
                    format!("{transport}_gave_up"),
                    "The transport failed again and again until flspost gave up: check that it is up \
                     (`flspost journal summary`), then resend (`flspost regenerate ID`).",
                )),
            }
        }
        Status::Retry => {
            let transport = transport_name(f.last_attempt.map(|a| a.1));
            Some(Cause::new(
                format!("{transport}_retry"),
                "The transport failed for now (down, 4xx, held): the next `flspost send` tries again; look at the \
                 transport if it stays so.",
            ))
        }
        Status::Generated | Status::Sent | Status::Acknowledged | Status::Superseded => None,
    }
}

/// A GP letter sent and not answered within the resend policy's wait (`[resend] after_minutes`).
pub fn unanswered() -> Cause {
    Cause::new(
        "unanswered",
        "Sent, and no receipt or Acknowledgement came in time. Check with the VANS provider or the GP; \
         `flspost regenerate ID` resends it within the resend policy (`[resend]`), or `flspost resend-due` \
         does when the policy makes resends after no answer automatic.",
    )
}

/// An XDIS91 letter sent and without any receipt within the resend policy's wait, when the
/// policy expects positive receipts of XDIS91 (`[resend] xdis91_positive`, see
/// [`crate::reliable::resend::Xdis91Positive`]): no failure, and nothing resends it.
pub fn unanswered_xdis91() -> Cause {
    Cause::new(
        "unanswered_xdis91",
        "Sent as XDIS91, and no receipt came in time. That is no failure: many GP systems never send a \
         positive XCTL, even when asked (MedCom's VANS conversion use cases §1.4.2.1), and only a negative \
         receipt says it did not arrive. Nothing resends it (MedCom advises against resending on a missing \
         positive receipt); if the letter matters, ask the GP, then `flspost regenerate ID` or close it with \
         `flspost journal handle ID --note`. `[resend] xdis91_positive = \"optional\"` stops listing them.",
    )
}

/// A CareCommunication sent as often as the resend policy allows, still without an answer: MedCom
/// says the message is then "handled safely manually" (020); the reason lists what was tried.
pub fn unanswered_limit() -> Cause {
    Cause::new(
        "unanswered_limit",
        "Sent as often as the resend policy allows and still no Acknowledgement: nothing resends it now. \
         Ask the GP (by phone) whether it arrived and the VANS provider whether it was delivered; send it \
         another way if need be, then close it with `flspost journal handle ID --note`.",
    )
}

/// An input `generate` refused: its field names the cause; one of which the journal holds no
/// bytes (not UTF-8, too long, no such file, empty) could not be read.
pub(crate) fn of_refused_input(field: &str, stored_len: u64) -> Cause {
    match (field, stored_len) {
        ("input", 0) => Cause::new(
            "input_unreadable",
            "The input could not be read (not UTF-8, too long, no such file): fix it at the sender and send it again.",
        ),
        // A field named by the input's own keys can be anything: masked as reasons are.
        (field, _) => Cause::new(
            format!("input_refused/{}", crate::support::redact::redact_cpr_like(field)),
            "The input breaks the contract at this field: correct it at the sender (the lab system or the \
             gateway) and send it again; a result flspost will never send (a site without FLS) is handled \
             with a note (`flspost journal handle`).",
        ),
    }
}

fn transport_name(transport: Option<&str>) -> &'static str {
    match transport.and_then(|t| t.split_whitespace().next()) {
        Some("smtp") => "smtp",
        Some("outbox") => "outbox",
        _ => "transport",
    }
}

/// What to do about an XCTL01/02 RefuseCode.
pub(crate) fn xctl_action(code: &str) -> &'static str {
    match code {
        "ukendt_lokationsnummer" => {
            "The receiver's location number (EAN) is unknown at the receiver or at VANS: check the GP's EAN in \
             SOR and correct the input (`regenerate ID --input`)."
        }
        "problem_med_modtagerID" => {
            "The receiver id (ydernummer/SOR) does not fit the EAN: correct `gp.identifier` \
             (`journal show ID --input`, edit, `regenerate ID --input`)."
        }
        "problem_med_version" => {
            "The receiver does not take this message version: check the receiver table (`[gp] receivers`) and \
             re-route the letter (`regenerate ID --reroute`), or ask the receiver."
        }
        "syntaksfejl" => {
            "The receiver could not read the message: validate the stored bytes (`journal show ID --bytes`, \
             `flspost validate`) and report a bug with `journal show ID --json`."
        }
        _ => "Not specified by the receiver: read the refuse text and act on it.",
    }
}

/// What to do about an Acknowledgement's issue code (MedCom's nine), for a fatal-error or a
/// transient-error.
pub(crate) fn fhir_action(code: &str, fatal: bool) -> &'static str {
    match code {
        "MSG_Receiver_Identifier_UNKNOWN" | "MSG_Receiver_Identifier_MISSING" => {
            "The receiver does not know the receiver identifier (the GP's SOR or EAN): check it in SOR and \
             correct the input (`regenerate ID --input`)."
        }
        "MSG_RECEIVER_UNABLE_TO_RECEIVE_MSG_TYPE" => {
            "The GP cannot take a CareCommunication: fix the receiver table (`[gp] receivers`) and re-route the \
             letter as XDIS91 (`regenerate ID --reroute`); it goes as the same letter."
        }
        "MSG_VALUESET_VALUE_UNKNOWN"
        | "MSG_CodeSystem_VALUE_UNKNOWN"
        | "MSG_Element_To_Long"
        | "MSG_Datatype_Wrong" => {
            "The receiver found invalid content: validate the stored bytes (`journal show ID --bytes`, \
             `flspost validate`); a value from the input is corrected with `regenerate ID --input`, one of \
             flspost's own is a bug to report with `journal show ID --json`."
        }
        "MSG_Mailbox_Out_Of_Operation" | "MSG_Damaged_durin_transport" if !fatal => {
            "A technical error at the receiver or on the way: flspost resent the message (within the resend policy, `[resend]`); \
             a person looks only when the resends are used up."
        }
        "MSG_Mailbox_Out_Of_Operation" | "MSG_Damaged_durin_transport" => {
            "A technical error at the receiver or on the way, reported as fatal: ask the receiver, then correct \
             and send a new letter (`regenerate ID --input`); MedCom forbids resending it as it is."
        }
        _ if fatal => {
            "The receiver refused the message for good: read the issue text; correct the input and send a new \
             letter (`regenerate ID --input`). MedCom forbids resending it as it is."
        }
        _ => "A technical error the receiver reports: flspost resends it as MedCom allows; look when it stays so.",
    }
}

/// The XCTL RefuseCodes and FHIR issue codes the actions know.
#[cfg(test)]
const XCTL_CODES: &[&str] =
    &["ikke_specificeret", "ukendt_lokationsnummer", "problem_med_modtagerID", "problem_med_version", "syntaksfejl"];
#[cfg(test)]
const FHIR_CODES: &[&str] = &[
    "MSG_Receiver_Identifier_UNKNOWN",
    "MSG_Receiver_Identifier_MISSING",
    "MSG_RECEIVER_UNABLE_TO_RECEIVE_MSG_TYPE",
    "MSG_VALUESET_VALUE_UNKNOWN",
    "MSG_CodeSystem_VALUE_UNKNOWN",
    "MSG_Element_To_Long",
    "MSG_Datatype_Wrong",
    "MSG_Mailbox_Out_Of_Operation",
    "MSG_Damaged_durin_transport",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(
        status: Status,
        reason: &str,
        code: Option<&'static str>,
        last: Option<(&'static str, &'static str)>,
    ) -> Facts<'static> {
        let reason: &'static str = Box::leak(reason.to_string().into_boxed_str());
        Facts { status, reason: Some(reason), refuse_code: code, last_attempt: last }
    }

    #[test]
    fn each_problem_has_its_stable_code() {
        let smtp = Some(("permanent", "smtp smtp://127.0.0.1:2525"));
        assert_eq!(
            of_message(&facts(Status::Failed, "SMTP server refused: permanent error (550)", None, smtp)).unwrap().code,
            "smtp_permanent"
        );
        assert_eq!(
            of_message(&facts(
                Status::Failed,
                "gave up after 5 attempts; last: x",
                None,
                Some(("transient", "outbox /x"))
            ))
            .unwrap()
            .code,
            "outbox_gave_up"
        );
        assert_eq!(
            of_message(&facts(
                Status::Rejected,
                "XCTL02 problem_med_modtagerID: Ydernummer",
                Some("problem_med_modtagerID"),
                None
            ))
            .unwrap()
            .code,
            "xctl_refused/problem_med_modtagerID"
        );
        assert_eq!(
            of_message(&facts(
                Status::Rejected,
                "FHIR fatal-error MSG_RECEIVER_UNABLE_TO_RECEIVE_MSG_TYPE: Modtager kan ikke",
                Some("MSG_RECEIVER_UNABLE_TO_RECEIVE_MSG_TYPE"),
                None
            ))
            .unwrap()
            .code,
            "fhir_fatal/MSG_RECEIVER_UNABLE_TO_RECEIVE_MSG_TYPE"
        );
        assert_eq!(
            of_message(&facts(
                Status::Failed,
                "FHIR transient-error MSG_Mailbox_Out_Of_Operation: x",
                Some("MSG_Mailbox_Out_Of_Operation"),
                None
            ))
            .unwrap()
            .code,
            "fhir_transient/MSG_Mailbox_Out_Of_Operation"
        );
        assert_eq!(
            of_message(&facts(Status::Retry, "4xx", None, Some(("transient", "smtp smtp://h")))).unwrap().code,
            "smtp_retry"
        );
        assert_eq!(of_message(&facts(Status::Sent, "", None, None)), None);
        assert_eq!(of_refused_input("gp.ean", 1045).code, "input_refused/gp.ean");
        assert_eq!(of_refused_input("input", 9).code, "input_refused/input");
        assert_eq!(of_refused_input("input", 0).code, "input_unreadable");
        // Each reason the integrity check writes; receipts that name no code.
        for damaged in [
            "its stored bytes do not match their SHA-256 (the journal is damaged)",
            "its stored bytes are missing (the journal is damaged)",
        ] {
            assert_eq!(of_message(&facts(Status::Failed, damaged, None, None)).unwrap().code, "journal_damaged");
        }
        assert_eq!(
            of_message(&facts(Status::Rejected, "XCTL02: x", None, None)).unwrap().code,
            "xctl_refused/ikke_specificeret"
        );
        assert_eq!(
            of_message(&facts(Status::Rejected, "FHIR fatal-error: x", None, None)).unwrap().code,
            "fhir_fatal/unspecified"
        );
        // A field named by the input's own keys is masked like any text from outside.
        assert_eq!(of_refused_input("patient.0101011234", 900).code, "input_refused/patient.xxxxxxxxxx");
    }

    #[test]
    fn every_medcom_code_has_its_own_advice() {
        let generic_fatal = fhir_action("MSG_SOMETHING_NEW", true);
        for code in FHIR_CODES {
            assert_ne!(fhir_action(code, true), generic_fatal, "{code}");
        }
        let generic = xctl_action("ikke_specificeret");
        for code in &XCTL_CODES[1..] {
            assert_ne!(xctl_action(code), generic, "{code}");
        }
    }
}
