//! What every request shares: the config, the journal (a few connections, used off the async
//! threads), the sessions, the sign-in throttle, the templates, the limits and the log.

use super::auth::{Sessions, Throttle};
use super::log::Log;
use flspost::app::config::Config;
use flspost::error::{Error, Result};
use flspost::journal::{Access, Journal};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub type Shared = Arc<AppState>;

pub struct Limits {
    pub max_body: usize,
    /// Requests handled at once; the rest wait (up to `timeout`) for a place.
    pub concurrent: usize,
    pub timeout: Duration,
    pub idle: Duration,
}

pub struct AppState {
    pub config: Config,
    pub journal_location: flspost::journal::Location,
    /// Connections not in use; at most `limits.concurrent` are ever open.
    pool: Mutex<Vec<Journal>>,
    pub sessions: Sessions,
    pub throttle: Throttle,
    pub templates: minijinja::Environment<'static>,
    pub limits: Limits,
    pub places: tokio::sync::Semaphore,
    pub secure_cookies: bool,
    pub log: Log,
    /// The resident intake (`[server.intake]`), when it is on.
    pub intake: Option<super::intake::Intake>,
}

impl AppState {
    pub fn new(config: Config, journal_location: flspost::journal::Location, secure_cookies: bool) -> Result<AppState> {
        let s = &config.server;
        let limits = Limits {
            max_body: s.max_body_kib.unwrap_or(2048).clamp(1, 64 * 1024) as usize * 1024,
            concurrent: s.max_concurrent_requests.unwrap_or(32).clamp(1, 1024),
            timeout: Duration::from_secs(s.request_timeout_seconds.unwrap_or(30).clamp(1, 600)),
            idle: Duration::from_secs(s.idle_timeout_minutes.unwrap_or(30).clamp(1, 24 * 60) * 60),
        };
        let log = Log { json: s.log.as_deref() == Some("json") };
        let intake = super::intake::Intake::start(&config, journal_location.clone(), log.clone(), limits.concurrent)?;
        Ok(AppState {
            intake,
            places: tokio::sync::Semaphore::new(limits.concurrent),
            templates: super::console::templates()?,
            pool: Mutex::new(vec![]),
            sessions: Sessions::default(),
            throttle: Throttle::default(),
            journal_location,
            config,
            limits,
            secure_cookies,
            log,
        })
    }

    fn take(&self) -> Result<Journal> {
        if let Some(j) = self.pool.lock().unwrap_or_else(|e| e.into_inner()).pop() {
            return Ok(j);
        }
        let mut j =
            Journal::open_at(&self.journal_location, Access::ReadWrite, self.config.journal.busy_timeout(), true)?;
        j.set_resend_policy(self.config.resend.policy().map_err(Error::Usage)?);
        Ok(j)
    }

    fn give_back(&self, j: Journal) {
        let mut pool = self.pool.lock().unwrap_or_else(|e| e.into_inner());
        if pool.len() < self.limits.concurrent {
            pool.push(j);
        }
    }

    /// Closes the kept connections on a blocking thread: a PostgreSQL client closes its
    /// connection by waiting for the server, which must not happen on a thread that serves.
    pub async fn close_journals(self: &Arc<Self>) {
        let kept: Vec<Journal> = std::mem::take(&mut *self.pool.lock().unwrap_or_else(|e| e.into_inner()));
        let _ = tokio::task::spawn_blocking(move || drop(kept)).await;
    }

    /// Runs `f` with a journal connection on a blocking thread: SQLite waits for other
    /// processes' locks there, never on the threads that serve connections.
    pub async fn journal<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&mut Journal) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let st = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut j = st.take()?;
            let r = f(&mut j);
            // A connection whose work failed is not kept: it may be in a state no one wants.
            if r.is_ok() {
                st.give_back(j);
            }
            r
        })
        .await
        .map_err(|e| Error::Internal(format!("a request's journal work stopped: {e}")))?
    }
}
