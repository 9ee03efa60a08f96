//! `generate` and `regenerate`: from input documents to validated messages recorded in the
//! journal (and copied to an output folder), with MedCom's identity rules:
//!
//! - the same result with the same content is not generated twice (it "exists");
//! - changed content is a correction: a new letter (new identifier, `rettetbrev`) for each
//!   message whose content changed, linked to the letter it replaces; a message whose
//!   content did not change is kept;
//! - a regeneration of an unchanged letter keeps its identifier and gets a new envelope.
//!
//! A batch runs as a pipeline of rounds: each is checked, decided and built (on all cores),
//! then recorded in the journal in input order, in one transaction (all or nothing; again
//! with one savepoint per result when one of them fails), while the next round is built.
//! An input refused (by its checks, or because it cannot make a letter its GP's format needs)
//! is journaled with its round, in input order, as a refused input, which a later input for
//! the same result closes.
//! `prepare` parses and checks each input once, `decide` applies the identity rules,
//! `refusal` is what a refused input journals, `report` holds what is printed per input,
//! `output` keeps the output folder a mirror of the journal; this module is the pipeline that
//! joins them. `regenerate`, which
//! rebuilds a message for resending, is [`crate::app::regenerate`].

mod decide;
mod output;
mod prepare;
mod refusal;
mod report;

pub(crate) use decide::current;
use decide::{decide, Decision};
pub(crate) use output::{heal_files, read_patient_letter};
pub use prepare::{input_intact, prepare, prepare_source, Prepared, Refused, Source};
pub use refusal::Refusal;
pub use report::{ErrorSummary, MessageState, MessageSummary, Outcome, Summary};

use crate::compose::{Addressee, Built, Composer};
use crate::error::{Error, Result};
use crate::formats::memo::write::MainDocument;
use crate::journal::{Journal, MessageRow, NewInput, NewMessage, Writer};
use crate::model::policy::RolloutPolicy;
use chrono::{DateTime, Utc};
use rayon::prelude::*;
use std::path::PathBuf;

/// The parts every command shares: wording, policy, and where output goes.
pub struct Engine {
    pub composer: Composer,
    pub policy: RolloutPolicy,
    /// Copies of each result's current messages go to `out_dir/<result_id>/`.
    pub out_dir: Option<PathBuf>,
}

/// `items` mapped on all cores, in order. One item (the gateway's usual call) stays on this
/// thread: no pool to start, no second set of compiled schemas.
fn map_in_parallel<T: Send, U: Send>(items: Vec<T>, f: impl Fn(T) -> U + Sync + Send) -> Vec<U> {
    if items.len() > 1 {
        items.into_par_iter().map(f).collect()
    } else {
        items.into_iter().map(f).collect()
    }
}

/// The next round of a chunk: documents up to (not including) a second one for a result
/// already in the round, so a round never holds one result twice.
fn next_round(
    rest: &mut std::iter::Peekable<std::vec::IntoIter<(Source, Result<Prepared, Refused>)>>,
) -> Vec<(Source, Result<Prepared, Refused>)> {
    let mut seen = std::collections::HashSet::new();
    let mut round = vec![];
    while let Some(item) = rest.next_if(|(_, p)| match p {
        Ok(p) => !seen.contains(&p.result.result_id),
        Err(_) => true,
    }) {
        if let Ok(p) = &item.1 {
            seen.insert(p.result.result_id.clone());
        }
        round.push(item);
    }
    round
}

/// What a line of a round says when the round cannot be recorded: its outcome already
/// (a failure that records nothing), or where it came from, to fail with the journal's error
/// (a refused input too: its refusal is not journaled, and running again records it).
enum IfUnrecorded {
    Done(Summary),
    Failed { origin: String, line: Option<u64>, result_id: Option<String> },
}

/// Work decided for one input, carried between the stages.
struct Task {
    source: Source,
    prepared: Prepared,
    decision: Decision,
    /// The patient's letter kept from the journal, when a new GP letter attaches it.
    kept_patient_letter: Option<MainDocument>,
}

