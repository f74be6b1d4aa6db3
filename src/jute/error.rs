//! Errors of the jute layer.
//!
//! Decoding keeps "the bytes ended early" ([`Error::Incomplete`]) apart from
//! "the bytes are wrong" (every other variant): a txn-log reader treats the
//! first as a torn tail, a connection treats both as a reason to close.
//!
//! Mirrors: the `IOException`s thrown by `org.apache.jute.BinaryInputArchive`.

use std::fmt;
use std::io;

/// What went wrong while reading or writing a jute record.
#[derive(Debug)]
pub enum Error {
    /// The input ended before the record was complete.
    Incomplete,
    /// A length prefix was negative (other than the -1 that means null) or
    /// larger than `jute.maxbuffer` allows. Java: "Unreasonable length".
    UnreasonableLength(i64),
    /// A value that the schema does not allow (an unknown multi op type, a
    /// txn type with no body record, ...).
    Invalid(String),
    /// Any other I/O failure of the underlying reader or writer.
    Io(io::Error),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Incomplete => write!(f, "record truncated"),
            Error::UnreasonableLength(n) => write!(f, "Unreasonable length = {}", n),
            Error::Invalid(why) => write!(f, "invalid record: {}", why),
            Error::Io(e) => write!(f, "I/O error: {}", e),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        if e.kind() == io::ErrorKind::UnexpectedEof {
            Error::Incomplete
        } else {
            Error::Io(e)
        }
    }
}

/// Result alias of the jute layer.
pub type Result<T> = std::result::Result<T, Error>;
