//! Schema module `org.apache.zookeeper.proto`: the client protocol.
//!
//! `ConnectRequest` and `ConnectResponse` are written by hand: their last
//! field (`readOnly`) is optional on the wire. Java 3.8 appends it by hand
//! and detects old clients by its absence; 3.9 moved it into the schema
//! with the same bytes.
//!
//! Mirrors: the classes jute generates for `org.apache.zookeeper.proto`.

use std::io::{Read, Write};

use super::data::{Acl, ClientInfo, Stat};
use super::{InputArchive, OutputArchive, Record, Result};

/// The first frame of every client connection.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectRequest {
    /// Always 0.
    pub protocol_version: i32,
    /// The highest zxid the client has seen.
    pub last_zxid_seen: i64,
    /// Requested session timeout, ms.
    pub time_out: i32,
    /// 0 for a new session, else the session to resume.
    pub session_id: i64,
    /// The session password (16 bytes; zeros for a new session).
    pub passwd: Option<Vec<u8>>,
    /// "May connect to a read-only server"; `None` when the client is old
    /// enough not to send the byte, in which case the reply omits it too.
    pub read_only: Option<bool>,
}

impl Record for ConnectRequest {
    fn serialize<W: Write>(&self, oa: &mut OutputArchive<W>) -> std::io::Result<()> {
        oa.write_int(self.protocol_version)?;
        oa.write_long(self.last_zxid_seen)?;
        oa.write_int(self.time_out)?;
        oa.write_long(self.session_id)?;
        oa.write_buffer(self.passwd.as_deref())?;
        if let Some(ro) = self.read_only {
            oa.write_bool(ro)?;
        }
        Ok(())
    }

    fn deserialize<R: Read>(ia: &mut InputArchive<R>) -> Result<Self> {
        Ok(ConnectRequest {
            protocol_version: ia.read_int()?,
            last_zxid_seen: ia.read_long()?,
            time_out: ia.read_int()?,
            session_id: ia.read_long()?,
            passwd: ia.read_buffer()?,
            read_only: read_optional_bool(ia)?,
        })
    }
}

/// The server's answer to a [`ConnectRequest`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectResponse {
    /// Always 0.
    pub protocol_version: i32,
    /// Negotiated timeout, ms; 0 when the session is invalid.
    pub time_out: i32,
    /// The session id; 0 when invalid.
    pub session_id: i64,
    /// The session password; 16 zeros when invalid.
    pub passwd: Option<Vec<u8>>,
    /// Written only if the client sent its readOnly byte.
    pub read_only: Option<bool>,
}

impl Record for ConnectResponse {
    fn serialize<W: Write>(&self, oa: &mut OutputArchive<W>) -> std::io::Result<()> {
        oa.write_int(self.protocol_version)?;
        oa.write_int(self.time_out)?;
        oa.write_long(self.session_id)?;
        oa.write_buffer(self.passwd.as_deref())?;
        if let Some(ro) = self.read_only {
            oa.write_bool(ro)?;
        }
        Ok(())
    }

    fn deserialize<R: Read>(ia: &mut InputArchive<R>) -> Result<Self> {
        Ok(ConnectResponse {
            protocol_version: ia.read_int()?,
            time_out: ia.read_int()?,
            session_id: ia.read_long()?,
            passwd: ia.read_buffer()?,
            read_only: read_optional_bool(ia)?,
        })
    }
}

/// Reads a trailing boolean if one is there; end of input means absent.
fn read_optional_bool<R: Read>(ia: &mut InputArchive<R>) -> Result<Option<bool>> {
    match ia.read_bool() {
        Ok(v) => Ok(Some(v)),
        Err(super::Error::Incomplete) => Ok(None),
        Err(e) => Err(e),
    }
}

