//! `flspost status --json`: the numbers `GET /metrics` gives Prometheus, for a host without
//! the server (a node exporter's textfile, a monitoring probe).

use super::{print_json, Common};
use flspost::error::Result;

#[derive(clap::Args)]
pub struct Args {
    /// One JSON object (the only output there is: it is for programs).
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    common: Common,
}

pub fn run(a: Args) -> Result<i32> {
    let config = a.common.config()?;
    let journal = a.common.open_journal(&config, super::Use::Read)?;
    let n = flspost::app::status::numbers(&journal, flspost::support::clock::now())?;
    print_json(&n);
    Ok(0)
}
