//! SMTP to the VANS provider's gateway, with `lettre`. The message travels as a MIME
//! attachment, base64-encoded so its bytes (ISO-8859-1 for XDIS91) arrive unchanged.
//!
//! What a failure means depends on how far the exchange got, so flspost drives lettre's
//! connection a step at a time and knows which step failed. Before the message's content was
//! sent (connecting, the greeting, EHLO, TLS, AUTH, MAIL, RCPT, DATA) the gateway cannot have
//! it: a 5xx reply is permanent, anything else (a 4xx, a refused connection, silence, a garbage
//! banner, a timeout) transient; the next `send` retries, up to the configured number of
//! attempts. Once the content was sent, a 4xx or 5xx reply to it still says the gateway did not
//! take it, but a timeout or a broken connection leaves the outcome *unknown*: the gateway may
//! have stored the mail before its reply was lost. That is retried the same way (same envelope,
//! same Message-ID), and counts as handed over: a receipt for it applies, and MedCom's resend
//! limit counts it.
//!
//! TLS (`smtps://`, or `smtp://…?tls=required` for STARTTLS, `?tls=opportunistic`) trusts the
//! system's certificate store, where a hospital installs its own CA, plus an optional
//! `ca_file`. The URL is read as lettre reads it (default ports 25, 587 with STARTTLS, 465 for
//! smtps; a path names the EHLO host; credentials in the URL), the config's `username` and
//! `password_env` taking precedence.
//!
//! `timeout_seconds` is a deadline for the whole exchange of one message (connect, TLS, every
//! command and reply). lettre's own timeout applies to each read, so a server answering a
//! byte at a time could hold a message for minutes: the exchange runs on its own thread and
//! is abandoned at the deadline (transient or unknown by the step it had reached; the socket
//! closes when `send` ends).

use super::{Outgoing, SendError, Transport};
use crate::error::{Error, Result};
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Attachment, Body, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::{Credentials, DEFAULT_MECHANISMS};
use lettre::transport::smtp::client::{Certificate, SmtpConnection, TlsParameters};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt};
use lettre::transport::smtp::extension::ClientId;
use lettre::Message;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// How TLS is used, as the URL says.
#[derive(Clone)]
enum TlsMode {
    None,
    /// `smtps://`: TLS from the first byte.
    Wrapper(TlsParameters),
    /// `?tls=required`: STARTTLS, or no mail.
    Required(TlsParameters),
    /// `?tls=opportunistic`: STARTTLS when the server offers it.
    Opportunistic(TlsParameters),
}

/// Where and how to connect: what lettre's `SmtpTransport::from_url` reads from the URL.
#[derive(Clone)]
struct Endpoint {
    host: String,
    port: u16,
    tls: TlsMode,
    hello: ClientId,
    credentials: Option<Credentials>,
    timeout: Duration,
}

pub struct Smtp {
    endpoint: Endpoint,
    deadline: Duration,
    url: String,
    from: Mailbox,
    to: Mailbox,
}

/// What `[transport.*]` with `type = "smtp"` says.
pub struct Settings<'a> {
    pub url: &'a str,
    pub from: &'a str,
    pub to: &'a str,
    pub username: Option<&'a str>,
    pub password_env: Option<&'a str>,
    pub ca_file: Option<&'a std::path::Path>,
    pub timeout: Duration,
}