jute_record! {
    /// Re-registers watches after a reconnect (opcode 101, xid -8).
    pub struct SetWatches {
        relative_zxid: i64,
        data_watches: Vec<String>,
        exist_watches: Vec<String>,
        child_watches: Vec<String>,
    }

    /// `SetWatches` plus persistent watches (opcode 105, xid -8).
    pub struct SetWatches2 {
        relative_zxid: i64,
        data_watches: Vec<String>,
        exist_watches: Vec<String>,
        child_watches: Vec<String>,
        persistent_watches: Vec<String>,
        persistent_recursive_watches: Vec<String>,
    }

    /// Precedes every request after the handshake.
    pub struct RequestHeader {
        /// Client-chosen id echoed in the reply; negative ids are special.
        xid: i32,
        /// The opcode (`ZooDefs.OpCode`).
        r#type: i32,
    }

    /// Precedes each op and each result inside a multi.
    pub struct MultiHeader {
        r#type: i32,
        done: bool,
        err: i32,
    }

    /// `addauth` (opcode 100, xid -4).
    pub struct AuthPacket {
        r#type: i32,
        scheme: String,
        auth: Option<Vec<u8>>,
    }

    /// Precedes every reply and notification.
    pub struct ReplyHeader {
        xid: i32,
        zxid: i64,
        err: i32,
    }

    pub struct GetDataRequest {
        path: String,
        watch: bool,
    }

    pub struct SetDataRequest {
        path: String,
        data: Option<Vec<u8>>,
        version: i32,
    }

    pub struct ReconfigRequest {
        joining_servers: String,
        leaving_servers: String,
        new_members: String,
        cur_config_id: i64,
    }

    pub struct SetDataResponse {
        stat: Stat,
    }

    pub struct GetSaslRequest {
        token: Option<Vec<u8>>,
    }

    pub struct SetSaslRequest {
        token: Option<Vec<u8>>,
    }

    pub struct SetSaslResponse {
        token: Option<Vec<u8>>,
    }

    /// create, create2 and createContainer (opcodes 1, 15, 19).
    pub struct CreateRequest {
        path: String,
        data: Option<Vec<u8>>,
        acl: Vec<Acl>,
        /// The CreateMode flag (0..=6).
        flags: i32,
    }

    /// createTTL (opcode 21).
    pub struct CreateTtlRequest {
        path: String,
        data: Option<Vec<u8>>,
        acl: Vec<Acl>,
        flags: i32,
        ttl: i64,
    }

    pub struct DeleteRequest {
        path: String,
        version: i32,
    }

    pub struct GetChildrenRequest {
        path: String,
        watch: bool,
    }

    pub struct GetAllChildrenNumberRequest {
        path: String,
    }

    pub struct GetChildren2Request {
        path: String,
        watch: bool,
    }

    /// check (opcode 13), inside a multi.
    pub struct CheckVersionRequest {
        path: String,
        version: i32,
    }

    pub struct GetMaxChildrenRequest {
        path: String,
    }

    pub struct GetMaxChildrenResponse {
        max: i32,
    }

    pub struct SetMaxChildrenRequest {
        path: String,
        max: i32,
    }

    pub struct SyncRequest {
        path: String,
    }

    pub struct SyncResponse {
        path: String,
    }

    pub struct GetAclRequest {
        path: String,
    }

    pub struct SetAclRequest {
        path: String,
        acl: Vec<Acl>,
        /// Compared with the node's aversion.
        version: i32,
    }

    pub struct SetAclResponse {
        stat: Stat,
    }

    /// addWatch (opcode 106); mode 0 persistent, 1 persistent-recursive.
    pub struct AddWatchRequest {
        path: String,
        mode: i32,
    }

    /// A watch notification (sent with xid -1).
    pub struct WatcherEvent {
        r#type: i32,
        state: i32,
        path: String,
    }

    /// A bare error code: addWatch's reply body and a multi's error result.
    pub struct ErrorResponse {
        err: i32,
    }

    pub struct CreateResponse {
        path: String,
    }

    pub struct Create2Response {
        path: String,
        stat: Stat,
    }

    pub struct ExistsRequest {
        path: String,
        watch: bool,
    }

    pub struct ExistsResponse {
        stat: Stat,
    }

    pub struct GetDataResponse {
        data: Option<Vec<u8>>,
        stat: Stat,
    }

    pub struct GetChildrenResponse {
        children: Vec<String>,
    }

    pub struct GetAllChildrenNumberResponse {
        total_number: i32,
    }

    pub struct GetChildren2Response {
        children: Vec<String>,
        stat: Stat,
    }

    pub struct GetAclResponse {
        acl: Vec<Acl>,
        stat: Stat,
    }

    /// checkWatches (17); `type` is a WatcherType.
    pub struct CheckWatchesRequest {
        path: String,
        r#type: i32,
    }

    /// removeWatches (18); `type` is a WatcherType.
    pub struct RemoveWatchesRequest {
        path: String,
        r#type: i32,
    }

    pub struct GetEphemeralsRequest {
        prefix_path: String,
    }

    pub struct GetEphemeralsResponse {
        ephemerals: Vec<String>,
    }

    pub struct WhoAmIResponse {
        client_info: Vec<ClientInfo>,
    }
}
