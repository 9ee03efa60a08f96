//! The use cases the CLI offers, as library functions that return typed results: the CLI
//! only parses arguments and prints, and a long-running mode can call the same functions.

pub mod receipt;
pub mod send;
pub mod show;
