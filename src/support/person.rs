//! Who is acting: the operating-system account running this process, for the journal's
//! record of what a person did (a problem closed, a CPR number shown, stored data written out).

/// Who did something and from where, for the audit log: a console user and their client's
/// address, or the account running this process (from the command line, `origin` `None`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    pub name: String,
    pub origin: Option<String>,
}

impl Actor {
    /// The account running this process, on the command line.
    pub fn local() -> Actor {
        Actor { name: who(), origin: None }
    }
}

/// The account's login name; its numeric id when the system has no name for it.
pub fn who() -> String {
    // SAFETY: getuid cannot fail; getpwuid_r writes only into the buffers given to it.
    let uid = unsafe { libc::getuid() };
    let mut buf = vec![0u8; 4096];
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut found: *mut libc::passwd = std::ptr::null_mut();
    let rc = unsafe { libc::getpwuid_r(uid, &mut pwd, buf.as_mut_ptr().cast(), buf.len(), &mut found) };
    if rc == 0 && !found.is_null() && !pwd.pw_name.is_null() {
        // SAFETY: getpwuid_r succeeded, so pw_name points at a NUL-terminated name in `buf`.
        let name = unsafe { std::ffi::CStr::from_ptr(pwd.pw_name) };
        if let Ok(name) = name.to_str() {
            if !name.is_empty() {
                return name.to_string();
            }
        }
    }
    format!("uid {uid}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_account_running_the_tests_has_a_name_or_a_number() {
        let who = super::who();
        assert!(!who.is_empty());
        assert!(!who.contains('\0'));
    }
}
