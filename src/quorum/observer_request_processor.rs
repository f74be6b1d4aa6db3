//! An observer's first stage for client requests. With global sessions
//! only (local sessions are not supported) it forwards exactly what a
//! follower forwards, so it is the follower's stage under the observer's
//! name.
//!
//! Thread: the submitting connection thread (see
//! [`super::follower_request_processor`]).
//!
//! Mirrors: `org.apache.zookeeper.server.quorum.ObserverRequestProcessor`.

pub use super::follower_request_processor::FollowerRequestProcessor as ObserverRequestProcessor;
