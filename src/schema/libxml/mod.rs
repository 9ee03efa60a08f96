//! The libxml2 binding: the IO callbacks that let bundled schemas import each other
//! ([`bundled_io`]), the tree path ([`tree`], where every problem comes from) and the stream
//! path ([`stream`], which only says "clean" for a document the tree path also finds valid).

mod bundled_io;
mod stream;
pub(super) use stream::MAX_BYTES as STREAM_MAX_BYTES;
pub(super) mod tree;

#[cfg(test)]
mod tests;
