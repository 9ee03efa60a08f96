//! The console's people: who may sign in, with which role, and their password's hash. The
//! hashing and the roles' meaning are the app's; this file only stores them.

use super::types::UserRow;
use super::{now_text, Journal, Writer};
use crate::error::Result;
use super::db::{params, OptionalExtension};

fn user_row(r: &super::db::Row<'_>) -> super::db::Result<UserRow> {
    Ok(UserRow {
        name: r.get("name")?,
        role: r.get("role")?,
        password_hash: r.get("password_hash")?,
        created_at: r.get("created_at")?,
        changed_at: r.get("changed_at")?,
    })
}

impl Writer<'_> {
    /// Adds a person; `false` (nothing changed) when the name is taken.
    pub fn add_user(&self, name: &str, role: &str, password_hash: &str) -> Result<bool> {
        let now = now_text();
        let n = self.conn.execute(
            "INSERT INTO users (name, role, password_hash, created_at, changed_at) VALUES (?1, ?2, ?3, ?4, ?4) \
             ON CONFLICT DO NOTHING",
            params![name, role, password_hash, now],
        )?;
        Ok(n == 1)
    }

    /// A new password hash (and, when given, role) for `name`; `false` when there is no such person.
    pub fn change_user(&self, name: &str, password_hash: Option<&str>, role: Option<&str>) -> Result<bool> {
        let n = self.conn.execute(
            "UPDATE users SET password_hash = coalesce(?2, password_hash), role = coalesce(?3, role), changed_at = ?4 \
             WHERE name = ?1",
            params![name, password_hash, role, now_text()],
        )?;
        Ok(n == 1)
    }

    /// Removes a person; `false` when there was none of that name.
    pub fn remove_user(&self, name: &str) -> Result<bool> {
        Ok(self.conn.execute("DELETE FROM users WHERE name = ?1", [name])? == 1)
    }
}

impl Journal {
    /// Everyone who may sign in, by name.
    pub fn users(&self) -> Result<Vec<UserRow>> {
        let mut st = self.conn.prepare_cached("SELECT * FROM users ORDER BY name")?;
        let rows = st.query_map([], user_row)?;
        Ok(rows.collect::<super::db::Result<_>>()?)
    }

    /// The person called `name`, if there is one.
    pub fn user(&self, name: &str) -> Result<Option<UserRow>> {
        let mut st = self.conn.prepare_cached("SELECT * FROM users WHERE name = ?1")?;
        Ok(st.query_row([name], user_row).optional()?)
    }
}
