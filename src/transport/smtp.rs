//! SMTP to the VANS provider's gateway, with `lettre`. The message travels as a MIME
//! attachment, base64-encoded so its bytes (ISO-8859-1 for XDIS91) arrive unchanged.
//!
//! A 5xx reply is permanent; a 4xx reply, a refused connection and a TLS error are transient
//! (nothing was taken; the next `send` retries, up to the configured number of attempts). A
//! timeout or a network error once connected leaves the outcome unknown: the gateway may have
//! stored the mail before its reply was lost. That is retried the same way (same envelope,
//! same Message-ID), but counts as handed over: a receipt for it applies, and MedCom's resend
//! limit counts it.
//!
//! TLS (`smtps://`, or `smtp://…?tls=required` for STARTTLS) trusts the system's certificate
//! store, where a hospital installs its own CA, plus an optional `ca_file`.
//!
//! `timeout_seconds` is a deadline for the whole exchange of one message (connect, TLS, every
//! command and reply). lettre's own timeout applies to each read, so a server answering a
//! byte at a time could hold a message for minutes: the exchange runs on its own thread and
//! is abandoned at the deadline (a transient failure; the socket closes when `send` ends).

use super::{Outgoing, SendError, Transport};
use crate::error::{Error, Result};
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Attachment, Body, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{Message, SmtpTransport, Transport as _};
use std::time::Duration;

pub struct Smtp {
    transport: SmtpTransport,
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
        let mut builder =
            SmtpTransport::from_url(url).map_err(|e| bad(format!("url `{url}`: {e}")))?.timeout(Some(timeout));
        if let Some(ca) = ca_file {
            let pem = std::fs::read(ca).map_err(|e| Error::io(ca, e))?;
            let cert = Certificate::from_pem(&pem).map_err(|e| bad(format!("ca_file {}: {e}", ca.display())))?;
            let parsed = url::Url::parse(url).map_err(|e| bad(format!("url `{url}`: {e}")))?;
            let host = parsed.host_str().ok_or_else(|| bad(format!("url `{url}` names no host")))?.to_string();
            let params = TlsParameters::builder(host)
                .add_root_certificate(cert)
                .build_rustls()
                .map_err(|e| bad(format!("TLS setup: {e}")))?;
            let tls_mode = parsed.query_pairs().find(|(k, _)| k == "tls").map(|(_, v)| v.into_owned());
            let tls = match (parsed.scheme(), tls_mode.as_deref()) {
                ("smtps", _) => Tls::Wrapper(params),
                (_, Some("required")) => Tls::Required(params),
                (_, Some("opportunistic")) => Tls::Opportunistic(params),
                _ => {
                    return Err(bad(format!(
                        "ca_file is set, but url `{url}` asks for no TLS (use smtps:// or ?tls=required)"
                    )))
                }
            };
            builder = builder.tls(tls);
        }
        if let Some(user) = username {
            let password = match password_env {
                Some(var) => std::env::var(var).map_err(|_| bad(format!("password variable {var} is not set")))?,
                None => String::new(),
            };
            builder = builder.credentials(Credentials::new(user.to_string(), password));
        }
        Ok(Smtp {
            transport: builder.build(),
            deadline: timeout,
            url: url.to_string(),
            from: from.parse().map_err(|e| bad(format!("from `{from}`: {e}")))?,
            to: to.parse().map_err(|e| bad(format!("to `{to}`: {e}")))?,
        })
    }

    fn email(&self, m: &Outgoing<'_>) -> std::result::Result<Message, SendError> {
        let wire = m.kind.format().wire();
        let (content_type, label) = (wire.media_type(), wire.label());
        let ct = ContentType::parse(content_type).expect("static content type");
        let attachment = Attachment::new(m.file_name()).body(
            Body::new_with_encoding(m.bytes.to_vec(), ContentTransferEncoding::Base64).expect("base64 takes any bytes"),
            ct,
        );
        let note = SinglePart::plain(format!("{label} letter {} (attached).\r\n", m.letter_id));
        // The same envelope always gets the same Message-ID, so a resend after an
        // interrupted attempt is recognisably the same mail.
        let message_id = format!("<{}.{}.{}@flspost>", m.envelope_id.unwrap_or("memo"), m.letter_id, m.attempt);
        Message::builder()
            .from(self.from.clone())
            .to(self.to.clone())
            .subject(format!("{label} {}", m.envelope_id.unwrap_or(m.letter_id)))
            .message_id(Some(message_id))
            .multipart(MultiPart::mixed().singlepart(note).singlepart(attachment))
            .map_err(|e| SendError::Permanent(format!("cannot build the mail: {e}")))
    }
}

/// Whether `e` came from making the connection (refused, unreachable, timed out connecting):
/// then nothing was sent. lettre keeps its error kinds private; its `Connection` kind is the
/// one whose text starts so (pinned by a test below).
fn not_connected(e: &lettre::transport::smtp::Error) -> bool {
    e.to_string().starts_with("Connection error")
}

impl Transport for Smtp {
    fn describe(&self) -> String {
        // Never the credentials: the URL in the config carries none (they have their own keys).
        format!("smtp {}", self.url)
    }

    fn send(&mut self, m: &Outgoing<'_>) -> std::result::Result<(), SendError> {
        let email = self.email(m)?;
        let transport = self.transport.clone();
        let (done, outcome) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("smtp".into())
            .spawn(move || {
                let _ = done.send(transport.send(&email));
            })
            .map_err(|e| SendError::Transient(format!("SMTP: cannot start the exchange: {e}")))?;
        match outcome.recv_timeout(self.deadline) {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) if e.is_permanent() => Err(SendError::Permanent(format!("SMTP server refused: {e}"))),
            Ok(Err(e)) if e.is_transient() || e.is_tls() || not_connected(&e) => {
                Err(SendError::Transient(format!("SMTP: {e}")))
            }
            Ok(Err(e)) => Err(SendError::Unknown(format!("SMTP: {e}; the gateway may have taken the mail"))),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => Err(SendError::Unknown(format!(
                "SMTP: the exchange did not complete within {} s (timeout_seconds, the deadline for one message); \
                 the gateway may have taken the mail",
                self.deadline.as_secs()
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

    #[test]
    fn a_refused_connection_is_told_apart_from_a_broken_exchange() {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let t = SmtpTransport::builder_dangerous("127.0.0.1").port(port).build();
        let e = t.test_connection().unwrap_err();
        assert!(not_connected(&e), "{e}");
    }
}
