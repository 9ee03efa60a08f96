//! The tree path: a compiled [`Schema`], and a document parsed into libxml2's tree and
//! validated there. Every problem reported comes from here, with its position.

use super::{bundled_io, stream};
use crate::schema::problem::{locate_columns, without_namespaces, Problem};
use libxml::parser::{Parser, ParserOptions, XmlParseFailure};
use libxml::schemas::{SchemaParserContext, SchemaValidationContext};

fn problem(e: &libxml::error::StructuredError) -> Problem {
    Problem {
        line: e.line.and_then(|l| u32::try_from(l).ok()).filter(|l| *l > 0),
        column: e.col.and_then(|c| u32::try_from(c).ok()).filter(|c| *c > 0),
        message: without_namespaces(e.message.as_deref().unwrap_or("unknown libxml2 error").trim()),
    }
}

/// A compiled schema, ready to validate documents.
pub struct Schema {
    pub(super) ctx: SchemaValidationContext,
}

impl Schema {
    /// Compiles a schema held in memory; it may import the bundled schemas as `flspost:NAME`.
    pub fn from_text(xsd: &str) -> Result<Schema, Vec<Problem>> {
        bundled_io::register();
        let mut parser = SchemaParserContext::from_buffer(xsd);
        SchemaValidationContext::from_parser(&mut parser)
            .map(|ctx| Schema { ctx })
            .map_err(|errs| errs.iter().map(problem).collect())
    }

    /// Compiles a schema from a file, resolving its includes and imports relative to it.
    pub fn from_file(path: &std::path::Path) -> Result<Schema, Vec<Problem>> {
        let path = path.to_str().filter(|p| !p.contains('\0')).ok_or_else(|| {
            vec![Problem { line: None, column: None, message: "schema path is not valid UTF-8".into() }]
        })?;
        let mut parser = SchemaParserContext::from_file(path);
        SchemaValidationContext::from_parser(&mut parser)
            .map(|ctx| Schema { ctx })
            .map_err(|errs| errs.iter().map(problem).collect())
    }

    /// Parses `bytes` (any encoding its XML declaration names) and validates them.
    /// Parse errors and schema errors alike come back as problems with line and column.
    ///
    /// A valid document is streamed through the schema without building a tree (most of the
    /// time went into the tree: allocating, linking and freeing a node per element and text).
    /// Anything libxml2 reports on the way, even a warning, sends the document through
    /// [`Schema::validate_tree`] as well, so every problem reported comes from the tree path,
    /// with its positions, and the stream only ever says "valid" for a document the tree path
    /// also finds valid (see `stream`).
    pub fn validate(&mut self, bytes: &[u8]) -> Result<(), Vec<Problem>> {
        if stream::is_clean(&mut self.ctx, bytes) {
            return Ok(());
        }
        self.validate_tree(bytes)
    }

    /// Whether `bytes` stream through the schema with nothing reported (see `stream`): a
    /// "yes" is the tree path's answer too; a "no" says nothing yet.
    pub(crate) fn streams_clean(&mut self, bytes: &[u8]) -> bool {
        stream::is_clean(&mut self.ctx, bytes)
    }

    /// Parses `bytes` into libxml2's tree and validates that: the path every problem comes from.
    pub fn validate_tree(&mut self, bytes: &[u8]) -> Result<(), Vec<Problem>> {
        let options = ParserOptions { no_net: true, no_error: true, no_warning: true, ..ParserOptions::default() };
        let (doc, diagnostics) = match Parser::default().parse_string_with_diagnostics(bytes, options) {
            Ok(r) => r,
            Err(XmlParseFailure::ParseFailed(errs)) if !errs.is_empty() => {
                return Err(errs.iter().map(problem).collect())
            }
            Err(e) => {
                return Err(vec![Problem { line: None, column: None, message: format!("not well-formed XML: {e}") }])
            }
        };
        let fatal: Vec<Problem> = diagnostics
            .iter()
            .filter(|d| matches!(d.level, libxml::error::XmlErrorLevel::Error | libxml::error::XmlErrorLevel::Fatal))
            .map(problem)
            .collect();
        if !fatal.is_empty() {
            return Err(fatal);
        }
        self.validate_parsed(&doc, bytes)
    }

    /// Validates a parsed tree of `bytes`.
    pub(super) fn validate_parsed(&mut self, doc: &libxml::tree::Document, bytes: &[u8]) -> Result<(), Vec<Problem>> {
        // libxml2 (2.9) refuses a document without a root element before its run starts and
        // so without the cleanup that forgets the document: the context would keep pointing
        // at a tree freed after this call, and the next streaming validation on it would walk
        // that tree. A parse that reports no error always has a root, but the shared context
        // is not left to that: such a tree is refused here, as libxml2 words it.
        if doc.get_root_element().is_none() {
            return Err(vec![Problem {
                line: None,
                column: None,
                message: "The document has no document element".into(),
            }]);
        }
        self.ctx.validate_document(doc).map_err(|errs| {
            let mut problems: Vec<Problem> = errs.iter().map(problem).collect();
            locate_columns(bytes, &mut problems);
            problems
        })
    }
}
