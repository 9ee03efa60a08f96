//! `regenerate`: a failed or unanswered message rebuilt for resending.

use super::generate::{prepare, Engine, MessageState, Outcome, Source, Summary};
use crate::compose::{Built, Kind, Plan};
use crate::error::{Error, Result};
use crate::formats::fhir;
use crate::journal::{self, InputRow, Journal, MessageRow, NewMessage};
use crate::model::Warning;
use crate::model::{LetterStatus, Status};
use crate::reliable::history::LetterHistory;
use crate::reliable::resend::{self, limit_reason, Asked, Held, NotNeeded, Resend};
use chrono::{DateTime, Utc};

impl Engine {
    /// Rebuilds message `key` (journal id, letter identifier or MeMo UUID) for resending.
    ///
    /// From the stored input, the letter keeps its identifier and gets a new envelope
    /// (MedCom's rule for an unchanged resend). With a `corrected` input whose content
    /// differs, the change is recorded as a correction (new letters, linked to the old);
    /// the message of the same kind is linked to `key` as its regeneration.
    ///
    /// An unchanged CareCommunication follows MedCom's resend rules ([`resend::resend`]): a `sent`
    /// one only once the resend policy's wait ([`resend::Policy::after_minutes`]) has passed without
    /// an answer, never one refused with `fatal-error` (on any of its transmissions), and at most
    /// [`resend::Policy::max_resends`] resends of one MessageHeader.id.
    pub fn regenerate(&self, journal: &mut Journal, key: &str, corrected: Option<(String, String)>) -> Result<Summary> {
        self.regenerate_as(journal, key, corrected, false)
    }

    /// [`Engine::regenerate`] for a resend nobody asked for by name (`resend-due`, a bulk
    /// resend by cause): a letter a person closed by hand ("phoned the GP") is not resent,
    /// asked again under the write lock, as it may have been closed since it was read.
    pub fn resend_unless_handled(&self, journal: &mut Journal, key: &str) -> Result<Summary> {
        self.regenerate_as(journal, key, None, true)
    }

    fn regenerate_as(
        &self,
        journal: &mut Journal,
        key: &str,
        corrected: Option<(String, String)>,
        unless_handled: bool,
    ) -> Result<Summary> {
        let m = journal
            .find_message(key)?
            .ok_or_else(|| Error::Usage(format!("no message `{key}` in the journal {}", journal.location())))?;
        if let Some(at) = &m.pruned_at {
            return Err(Error::Usage(format!(
                "message {} ({} {}, result {}) is final and its bytes were pruned on {at} (retention, \
                 `journal prune`): it cannot be built again; a changed result goes in with `generate`",
                m.id,
                m.kind.code(),
                m.letter_id,
                m.result_id
            )));
        }
        let now = crate::support::clock::now();
        let correcting = corrected.is_some();
        // A correction is checked against the resend rules once it is known to change nothing.
        let asked = if correcting { Asked::Correction } else { Asked::Regenerate { now } };
        let h = journal.letter_history(m.kind, &m.letter_id)?;
        let mut transmission = resend_allowed(&m, &h, asked, correcting, format_refused(journal, &h)?)?;
        if let Some((origin, text)) = corrected {
            let source = Source { origin, line: None, text, refused: None, read_error: None };
            let p = prepare(&source.text, &self.policy, now)?;
            if p.result.result_id != m.result_id {
                return Err(Error::Usage(format!(
                    "the corrected input is for result {}, but message {} belongs to result {}",
                    p.result.result_id, m.id, m.result_id
                )));
            }
            let latest = journal.latest_input(&m.result_id)?;
            if latest.is_none_or(|l| l.input_sha256 != p.input_sha256) {
                let mut s = self.run_chunk(journal, vec![source])?.pop().expect("one summary per input");
                if s.outcome == Outcome::Error {
                    return Ok(s);
                }
                if let Some(new) = s
                    .messages
                    .iter_mut()
                    .find(|x| x.kind.addressee() == m.kind.addressee() && x.state == MessageState::New)
                {
                    journal.set_regenerated_from(new.id, m.id)?;
                    new.regenerated_from = Some(m.id);
                    return Ok(s);
                }
                // The correction left this message's content as it was: resend it below.
            }
        }
        if correcting {
            // Nothing to correct: an unchanged input is a plain resend, under MedCom's resend
            // rules (which a letter the receiver acknowledged never gets).
            let h = journal.letter_history(m.kind, &m.letter_id)?;
            transmission = resend_allowed(&m, &h, Asked::Regenerate { now }, correcting, format_refused(journal, &h)?)?;
        }

        let built = if m.kind == Kind::GpCareCommunication {
            // The same message again, from what went: today's config (receiver table,
            // `attach_pdf`, templates) has no say in it.
            restamped(&m, &journal.verified_bytes(&m)?, transmission, now)?
        } else {
            self.rebuild(&m, &journal.input(m.input_id)?, transmission, now)?
        };
        self.write_files(&m.result_id, std::iter::once(&built))?;
        let id = journal.write(|w| {
            // Decided on what was read above; another process may have answered or
            // corrected the letter since. Checked again under the write lock.
            if unless_handled {
                if let Some(h) = w.handled(m.id)? {
                    return Err(Error::Conflict(format!(
                        "message {} was closed by {} at {} while it was being regenerated; nothing was recorded",
                        m.id, h.by, h.at
                    )));
                }
            }
            if let Some(what) = w.changed_since(&m, built.transmission)? {
                return Err(Error::Conflict(format!(
                    "message {} changed while it was being regenerated ({what}); nothing was recorded; \
                     see `flspost journal show {}`",
                    m.id, m.id
                )));
            }
            w.record_regenerated(m.input_id, &NewMessage::made_from(&m, m.kind, &m.content_sha256, (&built).into()))
        });
        self.regenerated(journal, &m, id, built.warnings)
    }

