//! MedCom OIOXML: the XDIS91 correspondence letter to the GP, and MedCom receipts.

pub mod receipt;
pub mod xdis91;
