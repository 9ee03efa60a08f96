//! The namespaces of the messages flspost writes and reads, as their bundled schemas declare
//! them: one definition, for the writers and for recognising a document by its root.

pub(crate) const MEDCOM_2006: &str = "http://rep.oio.dk/sundcom.dk/medcom.dk/xml/schemas/2006/07/01/";
pub(crate) const MEDCOM_RECEIPTS: &str = "http://rep.oio.dk/sundcom.dk/medcom.dk/xml/schemas/2005/08/07/";
pub const MEMO: &str = "https://DigitalPost.dk/MeMo-1";
pub const FHIR: &str = "http://hl7.org/fhir";
pub(crate) const VANS_ENVELOPE: &str = "urn:oio:medcom:vans-envelope:1.0.4";
pub const FJERNPRINT: &str = "urn:oio:fjernprint:1.0.0";
pub(crate) const DKAL: &str = "urn:oio:dkal:1.0.0";