    /// What a regeneration of `m` that recorded message `id` (or failed to) reports. The
    /// output folder got the new transmission's files first (files may be ahead of the journal,
    /// never behind it); when nothing was recorded, it gets the journal's back.
    pub(super) fn regenerated(
        &self,
        journal: &mut Journal,
        m: &MessageRow,
        id: Result<i64>,
        warnings: Vec<Warning>,
    ) -> Result<Summary> {
        if id.is_err() {
            self.restore_files(journal, &m.result_id);
        }
        let id = id?;
        self.sync_out_dir()?;
        let row = journal.message(id)?.ok_or_else(|| {
            Error::Internal(format!("message {id} is not in the journal right after it was recorded"))
        })?;
        Ok(Summary {
            source: format!("journal message {}", m.id),
            line: None,
            result_id: Some(m.result_id.clone()),
            outcome: Outcome::Regenerated,
            dir: self.result_dir(&m.result_id),
            messages: vec![self.message_summary(&row, MessageState::New)],
            warnings,
            error: None,
        })
    }

    /// What `regenerate` of message `m` (no corrected input) would make now, decided on this
    /// reading by MedCom's resend rules: its transmission number, or (a usage error) why it is
    /// refused. Records nothing (`regenerate` over a filter shows it before it asks).
    pub(crate) fn regenerate_decision(&self, journal: &Journal, m: &MessageRow, now: DateTime<Utc>) -> Result<u32> {
        let h = journal.letter_history(m.kind, &m.letter_id)?;
        resend_allowed(m, &h, Asked::Regenerate { now }, false, format_refused(journal, &h)?)
    }

    /// The patient's current letter of `result_id` as its message carries it, when a GP
    /// letter of `kind` attaches it (a CareCommunication with `[gp] attach_pdf`): the GP gets
    /// the PDF the patient got.
    pub(super) fn current_patient_letter(
        &self,
        journal: &Journal,
        result_id: &str,
        kind: Kind,
    ) -> Result<Option<crate::formats::memo::write::MainDocument>> {
        if !self.composer.attaches_patient_letter(kind) {
            return Ok(None);
        }
        let messages = journal.messages_of(result_id)?;
        let patient = super::generate::current(&messages)
            .into_iter()
            .find(|m| m.kind.addressee() == crate::compose::Addressee::Patient);
        match patient {
            Some(m) => super::generate::read_patient_letter(&journal.verified_bytes(m)?).map(Some),
            None => Ok(None),
        }
    }

