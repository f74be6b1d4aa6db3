//! Jute: ZooKeeper's serialization, and every record of its schema.
//!
//! Java generates these classes from `zookeeper.jute`; we declare them with
//! the [`jute_record!`] macro, one Rust struct per jute class, fields in
//! schema order with snake_case names. Type mapping:
//!
//! | jute        | Rust                | null (-1 on the wire)          |
//! |-------------|---------------------|--------------------------------|
//! | `int`       | `i32`               |                                |
//! | `long`      | `i64`               |                                |
//! | `boolean`   | `bool`              |                                |
//! | `ustring`   | `String`            | reads as `""`                  |
//! | `buffer`    | `Option<Vec<u8>>`   | `None`, written back as -1     |
//! | `vector<T>` | `Vec<T>`            | reads as empty                 |
//! | record      | the record's struct |                                |
//!
//! Buffers keep their null because clients see the difference (`zkCli.sh`
//! prints `null` for a node created without data); strings and vectors are
//! never null in anything a Java server writes.
//!
//! Modules follow the schema: [`data`], [`proto`], [`txn`], [`quorum`],
//! [`persistence`]; [`multi`] holds the hand-written multi records.
//!
//! Mirrors: `org.apache.jute.Record` and the generated record classes.

mod archive;
pub mod borrowed;
mod error;
#[macro_use]
mod macros;
pub mod data;
pub mod multi;
pub mod persistence;
pub mod proto;
pub mod quorum;
pub mod txn;

use std::io::{Read, Write};

pub use archive::{
    max_buffer, max_field_length, set_extra_max_buffer, set_max_buffer, InputArchive,
    OutputArchive, DEFAULT_MAX_BUFFER,
};
pub use error::{Error, Result};

/// A value that can be written to and read from a jute archive.
pub trait Record: Sized {
    /// Writes the value's fields in schema order.
    fn serialize<W: Write>(&self, oa: &mut OutputArchive<W>) -> std::io::Result<()>;

    /// Reads a value written by [`Record::serialize`] (or by Java).
    fn deserialize<R: Read>(ia: &mut InputArchive<R>) -> Result<Self>;
}

/// Serializes a record into a new byte vector.
pub fn to_bytes<T: Record>(record: &T) -> Vec<u8> {
    let mut oa = OutputArchive::new(Vec::new());
    record
        .serialize(&mut oa)
        .expect("writing to a Vec cannot fail");
    oa.into_inner()
}

/// Appends a record's bytes to `buf`.
pub fn write_into<T: Record>(record: &T, buf: &mut Vec<u8>) {
    let mut oa = OutputArchive::new(buf);
    record
        .serialize(&mut oa)
        .expect("writing to a Vec cannot fail");
}

/// Deserializes one record from the front of `bytes`; trailing bytes are
/// ignored, as Java ignores them.
pub fn from_bytes<T: Record>(bytes: &[u8]) -> Result<T> {
    T::deserialize(&mut InputArchive::new(bytes))
}

impl Record for i32 {
    fn serialize<W: Write>(&self, oa: &mut OutputArchive<W>) -> std::io::Result<()> {
        oa.write_int(*self)
    }
    fn deserialize<R: Read>(ia: &mut InputArchive<R>) -> Result<Self> {
        ia.read_int()
    }
}

impl Record for i64 {
    fn serialize<W: Write>(&self, oa: &mut OutputArchive<W>) -> std::io::Result<()> {
        oa.write_long(*self)
    }
    fn deserialize<R: Read>(ia: &mut InputArchive<R>) -> Result<Self> {
        ia.read_long()
    }
}

impl Record for bool {
    fn serialize<W: Write>(&self, oa: &mut OutputArchive<W>) -> std::io::Result<()> {
        oa.write_bool(*self)
    }
    fn deserialize<R: Read>(ia: &mut InputArchive<R>) -> Result<Self> {
        ia.read_bool()
    }
}

impl Record for String {
    fn serialize<W: Write>(&self, oa: &mut OutputArchive<W>) -> std::io::Result<()> {
        oa.write_string(self)
    }
    fn deserialize<R: Read>(ia: &mut InputArchive<R>) -> Result<Self> {
        ia.read_string()
    }
}

impl Record for Option<Vec<u8>> {
    fn serialize<W: Write>(&self, oa: &mut OutputArchive<W>) -> std::io::Result<()> {
        oa.write_buffer(self.as_deref())
    }
    fn deserialize<R: Read>(ia: &mut InputArchive<R>) -> Result<Self> {
        ia.read_buffer()
    }
}

impl<T: Record> Record for Vec<T> {
    fn serialize<W: Write>(&self, oa: &mut OutputArchive<W>) -> std::io::Result<()> {
        oa.write_vector_len(self.len())?;
        self.iter().try_for_each(|item| item.serialize(oa))
    }
    fn deserialize<R: Read>(ia: &mut InputArchive<R>) -> Result<Self> {
        let count = ia.read_vector_len()?;
        // The count is untrusted: grow as elements actually arrive.
        let mut items = Vec::with_capacity(count.min(1024));
        for _ in 0..count {
            items.push(T::deserialize(ia)?);
        }
        Ok(items)
    }
}

