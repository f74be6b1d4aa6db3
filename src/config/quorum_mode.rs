//! Standalone or quorum? The decision `QuorumPeerMain` makes from the
//! `server.N` lines (of zoo.cfg, or of its `dynamicConfigFile`) and
//! `standaloneEnabled`, with the member-count rules of
//! `QuorumPeerConfig.parseDynamicConfig`.
//!
//! Only counts members; the full server-line grammar belongs to the quorum
//! config (a later issue). Pure code, run on the main thread at startup.
//!
//! Mirrors: `QuorumPeerMain.initializeAndRun`, `QuorumPeerConfig.isDistributed`,
//! `QuorumPeerConfig.parseDynamicConfig`.

use log::error;

use super::config_error::ConfigError;
use super::properties::Properties;
use super::server_config::java_trim;

/// How many servers the `server.N` lines declare, by role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ServerLines {
    /// Participants (they vote).
    pub voting: usize,
    /// Observers.
    pub observers: usize,
}

impl ServerLines {
    /// Counts the `server.<sid>` keys; the sid must be a number.
    pub fn from_properties(props: &Properties) -> Result<ServerLines, ConfigError> {
        let mut lines = ServerLines::default();
        for (key, value) in props.effective() {
            let (key, value) = (java_trim(key), java_trim(value));
            let Some(sid) = key.strip_prefix("server.") else {
                continue;
            };
            if sid.parse::<i64>().is_err() {
                return Err(ConfigError::InvalidValue {
                    key: key.to_string(),
                    value: value.to_string(),
                    reason: format!("'{}' is not a server id (a number)", sid),
                });
            }
            if is_observer(value) {
                lines.observers += 1;
            } else {
                lines.voting += 1;
            }
        }
        Ok(lines)
    }
}

/// `host:port:port[:role][;client]`: the role is the last `:` field of the
/// part before `;`.
fn is_observer(value: &str) -> bool {
    let server_part = value.split(';').next().unwrap_or("");
    server_part
        .rsplit(':')
        .next()
        .is_some_and(|role| java_trim(role).eq_ignore_ascii_case("observer"))
}

/// True when Java would run a quorum peer; errors for the member counts
/// Java refuses.
pub fn is_distributed(lines: &ServerLines, standalone_enabled: bool) -> Result<bool, ConfigError> {
    let refuse = |reason: &str| ConfigError::InvalidValue {
        key: "server.N".to_string(),
        value: format!(
            "{} participants, {} observers",
            lines.voting, lines.observers
        ),
        reason: reason.to_string(),
    };
    match lines.voting {
        0 if !standalone_enabled => Err(refuse(
            "standaloneEnabled = false then number of participants should be >0",
        )),
        0 if lines.observers > 0 => Err(refuse(
            "Observers w/o participants is an invalid configuration",
        )),
        1 if standalone_enabled => {
            if lines.observers > 0 {
                return Err(refuse("Observers w/o quorum is an invalid configuration"));
            }
            error!("Invalid configuration, only one server specified (ignoring)");
            Ok(false)
        }
        voting => Ok(!standalone_enabled || voting > 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> ServerLines {
        ServerLines::from_properties(&Properties::parse(text).unwrap()).unwrap()
    }

    #[test]
    fn counts_participants_and_observers() {
        let l = lines("server.1=a:1:2\nserver.2=b:1:2:participant;2181\nserver.3=c:1:2:observer\n");
        assert_eq!(
            l,
            ServerLines {
                voting: 2,
                observers: 1
            }
        );
    }

    #[test]
    fn non_numeric_sid_is_an_error() {
        let props = Properties::parse("server.x=a:1:2\n").unwrap();
        let err = ServerLines::from_properties(&props).unwrap_err();
        assert_eq!(err.key(), Some("server.x"));
    }

    #[test]
    fn mode_decision_follows_quorum_peer_main() {
        let l = |voting, observers| ServerLines { voting, observers };
        assert!(!is_distributed(&l(0, 0), true).unwrap());
        assert!(!is_distributed(&l(1, 0), true).unwrap());
        assert!(is_distributed(&l(2, 0), true).unwrap());
        assert!(is_distributed(&l(1, 0), false).unwrap());
        assert!(is_distributed(&l(0, 0), false).is_err());
        assert!(is_distributed(&l(0, 1), true).is_err());
        assert!(is_distributed(&l(1, 1), true).is_err());
    }
}