enum Staged {
    /// A failure that records nothing (the environment's, or flspost's).
    Done(Summary),
    /// The input was refused: journaled with the round, then reported.
    Refused(Refusal),
    /// Decided, not yet built.
    Decided(Task),
    Exists {
        task: Task,
    },
    Built {
        task: Task,
        built: Vec<(Built, Option<i64>)>,
        revision: u32,
        kept: Vec<MessageRow>,
        /// Its output folder, written and not yet flushed (see `finish_round_files`).
        files: Option<crate::support::files::StagedDir>,
    },
}

impl Engine {
    /// The engine a config describes: its templates, GP routing, patient hand-off and policy.
    pub fn from_config(config: &crate::app::config::Config, out_dir: Option<PathBuf>) -> Result<Engine> {
        let letters = crate::letters::Letters::load(config.templates.as_deref())?;
        let (gp, routing) = config.gp_routing()?;
        let composer = Composer::with_options(letters, config.patient_options()).with_gp(gp, routing);
        Ok(Engine { composer, policy: config.policy()?, out_dir })
    }

    pub(crate) fn result_dir(&self, result_id: &str) -> Option<PathBuf> {
        self.out_dir.as_ref().map(|d| d.join(result_id))
    }

    /// Runs a chunk of documents: check and build in parallel, record in order.
    /// Returns one summary per document, in input order.
    pub(crate) fn run_chunk(&self, journal: &mut Journal, sources: Vec<Source>) -> Result<Vec<Summary>> {
        let now = crate::support::clock::now();
        self.run_prepared(journal, self.prepare_all(sources, now), now)
    }

    /// [`Engine::run_chunk`] for documents already prepared (by [`Engine::prepare_source`]
    /// at instant `now`, which the messages are then built at too).
    pub fn run_prepared(
        &self,
        journal: &mut Journal,
        prepared: Vec<(Source, Result<Prepared, Refused>)>,
        now: DateTime<Utc>,
    ) -> Result<Vec<Summary>> {
        journal.settle_if_restored()?;
        let mut rest = prepared.into_iter().peekable();
        let mut summaries = vec![];
        while rest.peek().is_some() {
            let round = next_round(&mut rest);
            let staged = self.decide_and_build(journal, round, now);
            summaries.extend(self.record_round(journal, staged)?);
        }
        Ok(summaries)
    }

    /// Runs every chunk `next` yields, as a pipeline: while one round of results is being
    /// recorded in the journal (one thread, in input order), the next is checked and built
    /// (all cores). `reader` is a second connection to the same journal for the decisions;
    /// a round waits for any earlier round that holds one of its results, so each decision
    /// sees the record it depends on. `emit` gets every summary, in input order.
    pub fn run_stream(
        &self,
        writer: &mut Journal,
        reader: &Journal,
        mut next: impl FnMut() -> Result<Vec<Source>>,
        emit: impl FnMut(Summary) + Send,
    ) -> Result<()> {
        let now = crate::support::clock::now();
        self.run_rounds(writer, reader, move || Ok((next()?, now)), emit)
    }

    /// [`Engine::run_stream`] with each chunk's own instant, which it is checked and built at:
    /// for a resident process (the server's intake), where chunks come over hours. A chunk is
    /// never split across transactions except where a result comes twice in it.
    pub fn run_rounds(
        &self,
        writer: &mut Journal,
        reader: &Journal,
        mut next: impl FnMut() -> Result<(Vec<Source>, DateTime<Utc>)>,
        mut emit: impl FnMut(Summary) + Send,
    ) -> Result<()> {
        use std::collections::{HashSet, VecDeque};
        use std::sync::mpsc;
        writer.settle_if_restored()?;
        std::thread::scope(|scope| {
            // One round queued while another is recorded: memory stays bounded.
            let (to_writer, rounds) = mpsc::sync_channel::<(u64, Vec<Staged>)>(1);
            let (ack, acks) = mpsc::channel::<u64>();
            let recorder = scope.spawn(move || -> Result<()> {
                for (n, staged) in rounds {
                    for s in self.record_round(writer, staged)? {
                        emit(s);
                    }
                    let _ = ack.send(n);
                }
                Ok(())
            });
            let feed = (|| -> Result<()> {
                let mut in_flight: VecDeque<(u64, HashSet<String>)> = VecDeque::new();
                let mut round_no = 0;
                loop {
                    let (chunk, now) = next()?;
                    if chunk.is_empty() {
                        return Ok(());
                    }
                    let mut rest = self.prepare_all(chunk, now).into_iter().peekable();
                    while rest.peek().is_some() {
                        let round = next_round(&mut rest);
                        let ids: HashSet<String> = round
                            .iter()
                            .filter_map(|(_, p)| p.as_ref().ok())
                            .map(|p| p.result.result_id.clone())
                            .collect();
                        while let Ok(n) = acks.try_recv() {
                            in_flight.retain(|(r, _)| *r != n);
                        }
                        while in_flight.iter().any(|(_, busy)| !busy.is_disjoint(&ids)) {
                            match acks.recv() {
                                Ok(n) => in_flight.retain(|(r, _)| *r != n),
                                Err(_) => return Ok(()), // the recorder stopped: its error is reported below
                            }
                        }
                        let staged = self.decide_and_build(reader, round, now);
                        round_no += 1;
                        in_flight.push_back((round_no, ids));
                        if to_writer.send((round_no, staged)).is_err() {
                            return Ok(());
                        }
                    }
                }
            })();
            drop(to_writer);
            let recorded = recorder.join().expect("the recorder thread does not panic");
            feed.and(recorded)
        })
    }

