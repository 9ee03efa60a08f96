//! The intake's Unix socket: its permissions are the access, so it is made owner-only (mode
//! 0600) in a folder of its own (0700, this user's; made when absent). Nothing is followed
//! through a link, and a path that exists is only replaced when it is a socket flspost made
//! (this user's, mode 0600) that no server listens on any more (one left by a crash).

use flspost::error::{Error, Result};
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

pub struct Socket {
    pub path: PathBuf,
    pub listener: std::os::unix::net::UnixListener,
    /// The socket file made, so that only it is removed at the end.
    key: (u64, u64),
}

fn refused(path: &Path, why: String) -> Error {
    Error::Usage(format!("[server.intake] socket = \"{}\": {why}", path.display()))
}

impl Socket {
    pub fn bind(path: &Path) -> Result<Socket> {
        let uid = unsafe { libc::geteuid() };
        let folder = match path.parent() {
            Some(f) if !f.as_os_str().is_empty() && path.file_name().is_some() => f,
            _ => return Err(refused(path, "name a socket file in a folder of its own".into())),
        };
        match std::fs::symlink_metadata(folder) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::DirBuilder::new().mode(0o700).create(folder).map_err(|e| Error::io(folder, e))?;
            }
            Err(e) => return Err(Error::io(folder, e)),
            Ok(_) => {}
        }
        let meta = std::fs::symlink_metadata(folder).map_err(|e| Error::io(folder, e))?;
        if !meta.is_dir() || meta.uid() != uid || meta.mode() & 0o777 != 0o700 {
            return Err(refused(
                path,
                format!(
                    "its folder {} must be a folder (not a link) of this user's with mode 0700, so that no one else \
                     reaches the socket",
                    folder.display()
                ),
            ));
        }
        match std::fs::symlink_metadata(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(path, e)),
            Ok(m) => {
                let ours = m.file_type().is_socket() && m.uid() == uid && m.mode() & 0o777 == 0o600;
                if !ours {
                    return Err(refused(path, "exists and is not a socket flspost made; nothing was changed".into()));
                }
                if std::os::unix::net::UnixStream::connect(path).is_ok() {
                    return Err(refused(path, "another server listens on it".into()));
                }
                std::fs::remove_file(path).map_err(|e| Error::io(path, e))?;
            }
        }
        let listener = std::os::unix::net::UnixListener::bind(path).map_err(|e| Error::io(path, e))?;
        // Only this user can reach the folder, so the moment before this is no one else's.
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(|e| Error::io(path, e))?;
        let m = std::fs::symlink_metadata(path).map_err(|e| Error::io(path, e))?;
        listener.set_nonblocking(true).map_err(|e| Error::io(path, e))?;
        Ok(Socket { path: path.to_path_buf(), listener, key: (m.dev(), m.ino()) })
    }

    /// Removes the socket file, when it is still the one made.
    pub fn remove(&self) {
        if std::fs::symlink_metadata(&self.path).is_ok_and(|m| (m.dev(), m.ino()) == self.key) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}
