//! One member of the ensemble as a `server.N` line describes it, and the
//! server-string grammar both ways: parsed from zoo.cfg (or a dynamic
//! config file), printed into the config text every notification carries.
//!
//! Pure code, used on the main thread at startup and by the election
//! threads to find a peer's election address.
//!
//! Mirrors: `org.apache.zookeeper.server.quorum.QuorumPeer.QuorumServer`,
//! `LearnerType`, `org.apache.zookeeper.server.util.ConfigUtils.getHostAndPort`,
//! `QuorumServer.delimitedHostString`.

use std::fmt;
use std::net::{SocketAddr, ToSocketAddrs};

/// Whether a server votes. Mirrors `QuorumPeer.LearnerType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LearnerType {
    /// Votes in elections and acks proposals.
    Participant,
    /// Learns the committed state, never votes.
    Observer,
}

impl LearnerType {
    /// `participant` / `observer`, any case, surrounding blanks ignored.
    pub fn parse(text: &str) -> Option<LearnerType> {
        match text.trim().to_ascii_lowercase().as_str() {
            "participant" => Some(LearnerType::Participant),
            "observer" => Some(LearnerType::Observer),
            _ => None,
        }
    }

    /// The name Java prints in logs (`PARTICIPANT`, `OBSERVER`).
    pub fn java_name(self) -> &'static str {
        match self {
            LearnerType::Participant => "PARTICIPANT",
            LearnerType::Observer => "OBSERVER",
        }
    }
}

/// A host as written in the config, with one port. The host stays a string
/// (as Java's unresolved `InetSocketAddress.getHostString()`), so the text
/// we send to peers is exactly what the operator wrote; it is resolved
/// only when we connect or bind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPort {
    /// Host name or IP literal, without IPv6 brackets.
    pub host: String,
    /// TCP port.
    pub port: u16,
}

impl HostPort {
    /// `host:port`, IPv6 hosts in brackets (`NetUtils.formatInetAddr` for an
    /// unresolved address).
    pub fn to_wire(&self) -> String {
        format!("{}:{}", delimited_host(&self.host), self.port)
    }

    /// Resolves the host (IPv4 preferred, as Java with its defaults).
    pub fn resolve(&self) -> std::io::Result<SocketAddr> {
        if let Ok(ip) = self.host.parse::<std::net::IpAddr>() {
            return Ok(SocketAddr::new(ip, self.port));
        }
        let addrs: Vec<SocketAddr> = (self.host.as_str(), self.port).to_socket_addrs()?.collect();
        addrs
            .iter()
            .find(|a| a.is_ipv4())
            .or_else(|| addrs.first())
            .copied()
            .ok_or_else(|| {
                std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    format!("no address for {}", self.host),
                )
            })
    }

    /// True for `0.0.0.0` and `::` (and names that are those literals).
    pub fn is_wildcard(&self) -> bool {
        self.host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_unspecified())
    }
}

impl fmt::Display for HostPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_wire())
    }
}

/// One `host:quorumPort:electionPort` group of a server line (there are
/// several when multi-address is enabled).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerAddress {
    /// Host name or IP literal (no brackets).
    pub host: String,
    /// Where a leader accepts learners.
    pub quorum_port: u16,
    /// Where FastLeaderElection listens.
    pub election_port: u16,
}

impl ServerAddress {
    /// The election address of this group.
    pub fn election(&self) -> HostPort {
        HostPort {
            host: self.host.clone(),
            port: self.election_port,
        }
    }

    /// The quorum (learner) address of this group.
    pub fn quorum(&self) -> HostPort {
        HostPort {
            host: self.host.clone(),
            port: self.quorum_port,
        }
    }
}

/// Why a server string was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerStringError(pub String);

impl fmt::Display for ServerStringError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ServerStringError {}

/// A member of the ensemble.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuorumServer {
    /// The server id (`N` of `server.N`, the content of its `myid` file).
    pub id: i64,
    /// One or more address groups (`|`-separated in the config).
    pub addresses: Vec<ServerAddress>,
    /// Where clients connect, when the line has a `;client` part (or, for
    /// this server, from the static `clientPort`).
    pub client_addr: Option<HostPort>,
    /// The client address came from the static `clientPort`, not from the
    /// line: then it is not printed in the config text (Java's
    /// `isClientAddrFromStatic`).
    pub client_addr_from_static: bool,
    /// Participant or observer.
    pub learner_type: LearnerType,
}

