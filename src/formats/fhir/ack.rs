//! The MedCom FHIR Acknowledgement (IG `medcom.fhir.dk.acknowledgement` 2.0.3), read into a
//! typed value. `Journal::apply_acknowledgement` applies it (ok -> acknowledged, fatal-error
//! -> rejected, transient-error -> resend); flspost never answers one (MedCom KR1/KR2).

use super::consts::*;
use super::dom::Document;
use super::rules;
use super::validation::validate;
use crate::model::MessageKind;
use crate::schema::Problem;
use std::fmt;

/// `MessageHeader.response.code`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum ResponseCode {
    /// Processed without error: the letter is delivered.
    Ok,
    /// A temporary problem at the receiver: resend unchanged later (new Bundle.id).
    TransientError,
    /// The message cannot be processed: never resend it unchanged.
    FatalError,
}

impl ResponseCode {
    pub fn code(self) -> &'static str {
        match self {
            ResponseCode::Ok => "ok",
            ResponseCode::TransientError => "transient-error",
            ResponseCode::FatalError => "fatal-error",
        }
    }
    pub fn parse(s: &str) -> Option<ResponseCode> {
        [ResponseCode::Ok, ResponseCode::TransientError, ResponseCode::FatalError].into_iter().find(|c| c.code() == s)
    }
}

/// One `OperationOutcome.issue`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Issue {
    pub severity: String,
    pub code: String,
    /// `details.coding.code` (ValueSet medcom-acknowledgement-issue-details), when given.
    pub details_code: Option<String>,
    /// `details.text`, else `diagnostics`.
    pub text: Option<String>,
}

/// What an Acknowledgement says.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Acknowledgement {
    /// The Acknowledgement's own Bundle.id (its envelope).
    pub bundle_id: String,
    /// The Acknowledgement's MessageHeader.id.
    pub message_id: String,
    /// `response.identifier`: the MessageHeader.id of the message acknowledged, in lower case.
    /// Ours are lower-case UUIDs, and a receiver may echo one in capitals: normalised once
    /// here, every comparison (duplicates, repeats, the letter it names) and what is stored
    /// agree.
    pub acknowledges: String,
    pub code: ResponseCode,
    /// When the transmission it answers was sent: the `occurredDateTime` (else `recorded`) of
    /// the copy of that message's latest Provenance an Acknowledgement carries (MedCom, research
    /// note §3.1). Every transmission of a letter shares its `MessageHeader.id` but has its own
    /// Provenance times, so this tells them apart. `None` when there is no such copy.
    pub answers_sent: Option<String>,
    /// GLN of the acknowledging organisation (the MessageHeader's sender); `None` when the
    /// sender resolves to no Organization with one, which the journal refuses (`wrong-sender`).
    pub sender_gln: Option<String>,
    pub issues: Vec<Issue>,
}

/// An Acknowledgement that failed validation: every problem, with its position.
#[derive(Debug)]
pub struct AckError(pub Vec<Problem>);

impl fmt::Display for AckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines: Vec<String> = self.0.iter().map(|p| p.to_string()).collect();
        write!(f, "invalid Acknowledgement: {}", lines.join("; "))
    }
}

impl std::error::Error for AckError {}

impl Acknowledgement {
    /// The code and text a negative Acknowledgement gives, from the issue that says most: the
    /// first of severity `fatal` or `error`, else the first. Code: `details.coding.code` (MedCom's
    /// issue-details value set), else `issue.code`; text: `details.text`, else `diagnostics`.
    pub fn refusal(&self) -> (Option<String>, Option<String>) {
        let issue = self
            .issues
            .iter()
            .find(|i| matches!(i.severity.as_str(), "fatal" | "error"))
            .or_else(|| self.issues.first());
        match issue {
            None => (None, None),
            Some(i) => {
                (i.details_code.clone().or_else(|| Some(i.code.clone()).filter(|c| !c.is_empty())), i.text.clone())
            }
        }
    }
}

fn missing(what: &str) -> AckError {
    AckError(vec![Problem { line: None, column: None, message: format!("{what} is missing") }])
}

/// Validates (flspost's Acknowledgement schema and the profile's rules) and reads one.
pub fn read(bytes: &[u8]) -> Result<Acknowledgement, AckError> {
    validate(MessageKind::Acknowledgement, bytes).map_err(AckError)?;
    let doc = Document::parse(bytes).map_err(|e| AckError(vec![Problem { line: None, column: None, message: e }]))?;
    let root = doc.root();
    let entries = rules::Entries::new(&doc);
    let resources: Vec<_> = entries.list.iter().map(|(_, r)| *r).collect();
    // Validation makes each of these present; an error, not a panic, should it ever not.
    let header =
        resources.iter().find(|r| r.name() == "MessageHeader").ok_or_else(|| missing("Bundle MessageHeader"))?;
    let response = header.child("response").ok_or_else(|| missing("MessageHeader.response"))?;
    // Resolved as FHIR does (fullUrl, `urn:uuid:` or not, else `Type/id`), as validation did.
    let sender_gln = header
        .value_at(&["sender", "reference"])
        .and_then(|reference| entries.resolve(reference))
        .filter(|o| o.name() == "Organization")
        .and_then(|o| o.children_named("identifier").find(|i| i.value_at(&["system"]) == Some(GLN_SYSTEM)))
        .and_then(|i| i.value_at(&["value"]))
        .map(str::to_string);
    let issues = resources
        .iter()
        .filter(|r| r.name() == "OperationOutcome")
        .flat_map(|o| o.children_named("issue"))
        .map(|i| Issue {
            severity: i.value_at(&["severity"]).unwrap_or("").to_string(),
            code: i.value_at(&["code"]).unwrap_or("").to_string(),
            details_code: i.value_at(&["details", "coding", "code"]).map(str::to_string),
            text: i.value_at(&["details", "text"]).or_else(|| i.value_at(&["diagnostics"])).map(str::to_string),
        })
        .collect();
    let acknowledges = response.value_at(&["identifier"]).unwrap_or("").to_ascii_lowercase();
    // The copy: a Provenance of the acknowledged message (its target), not the
    // Acknowledgement's own (activity `acknowledgement`).
    let answered = format!("messageheader/{acknowledges}");
    let answers_sent = resources
        .iter()
        .filter(|r| r.name() == "Provenance")
        .filter(|p| p.value_at(&["activity", "coding", "code"]) != Some("acknowledgement"))
        .filter(|p| p.value_at(&["target", "reference"]).is_some_and(|t| t.to_ascii_lowercase().ends_with(&answered)))
        .find_map(|p| p.value_at(&["occurredDateTime"]).or_else(|| p.value_at(&["recorded"])))
        .map(str::to_string);
    Ok(Acknowledgement {
        bundle_id: root.value_at(&["id"]).unwrap_or("").to_string(),
        message_id: header.value_at(&["id"]).unwrap_or("").to_string(),
        acknowledges,
        code: ResponseCode::parse(response.value_at(&["code"]).unwrap_or(""))
            .ok_or_else(|| missing("MessageHeader.response.code ok, transient-error or fatal-error"))?,
        answers_sent,
        sender_gln,
        issues,
    })
}