impl Smtp {
    pub fn new(s: &Settings<'_>) -> Result<Smtp> {
        let Settings { url, from, to, username, password_env, ca_file, timeout } = *s;
        let bad = |reason: String| Error::Usage(format!("smtp transport: {reason}"));
        let parsed = url::Url::parse(url).map_err(|e| bad(format!("url `{url}`: {e}")))?;
        let host = parsed.host_str().ok_or_else(|| bad(format!("url `{url}` names no host")))?.to_string();
        // An IPv6 literal comes bracketed from the URL; the socket address wants it bare.
        let host = host.trim_start_matches('[').trim_end_matches(']').to_string();
        let tls_params = || -> Result<TlsParameters> {
            let mut b = TlsParameters::builder(host.clone());
            if let Some(ca) = ca_file {
                let pem = std::fs::read(ca).map_err(|e| Error::io(ca, e))?;
                let cert = Certificate::from_pem(&pem).map_err(|e| bad(format!("ca_file {}: {e}", ca.display())))?;
                b = b.add_root_certificate(cert);
            }
            b.build_rustls().map_err(|e| bad(format!("TLS setup: {e}")))
        };
        let tls_mode = parsed.query_pairs().find(|(k, _)| k == "tls").map(|(_, v)| v.into_owned());
        let (tls, default_port) = match (parsed.scheme(), tls_mode.as_deref()) {
            ("smtp", None) => (TlsMode::None, 25),
            ("smtp", Some("required")) => (TlsMode::Required(tls_params()?), 587),
            ("smtp", Some("opportunistic")) => (TlsMode::Opportunistic(tls_params()?), 587),
            ("smtps", _) => (TlsMode::Wrapper(tls_params()?), 465),
            (scheme, tls) => {
                return Err(bad(format!(
                    "url `{url}`: unknown scheme `{scheme}` or tls `{}` (smtp://, smtps://, ?tls=required or \
                     ?tls=opportunistic)",
                    tls.unwrap_or("")
                )))
            }
        };
        if ca_file.is_some() && matches!(tls, TlsMode::None) {
            return Err(bad(format!(
                "ca_file is set, but url `{url}` asks for no TLS (use smtps:// or ?tls=required)"
            )));
        }
        let hello = match parsed.path().trim_matches('/') {
            "" => ClientId::default(),
            name => ClientId::Domain(name.to_string()),
        };
        // Percent-decoded as lettre does (a `+` stays a `+`: this is no form).
        let decode = |s: &str| -> Result<String> {
            percent_encoding::percent_decode_str(s)
                .decode_utf8()
                .map(|d| d.into_owned())
                .map_err(|_| bad(format!("url `{url}`: its user or password is not UTF-8 once decoded")))
        };
        let mut credentials = match parsed.password() {
            Some(p) => Some(Credentials::new(decode(parsed.username())?, decode(p)?)),
            None => None,
        };
        if let Some(user) = username {
            let password = match password_env {
                Some(var) => std::env::var(var).map_err(|_| bad(format!("password variable {var} is not set")))?,
                None => String::new(),
            };
            credentials = Some(Credentials::new(user.to_string(), password));
        }
        let port = parsed.port().unwrap_or(default_port);
        Ok(Smtp {
            endpoint: Endpoint { host, port, tls, hello, credentials, timeout },
            deadline: timeout,
            url: url.to_string(),
            from: from.parse().map_err(|e| bad(format!("from `{from}`: {e}")))?,
            to: to.parse().map_err(|e| bad(format!("to `{to}`: {e}")))?,
        })
    }

    fn email(&self, m: &Outgoing<'_>) -> std::result::Result<Message, SendError> {
        let wire = m.kind.wire();
        let (content_type, label) = (wire.media_type(), wire.label());
        let ct = ContentType::parse(content_type).expect("static content type");
        let attachment = Attachment::new(m.file_name()).body(
            Body::new_with_encoding(m.bytes.to_vec(), ContentTransferEncoding::Base64).expect("base64 takes any bytes"),
            ct,
        );
        let note = SinglePart::plain(format!("{label} letter {} (attached).\r\n", m.letter_id));
        // The same envelope always gets the same Message-ID, so a resend after an
        // interrupted attempt is recognisably the same mail.
        let message_id = format!("<{}.{}.{}@flspost>", m.envelope_id.unwrap_or("memo"), m.letter_id, m.transmission);
        Message::builder()
            .from(self.from.clone())
            .to(self.to.clone())
            .subject(format!("{label} {}", m.envelope_id.unwrap_or(m.letter_id)))
            .message_id(Some(message_id))
            .multipart(MultiPart::mixed().singlepart(note).singlepart(attachment))
            .map_err(|e| SendError::Permanent(format!("cannot build the mail: {e}")))
    }
}

