//! The letters' error: a leaf, so the crate's error can wrap it without naming the templates.

/// A template set that failed to load: which file and why.
#[derive(Debug, thiserror::Error)]
#[error("letter template {name} ({origin}): {reason}")]
pub struct TemplateError {
    pub name: String,
    pub origin: String,
    pub reason: String,
}
