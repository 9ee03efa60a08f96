//! `flspost serve`: one resident process over the journal, a front end beside the command line
//! (`src/cli/`) over the same use cases (`flspost::app`), never SQL. The routes are composed
//! here, one router per area: the support console's pages (`console`), what operations polls
//! (`ops`: /healthz, /metrics), and the resident intake of JSON results for the gateway
//! (`intake`: `POST /generate`, also on its own Unix socket). Every request is bounded
//! (`limits`), every page needs a session (`auth`), the intake its token or its socket, and
//! the server listens beyond loopback only with TLS (`listen`).

mod auth;
mod console;
mod fail;
mod form;
mod intake;
mod limits;
mod listen;
mod log;
mod ops;
mod state;

use flspost::app::config::Config;
use flspost::error::{Error, Result};
use state::{AppState, Shared};
use std::sync::Arc;

/// Every route of the server, each area's router merged into one, with the bounds every
/// request is held to. The state is shared by all.
fn routes(state: Shared) -> axum::Router {
    let body_limit = state.limits.max_body;
    axum::Router::new()
        .merge(console::router())
        .merge(ops::router())
        .merge(intake::router(false))
        .layer(axum::middleware::from_fn_with_state(state.clone(), limits::bound))
        .layer(axum::extract::DefaultBodyLimit::max(body_limit))
        .with_state(state)
}

/// The intake alone, for its Unix socket: the same limits and state, no token (the socket's
/// permissions are the access), none of the console.
fn socket_routes(state: Shared) -> axum::Router {
    intake::router(true).layer(axum::middleware::from_fn_with_state(state.clone(), limits::bound)).with_state(state)
}

/// Runs the server until SIGTERM or Ctrl-C; then it stops taking connections, lets the
/// requests under way finish (for at most 10 seconds), lets the intake's writer record and
/// answer what it was given, and returns 0.
pub fn serve(config: Config, journal: flspost::journal::Location) -> Result<i32> {
    let plan = listen::plan(&config.server)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(16)
        .enable_all()
        .build()
        .map_err(|e| Error::Internal(format!("serve: cannot start the runtime: {e}")))?;
    let state = Arc::new(AppState::new(config, journal, plan.secure_cookies)?);
    runtime.block_on(run(state, plan))
}

async fn run(state: Shared, plan: listen::Plan) -> Result<i32> {
    let listener = std::net::TcpListener::bind(plan.addr)
        .map_err(|e| Error::Usage(format!("[server] listen = \"{}\": cannot listen there: {e}", plan.addr)))?;
    listener.set_nonblocking(true).map_err(|e| Error::Internal(format!("serve: {e}")))?;
    let addr = listener.local_addr().map_err(|e| Error::Internal(format!("serve: {e}")))?;
    let socket = match state.intake.as_ref().and_then(|i| i.socket.as_deref()) {
        Some(path) => Some(intake::Socket::bind(path)?),
        None => None,
    };
    let handle = axum_server::Handle::new();
    let log = state.log.clone();
    let app = routes(state.clone()).into_make_service_with_connect_info::<std::net::SocketAddr>();
    let scheme = if plan.tls.is_some() { "https" } else { "http" };
    // Tests and supervisors read the address from this line (a port of 0 picks a free one).
    log.event("listening", &[("url", format!("{scheme}://{addr}/"))]);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let on_socket = match &socket {
        Some(s) => {
            let unix = tokio::net::UnixListener::from_std(
                s.listener.try_clone().map_err(|e| Error::Internal(format!("serve: {e}")))?,
            )
            .map_err(|e| Error::Internal(format!("serve: {e}")))?;
            log.event("listening", &[("socket", s.path.display().to_string())]);
            let mut stopped = stopped.clone();
            let app = socket_routes(state.clone());
            Some(tokio::spawn(async move {
                axum::serve(unix, app)
                    .with_graceful_shutdown(async move {
                        let _ = stopped.wait_for(|s| *s).await;
                    })
                    .await
            }))
        }
        None => None,
    };
    let stopping = handle.clone();
    let log_stop = log.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        log_stop.event("stopping", &[("reason", "signal".into())]);
        let _ = stop.send(true);
        stopping.graceful_shutdown(Some(std::time::Duration::from_secs(10)));
    });
    let served = match plan.tls {
        Some(tls) => axum_server::from_tcp_rustls(listener, tls).handle(handle).serve(app).await,
        None => axum_server::from_tcp(listener).handle(handle).serve(app).await,
    };
    if let Some(task) = on_socket {
        // The socket's requests under way finish too, within the same 10 seconds.
        let _ = tokio::time::timeout(std::time::Duration::from_secs(10), task).await;
    }
    if let Some(intake) = &state.intake {
        intake.close().await;
    }
    if let Some(s) = &socket {
        s.remove();
    }
    state.close_journals().await;
    served.map_err(|e| Error::Internal(format!("serve: {e}")))?;
    log.event("stopped", &[]);
    Ok(0)
}

async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => return std::future::pending().await,
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}
