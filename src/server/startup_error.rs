//! Why a standalone server could not start, typed by the layer that
//! failed, each naming the file or setting at fault; `ZooKeeperServerMain`
//! turns it into Java's exit code and message.
//!
//! No Java twin (Java throws `IOException`s and exits in
//! `ZooKeeperServerMain.main`). Used on the main thread during startup.

/// Why a standalone server could not start; each variant names the file
/// or setting at fault. (Config errors stop earlier, as
/// [`crate::config::ConfigError`].)
#[derive(Debug)]
pub enum StartupError {
    /// The dataDir could not be opened, loaded or snapshotted (unreadable
    /// directory, corrupt log, no valid snapshot...); names the file.
    Persistence(crate::persistence::Error),
}

impl StartupError {
    /// The dataDir (or a file in it) is not accessible to this user: Java
    /// exits with its own code and message then.
    pub fn is_permission_denied(&self) -> bool {
        matches!(
            self,
            StartupError::Persistence(crate::persistence::Error::Io { source, .. })
                if source.kind() == std::io::ErrorKind::PermissionDenied
        )
    }
}

impl std::fmt::Display for StartupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartupError::Persistence(e) => write!(f, "{}", e),
        }
    }
}

impl std::error::Error for StartupError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StartupError::Persistence(e) => Some(e),
        }
    }
}

impl From<crate::persistence::Error> for StartupError {
    fn from(e: crate::persistence::Error) -> StartupError {
        StartupError::Persistence(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn messages_name_the_file_and_permission_is_told_apart() {
        let denied = std::io::Error::from(std::io::ErrorKind::PermissionDenied);
        let e = StartupError::from(crate::persistence::Error::io(
            Path::new("/d/version-2"),
            denied,
        ));
        assert!(e.is_permission_denied());
        assert!(e.to_string().starts_with("/d/version-2: "), "{}", e);
        let e = StartupError::from(crate::persistence::Error::corrupt(
            Path::new("/d/version-2/log.1"),
            40,
            "checksum",
        ));
        assert!(!e.is_permission_denied());
        assert_eq!(e.to_string(), "/d/version-2/log.1: checksum at offset 40");
    }
}
