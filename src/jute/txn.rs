//! Schema module `org.apache.zookeeper.txn`: what the txn log stores and
//! what the leader proposes.
//!
//! A logged transaction is a [`TxnHeader`], a body whose record type follows
//! from the header's type, and (when `digest.enabled`) a [`TxnDigest`].
//! [`TxnLogEntry`] reads and writes that triple, with Java's fallbacks for
//! old logs (a version-0 create, a closeSession without a body).
//!
//! Mirrors: the generated txn classes and `SerializeUtils.deserializeTxn`.

use std::io::{Read, Write};

use super::data::Acl;
use super::{Error, InputArchive, OutputArchive, Record, Result};
use crate::zoo_defs::op_code;

jute_record! {
    /// The DataTree digest after this txn was applied.
    pub struct TxnDigest {
        version: i32,
        tree_digest: i64,
    }

    /// Who asked, when, and in which order (32 bytes).
    pub struct TxnHeader {
        /// The session of the requester; 0 for server-internal txns.
        client_id: i64,
        /// The client's xid; 0 for createSession and internal txns.
        cxid: i32,
        zxid: i64,
        /// Leader wall clock, ms since the epoch.
        time: i64,
        /// The txn type (an opcode, or -1 for an error txn).
        r#type: i32,
    }

    /// The create txn of logs older than 3.3 (no parentCVersion).
    pub struct CreateTxnV0 {
        path: String,
        data: Option<Vec<u8>>,
        acl: Vec<Acl>,
        ephemeral: bool,
    }

    pub struct CreateTxn {
        path: String,
        data: Option<Vec<u8>>,
        acl: Vec<Acl>,
        ephemeral: bool,
        /// The parent's stored cversion after this create.
        parent_c_version: i32,
    }

    pub struct CreateTtlTxn {
        path: String,
        data: Option<Vec<u8>>,
        acl: Vec<Acl>,
        parent_c_version: i32,
        ttl: i64,
    }

    pub struct CreateContainerTxn {
        path: String,
        data: Option<Vec<u8>>,
        acl: Vec<Acl>,
        parent_c_version: i32,
    }

    pub struct DeleteTxn {
        path: String,
    }

    pub struct SetDataTxn {
        path: String,
        data: Option<Vec<u8>>,
        /// The node's new data version.
        version: i32,
    }

    pub struct CheckVersionTxn {
        path: String,
        version: i32,
    }

    pub struct SetAclTxn {
        path: String,
        acl: Vec<Acl>,
        /// The node's new ACL version.
        version: i32,
    }

    pub struct SetMaxChildrenTxn {
        path: String,
        max: i32,
    }

    pub struct CreateSessionTxn {
        time_out: i32,
    }

    /// The ephemerals to delete with the session.
    pub struct CloseSessionTxn {
        paths2_delete: Vec<String>,
    }

    /// A write that failed validation: logged so the zxid is accounted for.
    pub struct ErrorTxn {
        err: i32,
    }

    /// One op of a multi: its txn type and its serialized body.
    pub struct Txn {
        r#type: i32,
        data: Option<Vec<u8>>,
    }

    pub struct MultiTxn {
        txns: Vec<Txn>,
    }
}

/// The body of a txn, typed by the header's txn type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TxnBody {
    /// createSession (-10).
    CreateSession(CreateSessionTxn),
    /// closeSession (-11); `None` for logs written before CloseSessionTxn.
    CloseSession(Option<CloseSessionTxn>),
    /// create (1) and create2 (15).
    Create(CreateTxn),
    /// createTTL (21).
    CreateTtl(CreateTtlTxn),
    /// createContainer (19).
    CreateContainer(CreateContainerTxn),
    /// delete (2) and deleteContainer (20).
    Delete(DeleteTxn),
    /// setData (5) and reconfig (16).
    SetData(SetDataTxn),
    /// setACL (7).
    SetAcl(SetAclTxn),
    /// check (13); only valid inside a multi.
    Check(CheckVersionTxn),
    /// error (-1).
    Error(ErrorTxn),
    /// multi (14).
    Multi(MultiTxn),
}

