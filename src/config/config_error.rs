//! Why a configuration was refused: one variant per kind of failure, each
//! naming the key, the value and the reason, so an operator can fix the
//! file from the message alone.
//!
//! Built on the main thread while parsing; `main` prints it and exits with
//! [`ConfigError::exit_code`].
//!
//! Mirrors: `org.apache.zookeeper.server.quorum.QuorumPeerConfig.ConfigException`
//! (Java wraps everything in "Error processing <file>"; we keep the detail).

use std::fmt;
use std::path::PathBuf;

use super::properties::PropertiesError;

/// A zoo.cfg that cannot be used.
#[derive(Debug)]
pub enum ConfigError {
    /// The file (zoo.cfg or its dynamicConfigFile) could not be read.
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The file is not valid properties syntax.
    Syntax {
        path: PathBuf,
        source: PropertiesError,
    },
    /// A key has a value that cannot be accepted.
    InvalidValue {
        key: String,
        value: String,
        reason: String,
    },
    /// A required key is absent.
    Missing { key: &'static str },
    /// The config describes an ensemble (two or more voting `server.N`
    /// lines, or `standaloneEnabled=false`): the standalone parser refuses
    /// it; `zk-server` decides the mode first (`quorum_mode`) and hands an
    /// ensemble to `QuorumPeerConfig`, so this only reaches a caller that
    /// asked for a standalone config explicitly.
    QuorumNotImplemented { voting_members: usize },
}

/// `ExitCode.INVALID_INVOCATION`: what Java exits with on a ConfigException.
pub const EXIT_INVALID_CONFIG: i32 = 2;
/// `ExitCode.UNEXPECTED_ERROR`.
pub const EXIT_UNEXPECTED_ERROR: i32 = 1;

impl ConfigError {
    /// The process exit code Java uses for this failure.
    pub fn exit_code(&self) -> i32 {
        match self {
            ConfigError::QuorumNotImplemented { .. } => EXIT_UNEXPECTED_ERROR,
            _ => EXIT_INVALID_CONFIG,
        }
    }

    /// The key at fault, when there is one (for tests and tooling).
    pub fn key(&self) -> Option<&str> {
        match self {
            ConfigError::InvalidValue { key, .. } => Some(key),
            ConfigError::Missing { key } => Some(key),
            _ => None,
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Read { path, source } => {
                write!(f, "cannot read config file {}: {}", path.display(), source)
            }
            ConfigError::Syntax { path, source } => {
                write!(f, "config file {}: {}", path.display(), source)
            }
            ConfigError::InvalidValue { key, value, reason } => {
                write!(f, "invalid value '{}' for {}: {}", value, key, reason)
            }
            ConfigError::Missing { key } => write!(f, "{} is not set", key),
            ConfigError::QuorumNotImplemented { voting_members } => write!(
                f,
                "the config describes an ensemble ({} voting server.N lines or \
                 standaloneEnabled=false): it is a quorum peer's config, not a \
                 standalone server's",
                voting_members
            ),
        }
    }
}

impl std::error::Error for ConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ConfigError::Read { source, .. } => Some(source),
            ConfigError::Syntax { source, .. } => Some(source),
            _ => None,
        }
    }
}
