//! `zoo.cfg` parsing. Mirrors `QuorumPeerConfig`, `ServerConfig`.

pub mod server_config;
