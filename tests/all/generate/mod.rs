//! `flspost generate` as the gateway calls it: the input contract, batches, limits, the output folder, templates, routing,
//! and the inputs it refused, kept in the journal.
mod batch;
mod contract;
mod limits;
mod output_dir;
mod refused;
mod routing;
mod templates;
