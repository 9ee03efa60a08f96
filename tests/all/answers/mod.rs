//! What comes back: MedCom receipts, FHIR Acknowledgements, resends and `regenerate`.
mod acknowledgements;
mod conversion;
mod receipts;
mod resend;
mod resend_due;
mod stored_and_bulk;
