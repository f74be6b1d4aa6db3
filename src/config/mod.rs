//! `zoo.cfg` parsing. Mirrors `QuorumPeerConfig`, `ServerConfig`.
