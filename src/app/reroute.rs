//! `regenerate --reroute`: a GP letter refused for its format sent again as the same letter in
//! the format today's receiver table gives its GP (MedCom's conversion mapping: each format keeps
//! its own identifiers; the journal links the two by `regenerated_from`).

use super::generate::{prepare, Engine, Summary};
use super::regenerate::{format_refused, resend_allowed};
use crate::compose::{Kind, Plan};
use crate::error::{Error, Result};
use crate::journal::{self, Journal, MessageRow, NewMessage};
use crate::model::LetterStatus;
use crate::reliable::resend::{self, limit_reason, Asked, Held, NotNeeded, Reroute, Resend};
use chrono::{DateTime, Utc};

/// Where a re-route goes ([`Engine::reroute_to`]).
pub(crate) struct RerouteTo {
    /// Today's format for the GP.
    pub kind: Kind,
    /// The letter's identifier in that format (its identity rule, the same letter revision).
    pub letter_id: String,
    /// Its transmission number there (1, unless the letter went in that format before).
    pub transmission: u32,
    /// The re-routed letter's last transmission number and whether it was refused for its
    /// format, as read: the decision is made again on them under the write lock.
    from_last: u32,
    format_refused: bool,
    /// The stored input, checked, that the letter is built from.
    prepared: super::generate::Prepared,
}

impl Engine {
    /// Re-routes GP letter `key` (journal id, letter identifier or envelope identifier): sends
    /// the same letter again in the format today's receiver table gives its GP, when that is
    /// not the format it went in ([`resend::reroute`] says when a letter may go so).
    ///
    /// MedCom's identifiers: the letter becomes a new message in the other format, so it gets
    /// that format's own identifiers by its identity rule ([`crate::formats::identity`]: the
    /// XDIS91 letter identifier or the FHIR `MessageHeader.id` of the same letter revision, and
    /// a new envelope / `Bundle.id`), as MedCom's mapping (XDIS91 `Letter.Identifier` <->
    /// `MessageHeader.id`, `Envelope.Identifier` <-> `Bundle.id`) and the VANS conversion
    /// service's examples do when they carry one letter across (`Brevt23400929` becomes
    /// `60098c38-…`; VANS keeps the pair to link the answers). It is the same letter, not a
    /// correction: built from the stored input with the letter's own status (`nytbrev` for a
    /// first letter: the GP never got it; a correction stays `rettetbrev`), linked to the
    /// refused message by `regenerated_from`. MedCom's resend limit counts per message: the
    /// letter in the other format has its own transmissions.
    pub fn reroute(&self, journal: &mut Journal, key: &str) -> Result<Summary> {
        let m = journal
            .find_message(key)?
            .ok_or_else(|| Error::Usage(format!("no message `{key}` in the journal {}", journal.location())))?;
        let now = crate::support::clock::now();
        let to = self.reroute_to(journal, &m, now)?;
        let p = &to.prepared;
        let status =
            if m.status_code == LetterStatus::Corrected.code() { LetterStatus::Corrected } else { LetterStatus::New };
        let plan = Plan { kind: to.kind, letter_revision: m.letter_revision, transmission: to.transmission, status };
        let patient_letter = self.current_patient_letter(journal, &m.result_id, to.kind)?;
        let built = self.composer.build_with(&p.result, &plan, now, patient_letter.as_ref())?;
        if built.letter_id != to.letter_id {
            return Err(Error::Internal(format!(
                "message {} re-routed with letter identifier {} instead of {}",
                m.id, built.letter_id, to.letter_id
            )));
        }
        self.write_files(&m.result_id, std::iter::once(&built))?;
        let id = journal.write(|w| {
            // Decided on what was read above; another process may have answered, resent or
            // corrected the letter since: decided again under the write lock.
            let h = w.letter_history(m.kind, &m.letter_id)?;
            let now_of = h.get(m.id).map(|t| (t.status, resend::reroute(&h, t, to.format_refused)));
            if now_of != Some((m.status, Reroute::Make)) || h.last_number() != to.from_last {
                return Err(Error::Conflict(format!(
                    "message {} changed while it was being re-routed; nothing was recorded; see `flspost journal \
                     show {}`",
                    m.id, m.id
                )));
            }
            if resend::reroute_into(&w.letter_history(to.kind, &to.letter_id)?) != Ok(to.transmission) {
                return Err(Error::Conflict(format!(
                    "letter {} ({}) changed while message {} was being re-routed into it; nothing was recorded; \
                     run again",
                    to.letter_id,
                    to.kind.code(),
                    m.id
                )));
            }
            w.record_regenerated(m.input_id, &NewMessage::made_from(&m, to.kind, p.content(to.kind), (&built).into()))
        });
        self.regenerated(journal, &m, id, built.warnings)
    }

