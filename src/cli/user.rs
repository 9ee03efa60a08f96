//! `flspost user add/list/remove/passwd`: who may sign in to the console (`flspost serve`) and
//! with which role. A password is read from standard input (not echoed on a terminal), never
//! from the arguments, so it stays out of the process list and the shell history.

use super::{print_json, shown, Common};
use flspost::app::users::{self, Role};
use flspost::error::{Error, Result};
use flspost::support::person::Actor;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Add a person: NAME, --role viewer|operator; the password from standard input.
    Add {
        name: String,
        /// viewer (reads, CPR numbers masked) or operator (also resends, corrects, handles, uploads).
        #[arg(long, value_name = "ROLE")]
        role: String,
        #[command(flatten)]
        common: Common,
    },
    /// Everyone who may sign in, with their role.
    List {
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        common: Common,
    },
    /// Remove a person (what they did stays in the audit log).
    Remove {
        name: String,
        #[command(flatten)]
        common: Common,
    },
    /// A new password for NAME (from standard input); --role changes the role too.
    Passwd {
        name: String,
        #[arg(long, value_name = "ROLE")]
        role: Option<String>,
        #[command(flatten)]
        common: Common,
    },
}

impl Command {
    pub fn json(&self) -> bool {
        matches!(self, Command::List { json: true, .. })
    }
}

fn role(s: &str) -> Result<Role> {
    Role::from_code(s).ok_or_else(|| Error::Usage(format!("--role `{}`: expected viewer or operator", shown(s))))
}

pub fn run(c: Command) -> Result<i32> {
    match c {
        Command::Add { name, role: r, common } => {
            let r = role(&r)?;
            let password = read_password()?;
            let config = common.config()?;
            let mut journal = common.open_journal(&config, super::Use::Write)?;
            users::add(&mut journal, &name, r, &password, &Actor::local())?;
            errln!("flspost: user {name} added ({})", r.code());
        }
        Command::List { json, common } => {
            let config = common.config()?;
            // Only reads: an older journal is read as it is, never migrated by a listing.
            let journal = common.open_journal(&config, super::Use::Read)?;
            let rows = users::list(&journal)?;
            if json {
                rows.iter().for_each(print_json);
            } else {
                outln!("{:<24}  {:<8}  {:<24}  CHANGED", "NAME", "ROLE", "ADDED");
                for u in &rows {
                    outln!("{:<24}  {:<8}  {:<24}  {}", u.name, u.role, u.created_at, u.changed_at);
                }
            }
        }
        Command::Remove { name, common } => {
            let config = common.config()?;
            let mut journal = common.open_journal(&config, super::Use::Write)?;
            users::remove(&mut journal, &name, &Actor::local())?;
            errln!("flspost: user {name} removed");
        }
        Command::Passwd { name, role: r, common } => {
            let r = r.as_deref().map(role).transpose()?;
            let password = read_password()?;
            let config = common.config()?;
            let mut journal = common.open_journal(&config, super::Use::Write)?;
            users::change(&mut journal, &name, Some(&password), r, &Actor::local())?;
            errln!("flspost: user {name}: password changed");
        }
    }
    Ok(0)
}

/// One line from standard input, without its line end; on a terminal, asked for and not echoed.
fn read_password() -> Result<String> {
    use std::io::BufRead;
    let tty = unsafe { libc::isatty(0) } == 1;
    let mut saved: libc::termios = unsafe { std::mem::zeroed() };
    if tty {
        errln!("password (at least {} characters): ", users::MIN_PASSWORD);
        // SAFETY: plain termios calls on standard input, restored below.
        unsafe {
            libc::tcgetattr(0, &mut saved);
            let mut quiet = saved;
            quiet.c_lflag &= !libc::ECHO;
            libc::tcsetattr(0, libc::TCSANOW, &quiet);
        }
    }
    let mut line = String::new();
    // At most 1 KiB: a password, not a file.
    let read = std::io::Read::take(std::io::stdin().lock(), 1024).read_line(&mut line);
    if tty {
        unsafe { libc::tcsetattr(0, libc::TCSANOW, &saved) };
    }
    read.map_err(|e| Error::Usage(format!("password: cannot read standard input: {e}")))?;
    let p = line.trim_end_matches(['\n', '\r']).to_string();
    if p.is_empty() {
        return Err(Error::Usage("password: give it on standard input (one line)".into()));
    }
    Ok(p)
}
