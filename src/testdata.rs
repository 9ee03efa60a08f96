//! Sample inputs for unit tests: the shipped `samples/input` files (fictitious MedCom test
//! patients), so tests and the README describe the same data.

use crate::input::{self, ResultInput};
use crate::model::policy::RolloutPolicy;
use crate::model::FlsResult;
use chrono::{DateTime, Utc};

pub(crate) const GROUP_1: &str = include_str!("../samples/input/group-1.json");
pub(crate) const GROUP_2A: &str = include_str!("../samples/input/group-2a.json");
pub(crate) const GROUP_2B: &str = include_str!("../samples/input/group-2b.json");
pub(crate) const GROUP_3: &str = include_str!("../samples/input/group-3.json");
pub const ALL: [&str; 4] = [GROUP_1, GROUP_2A, GROUP_2B, GROUP_3];

/// A fixed clock after every sample's classification.
pub fn now() -> DateTime<Utc> {
    "2025-03-20T09:30:00Z".parse().unwrap()
}

pub fn raw(text: &str) -> ResultInput {
    input::parse(text).unwrap()
}

pub fn checked(text: &str) -> FlsResult {
    input::check(&raw(text), &RolloutPolicy::default(), now()).unwrap()
}
