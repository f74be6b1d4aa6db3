//! A create txn read in place from the bytes of a multi's op, without
//! building a `CreateTxn` (five allocations: path, data, ACL list and its
//! two strings): the ops of a multi are applied straight from the logged
//! or proposed bytes. Anything unusual (a null or invalid UTF-8 path, a
//! negative or oversized length, a version-0 create without
//! parentCVersion, a short buffer) is left to the jute decoder, which
//! knows every rule; this reader only answers the common case.
//!
//! Also the ACL lists of one multi: they are nearly always the same
//! bytes, so they are decoded once.
//!
//! Pure; used by `apply.rs` on the thread applying txns.
//!
//! Mirrors: the decoding half of `CreateTxn.deserialize` (zookeeper.jute).

use crate::jute::data::{Acl, Id};

/// A create op's fields, borrowed from its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct RawCreate<'a> {
    pub path: &'a str,
    pub data: Option<&'a [u8]>,
    /// The `vector<ACL>` as it was encoded (count included).
    pub acl_bytes: &'a [u8],
    pub ephemeral: bool,
    pub parent_c_version: i32,
}

/// Reads big-endian fields off a byte slice; every read fails (None) at
/// the end of the slice.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
    /// The largest string or buffer accepted (jute.maxbuffer + extra).
    max_len: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let out = self.bytes.get(self.pos..end)?;
        self.pos = end;
        Some(out)
    }

    fn int(&mut self) -> Option<i32> {
        let b = self.take(4)?;
        Some(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// A length-prefixed field of 0..=max_len bytes (null is not common:
    /// the jute decoder handles it).
    fn field(&mut self) -> Option<&'a [u8]> {
        let len = usize::try_from(self.int()?).ok()?;
        if len > self.max_len {
            return None;
        }
        self.take(len)
    }

    fn string(&mut self) -> Option<&'a str> {
        std::str::from_utf8(self.field()?).ok()
    }

    /// A buffer, `Some(None)` for null (-1).
    fn buffer(&mut self) -> Option<Option<&'a [u8]>> {
        let start = self.pos;
        if self.int()? == -1 {
            return Some(None);
        }
        self.pos = start;
        self.field().map(Some)
    }
}

/// The create op in `bytes`, or `None` when the jute decoder should read
/// it (see the module doc).
pub(super) fn parse_create(bytes: &[u8], max_len: usize) -> Option<RawCreate<'_>> {
    let mut c = Cursor {
        bytes,
        pos: 0,
        max_len,
    };
    let path = c.string()?;
    let data = c.buffer()?;
    let acl_start = c.pos;
    let count = usize::try_from(c.int()?).ok()?;
    for _ in 0..count {
        c.int()?;
        c.string()?;
        c.string()?;
    }
    let acl_bytes = &bytes[acl_start..c.pos];
    let ephemeral = c.take(1)?[0] != 0;
    let parent_c_version = c.int()?;
    Some(RawCreate {
        path,
        data,
        acl_bytes,
        ephemeral,
        parent_c_version,
    })
}

/// The ACL list a `RawCreate::acl_bytes` encodes (already validated by
/// `parse_create`; an unreadable list reads as empty).
fn decode_acl(bytes: &[u8]) -> Vec<Acl> {
    let mut c = Cursor {
        bytes,
        pos: 0,
        max_len: usize::MAX,
    };
    let count = c.int().and_then(|n| usize::try_from(n).ok()).unwrap_or(0);
    let mut acl = Vec::with_capacity(count.min(16));
    for _ in 0..count {
        let (Some(perms), Some(scheme), Some(id)) = (c.int(), c.string(), c.string()) else {
            break;
        };
        acl.push(Acl {
            perms,
            id: Id {
                scheme: scheme.to_string(),
                id: id.to_string(),
            },
        });
    }
    acl
}

/// The last ACL list decoded, by its bytes.
#[derive(Debug, Default)]
pub(super) struct AclMemo {
    bytes: Vec<u8>,
    acl: Vec<Acl>,
}

impl AclMemo {
    /// The list `bytes` encodes, decoded only when it differs from the
    /// last one asked for; true when it did.
    pub fn get(&mut self, bytes: &[u8]) -> (&[Acl], bool) {
        let changed = self.bytes != bytes;
        if changed {
            self.acl = decode_acl(bytes);
            self.bytes.clear();
            self.bytes.extend_from_slice(bytes);
        }
        (&self.acl, changed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jute::txn::{CreateTxn, TxnBody};
    use crate::zoo_defs::op_code;

    fn world() -> Vec<Acl> {
        vec![Acl {
            perms: 31,
            id: Id {
                scheme: "world".into(),
                id: "anyone".into(),
            },
        }]
    }

    fn encoded(path: &str, data: Option<&[u8]>, acl: Vec<Acl>) -> Vec<u8> {
        let txn = CreateTxn {
            path: path.into(),
            data: data.map(<[u8]>::to_vec),
            acl,
            ephemeral: true,
            parent_c_version: 7,
        };
        TxnBody::Create(txn).to_bytes()
    }

    #[test]
    fn reads_what_jute_writes() {
        let bytes = encoded("/a/b", Some(b"xy"), world());
        let raw = parse_create(&bytes, 1 << 20).unwrap();
        assert_eq!(
            (raw.path, raw.data, raw.ephemeral, raw.parent_c_version),
            ("/a/b", Some(&b"xy"[..]), true, 7)
        );
        assert_eq!(AclMemo::default().get(raw.acl_bytes).0, &world()[..]);
        let bytes = encoded("/n", None, vec![]);
        let raw = parse_create(&bytes, 1 << 20).unwrap();
        assert_eq!((raw.data, raw.acl_bytes), (None, &0i32.to_be_bytes()[..]));
        assert!(AclMemo::default().get(raw.acl_bytes).0.is_empty());
    }

    #[test]
    fn leaves_unusual_encodings_to_jute() {
        let good = encoded("/a", Some(b"x"), world());
        // Version 0 (no parentCVersion), truncated, oversized, bad UTF-8.
        assert!(parse_create(&good[..good.len() - 4], 1 << 20).is_none());
        assert!(parse_create(&good[..10], 1 << 20).is_none());
        assert!(parse_create(&good, 1).is_none());
        let mut bad = good.clone();
        bad[5] = 0xff;
        assert!(parse_create(&bad, 1 << 20).is_none());
        // A null path.
        let mut null = (-1i32).to_be_bytes().to_vec();
        null.extend_from_slice(&good[6..]);
        assert!(parse_create(&null, 1 << 20).is_none());
        // Still decodable by jute in the version-0 case.
        assert!(TxnBody::from_bytes(op_code::CREATE, &good[..good.len() - 4]).is_ok());
    }

    #[test]
    fn acl_memo_decodes_a_new_list_only() {
        let mut memo = AclMemo::default();
        let a = encoded("/a", None, world());
        let b = encoded(
            "/b",
            None,
            vec![Acl {
                perms: 1,
                id: Id {
                    scheme: "ip".into(),
                    id: "1.2.3.4".into(),
                },
            }],
        );
        let (ra, rb) = (
            parse_create(&a, 1 << 20).unwrap(),
            parse_create(&b, 1 << 20).unwrap(),
        );
        assert_eq!(memo.get(ra.acl_bytes), (&world()[..], true));
        assert_eq!(memo.get(ra.acl_bytes), (&world()[..], false));
        assert_eq!(memo.get(rb.acl_bytes).0[0].id.id, "1.2.3.4");
        assert_eq!(memo.get(ra.acl_bytes), (&world()[..], true));
    }
}
