//! The journal file: where it lives and how safely, journals of released schemas, integrity of its
//! bytes; the support work queue over it.
mod erasure;
mod fixtures;
mod integrity;
mod lifecycle;
mod parts;
mod path;
mod postgres;
mod postgres_tls;
mod queue;
mod restore;
mod retention;