/// Java's message for a malformed line.
const WRONG_FORMAT: &str = " does not have the form server_config or server_config;client_config \
     where server_config is the pipe separated list of host:port:port or host:port:port:type \
     and client_config is port or host:port";

impl QuorumServer {
    /// Parses `host:qport:eport[:type][|host:qport:eport[:type]...][;[host:]port]`.
    /// `multi_address_enabled` allows more than one address group.
    pub fn parse(
        id: i64,
        text: &str,
        multi_address_enabled: bool,
    ) -> Result<QuorumServer, ServerStringError> {
        let bad = || ServerStringError(format!("{}{}", text, WRONG_FORMAT));
        let server_client: Vec<&str> = text.split(';').collect();
        if server_client.len() > 2 {
            return Err(bad());
        }
        let client_addr = match server_client.get(1) {
            Some(client) => Some(parse_client_part(client).ok_or_else(bad)?),
            None => None,
        };
        let groups: Vec<&str> = server_client[0].split('|').collect();
        if !multi_address_enabled && groups.len() > 1 {
            return Err(ServerStringError(format!(
                "Multiple address feature is disabled, but multiple addresses were specified for sid {}",
                id
            )));
        }
        let mut addresses = Vec::with_capacity(groups.len());
        let mut learner_type: Option<LearnerType> = None;
        for group in groups {
            let parts = split_host_and_port(group).map_err(|_| bad())?;
            if parts.len() < 3 || parts.len() > 4 {
                return Err(bad());
            }
            let port = |p: &str| {
                p.parse::<u16>().map_err(|_| {
                    ServerStringError(format!("Address unresolved: {}:{}", parts[0], p))
                })
            };
            let quorum_port = port(&parts[1])?;
            let election_port = port(&parts[2])?;
            if quorum_port == election_port {
                return Err(ServerStringError(format!(
                    "Client and election port must be different! Please update the \
                     configuration file on server.{}",
                    id
                )));
            }
            if let Some(role) = parts.get(3) {
                let parsed = LearnerType::parse(role)
                    .ok_or_else(|| ServerStringError(format!("Unrecognised peertype: {}", role)))?;
                match learner_type {
                    Some(previous) if previous != parsed => {
                        return Err(ServerStringError(format!(
                            "Multiple addresses should have similar roles: {:?} vs {:?}",
                            previous, parsed
                        )))
                    }
                    _ => learner_type = Some(parsed),
                }
            }
            addresses.push(ServerAddress {
                host: parts[0].clone(),
                quorum_port,
                election_port,
            });
        }
        Ok(QuorumServer {
            id,
            addresses,
            client_addr,
            client_addr_from_static: false,
            learner_type: learner_type.unwrap_or(LearnerType::Participant),
        })
    }

    /// Every election address, in configured order.
    pub fn election_addrs(&self) -> Vec<HostPort> {
        self.addresses.iter().map(ServerAddress::election).collect()
    }

    /// Every quorum address, in configured order.
    pub fn quorum_addrs(&self) -> Vec<HostPort> {
        self.addresses.iter().map(ServerAddress::quorum).collect()
    }

    /// True for participants.
    pub fn is_participant(&self) -> bool {
        self.learner_type == LearnerType::Participant
    }
}

/// `QuorumServer.toString()`: address groups sorted by host string, then
/// `:participant`/`:observer`, then `;host:port` when the client address
/// came from the line.
impl fmt::Display for QuorumServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut quorum: Vec<&ServerAddress> = self.addresses.iter().collect();
        let mut election = quorum.clone();
        quorum.sort_by(|a, b| a.host.cmp(&b.host));
        election.sort_by(|a, b| a.host.cmp(&b.host));
        let groups: Vec<String> = quorum
            .iter()
            .zip(&election)
            .map(|(q, e)| {
                format!(
                    "{}:{}:{}",
                    delimited_host(&q.host),
                    q.quorum_port,
                    e.election_port
                )
            })
            .collect();
        f.write_str(&groups.join("|"))?;
        f.write_str(match self.learner_type {
            LearnerType::Observer => ":observer",
            LearnerType::Participant => ":participant",
        })?;
        if let (Some(client), false) = (&self.client_addr, self.client_addr_from_static) {
            write!(f, ";{}:{}", delimited_host(&client.host), client.port)?;
        }
        Ok(())
    }
}

/// `[host]` when the host contains `:` (IPv6), else the host.
pub fn delimited_host(host: &str) -> String {
    if host.contains(':') {
        format!("[{}]", host)
    } else {
        host.to_string()
    }
}

