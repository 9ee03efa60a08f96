//! MedCom FHIR's fixed names: namespaces, identifier systems, profiles, extensions.

/// The FHIR namespace (defined once, with the other messages' namespaces).
pub use crate::schema::namespaces::FHIR as NAMESPACE;
pub const XHTML: &str = "http://www.w3.org/1999/xhtml";

pub(crate) const CPR_SYSTEM: &str = "urn:oid:1.2.208.176.1.2";
pub(crate) const SOR_SYSTEM: &str = "urn:oid:1.2.208.176.1.1";
pub(crate) const GLN_SYSTEM: &str = "https://www.gs1.org/gln";
/// Where MedCom's examples and SOR-EDI point an endpoint: the unit's SOR page.
pub(crate) const SOR_ENDPOINT_PREFIX: &str = "https://sor2.sum.dsdn.dk/#id=";
/// The base of `fullUrl`s, as in MedCom's examples (with relative `Type/id` references).
pub(crate) const FULL_URL_BASE: &str = "https://medcomfhir.dk/ig/carecommunication/";

pub(crate) const PROFILE_CC_MESSAGE: &str =
    "http://medcomfhir.dk/ig/carecommunication/StructureDefinition/medcom-careCommunication-message";
pub(crate) const PROFILE_CC_HEADER: &str =
    "http://medcomfhir.dk/ig/carecommunication/StructureDefinition/medcom-careCommunication-messageHeader";
pub(crate) const PROFILE_CC_COMMUNICATION: &str =
    "http://medcomfhir.dk/ig/carecommunication/StructureDefinition/medcom-careCommunication-communication";
pub(crate) const PROFILE_CC_PROVENANCE: &str =
    "http://medcomfhir.dk/ig/carecommunication/StructureDefinition/medcom-careCommunication-provenance";
pub(crate) const PROFILE_PATIENT: &str = "http://medcomfhir.dk/ig/core/StructureDefinition/medcom-core-patient";
pub(crate) const PROFILE_ORGANIZATION: &str =
    "http://medcomfhir.dk/ig/messaging/StructureDefinition/medcom-messaging-organization";
pub(crate) const PROFILE_PRACTITIONER_ROLE: &str =
    "http://medcomfhir.dk/ig/core/StructureDefinition/medcom-core-practitionerrole";
pub(crate) const PROFILE_PRACTITIONER: &str =
    "http://medcomfhir.dk/ig/core/StructureDefinition/medcom-core-practitioner";
pub(crate) const PROFILE_ACK_MESSAGE: &str =
    "http://medcomfhir.dk/ig/acknowledgement/StructureDefinition/medcom-messaging-acknowledgement";
pub(crate) const PROFILE_ACK_HEADER: &str =
    "http://medcomfhir.dk/ig/acknowledgement/StructureDefinition/medcom-messaging-acknowledgementHeader";

/// `MessageHeader.definition`; `|5.0` as in every MedCom 5.0.x example.
pub(crate) const CC_DEFINITION: &str =
    "http://medcomfhir.dk/ig/messagedefinitions/MessageDefinition/MedComCareCommunicationMessageDefinition|5.0";

pub(crate) const EXT_DATETIME: &str = "http://medcomfhir.dk/ig/core/StructureDefinition/medcom-core-datetime-extension";
pub const EXT_IDENTIFIER: &str = "http://medcomfhir.dk/ig/core/StructureDefinition/medcom-core-identifier-extension";
pub(crate) const EXT_PRACTITIONER: &str =
    "http://medcomfhir.dk/ig/core/StructureDefinition/medcom-core-practitioner-extension";
pub(crate) const EXT_CONTACT: &str = "http://medcomfhir.dk/ig/core/StructureDefinition/medcom-core-contact-extension";
pub(crate) const EXT_DESTINATION_USE: &str =
    "http://medcomfhir.dk/ig/messaging/StructureDefinition/medcom-messaging-destinationUseExtension";

/// The MIME type of the Bundle in the VANS envelope (`MCM:MIME`).
pub(crate) const MIME_FHIR_XML: &str = "application/fhir+xml";
/// The same for FHIR JSON (an Acknowledgement may come so: test protocol 3.4.4).
pub(crate) const MIME_FHIR_JSON: &str = "application/fhir+json";