    /// Puts `result_id`'s output folder back to what the journal holds, as far as it can: a
    /// resend that was not recorded must not stay there as the letter's current file.
    fn restore_files(&self, journal: &mut Journal, result_id: &str) {
        let Some(dir) = self.result_dir(result_id) else { return };
        let Ok(messages) = journal.messages_of(result_id) else { return };
        let current = super::generate::current(&messages);
        let _ = journal.write(|w| super::generate::heal_files(w, &dir, &current));
    }

    /// The next transmission (`attempt`) of stored message `m`, built at `now` from its stored
    /// `input`: the same letter identifier, a new envelope; validated, recorded nowhere. What
    /// `regenerate` records for an XDIS91 or a patient letter; a CareCommunication is resent
    /// from its stored bytes instead (`restamped`).
    pub fn rebuild(&self, m: &MessageRow, input: &InputRow, transmission: u32, now: DateTime<Utc>) -> Result<Built> {
        if !crate::input::input_intact(&input.input_json, &input.input_sha256) {
            return Err(Error::Damaged(format!(
                "input {} of result {} (message {}): {}; nothing was regenerated",
                input.id,
                m.result_id,
                m.id,
                journal::INPUT_DAMAGED
            )));
        }
        let p = prepare(&input.input_json, &self.policy, now)?;
        let status =
            if m.status_code == LetterStatus::Corrected.code() { LetterStatus::Corrected } else { LetterStatus::New };
        let plan = Plan { kind: m.kind, letter_revision: m.letter_revision, transmission, status };
        let built = self.composer.build(&p.result, &plan, now)?;
        if built.letter_id != m.letter_id {
            return Err(Error::Internal(format!(
                "message {} rebuilt with letter identifier {} instead of {}",
                m.id, built.letter_id, m.letter_id
            )));
        }
        Ok(built)
    }
}

