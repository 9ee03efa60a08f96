//! The journal's own error, a leaf that imports nothing of the crate, so the crate's
//! [`crate::error::Error`] can wrap it while the journal returns that error.

/// A failure of the store under the journal, kept opaque so no store type leaks out.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct StoreError(#[from] pub(super) super::db::DbError);