    fn prepare_all(&self, sources: Vec<Source>, now: DateTime<Utc>) -> Vec<(Source, Result<Prepared, Refused>)> {
        let prepare_one = |s: Source| {
            let p = self.prepare_source(&s, now);
            (s, p)
        };
        map_in_parallel(sources, prepare_one)
    }

    /// Decides (journal reads, in order) and builds (in parallel) one round.
    fn decide_and_build(
        &self,
        journal: &Journal,
        round: Vec<(Source, Result<Prepared, Refused>)>,
        now: DateTime<Utc>,
    ) -> Vec<Staged> {
        let tasks: Vec<Staged> = round
            .into_iter()
            .map(|(source, p)| match p {
                _ if source.read_error.is_some() => Staged::Refused(Refusal::new(
                    Summary::unreadable(&source).expect("a read error was checked"),
                    String::new(),
                )),
                Err(e) => Staged::Refused(Refusal::new(Summary::refused(&source, e), source.text)),
                Ok(prepared) => match decide(
                    journal,
                    &prepared,
                    || Ok(self.composer.gp_route(&prepared.result)?.kind),
                    self.composer.patient_kind(),
                )
                .and_then(|decision| Ok((self.kept_patient_letter(journal, &decision)?, decision)))
                {
                    Ok((kept_patient_letter, decision)) => {
                        Staged::Decided(Task { source, prepared, decision, kept_patient_letter })
                    }
                    Err(e) => failure(&source, Some(prepared.result.result_id.clone()), &e, prepared.text),
                },
            })
            .collect();
        let stage = |t: Staged| match t {
            Staged::Decided(task) => self.build_task(task, now),
            done => done,
        };
        self.finish_round_files(map_in_parallel(tasks, stage))
    }

    /// The round's output folders flushed together (each file and folder, concurrently: one
    /// after another they were most of a batch's time) and put in place, before the journal
    /// records the round; a result whose folder failed is reported failed and not recorded,
    /// as when writing it failed.
    fn finish_round_files(&self, mut staged: Vec<Staged>) -> Vec<Staged> {
        let mut pending = vec![];
        for (i, s) in staged.iter_mut().enumerate() {
            if let Staged::Built { task, files, .. } = s {
                if let Some(f) = files.take() {
                    pending.push((i, self.result_dir(&task.prepared.result.result_id).unwrap_or_default(), f));
                }
            }
        }
        if pending.is_empty() {
            return staged;
        }
        let (at, pending): (Vec<usize>, Vec<_>) = pending.into_iter().map(|(i, d, f)| (i, (d, f))).unzip();
        for (i, result) in at.into_iter().zip(self.finish_files(pending)) {
            if let (Err(e), Staged::Built { task, .. }) = (result, &staged[i]) {
                let rid = task.prepared.result.result_id.clone();
                staged[i] = Staged::Done(Summary::failed(&task.source, Some(rid), &e));
            }
        }
        staged
    }

