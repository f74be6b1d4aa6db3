//! Why a quorum peer could not start, or why one of its roles ended,
//! typed by the step that failed; each message is the line an operator
//! sees in the log (and, for startup, on stderr before the exit).
//!
//! No Java twin (Java throws `IOException`s out of
//! `QuorumPeerMain.runFromConfig`, and a role's end is an exception caught
//! in `QuorumPeer.run`). Built on the main thread during startup
//! ([`super::quorum_peer_main`]) and on the QuorumPeer thread when a role
//! ends ([`super::quorum_peer::RoleEntry`]).

use std::fmt;
use std::io;

use super::epoch_files::EpochError;
use super::leader::LeaderError;
use super::learner::LearnerError;
use super::quorum_cnx_manager::BindError;
use crate::config::config_error::EXIT_UNEXPECTED_ERROR;
use crate::server::startup_error::StartupError;

/// `ExitCode.UNABLE_TO_BIND_QUORUM_PORT`.
pub const EXIT_UNABLE_TO_BIND_QUORUM_PORT: i32 = 14;

/// Why the peer could not start (the process exits), or why a role
/// ended (the peer goes back to LOOKING).
#[derive(Debug)]
pub enum QuorumError {
    // Startup: `QuorumPeerMain` exits.
    /// SIGTERM/SIGINT handlers could not be installed.
    SignalHandlers(io::Error),
    /// The dataDir or dataLogDir could not be opened.
    OpenDatabase(StartupError),
    /// The snapshot and txn logs could not be loaded.
    LoadDatabase(StartupError),
    /// `currentEpoch` / `acceptedEpoch` are unreadable or contradict the
    /// log.
    Epochs(EpochError),
    /// The client port (or the secure one) could not be bound.
    ClientPorts(io::Error),
    /// The metrics provider cannot start (unknown class, bad port, port
    /// taken); the admin layer's message.
    MetricsProvider(String),
    /// `myid` names no `server.N` line.
    NotAMember(i64),
    /// `sslQuorumReloadCertFiles`: the stores could not be watched.
    CertReloader(io::Error),
    /// The election port could not be bound (exit 14).
    ElectionPort(BindError),
    /// A startup thread could not be spawned (names which).
    Thread(&'static str, io::Error),

    // A role ended: the peer goes back to LOOKING.
    /// The peer has no database yet, so it cannot take a role.
    NoDatabase,
    /// LEADING: the quorum port could not be bound.
    QuorumPort(io::Error),
    /// LEADING: `acceptedEpoch` or `currentEpoch` could not be written
    /// (names the file).
    WriteEpoch(&'static str, crate::persistence::Error),
    /// LEADING ended (discovery failed, quorum lost, shutdown).
    Leader(LeaderError),
    /// FOLLOWING or OBSERVING ended.
    Learner(LearnerError),
    /// OBSERVING with `observerMasterPort`: no member to observe from.
    NoLearnerMaster,
    /// OBSERVING with `observerMasterPort`: the chosen member's address
    /// does not resolve (names it).
    UnresolvedLearnerMaster(String),
}

impl QuorumError {
    /// The process's exit code when startup fails with this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            QuorumError::ElectionPort(_) => EXIT_UNABLE_TO_BIND_QUORUM_PORT,
            _ => EXIT_UNEXPECTED_ERROR,
        }
    }
}

impl fmt::Display for QuorumError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QuorumError::SignalHandlers(e) => write!(f, "cannot install signal handlers: {}", e),
            QuorumError::OpenDatabase(e) => write!(f, "cannot open the data directories: {}", e),
            QuorumError::LoadDatabase(e) => write!(f, "Unable to load database on disk: {}", e),
            QuorumError::Epochs(e) => write!(f, "Unable to run quorum server: {}", e),
            QuorumError::ClientPorts(e) => write!(f, "cannot open the client ports: {}", e),
            QuorumError::MetricsProvider(m) => f.write_str(m),
            QuorumError::NotAMember(sid) => write!(f, "My id {} not in the peer list", sid),
            QuorumError::CertReloader(e) => {
                write!(f, "cannot watch the quorum TLS stores: {}", e)
            }
            QuorumError::ElectionPort(e) => write!(f, "{}", e),
            QuorumError::Thread(what, e) => write!(f, "cannot start the {}: {}", what, e),
            QuorumError::NoDatabase => f.write_str("no database attached"),
            QuorumError::QuorumPort(e) => write!(f, "cannot open the quorum port: {}", e),
            QuorumError::WriteEpoch(file, e) => write!(f, "cannot write {}: {}", file, e),
            QuorumError::Leader(e) => write!(f, "{}", e),
            QuorumError::Learner(e) => write!(f, "{}", e),
            QuorumError::NoLearnerMaster => f.write_str("no learner master"),
            QuorumError::UnresolvedLearnerMaster(m) => {
                write!(f, "cannot resolve learner master {}", m)
            }
        }
    }
}

