//! Where a message stands on its way to its receiver: the journal stores it, and MedCom's
//! reliable-messaging rules ([`crate::reliable`]) decide by it.

use serde::Serialize;

/// Where a message stands.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Serialize, strum::IntoStaticStr, strum::EnumString, strum::VariantArray,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum Status {
    /// Built and validated, waiting for `send`.
    Generated,
    /// A send failed for a reason that may pass (VANS down, 4xx); the next `send` retries.
    Retry,
    /// Handed to the transport.
    Sent,
    /// Given up: a permanent failure, or too many transient ones. Needs `regenerate`.
    Failed,
    /// The receiver's positive receipt (XCTL03) arrived.
    Acknowledged,
    /// A negative receipt (XCTL01/XCTL02) arrived, with MedCom's refuse code and text.
    Rejected,
    /// Replaced before it was sent (by a correction).
    Superseded,
}

impl Status {
    pub const ALL: &[Status] = <Status as strum::VariantArray>::VARIANTS;

    pub fn code(self) -> &'static str {
        self.into()
    }

    pub fn from_code(s: &str) -> Option<Status> {
        s.parse().ok()
    }
}