/// `[host:]port` of the client part; the host defaults to `0.0.0.0`.
fn parse_client_part(text: &str) -> Option<HostPort> {
    let parts = split_host_and_port(text).ok()?;
    let (host, port) = match parts.as_slice() {
        [port] => ("0.0.0.0".to_string(), port),
        [host, port] => (host.clone(), port),
        _ => return None,
    };
    Some(HostPort {
        host,
        port: port.parse().ok()?,
    })
}

/// `ConfigUtils.getHostAndPort`: splits on `:`, except inside a leading
/// `[...]` (an IPv6 literal, returned without brackets). Errors when the
/// brackets are unbalanced or not followed by `:`.
pub fn split_host_and_port(text: &str) -> Result<Vec<String>, ServerStringError> {
    let bad = || ServerStringError(format!("{} is not a valid address", text));
    if let Some(rest) = text.strip_prefix('[') {
        let close = rest.find(']').ok_or_else(bad)?;
        let host = &rest[..close];
        let after = &rest[close + 1..];
        if host.is_empty() || after.is_empty() {
            return if after.is_empty() {
                Ok(vec![host.to_string()])
            } else {
                Err(bad())
            };
        }
        let tail = after.strip_prefix(':').ok_or_else(bad)?;
        let mut out = vec![host.to_string()];
        out.extend(tail.split(':').map(str::to_string));
        return Ok(out);
    }
    Ok(text.split(':').map(str::to_string).collect())
}

/// Parses one `host:port` (IPv6 in brackets) of an initial message.
pub fn parse_host_port(text: &str) -> Option<HostPort> {
    let parts = split_host_and_port(text).ok()?;
    match parts.as_slice() {
        [host, port] => Some(HostPort {
            host: host.clone(),
            port: port.parse().ok()?,
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_the_forms_java_accepts() {
        let cases = [
            ("127.0.0.1:2888:3888", "127.0.0.1:2888:3888:participant"),
            ("a:1:2:observer", "a:1:2:observer"),
            ("a:1:2:PARTICIPANT;2181", "a:1:2:participant;0.0.0.0:2181"),
            ("a:1:2;127.0.0.1:2181", "a:1:2:participant;127.0.0.1:2181"),
            ("[::1]:1:2;[::1]:2181", "[::1]:1:2:participant;[::1]:2181"),
        ];
        for (input, printed) in cases {
            let qs = QuorumServer::parse(1, input, false).unwrap();
            assert_eq!(qs.to_string(), printed, "{}", input);
        }
    }

    #[test]
    fn multi_address_needs_the_feature_and_sorts_by_host() {
        assert!(QuorumServer::parse(1, "b:1:2|a:3:4", false).is_err());
        let qs = QuorumServer::parse(1, "b:1:2|a:3:4", true).unwrap();
        assert_eq!(qs.addresses.len(), 2);
        assert_eq!(qs.to_string(), "a:3:4|b:1:2:participant");
        assert!(QuorumServer::parse(1, "b:1:2:observer|a:3:4:participant", true).is_err());
    }

    #[test]
    fn rejects_what_java_rejects() {
        for bad in [
            "a:1",
            "a:1:2:observer:x",
            "a:1:1",
            "a:x:2",
            "a:1:2:voter",
            "a:1:2;x;y",
            "a:1:2;h:p",
        ] {
            assert!(QuorumServer::parse(1, bad, true).is_err(), "{}", bad);
        }
    }

    #[test]
    fn static_client_address_is_not_printed() {
        let mut qs = QuorumServer::parse(1, "a:1:2", false).unwrap();
        qs.client_addr = Some(HostPort {
            host: "0.0.0.0".into(),
            port: 2181,
        });
        qs.client_addr_from_static = true;
        assert_eq!(qs.to_string(), "a:1:2:participant");
    }

    #[test]
    fn host_port_split() {
        assert_eq!(
            parse_host_port("127.0.0.1:3888"),
            Some(HostPort {
                host: "127.0.0.1".into(),
                port: 3888
            })
        );
        assert_eq!(parse_host_port("[::1]:3888").unwrap().host, "::1");
        assert_eq!(parse_host_port("x"), None);
        assert_eq!(parse_host_port("x:99999"), None);
        assert!(HostPort {
            host: "0.0.0.0".into(),
            port: 1
        }
        .is_wildcard());
    }
}
