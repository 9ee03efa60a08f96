//! Counts for the summary (`journal summary`, and the metrics that build on it): messages per
//! status and kind, each transport's health, the oldest message waiting. One aggregate query
//! each, over the indexes, whatever the journal's size.

use super::queue::Filter;
use super::Journal;
use crate::error::Result;
use crate::model::{Kind, Status};
use super::db::ToSql;

/// One transport as its hand-over attempts show it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct TransportHealth {
    /// As the journal names it (`smtp smtp://host:25`, `outbox /path`).
    pub transport: String,
    pub attempts: i64,
    pub sent: i64,
    pub failed_for_now: i64,
    pub failed_for_good: i64,
    /// When it last took a message.
    pub last_sent_at: Option<String>,
    /// Attempts that failed since then (or ever, when none succeeded), the newest run of them.
    pub consecutive_failures: i64,
}

impl Journal {
    /// Messages per status and per kind under `filter`.
    pub(crate) fn message_counts(&self, filter: &Filter) -> Result<(Vec<(Status, i64)>, Vec<(Kind, i64)>)> {
        let (clauses, values) = filter.messages_sql(&self.conn);
        // Joined to the inputs only when the filter looks into them (a patient, a GP): every
        // message has its input, and the join made the count by kind read every message's row
        // and input (1.8 s of a 100,000-result journal's summary; 12 ms over the index alone).
        let join = if filter.reads_inputs() { "JOIN inputs i ON i.id = m.input_id" } else { "" };
        let filter = if clauses.is_empty() { String::new() } else { format!("WHERE {}", clauses.join(" AND ")) };
        let count = |by: &str| -> Result<Vec<(String, i64)>> {
            let mut st = self.conn.prepare(&format!(
                "SELECT m.{by} AS k, COUNT(*) AS n FROM messages m {join} {filter} GROUP BY m.{by} ORDER BY m.{by}"
            ))?;
            let rows = st.query_map(values.as_slice(), |r| Ok((r.get("k")?, r.get("n")?)))?;
            Ok(rows.collect::<super::db::Result<_>>()?)
        };
        let statuses = count("status")?.into_iter().filter_map(|(s, n)| Some((Status::from_code(&s)?, n))).collect();
        let kinds = count("kind")?.into_iter().filter_map(|(k, n)| Some((Kind::from_code(&k)?, n))).collect();
        Ok((statuses, kinds))
    }

    /// Each transport's attempts started in `[since, until)` (either end open when `None`),
    /// with its last success and the failures after it (over all its attempts: they say how
    /// it stands now).
    pub(crate) fn transport_health(&self, since: Option<&str>, until: Option<&str>) -> Result<Vec<TransportHealth>> {
        let mut clauses = vec![];
        let mut values: Vec<&dyn ToSql> = vec![];
        if let Some(s) = &since {
            clauses.push("a.started_at >= ?");
            values.push(s);
        }
        if let Some(u) = &until {
            clauses.push("a.started_at < ?");
            values.push(u);
        }
        let mut st = self.conn.prepare(&health_sql(&clauses))?;
        let rows = st.query_map(values.as_slice(), |r| {
            Ok(TransportHealth {
                transport: r.get("transport")?,
                attempts: r.get("attempts")?,
                sent: r.get::<_, Option<i64>>("sent")?.unwrap_or(0),
                failed_for_now: r.get::<_, Option<i64>>("for_now")?.unwrap_or(0),
                failed_for_good: r.get::<_, Option<i64>>("for_good")?.unwrap_or(0),
                last_sent_at: r.get("last_sent_at")?,
                consecutive_failures: r.get("consecutive")?,
            })
        })?;
        Ok(rows.collect::<super::db::Result<_>>()?)
    }

