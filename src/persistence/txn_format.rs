//! Text and JSON renderings of txns, ACLs and stats for the inspection
//! tools. Pure functions.
//!
//! Mirrors: the printing half of
//! `org.apache.zookeeper.server.persistence.TxnLogToolkit` and `Request.op2String`.

use base64::Engine;

use crate::jute::data::{Acl, Stat, StatPersisted};
use crate::jute::txn::{TxnBody, TxnLogEntry};
use crate::zoo_defs::op_code;

/// Java's `Request.op2String` for txn types.
pub fn op_name(txn_type: i32) -> &'static str {
    match txn_type {
        op_code::CREATE_SESSION => "createSession",
        op_code::CLOSE_SESSION => "closeSession",
        op_code::ERROR => "error",
        op_code::CREATE => "create",
        op_code::DELETE => "delete",
        op_code::SET_DATA => "setData",
        op_code::SET_ACL => "setACL",
        op_code::CHECK => "check",
        op_code::MULTI => "multi",
        op_code::CREATE2 => "create2",
        op_code::RECONFIG => "reconfig",
        op_code::CREATE_CONTAINER => "createContainer",
        op_code::DELETE_CONTAINER => "deleteContainer",
        op_code::CREATE_TTL => "createTTL",
        _ => "unknown",
    }
}

/// A JSON string literal.
pub fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Data as JSON: base64 string, or null for a null buffer.
pub fn json_data(data: &Option<Vec<u8>>) -> String {
    match data {
        Some(d) => json_str(&base64::engine::general_purpose::STANDARD.encode(d)),
        None => "null".to_string(),
    }
}

/// Data as text: base64, or "null".
pub fn text_data(data: &Option<Vec<u8>>) -> String {
    match data {
        Some(d) => base64::engine::general_purpose::STANDARD.encode(d),
        None => "null".to_string(),
    }
}

/// An ACL list as JSON: `[{"perms":31,"scheme":"world","id":"anyone"}]`.
pub fn json_acl(acl: &[Acl]) -> String {
    let items: Vec<String> = acl
        .iter()
        .map(|a| {
            format!(
                "{{\"perms\":{},\"scheme\":{},\"id\":{}}}",
                a.perms,
                json_str(&a.id.scheme),
                json_str(&a.id.id)
            )
        })
        .collect();
    format!("[{}]", items.join(","))
}

/// An ACL list as text: `31:world:anyone;1:digest:u:x`.
pub fn text_acl(acl: &[Acl]) -> String {
    let items: Vec<String> = acl
        .iter()
        .map(|a| format!("{}:{}:{}", a.perms, a.id.scheme, a.id.id))
        .collect();
    items.join(";")
}

/// A client-visible stat as JSON (field names as in zookeeper.jute).
pub fn json_stat(s: &Stat) -> String {
    format!(
        "{{\"czxid\":{},\"mzxid\":{},\"ctime\":{},\"mtime\":{},\"version\":{},\"cversion\":{},\
         \"aversion\":{},\"ephemeralOwner\":{},\"dataLength\":{},\"numChildren\":{},\"pzxid\":{}}}",
        s.czxid,
        s.mzxid,
        s.ctime,
        s.mtime,
        s.version,
        s.cversion,
        s.aversion,
        s.ephemeral_owner,
        s.data_length,
        s.num_children,
        s.pzxid
    )
}

/// A stored stat as JSON.
pub fn json_stat_persisted(s: &StatPersisted) -> String {
    format!(
        "{{\"czxid\":{},\"mzxid\":{},\"ctime\":{},\"mtime\":{},\"version\":{},\"cversion\":{},\
         \"aversion\":{},\"ephemeralOwner\":{},\"pzxid\":{}}}",
        s.czxid,
        s.mzxid,
        s.ctime,
        s.mtime,
        s.version,
        s.cversion,
        s.aversion,
        s.ephemeral_owner,
        s.pzxid
    )
}

