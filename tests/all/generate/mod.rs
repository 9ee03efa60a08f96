//! `flspost generate` as the gateway calls it: the input contract, batches, limits, the output folder, templates, routing.
mod batch;
mod contract;
mod limits;
mod output_dir;
mod routing;
mod templates;