    /// The message waiting longest to be sent (generated or retry): its id and creation time.
    pub fn oldest_waiting(&self) -> Result<Option<(i64, String)>> {
        use super::db::OptionalExtension;
        Ok(self
            .conn
            .query_row(
                "SELECT id, created_at FROM messages WHERE status IN ('generated', 'retry') \
                 ORDER BY created_at, id LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
    }
}

impl Journal {
    /// Messages per (status, kind), over the whole journal: the metrics' one series.
    pub fn messages_by_status_and_kind(&self) -> Result<Vec<(Status, Kind, i64)>> {
        let mut st = self.conn.prepare_cached(
            "SELECT status, kind, COUNT(*) AS n FROM messages GROUP BY status, kind ORDER BY status, kind",
        )?;
        let rows = st.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?)))?;
        let mut out = vec![];
        for row in rows {
            let (s, k, n) = row?;
            if let (Some(s), Some(k)) = (Status::from_code(&s), Kind::from_code(&k)) {
                out.push((s, k, n));
            }
        }
        Ok(out)
    }

    /// Refused inputs ever recorded, and how many of them are open (neither closed by a
    /// later input nor handled by a person).
    pub fn refused_counts(&self) -> Result<(i64, i64)> {
        Ok(self.conn.query_row(
            "SELECT COUNT(*), COUNT(*) FILTER (WHERE closed_by IS NULL AND handled_at IS NULL) FROM refused_inputs",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?)
    }

    /// The journal's size on disk, in bytes: the SQLite file and its write-ahead log, or
    /// the PostgreSQL database.
    pub fn size_on_disk(&self) -> u64 {
        let len = |p: &std::path::Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
        match (self.file(), &self.wal) {
            (Some(file), wal) => len(file) + wal.as_deref().map_or(0, len),
            (None, _) => self
                .conn
                .query_row("SELECT pg_database_size(current_database())", [], |r| r.get::<_, i64>(0))
                .map_or(0, |n| n.max(0) as u64),
        }
    }
}

/// [`Journal::transport_health`]'s query for the window `clauses` (on `a`, the attempts).
/// A transport's last success is its newest `sent` attempt, found from its newest attempt
/// backwards (through `attempts_transport`), so a healthy transport stops at the first.
fn health_sql(clauses: &[&str]) -> String {
    let window = if clauses.is_empty() { String::new() } else { format!("WHERE {}", clauses.join(" AND ")) };
    format!(
        "SELECT a.transport AS transport, COUNT(*) AS attempts, \
           COUNT(*) FILTER (WHERE a.outcome = 'sent') AS sent, \
           COUNT(*) FILTER (WHERE a.outcome IN ('transient', 'unknown', 'interrupted')) AS for_now, \
           COUNT(*) FILTER (WHERE a.outcome = 'permanent') AS for_good, \
           (SELECT MAX(s.finished_at) FROM attempts s WHERE s.transport = a.transport AND s.outcome = 'sent') \
             AS last_sent_at, \
           (SELECT COUNT(*) FROM attempts f WHERE f.transport = a.transport \
              AND f.outcome IN ('transient', 'permanent', 'unknown', 'interrupted') \
              AND f.id > COALESCE((SELECT s.id FROM attempts s WHERE s.transport = a.transport \
                                   AND s.outcome = 'sent' ORDER BY s.id DESC LIMIT 1), 0)) AS consecutive \
         FROM attempts a {window} GROUP BY a.transport ORDER BY a.transport"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transport_health_without_a_window_reads_an_index_never_the_attempts_rows() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::open(&dir.path().join("j.sqlite")).unwrap();
        let mut st = journal.conn.prepare(&format!("EXPLAIN QUERY PLAN {}", health_sql(&[]))).unwrap();
        let plan = st.query_map([], |r| r.get::<_, String>(3)).unwrap().map(Result::unwrap).collect::<Vec<_>>();
        let plan = plan.join("; ");
        assert!(plan.contains("SCAN a USING COVERING INDEX attempts_health"), "{plan}");
        assert!(plan.contains("SEARCH s USING COVERING INDEX attempts_health (transport=? AND outcome=?)"), "{plan}");
        assert!(plan.contains("SEARCH f USING INDEX attempts_transport (transport=? AND id>?)"), "{plan}");
        assert!(!plan.contains("SCAN attempts") && !plan.contains("TEMP B-TREE"), "{plan}");
    }
}