/// Whether a transmission of letter `h` was refused for its format (a FHIR
/// `MSG_RECEIVER_UNABLE_TO_RECEIVE_MSG_TYPE`, an XCTL `problem_med_version`), by the refuse code
/// stored with it.
pub(super) fn format_refused(journal: &Journal, h: &LetterHistory) -> Result<bool> {
    for t in h.transmissions.iter().filter(|t| t.status == Status::Rejected) {
        if journal.message(t.message_id)?.is_some_and(|r| resend::refused_for_format(h.kind, r.refuse_code.as_deref()))
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The transmission number MedCom's resend rule ([`resend::resend`], research note §3.3) gives
/// a resend of message `m` (of letter `h`) asked for by a person; `Err` (a usage error) says
/// which rule forbids it now, and when it will allow it. `correcting`: the person brought a
/// corrected input, which changes nothing in an acknowledged letter. `format_refused`: the
/// receiver refused the letter for its format, so the way on is a re-route, not a correction.
pub(super) fn resend_allowed(
    m: &MessageRow,
    h: &LetterHistory,
    asked: Asked,
    correcting: bool,
    format_refused: bool,
) -> Result<u32> {
    let of = h.get(m.id).ok_or_else(|| {
        Error::Internal(format!("message {} is not among the transmissions of its letter {}", m.id, m.letter_id))
    })?;
    let why = match resend::resend(h, of, asked) {
        Resend::Make { number } => return Ok(number),
        Resend::NotNeeded(NotNeeded::Regenerated { resend_id: n }) => {
            format!("message {} was already regenerated as message {n}; regenerate that one if it failed too", m.id)
        }
        Resend::NotNeeded(NotNeeded::Queued { status }) => {
            format!("message {} is still queued ({}); `flspost send` sends it", m.id, status.code())
        }
        Resend::NotNeeded(NotNeeded::Superseded) => {
            format!("message {} was replaced by a later letter; see `flspost journal show {}`", m.id, m.id)
        }
        Resend::NotNeeded(NotNeeded::Delivered { .. }) if correcting => format!(
            "the input for message {} changes nothing in its letter, and the receiver acknowledged that \
             letter: nothing to correct, nothing was sent",
            m.id
        ),
        Resend::NotNeeded(NotNeeded::Delivered { by, .. }) if by == m.id => format!(
            "message {} was acknowledged by the receiver; to change it, regenerate with --input (a correction)",
            m.id
        ),
        // Delivered by another transmission of the same letter (an answer that came late).
        Resend::NotNeeded(NotNeeded::Delivered { by, number }) => format!(
            "message {} is a transmission of a letter the receiver acknowledged (message {by}, transmission {number}); \
             to change it, regenerate with --input (a correction)",
            m.id
        ),
        Resend::NotNeeded(NotNeeded::Replaced { by, .. }) => {
            format!("message {} is an earlier letter; message {by} replaced it, regenerate that one", m.id)
        }
        // Refused because the receiver cannot take the format: not a dead end.
        Resend::NotNeeded(NotNeeded::Refused { by, .. }) if format_refused => format!(
            "message {} was refused with fatal-error because its receiver cannot take a {} (message {by}), and \
             MedCom forbids resending such a message as it is; `flspost regenerate {} --reroute` sends the same \
             letter in the format today's receiver table gives its GP",
            m.id,
            m.kind.wire().label(),
            m.id
        ),
        Resend::NotNeeded(NotNeeded::Refused { by, .. }) if by == m.id => format!(
            "message {} was refused with fatal-error, and MedCom forbids resending such a message as it is; \
             correct the input (`flspost regenerate {} --input corrected.json`) to send a new one",
            m.id, m.id
        ),
        // A fatal-error on any transmission refuses the letter (they are one message).
        Resend::NotNeeded(NotNeeded::Refused { by, number }) => format!(
            "message {} is a transmission of a letter the receiver refused with fatal-error (message {by}, \
             transmission {number}), and MedCom forbids resending such a message as it is; correct the input \
             (`flspost regenerate {} --input corrected.json`) to send a new one",
            m.id, m.id
        ),
        Resend::Held(Held::TooEarly { handed_over_at, allowed_from }) => {
            let local = |t: DateTime<Utc>| {
                t.with_timezone(&chrono_tz::Europe::Copenhagen).format("%Y-%m-%d %H:%M:%S %Z").to_string()
            };
            format!(
                "message {} was handed over at {} and has no answer yet; the resend policy (`[resend] \
                 after_minutes`) allows a resend when no Acknowledgement has come within {} minutes: from {}",
                m.id,
                local(handed_over_at),
                h.policy.after_minutes,
                local(allowed_from)
            )
        }
        Resend::Held(Held::Limit { sent, max_resends }) => {
            format!("message {} is not resent: {}", m.id, limit_reason(sent, max_resends))
        }
        // A transient-error's answers: a person's resend is never asked so.
        other @ (Resend::AlreadyQueued { .. }
        | Resend::NotNeeded(NotNeeded::ResendWent { .. } | NotNeeded::LaterOnItsWay { .. })
        | Resend::Held(Held::ResendStuck { .. })) => {
            return Err(Error::Internal(format!("regenerate's resend of message {} was answered {other:?}", m.id)))
        }
    };
    Err(Error::Usage(why))
}

/// Transmission `attempt` of stored CareCommunication `m`, sent at `now`, from `stored` (its
/// bytes, checked against their SHA-256): the same Bundle with a new `Bundle.id`, timestamp
/// and Provenance times, in a new envelope, validated ([`fhir::restamp::resend`]). MedCom: a
/// resend is the same message; only the transmission's stamps are new.
pub fn restamped(m: &MessageRow, stored: &[u8], transmission: u32, now: DateTime<Utc>) -> Result<Built> {
    let r = fhir::restamp::resend(stored, &m.letter_id, transmission, now)?;
    let status =
        if m.status_code == LetterStatus::Corrected.code() { LetterStatus::Corrected } else { LetterStatus::New };
    Ok(Built {
        kind: m.kind,
        bytes: r.bytes,
        sha256: r.sha256,
        letter_id: r.message_id,
        envelope_id: Some(r.bundle_id),
        status,
        transmission,
        letter_revision: m.letter_revision,
        pdf: None,
        // Restamped from stored bytes: what it carries is found by decoding.
        carried: None,
        warnings: vec![],
    })
}