    /// Records one round in the journal, in input order, in one transaction, flushed to disk
    /// with the output folder before the summaries are returned. When the transaction fails
    /// (a full disk), every line of the round still gets its outcome: an error naming the
    /// journal's failure; nothing of the round is recorded.
    fn record_round(&self, journal: &mut Journal, staged: Vec<Staged>) -> Result<Vec<Summary>> {
        let if_unrecorded: Vec<IfUnrecorded> = staged
            .iter()
            .map(|s| match s {
                Staged::Done(summary) => IfUnrecorded::Done(summary.clone()),
                Staged::Refused(r) => IfUnrecorded::Failed {
                    origin: r.summary.source.clone(),
                    line: r.summary.line,
                    result_id: r.summary.result_id.clone(),
                },
                Staged::Decided(task) | Staged::Exists { task } | Staged::Built { task, .. } => IfUnrecorded::Failed {
                    origin: task.source.origin.clone(),
                    line: task.source.line,
                    result_id: Some(task.prepared.result.result_id.clone()),
                },
            })
            .collect();
        // All or nothing first; only a round one of whose results another process recorded at
        // the same moment is recorded again, with a savepoint per result, so that only that
        // result fails.
        let one_failed = std::cell::Cell::new(false);
        let mut recorded = journal.write_all_or_nothing(|w| self.record_staged(w, &staged, Some(&one_failed)));
        if one_failed.get() {
            recorded = journal.write(|w| self.record_staged(w, &staged, None));
        }
        match recorded {
            Ok(summaries) => {
                self.sync_out_dir()?;
                Ok(summaries)
            }
            Err(e) => Ok(if_unrecorded
                .into_iter()
                .map(|s| match s {
                    IfUnrecorded::Done(summary) => summary,
                    IfUnrecorded::Failed { origin, line, result_id } => Summary::failed_at(origin, line, result_id, &e),
                })
                .collect()),
        }
    }

    /// Records a round's staged results in `w`'s transaction, in input order; returns what each
    /// reports. A result that fails to record reports its failure, unless `all_or_nothing` is
    /// given: then the failure ends the transaction (see [`Journal::write_all_or_nothing`]), and
    /// `all_or_nothing` says whether it was a clash with another process, worth recording the
    /// round again with that result failed alone.
    fn record_staged(
        &self,
        w: &Writer<'_>,
        staged: &[Staged],
        all_or_nothing: Option<&std::cell::Cell<bool>>,
    ) -> Result<Vec<Summary>> {
        let mut summaries = Vec::with_capacity(staged.len());
        for s in staged {
            summaries.push(match s {
                Staged::Done(summary) => summary.clone(),
                // In input order with the rest: a refusal after an input of its result stays
                // open, one before it is closed by it.
                Staged::Refused(r) => {
                    r.record(w)?;
                    r.summary.clone()
                }
                Staged::Decided(_) => unreachable!("every decided task is built before it is recorded"),
                Staged::Exists { task } => self.summary_exists(w, task),
                Staged::Built { task, built, revision, kept, .. } => match record(w, task, built, *revision) {
                    Ok(ids) => self.summary_built(task, built, &ids, kept),
                    Err(e) => match all_or_nothing {
                        // Only a clash with another process is the result's own: any other
                        // failure (a full disk, a lost connection) fails the round as a whole.
                        Some(failed) => {
                            failed.set(matches!(e, Error::Conflict(_)));
                            return Err(e);
                        }
                        None => Summary::failed(&task.source, Some(task.prepared.result.result_id.clone()), &e),
                    },
                },
            });
        }
        Ok(summaries)
    }

    /// The patient's letter a decision keeps, as its stored MeMo (or kombi request) carries
    /// it, when the new GP letter it plans attaches it: the GP gets the PDF the patient got.
    fn kept_patient_letter(&self, journal: &Journal, decision: &Decision) -> Result<Option<MainDocument>> {
        let Decision::Build { plans, kept, .. } = decision else { return Ok(None) };
        if !plans.iter().any(|(p, _)| self.composer.attaches_patient_letter(p.kind)) {
            return Ok(None);
        }
        let Some(m) = kept.iter().find(|m| m.kind.addressee() == Addressee::Patient) else { return Ok(None) };
        output::read_patient_letter(&journal.verified_bytes(m)?).map(Some)
    }