impl TxnBody {
    /// Reads the body of a txn of type `txn_type`.
    pub fn deserialize<R: Read>(txn_type: i32, ia: &mut InputArchive<R>) -> Result<TxnBody> {
        Ok(match txn_type {
            op_code::CREATE_SESSION => TxnBody::CreateSession(Record::deserialize(ia)?),
            op_code::CLOSE_SESSION => match CloseSessionTxn::deserialize(ia) {
                Ok(t) => TxnBody::CloseSession(Some(t)),
                Err(Error::Incomplete) => TxnBody::CloseSession(None),
                Err(e) => return Err(e),
            },
            op_code::CREATE | op_code::CREATE2 => TxnBody::Create(Record::deserialize(ia)?),
            op_code::CREATE_TTL => TxnBody::CreateTtl(Record::deserialize(ia)?),
            op_code::CREATE_CONTAINER => TxnBody::CreateContainer(Record::deserialize(ia)?),
            op_code::DELETE | op_code::DELETE_CONTAINER => {
                TxnBody::Delete(Record::deserialize(ia)?)
            }
            op_code::SET_DATA | op_code::RECONFIG => TxnBody::SetData(Record::deserialize(ia)?),
            op_code::SET_ACL => TxnBody::SetAcl(Record::deserialize(ia)?),
            op_code::CHECK => TxnBody::Check(Record::deserialize(ia)?),
            op_code::ERROR => TxnBody::Error(Record::deserialize(ia)?),
            op_code::MULTI => TxnBody::Multi(Record::deserialize(ia)?),
            other => return Err(Error::Invalid(format!("unsupported txn type {}", other))),
        })
    }

    /// Reads a body from bytes, accepting a version-0 create (no
    /// parentCVersion, which then reads as -1) as Java does.
    pub fn from_bytes(txn_type: i32, bytes: &[u8]) -> Result<TxnBody> {
        match Self::deserialize(txn_type, &mut InputArchive::new(bytes)) {
            Err(Error::Incomplete) if txn_type == op_code::CREATE => {
                let v0: CreateTxnV0 = super::from_bytes(bytes)?;
                Ok(TxnBody::Create(CreateTxn {
                    path: v0.path,
                    data: v0.data,
                    acl: v0.acl,
                    ephemeral: v0.ephemeral,
                    parent_c_version: -1,
                }))
            }
            other => other,
        }
    }

    /// Writes the body (nothing for a closeSession without one).
    pub fn serialize<W: Write>(&self, oa: &mut OutputArchive<W>) -> std::io::Result<()> {
        match self {
            TxnBody::CreateSession(t) => t.serialize(oa),
            TxnBody::CloseSession(Some(t)) => t.serialize(oa),
            TxnBody::CloseSession(None) => Ok(()),
            TxnBody::Create(t) => t.serialize(oa),
            TxnBody::CreateTtl(t) => t.serialize(oa),
            TxnBody::CreateContainer(t) => t.serialize(oa),
            TxnBody::Delete(t) => t.serialize(oa),
            TxnBody::SetData(t) => t.serialize(oa),
            TxnBody::SetAcl(t) => t.serialize(oa),
            TxnBody::Check(t) => t.serialize(oa),
            TxnBody::Error(t) => t.serialize(oa),
            TxnBody::Multi(t) => t.serialize(oa),
        }
    }

    /// The body as bytes (the `data` of a multi's [`Txn`]).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut oa = OutputArchive::new(Vec::new());
        self.serialize(&mut oa)
            .expect("writing to a Vec cannot fail");
        oa.into_inner()
    }
}

