//! The bundled schemas compiled once per thread: libxml2's validation contexts are not
//! thread-safe, so each thread keeps its own [`Validator`] (see [`with_validator`]).

use super::base64;
use super::libxml::{tree::Schema, STREAM_MAX_BYTES};
use super::problem::Problem;
use crate::model::MessageKind;
use std::cell::RefCell;

/// The bundled schemas, each compiled on first use and then kept.
#[derive(Default)]
pub struct Validator {
    schemas: Vec<(MessageKind, Schema)>,
    /// [`STANDARD_FHIR`], compiled when `validate` first judges a FHIR message by MedCom's standard.
    standard_fhir: Option<Schema>,
}

/// The schema for MedCom's whole FHIR standard (see its head): `validate`'s first verdict.
pub const STANDARD_FHIR: (&str, &str) =
    ("flspost-fhir-standard.xsd", include_str!("../../schemas/flspost-fhir-standard.xsd"));

impl Validator {
    pub fn bundled() -> Validator {
        Validator::default()
    }

    /// Validates `bytes` with the bundled schema for `kind`. Its large base64 values are checked
    /// in Rust and libxml2 streams a copy with short ones in their place (see `base64`); a
    /// document that is not clean that way is judged as it is, by libxml2 alone as before, and
    /// a value it lets through that xs:base64Binary does not allow is added to its problems.
    pub fn validate(&mut self, kind: MessageKind, bytes: &[u8]) -> Result<(), Vec<Problem>> {
        let schema = self.schema(kind);
        // Larger documents take the tree path, whose limits (a text node's length) see the values.
        if kind.binaries().is_empty() || bytes.len() > STREAM_MAX_BYTES {
            return schema.validate(bytes);
        }
        let values = base64::find(bytes, kind.binaries());
        if values.is_empty() {
            return schema.validate(bytes);
        }
        let wrong: Vec<Problem> = values.iter().filter_map(|v| v.problem(bytes)).collect();
        if wrong.is_empty() && schema.streams_clean(&base64::with_placeholders(bytes, &values)) {
            return Ok(());
        }
        let mut problems = schema.validate(bytes).err().unwrap_or_default();
        for p in wrong {
            // libxml2 may have refused the value itself (its words are kept), or let it through.
            let element = p.message.split(':').next().unwrap_or_default();
            if !problems.iter().any(|q| q.line == p.line && q.message.starts_with(element)) {
                let at = problems.iter().position(|q| q.line.unwrap_or(0) > p.line.unwrap_or(0));
                problems.insert(at.unwrap_or(problems.len()), p);
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }

    /// Validates a FHIR message with [`STANDARD_FHIR`].
    pub fn validate_standard_fhir(&mut self, bytes: &[u8]) -> Result<(), Vec<Problem>> {
        let schema = self.standard_fhir.get_or_insert_with(|| {
            Schema::from_text(STANDARD_FHIR.1)
                .unwrap_or_else(|e| panic!("bundled schema {} does not compile: {e:?}", STANDARD_FHIR.0))
        });
        schema.validate(bytes)
    }

    fn schema(&mut self, kind: MessageKind) -> &mut Schema {
        let i = match self.schemas.iter().position(|(k, _)| *k == kind) {
            Some(i) => i,
            None => {
                let (name, text) = kind.bundled_schema();
                let s =
                    Schema::from_text(text).unwrap_or_else(|e| panic!("bundled schema {name} does not compile: {e:?}"));
                self.schemas.push((kind, s));
                self.schemas.len() - 1
            }
        };
        &mut self.schemas[i].1
    }
}

thread_local! {
    static VALIDATOR: RefCell<Option<Validator>> = const { RefCell::new(None) };
}

/// Runs `f` with this thread's validator, compiling the bundled schemas on first use.
pub fn with_validator<T>(f: impl FnOnce(&mut Validator) -> T) -> T {
    VALIDATOR.with(|cell| {
        let mut slot = cell.borrow_mut();
        f(slot.get_or_insert_with(Validator::bundled))
    })
}
