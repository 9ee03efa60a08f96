//! The `flspost` command: a thin layer of argument parsing and printing over the library, and
//! the server (`flspost serve`) beside it.

mod cli;
mod server;

fn main() {
    flspost::support::files::restrict_umask();
    // The two front ends sit side by side over the library; `flspost serve` is the command
    // line's way into the server.
    std::process::exit(cli::run(server::serve));
}
