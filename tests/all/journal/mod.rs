//! The journal file: where it lives and how safely, journals of released schemas, integrity of its bytes.
mod fixtures;
mod integrity;
mod path;
