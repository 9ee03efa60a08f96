//! The `flspost` command: a thin layer of argument parsing and printing over the library.

mod cli;

fn main() {
    flspost::support::files::restrict_umask();
    std::process::exit(cli::run());
}