impl std::error::Error for QuorumError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            QuorumError::SignalHandlers(e)
            | QuorumError::ClientPorts(e)
            | QuorumError::CertReloader(e)
            | QuorumError::Thread(_, e)
            | QuorumError::QuorumPort(e) => Some(e),
            QuorumError::OpenDatabase(e) | QuorumError::LoadDatabase(e) => Some(e),
            QuorumError::Epochs(e) => Some(e),
            QuorumError::ElectionPort(e) => Some(e),
            QuorumError::WriteEpoch(_, e) => Some(e),
            QuorumError::Leader(e) => Some(e),
            QuorumError::Learner(e) => Some(e),
            QuorumError::MetricsProvider(_)
            | QuorumError::NotAMember(_)
            | QuorumError::NoDatabase
            | QuorumError::NoLearnerMaster
            | QuorumError::UnresolvedLearnerMaster(_) => None,
        }
    }
}

impl From<EpochError> for QuorumError {
    fn from(e: EpochError) -> QuorumError {
        QuorumError::Epochs(e)
    }
}

impl From<BindError> for QuorumError {
    fn from(e: BindError) -> QuorumError {
        QuorumError::ElectionPort(e)
    }
}

impl From<LeaderError> for QuorumError {
    fn from(e: LeaderError) -> QuorumError {
        QuorumError::Leader(e)
    }
}

impl From<LearnerError> for QuorumError {
    fn from(e: LearnerError) -> QuorumError {
        QuorumError::Learner(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn denied() -> io::Error {
        io::Error::from(io::ErrorKind::PermissionDenied)
    }

    #[test]
    fn only_the_election_port_exits_with_its_own_code() {
        let bind = BindError {
            addr: "127.0.0.1:3888".into(),
            attempts: 3,
            source: io::Error::from(io::ErrorKind::AddrInUse),
        };
        assert_eq!(QuorumError::from(bind).exit_code(), 14);
        for e in [
            QuorumError::NotAMember(4),
            QuorumError::ClientPorts(denied()),
            QuorumError::Thread("election threads", denied()),
            QuorumError::from(EpochError::AcceptedBelowCurrent {
                accepted: 1,
                current: 2,
            }),
        ] {
            assert_eq!(e.exit_code(), EXIT_UNEXPECTED_ERROR, "{}", e);
        }
    }

    #[test]
    fn messages_are_the_lines_operators_see() {
        let load = QuorumError::LoadDatabase(StartupError::from(
            crate::persistence::Error::corrupt(Path::new("/d/version-2/log.1"), 40, "checksum"),
        ));
        assert_eq!(
            load.to_string(),
            "Unable to load database on disk: /d/version-2/log.1: checksum at offset 40"
        );
        let epochs = QuorumError::from(EpochError::AcceptedBelowCurrent {
            accepted: 1,
            current: 2,
        });
        assert_eq!(
            epochs.to_string(),
            "Unable to run quorum server: The accepted epoch, 0x1 is less than the current epoch, 0x2"
        );
        assert_eq!(
            QuorumError::NotAMember(4).to_string(),
            "My id 4 not in the peer list"
        );
        let write = QuorumError::WriteEpoch(
            "acceptedEpoch",
            crate::persistence::Error::io(Path::new("/d/version-2/acceptedEpoch"), denied()),
        );
        assert!(
            write
                .to_string()
                .starts_with("cannot write acceptedEpoch: /d/version-2/acceptedEpoch: "),
            "{}",
            write
        );
        assert_eq!(
            QuorumError::from(LearnerError::Reconfigured).to_string(),
            "changes proposed in reconfig"
        );
        assert_eq!(
            QuorumError::from(LeaderError::Stopped).to_string(),
            "leader is shutting down"
        );
    }
}
