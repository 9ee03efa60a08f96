//! The commands' work, as library functions that return typed results: the CLI only parses
//! arguments and prints, and a long-running mode can call the same functions.

pub mod audit;
pub mod bulk;
pub mod config;
pub mod erase;
pub mod export;
pub mod generate;
pub mod period;
pub mod queue;
pub mod receipt;
pub mod regenerate;
pub mod reroute;
pub mod resend_due;
pub mod send;
pub mod show;
pub mod status;
pub mod users;
pub mod validate;
