//! The bundled schemas compiled once per thread: libxml2's validation contexts are not
//! thread-safe, so each thread keeps its own [`Validator`] (see [`with_validator`]).

use super::libxml::tree::Schema;
use super::problem::Problem;
use crate::model::MessageKind;
use std::cell::RefCell;

/// The bundled schemas, each compiled on first use and then kept.
#[derive(Default)]
pub struct Validator {
    schemas: Vec<(MessageKind, Schema)>,
}

impl Validator {
    pub fn bundled() -> Validator {
        Validator::default()
    }

    pub fn validate(&mut self, kind: MessageKind, bytes: &[u8]) -> Result<(), Vec<Problem>> {
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
        self.schemas[i].1.validate(bytes)
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
