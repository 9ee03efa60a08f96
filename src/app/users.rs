//! The console's people (`flspost user add/list/remove/passwd`) and signing in: a name, a role
//! and a password kept as an argon2id hash in the journal. Every change is in the audit log.

use crate::error::{Error, Result};
use crate::journal::{Journal, UserRow};
use crate::support::password;
use crate::support::person::Actor;

/// What a person may do in the console.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads everything, CPR numbers masked (each shown only on request, audited).
    Viewer,
    /// Also resends, corrects, re-routes, handles and uploads answers.
    Operator,
}

impl Role {
    pub fn code(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
        }
    }

    pub fn from_code(s: &str) -> Option<Role> {
        match s {
            "viewer" => Some(Role::Viewer),
            "operator" => Some(Role::Operator),
            _ => None,
        }
    }
}

/// A person signed in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub name: String,
    pub role: Role,
    /// Changes whenever the person's password does, or the name is removed and given again:
    /// a session made before is then over (the hash's own digest: its salt is new each time).
    pub stamp: String,
}

fn user_of(r: UserRow) -> Option<User> {
    let stamp = crate::support::digest::sha256_hex(r.password_hash.as_bytes());
    Role::from_code(&r.role).map(|role| User { name: r.name, role, stamp })
}

/// The shortest password `user add` and `user passwd` take.
pub const MIN_PASSWORD: usize = 12;

fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.chars().all(|c| c.is_ascii_alphanumeric() || "._-@".contains(c))
        && !name.chars().all(|c| c.is_ascii_digit() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(Error::Usage(format!(
            "user `{}`: a name is 1 to 64 letters, digits and . _ - @ (not only digits: never a CPR number)",
            crate::support::redact::redact_cpr_like(name)
        )))
    }
}

fn check_password(password: &str) -> Result<()> {
    if password.chars().count() < MIN_PASSWORD {
        return Err(Error::Usage(format!("password: at least {MIN_PASSWORD} characters")));
    }
    Ok(())
}

fn hash(password: &str) -> Result<String> {
    password::hash(password).map_err(|e| Error::Internal(format!("password hash: {e}")))
}

/// Adds `name` with `role`; refused when the name is taken.
pub fn add(journal: &mut Journal, name: &str, role: Role, password: &str, by: &Actor) -> Result<()> {
    check_name(name)?;
    check_password(password)?;
    let h = hash(password)?;
    journal.write(|w| {
        if !w.add_user(name, role.code(), &h)? {
            return Err(Error::Usage(format!(
                "user `{name}` exists already (`flspost user passwd` changes a password)"
            )));
        }
        w.audit_from(&by.name, by.origin.as_deref(), "user-add", &format!("user {name}"), Some(role.code()))
    })
}

/// A new password (and, when given, role) for `name`.
pub fn change(journal: &mut Journal, name: &str, password: Option<&str>, role: Option<Role>, by: &Actor) -> Result<()> {
    let h = password.map(|p| check_password(p).and_then(|()| hash(p))).transpose()?;
    journal.write(|w| {
        if !w.change_user(name, h.as_deref(), role.map(Role::code))? {
            return Err(Error::Usage(format!("no user `{name}` (`flspost user list` shows who there is)")));
        }
        let what = match (&h, role) {
            (Some(_), Some(r)) => format!("password, role {}", r.code()),
            (Some(_), None) => "password".to_string(),
            (None, Some(r)) => format!("role {}", r.code()),
            (None, None) => "nothing".to_string(),
        };
        w.audit_from(&by.name, by.origin.as_deref(), "user-change", &format!("user {name}"), Some(&what))
    })
}

/// Removes `name` (what they did stays in the audit log).
pub fn remove(journal: &mut Journal, name: &str, by: &Actor) -> Result<()> {
    journal.write(|w| {
        if !w.remove_user(name)? {
            return Err(Error::Usage(format!("no user `{name}` (`flspost user list` shows who there is)")));
        }
        w.audit_from(&by.name, by.origin.as_deref(), "user-remove", &format!("user {name}"), None)
    })
}

pub fn list(journal: &Journal) -> Result<Vec<UserRow>> {
    journal.users()
}

/// The person whose name and password these are, or `None`. The password is checked against a
/// hash even for a name nobody has, so an answer takes as long either way.
pub fn authenticate(journal: &Journal, name: &str, password: &str) -> Result<Option<User>> {
    static ABSENT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let row = journal.user(name)?;
    let phc = match &row {
        Some(r) => r.password_hash.as_str(),
        None => ABSENT.get_or_init(|| password::hash("no such user, no such password").unwrap_or_default()),
    };
    let matches = password::verify(password, phc);
    Ok(match row {
        Some(r) if matches => user_of(r),
        _ => None,
    })
}

/// The role of `name` now (a session checks it on every request: a person removed or made a
/// viewer loses what they could do at once).
pub fn current(journal: &Journal, name: &str) -> Result<Option<User>> {
    Ok(journal.user(name)?.and_then(user_of))
}
