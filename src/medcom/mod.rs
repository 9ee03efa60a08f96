//! MedCom OIOXML: the XDIS91 correspondence letter to the GP, and MedCom receipts.

pub mod xdis91;
pub mod receipt;
