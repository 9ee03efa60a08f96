//! The intake's one journal writer: a thread that takes every request queued at the moment it
//! is ready as one chunk of [`Engine::run_rounds`] (checked and built on all cores, recorded
//! in one transaction per round while the next is built), and hands each request its own
//! summaries once its round is committed (and its output folders flushed). One writer, so
//! nothing of the server is recorded twice or raced with itself; another process on the same
//! journal (a `generate`) is met by the journal's own rules (`exists`, `conflict`).

use crate::server::log::Log;
use flspost::app::generate::{Engine, Summary};
use flspost::error::{Error, Result};
use flspost::input::batch::{Source, CHUNK};
use flspost::journal::Journal;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc::Receiver;
use tokio::sync::oneshot;

/// One request's inputs and where its summaries go.
pub struct Job {
    pub sources: Vec<Source>,
    pub answer: oneshot::Sender<Vec<Summary>>,
}

/// A request handed to the engine, waiting for its summaries (they come in input order).
struct Pending {
    /// Where each input came from: what a line says when its round could not be finished.
    places: Vec<(String, Option<u64>)>,
    got: Vec<Summary>,
    answer: oneshot::Sender<Vec<Summary>>,
}

type Queue = Arc<Mutex<VecDeque<Pending>>>;

pub type Open = Box<dyn Fn() -> Result<Journal> + Send>;

pub fn spawn(engine: Engine, open: Open, rx: Receiver<Job>, log: Log) -> Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("flspost-intake".into())
        .spawn(move || run(engine, open, rx, log))
        .map_err(|e| Error::Internal(format!("serve: cannot start the intake's writer: {e}")))
}

fn run(engine: Engine, open: Open, mut rx: Receiver<Job>, log: Log) {
    let pending: Queue = Arc::default();
    loop {
        let ended = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| -> Result<()> {
            let mut writer = open()?;
            writer.set_many_commits();
            let reader = writer.another_connection()?;
            engine.run_rounds(
                &mut writer,
                &reader,
                || Ok((next(&mut rx, &pending), flspost::support::clock::now())),
                |s| emit(&pending, s),
            )
        }));
        let e = match ended {
            // The queue ended: every request was answered.
            Ok(Ok(())) => return,
            Ok(Err(e)) => e,
            Err(_) => Error::Internal("the intake's writer stopped on a bug; its requests were not finished".into()),
        };
        log.warn("intake-writer", &[("code", e.code().to_string()), ("error", e.to_string())]);
        let mut unanswered: Vec<Pending> = pending.lock().unwrap_or_else(|p| p.into_inner()).drain(..).collect();
        if unanswered.is_empty() {
            // It failed before taking any request (the journal cannot be opened): the next
            // request gets the failure, and the writer tries again after it.
            match rx.blocking_recv() {
                Some(job) => unanswered.push(pending_of(job).1),
                None => return,
            }
        }
        for p in unanswered {
            fail(p, &e);
        }
    }
}

/// Everything queued now, up to a chunk's worth of inputs (at least one request); empty
/// only when the queue has ended. Each request's place is kept for its summaries first.
fn next(rx: &mut Receiver<Job>, pending: &Queue) -> Vec<Source> {
    let Some(first) = rx.blocking_recv() else { return vec![] };
    let mut jobs = vec![first];
    let mut n = jobs[0].sources.len();
    while n < CHUNK {
        match rx.try_recv() {
            Ok(j) => {
                n += j.sources.len();
                jobs.push(j);
            }
            Err(_) => break,
        }
    }
    let mut sources = Vec::with_capacity(n);
    let mut q = pending.lock().unwrap_or_else(|p| p.into_inner());
    for job in jobs {
        let (taken, p) = pending_of(job);
        q.push_back(p);
        sources.extend(taken);
    }
    sources
}

fn pending_of(job: Job) -> (Vec<Source>, Pending) {
    let places = job.sources.iter().map(|s| (s.origin.clone(), s.line)).collect();
    (job.sources, Pending { places, got: vec![], answer: job.answer })
}

/// One summary, recorded: it belongs to the oldest request still waiting, which is answered
/// when it has all of its own.
fn emit(pending: &Queue, s: Summary) {
    let mut q = pending.lock().unwrap_or_else(|p| p.into_inner());
    let Some(front) = q.front_mut() else { return };
    front.got.push(s);
    if front.got.len() == front.places.len() {
        let done = q.pop_front().expect("it is the front");
        // A client that went away gets nothing; what it sent is recorded all the same.
        let _ = done.answer.send(done.got);
    }
}

/// A request whose round could not be finished: what was recorded of it says so, every other
/// line the writer's failure (as `generate`'s lines when its journal fails).
fn fail(p: Pending, e: &Error) {
    let mut got = p.got;
    for (origin, line) in p.places.into_iter().skip(got.len()) {
        got.push(Summary::failed_at(origin, line, None, e));
    }
    let _ = p.answer.send(got);
}
