//! Promises under stress: crash, durability, exit codes, CPR masking, concurrency, robustness, properties, layers.
mod concurrency;
mod cpr_masking;
mod crash;
mod durability;
mod exit_codes;
mod layers;
mod properties;
mod robustness;
