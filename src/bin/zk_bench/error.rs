//! Errors of the benchmark tool: bad flags, a server that misbehaves or
//! goes away, or a workload that cannot be set up.
//!
//! Runs on every thread of the tool; workers return these to the thread
//! that joined them, which prints them and counts them as errors.
//!
//! Mirrors: nothing in ZooKeeper; part of the zk-bench tool.

use std::fmt;
use std::io;

/// What went wrong in zk-bench.
#[derive(Debug)]
pub enum BenchError {
    /// Bad command line; the message says which flag and why.
    Usage(String),
    /// A socket or file operation failed.
    Io(io::Error),
    /// The server closed the connection (the text says when).
    Closed(&'static str),
    /// The server sent something we did not expect.
    Protocol(String),
    /// A setup request failed with this result code.
    Server { what: String, err: i32 },
    /// A server started by the tool did not come up in time.
    Timeout(String),
}

impl fmt::Display for BenchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BenchError::Usage(msg) => write!(f, "usage: {}", msg),
            BenchError::Io(e) => write!(f, "I/O error: {}", e),
            BenchError::Closed(when) => write!(f, "connection closed {}", when),
            BenchError::Protocol(msg) => write!(f, "protocol error: {}", msg),
            BenchError::Server { what, err } => write!(f, "{} failed with error {}", what, err),
            BenchError::Timeout(msg) => write!(f, "timed out: {}", msg),
        }
    }
}

impl std::error::Error for BenchError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            BenchError::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for BenchError {
    fn from(e: io::Error) -> Self {
        BenchError::Io(e)
    }
}

impl From<zookeeper::jute::Error> for BenchError {
    fn from(e: zookeeper::jute::Error) -> Self {
        BenchError::Protocol(format!("undecodable reply: {}", e))
    }
}