/// One message's exchange, a step at a time. `content_sent` turns true as the message's content
/// starts to go: from then on only the gateway's reply says whether it took it.
fn exchange(
    e: &Endpoint,
    from: &lettre::Address,
    to: &lettre::Address,
    bytes: &[u8],
    content_sent: &AtomicBool,
) -> std::result::Result<(), lettre::transport::smtp::Error> {
    let wrapper = match &e.tls {
        TlsMode::Wrapper(p) => Some(p),
        _ => None,
    };
    let mut conn = SmtpConnection::connect((e.host.as_str(), e.port), Some(e.timeout), &e.hello, wrapper, None)?;
    match &e.tls {
        TlsMode::Required(p) => conn.starttls(p, &e.hello)?,
        TlsMode::Opportunistic(p) if conn.can_starttls() => conn.starttls(p, &e.hello)?,
        _ => {}
    }
    if let Some(c) = &e.credentials {
        conn.auth(DEFAULT_MECHANISMS, c)?;
    }
    conn.command(Mail::new(Some(from.clone()), vec![]))?;
    conn.command(Rcpt::new(to.clone(), vec![]))?;
    conn.command(Data)?;
    content_sent.store(true, Ordering::SeqCst);
    conn.message(bytes)?;
    // The mail is taken; a failing QUIT changes nothing.
    let _ = conn.quit();
    Ok(())
}

/// A failed exchange as a send error: by the gateway's reply when it gave one, else by whether
/// the message's content had gone.
fn classify(e: &lettre::transport::smtp::Error, content_sent: bool) -> SendError {
    if e.is_permanent() {
        SendError::Permanent(format!("SMTP server refused: {e}"))
    } else if e.is_transient() || !content_sent {
        SendError::Transient(format!("SMTP: {e}"))
    } else {
        SendError::Unknown(format!("SMTP: {e}, after the message was sent; the gateway may have taken it"))
    }
}

impl Transport for Smtp {
    fn longest_wait(&self) -> Duration {
        self.deadline
    }

    fn describe(&self) -> String {
        // Never the credentials: the URL in the config carries none (they have their own keys).
        format!("smtp {}", self.url)
    }

    fn kind(&self) -> &'static str {
        "smtp"
    }

    fn send(&mut self, m: &Outgoing<'_>) -> std::result::Result<(), SendError> {
        let email = self.email(m)?.formatted();
        let (endpoint, from, to) = (self.endpoint.clone(), self.from.email.clone(), self.to.email.clone());
        let content_sent = Arc::new(AtomicBool::new(false));
        let sent = content_sent.clone();
        let (done, outcome) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("smtp".into())
            .spawn(move || {
                let _ = done.send(exchange(&endpoint, &from, &to, &email, &sent));
            })
            .map_err(|e| SendError::Transient(format!("SMTP: cannot start the exchange: {e}")))?;
        let deadline = self.deadline.as_secs();
        match outcome.recv_timeout(self.deadline) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(classify(&e, content_sent.load(Ordering::SeqCst))),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) if content_sent.load(Ordering::SeqCst) => {
                Err(SendError::Unknown(format!(
                    "SMTP: no reply to the message within {deadline} s (timeout_seconds, the deadline for one \
                     message); the gateway may have taken it"
                )))
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => Err(SendError::Transient(format!(
                "SMTP: the exchange did not complete within {deadline} s (timeout_seconds, the deadline for one \
                 message), before the message was sent"
            ))),
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                Err(SendError::Unknown("SMTP: the exchange stopped without an outcome".into()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn smtp(url: &str) -> Smtp {
        Smtp::new(&Settings {
            url,
            from: "fls@auh.example.dk",
            to: "vans@vans.example.dk",
            username: None,
            password_env: None,
            ca_file: None,
            timeout: Duration::from_secs(5),
        })
        .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn the_url_is_read_as_lettre_reads_it() {
        let s = smtp("smtp://fls%2Bgw:p+w%40rd@vans.example.dk/helo.example.dk");
        assert_eq!(s.endpoint.credentials, Some(Credentials::new("fls+gw".into(), "p+w@rd".into())));
        assert_eq!((s.endpoint.host.as_str(), s.endpoint.port), ("vans.example.dk", 25));
        assert_eq!(s.endpoint.hello, ClientId::Domain("helo.example.dk".into()));
        assert_eq!(smtp("smtp://vans.example.dk?tls=required").endpoint.port, 587);
        assert_eq!(smtp("smtps://vans.example.dk").endpoint.port, 465);
        assert_eq!(smtp("smtp://vans.example.dk:2525").endpoint.port, 2525);
    }
}
