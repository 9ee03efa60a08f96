//! Warnings: what flspost changed on the way that a person should know about.

/// Something flspost changed on the way that a person should know about (a transliterated
/// character). Names the field, never the value.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Warning {
    /// A field name can be an input's key, which can be anything.
    #[serde(serialize_with = "crate::support::redact::serialize_redacted")]
    pub field: String,
    #[serde(serialize_with = "crate::support::redact::serialize_redacted")]
    pub message: String,
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}