/// One logged transaction: header, body and optional digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxnLogEntry {
    pub header: TxnHeader,
    pub body: TxnBody,
    /// Present when the writer had `digest.enabled`.
    pub digest: Option<TxnDigest>,
}

impl TxnLogEntry {
    /// Decodes a txn payload (the bytes between a log record's length and
    /// its end-of-record byte, or a PROPOSAL's data).
    pub fn from_bytes(bytes: &[u8]) -> Result<TxnLogEntry> {
        let mut ia = InputArchive::new(bytes);
        let header = TxnHeader::deserialize(&mut ia)?;
        let body_start = bytes.len() - ia.inner_mut().len();
        let body_bytes = &bytes[body_start..];
        let mut ia = InputArchive::new(body_bytes);
        let body = match TxnBody::deserialize(header.r#type, &mut ia) {
            Ok(body) => body,
            Err(Error::Incomplete) if header.r#type == op_code::CREATE => {
                // A version-0 create has no digest after it either.
                let body = TxnBody::from_bytes(header.r#type, body_bytes)?;
                return Ok(TxnLogEntry {
                    header,
                    body,
                    digest: None,
                });
            }
            Err(e) => return Err(e),
        };
        let digest = match TxnDigest::deserialize(&mut ia) {
            Ok(d) => Some(d),
            Err(Error::Incomplete) => None,
            Err(e) => return Err(e),
        };
        Ok(TxnLogEntry {
            header,
            body,
            digest,
        })
    }

    /// The length of [`TxnLogEntry::to_bytes`], counted without copying
    /// any data: what a log record's length field or a PROPOSAL's data
    /// buffer will say.
    pub fn serialized_len(&self) -> usize {
        let mut oa = OutputArchive::new(ByteCounter(0));
        self.header.serialize(&mut oa).expect("counting write");
        self.body.serialize(&mut oa).expect("counting write");
        if let Some(d) = &self.digest {
            d.serialize(&mut oa).expect("counting write");
        }
        oa.into_inner().0
    }

    /// Encodes header, body and digest.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut oa = OutputArchive::new(Vec::with_capacity(128));
        self.header.serialize(&mut oa).expect("Vec write");
        self.body.serialize(&mut oa).expect("Vec write");
        if let Some(d) = &self.digest {
            d.serialize(&mut oa).expect("Vec write");
        }
        oa.into_inner()
    }
}

/// A writer that only counts the bytes written to it.
struct ByteCounter(usize);

impl std::io::Write for ByteCounter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialized_len_is_the_encoded_length() {
        let header = TxnHeader {
            client_id: 7,
            cxid: 1,
            zxid: 0x100000001,
            time: 5,
            r#type: op_code::CLOSE_SESSION,
        };
        let paths = vec!["/a".to_string(), "/bb".repeat(1000)];
        for (body, digest) in [
            (
                TxnBody::CloseSession(Some(CloseSessionTxn {
                    paths2_delete: paths,
                })),
                Some(TxnDigest {
                    version: 2,
                    tree_digest: 9,
                }),
            ),
            (TxnBody::CloseSession(None), None),
            (TxnBody::Error(ErrorTxn { err: -8 }), None),
        ] {
            let e = TxnLogEntry {
                header: header.clone(),
                body,
                digest,
            };
            assert_eq!(e.serialized_len(), e.to_bytes().len());
        }
    }

    #[test]
    fn close_session_without_its_list_reads_back_as_the_legacy_form() {
        let header = TxnHeader {
            client_id: 7,
            cxid: 0,
            zxid: 3,
            time: 5,
            r#type: op_code::CLOSE_SESSION,
        };
        let e = TxnLogEntry {
            header,
            body: TxnBody::CloseSession(None),
            digest: None,
        };
        let back = TxnLogEntry::from_bytes(&e.to_bytes()).unwrap();
        assert!(matches!(back.body, TxnBody::CloseSession(None)));
        assert!(back.digest.is_none());
    }
}