/// A stored stat as text, one `key = value` per line (SnapshotFormatter style).
pub fn text_stat_persisted(s: &StatPersisted) -> String {
    format!(
        "  cZxid = {:#x}\n  ctime = {}\n  mZxid = {:#x}\n  mtime = {}\n  pZxid = {:#x}\n  cversion = {}\n  \
         dataVersion = {}\n  aclVersion = {}\n  ephemeralOwner = {:#x}\n",
        s.czxid, s.ctime, s.mzxid, s.mtime, s.pzxid, s.cversion, s.version, s.aversion, s.ephemeral_owner
    )
}

/// One txn as a TxnLogToolkit-style line:
/// `time session 0x.. cxid 0x.. zxid 0x.. op body`.
pub fn text_txn(entry: &TxnLogEntry) -> String {
    let h = &entry.header;
    let mut line = format!(
        "{} session {:#x} cxid {:#x} zxid {:#x} {} {}",
        h.time,
        h.client_id,
        h.cxid,
        h.zxid,
        op_name(h.r#type),
        text_body(&entry.body)
    );
    if let Some(d) = &entry.digest {
        line.push_str(&format!(" digest v{} {:#x}", d.version, d.tree_digest));
    }
    line
}

/// A txn body as text.
pub fn text_body(body: &TxnBody) -> String {
    match body {
        TxnBody::CreateSession(t) => format!("timeout={}", t.time_out),
        TxnBody::CloseSession(Some(t)) => format!("paths2Delete={:?}", t.paths2_delete),
        TxnBody::CloseSession(None) => String::new(),
        TxnBody::Create(t) => format!(
            "{},{},{},{},{}",
            t.path,
            text_data(&t.data),
            text_acl(&t.acl),
            t.ephemeral,
            t.parent_c_version
        ),
        TxnBody::CreateTtl(t) => format!(
            "{},{},{},{},{}",
            t.path,
            text_data(&t.data),
            text_acl(&t.acl),
            t.parent_c_version,
            t.ttl
        ),
        TxnBody::CreateContainer(t) => {
            format!(
                "{},{},{},{}",
                t.path,
                text_data(&t.data),
                text_acl(&t.acl),
                t.parent_c_version
            )
        }
        TxnBody::Delete(t) => t.path.clone(),
        TxnBody::SetData(t) => format!("{},{},{}", t.path, text_data(&t.data), t.version),
        TxnBody::SetAcl(t) => format!("{},{},{}", t.path, text_acl(&t.acl), t.version),
        TxnBody::Check(t) => format!("{},{}", t.path, t.version),
        TxnBody::Error(t) => format!("err={}", t.err),
        TxnBody::Multi(m) => {
            let subs: Vec<String> = m
                .txns
                .iter()
                .map(|sub| {
                    let bytes = sub.data.clone().unwrap_or_default();
                    match TxnBody::from_bytes(sub.r#type, &bytes) {
                        Ok(b) => format!("{}:{}", op_name(sub.r#type), text_body(&b)),
                        Err(e) => format!("{}:<{}>", op_name(sub.r#type), e),
                    }
                })
                .collect();
            subs.join(";")
        }
    }
}

/// One txn as a JSON object.
pub fn json_txn(entry: &TxnLogEntry) -> String {
    let h = &entry.header;
    let digest = match &entry.digest {
        Some(d) => format!(
            "{{\"version\":{},\"treeDigest\":{}}}",
            d.version, d.tree_digest
        ),
        None => "null".to_string(),
    };
    format!(
        "{{\"zxid\":{},\"session\":{},\"cxid\":{},\"time\":{},\"type\":{},\"op\":{},\"body\":{},\"digest\":{}}}",
        h.zxid,
        h.client_id,
        h.cxid,
        h.time,
        h.r#type,
        json_str(op_name(h.r#type)),
        json_body(&entry.body),
        digest
    )
}

/// A txn body as a JSON object.
pub fn json_body(body: &TxnBody) -> String {
    match body {
        TxnBody::CreateSession(t) => format!("{{\"timeOut\":{}}}", t.time_out),
        TxnBody::CloseSession(Some(t)) => {
            let paths: Vec<String> = t.paths2_delete.iter().map(|p| json_str(p)).collect();
            format!("{{\"paths2Delete\":[{}]}}", paths.join(","))
        }
        TxnBody::CloseSession(None) => "null".to_string(),
        TxnBody::Create(t) => format!(
            "{{\"path\":{},\"data\":{},\"acl\":{},\"ephemeral\":{},\"parentCVersion\":{}}}",
            json_str(&t.path),
            json_data(&t.data),
            json_acl(&t.acl),
            t.ephemeral,
            t.parent_c_version
        ),
        TxnBody::CreateTtl(t) => format!(
            "{{\"path\":{},\"data\":{},\"acl\":{},\"parentCVersion\":{},\"ttl\":{}}}",
            json_str(&t.path),
            json_data(&t.data),
            json_acl(&t.acl),
            t.parent_c_version,
            t.ttl
        ),
        TxnBody::CreateContainer(t) => format!(
            "{{\"path\":{},\"data\":{},\"acl\":{},\"parentCVersion\":{}}}",
            json_str(&t.path),
            json_data(&t.data),
            json_acl(&t.acl),
            t.parent_c_version
        ),
        TxnBody::Delete(t) => format!("{{\"path\":{}}}", json_str(&t.path)),
        TxnBody::SetData(t) => {
            format!(
                "{{\"path\":{},\"data\":{},\"version\":{}}}",
                json_str(&t.path),
                json_data(&t.data),
                t.version
            )
        }
        TxnBody::SetAcl(t) => {
            format!(
                "{{\"path\":{},\"acl\":{},\"version\":{}}}",
                json_str(&t.path),
                json_acl(&t.acl),
                t.version
            )
        }
        TxnBody::Check(t) => format!(
            "{{\"path\":{},\"version\":{}}}",
            json_str(&t.path),
            t.version
        ),
        TxnBody::Error(t) => format!("{{\"err\":{}}}", t.err),
        TxnBody::Multi(m) => {
            let subs: Vec<String> = m
                .txns
                .iter()
                .map(|sub| {
                    let bytes = sub.data.clone().unwrap_or_default();
                    let body = match TxnBody::from_bytes(sub.r#type, &bytes) {
                        Ok(b) => json_body(&b),
                        Err(e) => format!("{{\"undecodable\":{}}}", json_str(&e.to_string())),
                    };
                    format!(
                        "{{\"type\":{},\"op\":{},\"body\":{}}}",
                        sub.r#type,
                        json_str(op_name(sub.r#type)),
                        body
                    )
                })
                .collect();
            format!("{{\"txns\":[{}]}}", subs.join(","))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jute::data::Id;
    use crate::jute::txn::{CreateTxn, DeleteTxn, MultiTxn, Txn, TxnHeader};

    #[test]
    fn json_strings_are_escaped() {
        assert_eq!(json_str("a\"b\\c\n\u{1}"), "\"a\\\"b\\\\c\\n\\u0001\"");
    }

    #[test]
    fn multi_sub_txns_are_decoded() {
        let create = TxnBody::Create(CreateTxn {
            path: "/a".into(),
            data: Some(b"hi".to_vec()),
            acl: vec![Acl {
                perms: 31,
                id: Id {
                    scheme: "world".into(),
                    id: "anyone".into(),
                },
            }],
            ephemeral: false,
            parent_c_version: 1,
        });
        let delete = TxnBody::Delete(DeleteTxn { path: "/b".into() });
        let multi = TxnBody::Multi(MultiTxn {
            txns: vec![
                Txn {
                    r#type: 1,
                    data: Some(create.to_bytes()),
                },
                Txn {
                    r#type: 2,
                    data: Some(delete.to_bytes()),
                },
            ],
        });
        assert_eq!(
            text_body(&multi),
            "create:/a,aGk=,31:world:anyone,false,1;delete:/b"
        );
        let entry = TxnLogEntry {
            header: TxnHeader {
                client_id: 1,
                cxid: 2,
                zxid: 3,
                time: 4,
                r#type: 14,
            },
            body: multi,
            digest: None,
        };
        let json = json_txn(&entry);
        assert!(json.starts_with(
            "{\"zxid\":3,\"session\":1,\"cxid\":2,\"time\":4,\"type\":14,\"op\":\"multi\""
        ));
        assert!(json.contains("\"data\":\"aGk=\""), "{}", json);
    }
}
