//! Result codes clients see in `ReplyHeader.err` and multi results.
//!
//! These are protocol values, not Rust errors: a request that fails with
//! NONODE is a normal outcome the server reports, so [`Code`] is a plain
//! `#[repr(i32)]` enum with the wire numbers.
//!
//! Mirrors: `org.apache.zookeeper.KeeperException.Code`.

use std::fmt;

/// A ZooKeeper result code with its wire value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum Code {
    Ok = 0,
    SystemError = -1,
    RuntimeInconsistency = -2,
    DataInconsistency = -3,
    ConnectionLoss = -4,
    MarshallingError = -5,
    Unimplemented = -6,
    OperationTimeout = -7,
    BadArguments = -8,
    UnknownSession = -12,
    NewConfigNoQuorum = -13,
    ReconfigInProgress = -14,
    ApiError = -100,
    NoNode = -101,
    NoAuth = -102,
    BadVersion = -103,
    NoChildrenForEphemerals = -108,
    NodeExists = -110,
    NotEmpty = -111,
    SessionExpired = -112,
    InvalidCallback = -113,
    InvalidAcl = -114,
    AuthFailed = -115,
    SessionMoved = -118,
    NotReadOnly = -119,
    EphemeralOnLocalSession = -120,
    NoWatcher = -121,
    RequestTimeout = -122,
    ReconfigDisabled = -123,
    SessionClosedRequireSaslAuth = -124,
    QuotaExceeded = -125,
    ThrottledOp = -127,
}

impl Code {
    /// The wire value.
    pub fn as_i32(self) -> i32 {
        self as i32
    }

    /// The code for a wire value, if it is one.
    pub fn from_i32(v: i32) -> Option<Code> {
        use Code::*;
        const ALL: [Code; 32] = [
            Ok,
            SystemError,
            RuntimeInconsistency,
            DataInconsistency,
            ConnectionLoss,
            MarshallingError,
            Unimplemented,
            OperationTimeout,
            BadArguments,
            UnknownSession,
            NewConfigNoQuorum,
            ReconfigInProgress,
            ApiError,
            NoNode,
            NoAuth,
            BadVersion,
            NoChildrenForEphemerals,
            NodeExists,
            NotEmpty,
            SessionExpired,
            InvalidCallback,
            InvalidAcl,
            AuthFailed,
            SessionMoved,
            NotReadOnly,
            EphemeralOnLocalSession,
            NoWatcher,
            RequestTimeout,
            ReconfigDisabled,
            SessionClosedRequireSaslAuth,
            QuotaExceeded,
            ThrottledOp,
        ];
        ALL.iter().copied().find(|c| c.as_i32() == v)
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} ({})", self, self.as_i32())
    }
}

#[cfg(test)]
mod tests {
    use super::Code;

    #[test]
    fn wire_values_round_trip() {
        for v in -130..=0 {
            if let Some(code) = Code::from_i32(v) {
                assert_eq!(code.as_i32(), v);
            }
        }
        assert_eq!(Code::from_i32(-101), Some(Code::NoNode));
        assert_eq!(Code::from_i32(-9), None);
    }
}
