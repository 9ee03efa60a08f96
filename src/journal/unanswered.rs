//! The GP letters waiting for an answer (`journal list --unanswered`): a listing in SQL, so it
//! stays one query over a journal of any size. Its filter is MedCom's resend rule
//! ([`crate::reliable::resend`]) for a letter a person would resend: not regenerated already,
//! not delivered or refused on another transmission, not replaced by a correction.

use super::queue::Filter;
use super::sql::{message_row, MESSAGE_COLUMNS};
use super::{Journal, MessageRow};
use crate::error::Result;
use crate::reliable::resend::Xdis91Positive;
use serde::Serialize;

/// The GP letter of message `m` was replaced: a newer letter to the GP of the same result
/// exists (a correction, `replaces`; as `regenerate` finds "an earlier letter"). Its
/// transmissions are not resent and wait for no answer: the correction is what goes.
const REPLACED: &str = "EXISTS (SELECT 1 FROM messages c WHERE c.result_id = m.result_id AND c.id > m.id \
     AND c.letter_id <> m.letter_id AND c.kind IN ('gp-xdis91', 'gp-carecommunication'))";

impl Journal {
    /// GP letters still `sent` (every receipt or Acknowledgement that answers one moves it on)
    /// whose last hand-over finished at or before `handed_over_by`, longest waiting first,
    /// under a work-queue filter (its statuses aside: these are `sent`). A message already
    /// regenerated is left out: its resend is the one waiting now; so is one whose letter
    /// another transmission delivered (`acknowledged`) or the receiver refused (`rejected`,
    /// fatal-error: never resent as it is), or that a correction replaced (a newer letter to
    /// the GP of the same result): nothing to resend.
    ///
    /// An XDIS91 letter waits for a receipt only when the resend policy expects positive
    /// receipts of XDIS91 ([`Xdis91Positive`]); with `optional` it is left out.
    pub fn unanswered_where(&self, handed_over_by: &str, filter: &Filter) -> Result<Vec<Unanswered>> {
        let filter = Filter { statuses: vec![], ..filter.clone() };
        let kinds = match self.resend_policy.xdis91_positive {
            Xdis91Positive::Expected => "'gp-xdis91', 'gp-carecommunication'",
            Xdis91Positive::Optional => "'gp-carecommunication'",
        };
        let (clauses, values) = filter.messages_sql(&self.conn);
        let sql = unanswered_sql(&clauses, kinds);
        let mut st = self.conn.prepare(&sql)?;
        let params: Vec<&dyn super::db::ToSql> =
            values.into_iter().chain(std::iter::once(&handed_over_by as &dyn super::db::ToSql)).collect();
        let rows = st
            .query_map(params.as_slice(), |r| {
                Ok(Unanswered {
                    message: message_row(r)?,
                    handed_over_at: r.get("handed_over_at")?,
                    handled: super::queue::handled(r.get("handled_at")?, r.get("handled_by")?, r.get("handled_note")?),
                })
            })?
            .collect::<super::db::Result<Vec<_>>>()?;
        Ok(rows)
    }
}

/// The listing's SQL under `clauses` (a work-queue filter's), the cut-off last.
///
/// The last hand-over is a subquery per message, through `attempts_message`: a join to every
/// message's latest attempt, grouped, was built over the whole attempts table before any filter
/// applied (154 ms on a 100,000-result journal for one answer).
const HANDED_OVER_AT: &str =
    "(SELECT MAX(a.finished_at) FROM attempts a WHERE a.message_id = m.id AND a.outcome = 'sent')";

fn unanswered_sql(clauses: &[String], kinds: &str) -> String {
    let mut sql = format!(
        "SELECT {MESSAGE_COLUMNS}, {HANDED_OVER_AT} AS handed_over_at, m.handled_at, m.handled_by, m.handled_note \
         FROM messages m JOIN inputs i ON i.id = m.input_id \
         WHERE m.status = 'sent' AND m.kind IN ({kinds}) \
         AND NOT EXISTS (SELECT 1 FROM messages n WHERE n.regenerated_from = m.id) \
         AND NOT EXISTS (SELECT 1 FROM messages d WHERE d.kind = m.kind AND d.letter_id = m.letter_id \
                         AND d.status IN ('acknowledged', 'rejected')) AND NOT {REPLACED}"
    );
    for c in clauses {
        sql.push_str(" AND ");
        sql.push_str(c);
    }
    // The expression again, not its name: PostgreSQL's WHERE sees no names the SELECT gives.
    sql.push_str(&format!(" AND {HANDED_OVER_AT} <= ? ORDER BY handed_over_at, m.id"));
    sql
}

#[cfg(test)]
mod tests {
    use super::*;

    /// How SQLite runs the listing: its EXPLAIN QUERY PLAN lines, joined.
    fn plan(filter: &Filter) -> String {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::open(&dir.path().join("j.sqlite")).unwrap();
        let (clauses, values) = filter.messages_sql(&journal.conn);
        let params: Vec<&dyn crate::journal::db::ToSql> =
            values.into_iter().chain([&"x" as &dyn crate::journal::db::ToSql]).collect();
        let mut st = journal
            .conn
            .prepare(&format!("EXPLAIN QUERY PLAN {}", unanswered_sql(&clauses, "'gp-xdis91', 'gp-carecommunication'")))
            .unwrap();
        let rows = st.query_map(params.as_slice(), |r| r.get::<_, String>(3)).unwrap();
        rows.map(Result::unwrap).collect::<Vec<_>>().join("; ")
    }

    #[test]
    fn the_listing_reads_attempts_through_their_index_never_all_of_them() {
        for filter in [Filter::default(), Filter { result_id: Some("R-1".into()), ..Filter::default() }] {
            let plan = plan(&filter);
            assert!(!plan.contains("SCAN attempts") && !plan.contains("MATERIALIZE"), "{plan}");
            assert!(plan.contains("SEARCH a USING INDEX attempts_message (message_id=?)"), "{plan}");
        }
        let one = plan(&Filter { result_id: Some("R-1".into()), ..Filter::default() });
        assert!(one.contains("SEARCH m USING INDEX messages_result (result_id=?"), "{one}");
    }
}

/// A GP letter waiting for its answer ([`Journal::unanswered_where`]).
#[derive(Clone, Debug, Serialize)]
pub struct Unanswered {
    #[serde(flatten)]
    pub message: MessageRow,
    /// When its last hand-over to the transport finished.
    pub handed_over_at: String,
    /// Who closed its problem by hand, read with it: the work queue lists every unanswered
    /// letter, and a query each for this was most of `journal summary` on a large journal.
    /// Not in the listing's output, which is the message's; a resend asks again when it acts.
    #[serde(skip)]
    pub handled: Option<super::queue::Handled>,
}