    /// Where a re-route of GP letter `m` goes, decided at `now` on what the journal holds:
    /// today's format for its GP, that letter's identifier and its next transmission; `Err`
    /// (a usage error) says why it does not go. Records nothing (`regenerate --reroute` over
    /// a filter shows it before it asks).
    pub(crate) fn reroute_to(&self, journal: &Journal, m: &MessageRow, now: DateTime<Utc>) -> Result<RerouteTo> {
        if m.kind.addressee() != crate::compose::Addressee::Gp {
            return Err(Error::Usage(format!(
                "message {} is a {} (the patient's letter); --reroute sends a GP letter in the other GP format \
                 (XDIS91 or CareCommunication)",
                m.id,
                m.kind.code()
            )));
        }
        let h = journal.letter_history(m.kind, &m.letter_id)?;
        let of = h.get(m.id).ok_or_else(|| {
            Error::Internal(format!("message {} is not among the transmissions of its letter {}", m.id, m.letter_id))
        })?;
        let format_refused = format_refused(journal, &h)?;
        let why = match resend::reroute(&h, of, format_refused) {
            Reroute::Make => None,
            Reroute::OnItsWay => Some(format!(
                "message {} was handed over and has no answer yet: it may still reach the GP (VANS converts between \
                 XDIS91 and CareCommunication for a GP that takes only one), and a re-route would give the GP the \
                 letter twice; wait for its answer (`flspost journal list --unanswered`)",
                m.id
            )),
            Reroute::NotNeeded(NotNeeded::Refused { by, .. }) => Some(format!(
                "message {} is a letter the receiver refused with fatal-error (message {by}) for another reason than \
                 its format, and MedCom forbids sending it again as it is, in any format; correct the input \
                 (`flspost regenerate {} --input corrected.json`) to send a new one",
                m.id, m.id
            )),
            Reroute::NotNeeded(why) => Some(match resend_allowed(m, &h, Asked::Regenerate { now }, false, false) {
                // The same words as a resend's refusal, which these reasons share.
                Err(Error::Usage(text)) => text,
                _ => format!("message {} is not re-routed ({why:?})", m.id),
            }),
        };
        if let Some(why) = why {
            return Err(Error::Usage(why));
        }
        let input = journal.input(m.input_id)?;
        if !crate::input::input_intact(&input.input_json, &input.input_sha256) {
            return Err(Error::Damaged(format!(
                "input {} of result {} (message {}): {}; nothing was re-routed",
                input.id,
                m.result_id,
                m.id,
                journal::INPUT_DAMAGED
            )));
        }
        let p = prepare(&input.input_json, &self.policy, now)?;
        let kind = self.composer.gp_route(&p.result)?.kind;
        if kind == m.kind {
            return Err(Error::Usage(format!(
                "message {} is a {} and today's receiver table (or `[gp] default_format`) gives its GP a {} too: \
                 nothing to re-route; if the GP cannot take it, correct the GP's line in the receiver table first",
                m.id,
                m.kind.wire().label(),
                kind.wire().label()
            )));
        }
        let letter_id = kind.wire().letter_id(&p.result, m.letter_revision);
        let transmission = match resend::reroute_into(&journal.letter_history(kind, &letter_id)?) {
            Ok(n) => n,
            Err(Resend::NotNeeded(NotNeeded::Delivered { by, .. })) => {
                return Err(Error::Usage(format!(
                    "the GP acknowledged this letter as a {} already (message {by}): nothing to re-route",
                    kind.wire().label()
                )))
            }
            Err(Resend::NotNeeded(NotNeeded::Refused { by, .. })) => {
                return Err(Error::Usage(format!(
                    "the GP refused this letter as a {} with fatal-error (message {by}), and MedCom forbids \
                     sending that message again as it is",
                    kind.wire().label()
                )))
            }
            Err(Resend::NotNeeded(NotNeeded::LaterOnItsWay { by, queued: false, .. })) => {
                return Err(Error::Usage(format!(
                    "this letter is on its way as a {} already (message {by}), awaiting its answer: resend that \
                     one when MedCom allows (`flspost regenerate {by}`)",
                    kind.wire().label()
                )))
            }
            Err(Resend::Held(Held::Limit { sent, max_resends })) => {
                return Err(Error::Usage(limit_reason(sent, max_resends)))
            }
            Err(Resend::NotNeeded(NotNeeded::LaterOnItsWay { by, .. })) => {
                return Err(Error::Usage(format!(
                    "this letter is queued as a {} already (message {by}): `flspost send` sends it",
                    kind.wire().label()
                )))
            }
            Err(other) => {
                return Err(Error::Internal(format!("a re-route into letter {letter_id} was answered {other:?}")))
            }
        };
        Ok(RerouteTo { kind, letter_id, transmission, from_last: h.last_number(), format_refused, prepared: p })
    }
}
