//! Transports: how a stored message leaves flspost. Each kind of transport lives in its
//! own module behind [`Transport`]; the message model knows nothing of how it travels.

pub mod outbox;
pub mod smtp;

use crate::model::Kind;

/// A message on its way out: the exact bytes from the journal and their identifiers.
pub struct Outgoing<'a> {
    pub kind: Kind,
    pub bytes: &'a [u8],
    pub letter_id: &'a str,
    pub envelope_id: Option<&'a str>,
    pub transmission: u32,
}

impl Outgoing<'_> {
    /// A file name no other message can have: XDIS91 by its envelope identifier (new on
    /// every send), MeMo and kombi requests by the MeMo UUID and attempt.
    pub fn file_name(&self) -> String {
        self.kind.wire().outbox_file_name(self.letter_id, self.envelope_id, self.transmission)
    }
}

/// Why a send failed, and whether trying again later can help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// The peer is down, busy or slow (refused connection, timeout, 4xx): retry later.
    Transient(String),
    /// The peer refused the message (5xx) or the setup is wrong: retrying will not help.
    Permanent(String),
    /// The exchange broke off where the peer may have taken the message already (no
    /// reply within the deadline): retry with the same envelope, and count it as handed over.
    Unknown(String),
}

impl SendError {
    /// The stable `code` of this failure by a transport of `kind` ([`Transport::kind`]):
    /// `smtp_permanent`, `smtp_transient`, `smtp_unknown`, `outbox_permanent`,
    /// `outbox_transient` (an outbox never leaves an outcome unknown).
    pub fn code(&self, kind: &str) -> &'static str {
        match (kind, self) {
            ("smtp", SendError::Permanent(_)) => "smtp_permanent",
            ("smtp", SendError::Transient(_)) => "smtp_transient",
            ("smtp", SendError::Unknown(_)) => "smtp_unknown",
            ("outbox", SendError::Permanent(_)) => "outbox_permanent",
            ("outbox", SendError::Transient(_)) => "outbox_transient",
            ("outbox", SendError::Unknown(_)) => "outbox_unknown",
            (_, SendError::Permanent(_)) => "transport_permanent",
            (_, SendError::Transient(_)) => "transport_transient",
            (_, SendError::Unknown(_)) => "transport_unknown",
        }
    }
}

pub trait Transport {
    /// Short description for the journal (`smtp smtp://host:25`, `outbox /path`).
    fn describe(&self) -> String;
    /// Which kind of transport it is (`smtp`, `outbox`): the first word of the stable
    /// `code` of its failures (`smtp_permanent`, `outbox_transient`).
    fn kind(&self) -> &'static str;
    fn send(&mut self, message: &Outgoing<'_>) -> std::result::Result<(), SendError>;
    /// The longest one hand-over may take before the transport gives up on it (a claim on a
    /// shared journal must outlast it). A folder's: a write and its flushes, which take
    /// milliseconds on a local disk.
    fn longest_wait(&self) -> std::time::Duration {
        std::time::Duration::from_secs(2)
    }
}
