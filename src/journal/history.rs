//! Loading a letter's history for MedCom's rules ([`crate::reliable`]): its transmissions, with
//! what the rules decide by, in one query.

use super::integrity::verified_bytes;
use super::sql::{message_row, HANDED_OVER, MESSAGE_COLUMNS, TRANSIENT_ANSWERED};
use super::types::MessageRow;
use super::Journal;
use crate::error::{Error, Result};
use crate::model::{Kind, Status};
use crate::reliable::history::{LetterHistory, Regenerated, Transmission};
use crate::reliable::resend::Policy;
use super::db::{params, Connection, OptionalExtension, Row};

impl Journal {
    /// What the journal holds of letter `letter_id` of `kind`, for MedCom's rules.
    pub(crate) fn letter_history(&self, kind: Kind, letter_id: &str) -> Result<LetterHistory> {
        letter_history(&self.conn, kind, letter_id, self.resend_policy)
    }

    /// The resend policy the rules apply from now on (the config's `[resend]`).
    pub fn set_resend_policy(&mut self, policy: Policy) {
        self.resend_policy = policy;
    }

    pub fn resend_policy(&self) -> Policy {
        self.resend_policy
    }
}

/// A letter's history; see [`transmissions`].
pub(super) fn letter_history(conn: &Connection, kind: Kind, letter_id: &str, policy: Policy) -> Result<LetterHistory> {
    Ok(history_of(conn, kind, letter_id, transmissions(conn, kind, letter_id)?, policy)?.0)
}

/// The history of the letter whose transmissions (with their rows) are `rows`, and the rows.
pub(super) fn history_of(
    conn: &Connection,
    kind: Kind,
    letter_id: &str,
    rows: Vec<(MessageRow, Transmission)>,
    policy: Policy,
) -> Result<(LetterHistory, Vec<MessageRow>)> {
    let newest_to_addressee = match rows.first() {
        Some((m, _)) => newest_to_addressee(conn, &m.result_id, kind)?,
        None => None,
    };
    let (rows, transmissions) = rows.into_iter().unzip();
    Ok((LetterHistory { kind, letter_id: letter_id.to_string(), transmissions, newest_to_addressee, policy }, rows))
}

/// Each transmission of a letter, oldest first, with its message row.
pub(super) fn transmissions(conn: &Connection, kind: Kind, letter_id: &str) -> Result<Vec<(MessageRow, Transmission)>> {
    let mut st = conn.prepare_cached(&format!(
        "SELECT {MESSAGE_COLUMNS}, {HANDED_OVER} AS handed_over, \
         (SELECT MAX(a.finished_at) FROM attempts a WHERE a.message_id = m.id AND a.outcome = 'sent') \
             AS handed_over_at, \
         {TRANSIENT_ANSWERED} AS transient_answered, \
         g.id AS regenerated_as, g.status AS regenerated_status, g.attempt AS regenerated_attempt, \
         (g.kind = m.kind AND g.letter_id = m.letter_id) AS regenerated_resend \
         FROM messages m JOIN inputs i ON i.id = m.input_id \
         LEFT JOIN messages g ON g.id = (SELECT MIN(n.id) FROM messages n WHERE n.regenerated_from = m.id) \
         WHERE m.kind = ?1 AND m.letter_id = ?2 ORDER BY m.id"
    ))?;
    let rows = st.query_map(params![kind, letter_id], |r| Ok((message_row(r)?, transmission(r)?)))?;
    Ok(rows.collect::<super::db::Result<Vec<_>>>()?)
}

fn transmission(r: &Row<'_>) -> super::db::Result<Transmission> {
    let at: Option<String> = r.get("handed_over_at")?;
    let regenerated_as: Option<i64> = r.get("regenerated_as")?;
    Ok(Transmission {
        message_id: r.get("id")?,
        number: r.get("attempt")?,
        status: r.get("status")?,
        handed_over: r.get("handed_over")?,
        handed_over_at: at.and_then(|t| chrono::DateTime::parse_from_rfc3339(&t).ok()).map(|t| t.to_utc()),
        transient_answered: r.get("transient_answered")?,
        regenerated_as: match regenerated_as {
            Some(message_id) => Some(Regenerated {
                message_id,
                status: r.get::<_, Status>("regenerated_status")?,
                number: r.get("regenerated_attempt")?,
                resend: r.get("regenerated_resend")?,
            }),
            None => None,
        },
        provenance: vec![],
    })
}

/// The newest message of `result_id` to `kind`'s addressee: (id, letter identifier).
fn newest_to_addressee(conn: &Connection, result_id: &str, kind: Kind) -> Result<Option<(i64, String)>> {
    let kinds: Vec<String> =
        Kind::ALL.iter().filter(|k| k.addressee() == kind.addressee()).map(|k| format!("'{}'", k.code())).collect();
    Ok(conn
        .query_row(
            &format!(
                "SELECT id, letter_id FROM messages WHERE result_id = ?1 AND kind IN ({}) ORDER BY id DESC LIMIT 1",
                kinds.join(", ")
            ),
            [result_id],
            |r| Ok((r.get("id")?, r.get("letter_id")?)),
        )
        .optional()?)
}

/// Reads the Provenance times of the handed-over transmissions from their stored bytes (an
/// Acknowledgement's copy names the transmission it answers by them). A transmission whose
/// bytes are damaged cannot be told, so keeps none.
pub(super) fn read_provenance(conn: &Connection, h: &mut LetterHistory, rows: &[MessageRow]) -> Result<()> {
    for (t, m) in h.transmissions.iter_mut().zip(rows).filter(|(t, _)| t.handed_over) {
        let bytes = match verified_bytes(conn, m) {
            Ok(b) => b,
            Err(Error::Damaged(_)) => continue,
            Err(e) => return Err(e),
        };
        if let Ok(stamps) = crate::formats::fhir::restamp::envelope_stamps(&bytes) {
            t.provenance = stamps.provenance;
        }
    }
    Ok(())
}
