//! What each message holds: the patient letter and its PDF, the kombi request, FHIR, the official schemas.
mod fhir;
mod interop;
mod kombi;
mod patient_letter;
