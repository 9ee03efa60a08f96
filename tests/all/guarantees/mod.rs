//! Promises under stress: crash, durability, exit codes, CPR masking, concurrency, robustness, properties, layers, the JSON Schemas of every stdout line.
mod concurrency;
mod cpr_masking;
mod crash;
mod durability;
mod exit_codes;
pub mod json_schemas;
mod layers;
mod properties;
mod robustness;
mod two_hosts;