    fn build_task(&self, task: Task, now: DateTime<Utc>) -> Staged {
        let rid = task.prepared.result.result_id.clone();
        match &task.decision {
            Decision::Exists { .. } => Staged::Exists { task },
            Decision::Build { revision, plans, kept } => {
                let attaches = plans.iter().any(|(p, _)| self.composer.attaches_patient_letter(p.kind));
                // The patient's letter first when a GP copy attaches it, so that it gets it as
                // built (else the planned order: its first error is the one reported);
                // recorded in the planned order all the same (journal ids, summaries).
                let mut order: Vec<usize> = (0..plans.len()).collect();
                if attaches {
                    order.sort_by_key(|&i| plans[i].0.kind.addressee() != Addressee::Patient);
                }
                let mut patient_letter = task.kept_patient_letter.clone();
                let mut slots: Vec<Option<(Built, Option<i64>)>> = plans.iter().map(|_| None).collect();
                for i in order {
                    let (plan, replaces) = &plans[i];
                    let b = self
                        .composer
                        .build_with(&task.prepared.result, plan, now, patient_letter.as_ref())
                        .and_then(|b| {
                            if attaches && plan.kind.addressee() == Addressee::Patient {
                                patient_letter = Some(output::read_patient_letter(&b.bytes)?);
                            }
                            Ok(b)
                        });
                    match b {
                        Ok(b) => slots[i] = Some((b, *replaces)),
                        Err(e) => return failure(&task.source, Some(rid), &e, task.prepared.text.clone()),
                    }
                }
                let mut built: Vec<(Built, Option<i64>)> = slots.into_iter().flatten().collect();
                let files = match self.stage_files(&rid, built.iter().map(|(b, _)| b)) {
                    Ok(f) => f,
                    Err(e) => return Staged::Done(Summary::failed(&task.source, Some(rid), &e)),
                };
                // The PDF is inside the MeMo; its separate copy was only for the output folder
                // (the journal finds it by `carried`, which is kept small for the wait).
                for (b, _) in &mut built {
                    b.pdf = None;
                }
                let (revision, kept) = (*revision, kept.clone());
                Staged::Built { task, built, revision, kept, files }
            }
        }
    }
}

/// An input's failure with `e`: a refusal to journal when the input is the cause, else a
/// failure that records nothing. `text` is the document as received.
fn failure(source: &Source, result_id: Option<String>, e: &Error, text: String) -> Staged {
    let summary = Summary::failed(source, result_id, e);
    if Refusal::is_refusal(e) {
        Staged::Refused(Refusal::new(summary, text))
    } else {
        Staged::Done(summary)
    }
}