#[cfg(test)]
mod tests {
    use super::data::{Acl, Id, Stat};
    use super::multi::{MultiOp, MultiOperationRecord, MultiResponse, OpResult};
    use super::proto::{ConnectRequest, CreateRequest, ReplyHeader};
    use super::txn::{CreateTxn, TxnBody, TxnDigest, TxnHeader, TxnLogEntry};
    use super::*;

    #[test]
    fn reply_header_is_big_endian() {
        let bytes = to_bytes(&ReplyHeader {
            xid: -2,
            zxid: 0x1_0000_0002,
            err: -101,
        });
        assert_eq!(
            bytes,
            [0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 1, 0, 0, 0, 2, 0xff, 0xff, 0xff, 0x9b]
        );
    }

    #[test]
    fn null_buffer_round_trips_as_minus_one() {
        let req = CreateRequest {
            path: "/a".into(),
            data: None,
            acl: vec![],
            flags: 0,
        };
        let bytes = to_bytes(&req);
        assert_eq!(&bytes[6..10], &[0xff, 0xff, 0xff, 0xff]);
        assert_eq!(from_bytes::<CreateRequest>(&bytes).unwrap(), req);
    }

    #[test]
    fn connect_request_read_only_byte_is_optional() {
        let mut req = ConnectRequest {
            time_out: 30000,
            passwd: Some(vec![0; 16]),
            read_only: Some(false),
            ..Default::default()
        };
        assert_eq!(to_bytes(&req).len(), 45);
        assert_eq!(from_bytes::<ConnectRequest>(&to_bytes(&req)).unwrap(), req);
        req.read_only = None;
        assert_eq!(to_bytes(&req).len(), 44);
        assert_eq!(from_bytes::<ConnectRequest>(&to_bytes(&req)).unwrap(), req);
    }

    #[test]
    fn oversized_length_is_rejected_before_allocating() {
        let bytes = [0x7f, 0xff, 0xff, 0xff, 1, 2, 3];
        match InputArchive::new(&bytes[..]).read_buffer() {
            Err(Error::UnreasonableLength(0x7fff_ffff)) => {}
            other => panic!("unexpected {:?}", other),
        }
        let bytes = [0xff, 0xff, 0xff, 0xfe];
        assert!(matches!(
            InputArchive::new(&bytes[..]).read_string(),
            Err(Error::UnreasonableLength(-2))
        ));
    }

    #[test]
    fn truncated_input_is_incomplete() {
        let bytes = to_bytes(&Stat::default());
        assert!(matches!(
            from_bytes::<Stat>(&bytes[..67]),
            Err(Error::Incomplete)
        ));
        // A huge vector count with no elements behind it ends cleanly.
        let bytes = [0x7f, 0xff, 0xff, 0xff];
        assert!(matches!(
            from_bytes::<Vec<Acl>>(&bytes),
            Err(Error::Incomplete)
        ));
    }

    #[test]
    fn invalid_utf8_decodes_like_java() {
        let bytes = [0, 0, 0, 3, b'/', 0xff, b'a'];
        assert_eq!(
            InputArchive::new(&bytes[..]).read_string().unwrap(),
            "/\u{fffd}a"
        );
    }

    #[test]
    fn multi_round_trips() {
        let ops = MultiOperationRecord {
            ops: vec![
                MultiOp::Create(
                    1,
                    CreateRequest {
                        path: "/m".into(),
                        data: Some(b"x".to_vec()),
                        acl: ids_open(),
                        flags: 0,
                    },
                ),
                MultiOp::Delete(super::proto::DeleteRequest {
                    path: "/n".into(),
                    version: -1,
                }),
            ],
        };
        assert_eq!(
            from_bytes::<MultiOperationRecord>(&to_bytes(&ops)).unwrap(),
            ops
        );
        let resp = MultiResponse {
            results: vec![
                OpResult::Create { path: "/m".into() },
                OpResult::Error { err: -101 },
            ],
        };
        assert_eq!(from_bytes::<MultiResponse>(&to_bytes(&resp)).unwrap(), resp);
    }

    #[test]
    fn txn_entry_with_and_without_digest() {
        let mut entry = TxnLogEntry {
            header: TxnHeader {
                client_id: 5,
                cxid: 1,
                zxid: 2,
                time: 3,
                r#type: 1,
            },
            body: TxnBody::Create(CreateTxn {
                path: "/a".into(),
                data: None,
                acl: ids_open(),
                ephemeral: false,
                parent_c_version: 1,
            }),
            digest: Some(TxnDigest {
                version: 2,
                tree_digest: 1234,
            }),
        };
        assert_eq!(TxnLogEntry::from_bytes(&entry.to_bytes()).unwrap(), entry);
        entry.digest = None;
        assert_eq!(TxnLogEntry::from_bytes(&entry.to_bytes()).unwrap(), entry);
    }

    fn ids_open() -> Vec<Acl> {
        vec![Acl {
            perms: 31,
            id: Id {
                scheme: "world".into(),
                id: "anyone".into(),
            },
        }]
    }
}
