//! `zoo.cfg` parsing, in two steps as Java does it: the file becomes raw
//! key/value pairs ([`properties`], Java's `.properties` rules), which
//! become a validated, typed [`server_config::ServerConfig`]. Keys Java
//! does not recognise become `zookeeper.<key>` system properties
//! ([`system_properties`]), merged with `-D` flags, and the settings Java
//! reads from those are applied by [`pass_through`]. [`quorum_mode`] decides
//! standalone vs quorum; the ensemble part of the file is read by
//! `crate::quorum::quorum_peer_config`, in the quorum layer as Java keeps
//! `QuorumPeerConfig` in its quorum package; [`quorum_tls`] builds TLS
//! between peers. [`security_keys`] refuses security settings we do
//! not honour (fail closed). Errors: [`config_error::ConfigError`].
//!
//! Mirrors: `QuorumPeerConfig` (its standalone part), `ServerConfig`.

pub mod admin_tls;
pub mod auth_config;
pub mod auth_to_local;
pub mod client_tls;
pub mod config_error;
pub mod jaas_configuration;
pub mod pass_through;
pub mod properties;
pub mod quorum_auth_config;
pub mod quorum_mode;
pub mod quorum_peer_config_files;
pub mod quorum_tls;
pub mod security_keys;
pub mod server_config;
pub mod system_properties;