/// Records one result's new input version and messages (undone alone when it fails).
fn record(w: &Writer<'_>, task: &Task, built: &[(Built, Option<i64>)], revision: u32) -> Result<Vec<i64>> {
    let p = &task.prepared;
    let input = NewInput {
        result_id: &p.result.result_id,
        revision,
        input_json: &p.text,
        input_sha256: &p.input_sha256,
        site: p.result.site.code(),
        group: p.result.group.code(),
        cpr_masked: &p.result.patient.cpr.masked(),
    };
    let messages: Vec<NewMessage<'_>> = built
        .iter()
        .map(|(b, replaces)| {
            NewMessage::new(&p.result.result_id, b.kind, p.content(b.kind), b.letter_revision, b.into(), *replaces)
        })
        .collect();
    w.record_result(&input, &messages)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::letters::Letters;
    use crate::testdata;

    fn engine() -> Engine {
        Engine { composer: Composer::new(Letters::shipped()), policy: RolloutPolicy::default(), out_dir: None }
    }

    /// Line `n` of a JSONL batch.
    fn line(n: u64, text: &str) -> Source {
        Source { origin: format!("in.jsonl:{n}"), line: Some(n), text: text.into(), refused: None, read_error: None }
    }

    #[test]
    fn a_result_another_process_records_meanwhile_is_a_conflict_to_retry_not_a_callers_mistake() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.sqlite");
        let (mut ours, mut theirs) = (Journal::open(&path).unwrap(), Journal::open(&path).unwrap());
        let engine = engine();
        let source = Source {
            origin: "in.json".into(),
            line: None,
            text: testdata::GROUP_1.into(),
            refused: None,
            read_error: None,
        };
        let now = testdata::now();
        // This process decides and builds; before it records, another one records the same result.
        let staged = engine.decide_and_build(&ours, engine.prepare_all(vec![source.clone()], now), now);
        assert_eq!(engine.run_chunk(&mut theirs, vec![source]).unwrap()[0].outcome, Outcome::Generated);
        let lost = engine.record_round(&mut ours, staged).unwrap().remove(0);
        assert_eq!(lost.outcome, Outcome::Error);
        assert_eq!(lost.exit_code(), 1, "{lost:?}");
        assert!(lost.error_line().unwrap().contains("run again"), "{lost:?}");
    }

    #[test]
    fn a_result_another_process_records_meanwhile_fails_alone_and_the_rest_of_its_round_is_recorded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.sqlite");
        let (mut ours, mut theirs) = (Journal::open(&path).unwrap(), Journal::open(&path).unwrap());
        let engine = engine();
        let (first, second) = (line(1, testdata::GROUP_1), line(2, testdata::GROUP_2A));
        let now = testdata::now();
        let staged = engine.decide_and_build(&ours, engine.prepare_all(vec![first, second.clone()], now), now);
        // Before this process records its round, another one records the second result.
        assert_eq!(engine.run_chunk(&mut theirs, vec![second]).unwrap()[0].outcome, Outcome::Generated);
        let summaries = engine.record_round(&mut ours, staged).unwrap();
        assert_eq!(summaries[0].outcome, Outcome::Generated, "{:?}", summaries[0]);
        assert!(ours.latest_input("FLS-AUH-2025-0001").unwrap().is_some(), "the first result is in the journal");
        assert_eq!(summaries[1].outcome, Outcome::Error);
        assert!(summaries[1].error_line().unwrap().contains("run again"), "{:?}", summaries[1]);
        assert_eq!(ours.messages_of(&summaries[1].result_id.clone().unwrap()).unwrap().len(), 2, "theirs only");
    }

    #[test]
    fn a_result_the_journal_fails_to_record_for_another_reason_than_a_clash_fails_its_whole_round() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.sqlite");
        let mut journal = Journal::open(&path).unwrap();
        let engine = engine();
        // The second result's input cannot be recorded, and not because another process has it.
        rusqlite::Connection::open(&path)
            .unwrap()
            .execute_batch(
                "CREATE TRIGGER fails BEFORE INSERT ON inputs WHEN NEW.result_id = 'FLS-AUH-2025-0002' \
                 BEGIN SELECT json('not json'); END",
            )
            .unwrap();
        let summaries =
            engine.run_chunk(&mut journal, vec![line(1, testdata::GROUP_1), line(2, testdata::GROUP_2A)]).unwrap();
        for s in &summaries {
            assert_eq!(s.outcome, Outcome::Error, "{s:?}");
            assert_eq!(s.error.as_ref().unwrap().code, "journal", "{s:?}");
        }
        assert!(journal.latest_input("FLS-AUH-2025-0001").unwrap().is_none(), "nothing of the round is recorded");
    }

    #[test]
    fn a_round_the_journal_cannot_record_records_no_refusal_and_each_line_says_why() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.sqlite");
        let mut journal = Journal::open(&path).unwrap();
        let engine = engine();
        let bad = testdata::GROUP_1.replace("\"AUH\"", "\"RANDERS\"");
        // The refusal cannot be recorded (its table is gone): nothing of the round is.
        rusqlite::Connection::open(&path).unwrap().execute_batch("DROP TABLE refused_inputs").unwrap();
        let summaries = engine.run_chunk(&mut journal, vec![line(1, testdata::GROUP_1), line(2, &bad)]).unwrap();
        for s in &summaries {
            assert_eq!(s.outcome, Outcome::Error, "{s:?}");
            assert_eq!(s.error.as_ref().unwrap().code, "journal", "not journaled, so not the input's refusal: {s:?}");
            assert_eq!(s.exit_code(), 1, "{s:?}");
        }
        assert_eq!(summaries[1].result_id.as_deref(), Some("FLS-AUH-2025-0001"));
        assert!(journal.latest_input("FLS-AUH-2025-0001").unwrap().is_none(), "the good line was not recorded either");
    }
}
