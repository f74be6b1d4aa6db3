//! How Java's txn log toolkit prints one txn: the header line, the op
//! name (`Request.op2String`), the body fields (jute's `toString` layout,
//! or the comma-joined fields of the creates and setData), and dates in
//! the US short-date/long-time layout. Pure functions, any thread.
//!
//! Mirrors: the printing half of `TxnLogToolkit`,
//! `org.apache.jute.ToStringOutputArchive`, `Request.op2String`.

use super::*;

/// One txn as Java's tool prints it (without the final newline Java adds
/// when the txn's text has none).
pub fn txn_line(entry: &TxnLogEntry) -> String {
    let h = &entry.header;
    format!(
        "{} session 0x{:x} cxid 0x{:x} zxid 0x{:x} {} {}",
        java_date(h.time),
        h.client_id as u64,
        i64::from(h.cxid) as u64,
        h.zxid as u64,
        op2string(h.r#type),
        txn_text(&entry.body)
    )
}

/// `Request.op2String` of ZooKeeper 3.8.
pub fn op2string(op: i32) -> String {
    let name = match op {
        op_code::NOTIFICATION => "notification",
        op_code::CREATE => "create",
        op_code::DELETE => "delete",
        op_code::EXISTS => "exists",
        op_code::GET_DATA => "getData",
        op_code::SET_DATA => "setData",
        op_code::GET_ACL => "getACL",
        op_code::SET_ACL => "setACL",
        op_code::GET_CHILDREN => "getChildren",
        op_code::SYNC => "sync",
        op_code::PING => "ping",
        op_code::GET_CHILDREN2 => "getChildren2",
        op_code::CHECK => "check",
        op_code::MULTI => "multi",
        op_code::CREATE2 => "create2",
        op_code::RECONFIG => "reconfig",
        op_code::CHECK_WATCHES => "checkWatches",
        op_code::REMOVE_WATCHES => "removeWatches",
        op_code::CREATE_CONTAINER => "createContainer",
        op_code::DELETE_CONTAINER => "deleteContainer",
        op_code::CREATE_TTL => "createTtl",
        op_code::MULTI_READ => "multiRead",
        op_code::AUTH => "auth",
        op_code::SET_WATCHES => "setWatches",
        op_code::SET_WATCHES2 => "setWatches2",
        op_code::SASL => "sasl",
        op_code::GET_EPHEMERALS => "getEphemerals",
        op_code::GET_ALL_CHILDREN_NUMBER => "getAllChildrenNumber",
        op_code::CREATE_SESSION => "createSession",
        op_code::CLOSE_SESSION => "closeSession",
        op_code::ERROR => "error",
        op_code::WHO_AM_I => "whoAmI",
        other => return format!("unknown {}", other),
    };
    name.to_string()
}

/// The txn part of a line: Java's tool's own layout for creates, setData
/// and multi, jute's `toString` for the rest.
pub(super) fn txn_text(body: &TxnBody) -> String {
    match body {
        TxnBody::Create(t) => format!(
            "{},{},{},{},{}",
            t.path,
            data_text(&t.data),
            acl_list_text(&t.acl),
            t.ephemeral,
            t.parent_c_version
        ),
        TxnBody::SetData(t) => format!("{},{},{}", t.path, data_text(&t.data), t.version),
        TxnBody::CreateContainer(t) => {
            format!(
                "{},{},{},{}",
                t.path,
                data_text(&t.data),
                acl_list_text(&t.acl),
                t.parent_c_version
            )
        }
        TxnBody::CreateTtl(t) => {
            format!(
                "{},{},{},{},{}",
                t.path,
                data_text(&t.data),
                acl_list_text(&t.acl),
                t.parent_c_version,
                t.ttl
            )
        }
        TxnBody::Multi(m) => {
            let ops: Vec<String> = m
                .txns
                .iter()
                .map(|t| format!("{}:{}", op2string(t.r#type), data_text(&t.data)))
                .collect();
            ops.join(";")
        }
        TxnBody::CreateSession(t) => format!("{}\n", t.time_out),
        TxnBody::CloseSession(None) => String::new(),
        TxnBody::CloseSession(Some(t)) => {
            let paths: Vec<String> = t.paths2_delete.iter().map(|p| jute_string(p)).collect();
            format!("v{{{}}}\n", paths.join(","))
        }
        TxnBody::Delete(t) => format!("{}\n", jute_string(&t.path)),
        TxnBody::Error(t) => format!("{}\n", t.err),
        TxnBody::Check(t) => format!("{},{}\n", jute_string(&t.path), t.version),
        TxnBody::SetAcl(t) => {
            let acls: Vec<String> = t
                .acl
                .iter()
                .map(|a| format!("s{{{}}}", acl_fields(a)))
                .collect();
            format!(
                "{},v{{{}}},{}\n",
                jute_string(&t.path),
                acls.join(","),
                t.version
            )
        }
    }
}

/// Data as Java's `new String(data, UTF_8)`, empty for none.
fn data_text(data: &Option<Vec<u8>>) -> String {
    data.as_deref()
        .map(|d| String::from_utf8_lossy(d).into_owned())
        .unwrap_or_default()
}

/// A `List<ACL>` as Java prints it: `[a, b]`, each ACL's `toString`
/// ending in a newline.
fn acl_list_text(acl: &[Acl]) -> String {
    let items: Vec<String> = acl.iter().map(|a| format!("{}\n", acl_fields(a))).collect();
    format!("[{}]", items.join(", "))
}

fn acl_fields(a: &Acl) -> String {
    format!(
        "{},s{{{},{}}}",
        a.perms,
        jute_string(&a.id.scheme),
        jute_string(&a.id.id)
    )
}

/// A string in jute's text layout: a quote, then the text with `\0`,
/// newline, CR, comma, `}` and `%` percent-escaped.
pub fn jute_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 1);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\0' => out.push_str("%00"),
            '\n' => out.push_str("%0A"),
            '\r' => out.push_str("%0D"),
            ',' => out.push_str("%2C"),
            '}' => out.push_str("%7D"),
            '%' => out.push_str("%25"),
            c => out.push(c),
        }
    }
    out
}

/// Java's `DateFormat.getDateTimeInstance(SHORT, LONG)` in the US locale,
/// in UTC: `12/7/26, 4:03:59 AM UTC`.
pub fn java_date(ms: i64) -> String {
    let (y, mo, d, h, mi, s) = civil_from_unix(ms.div_euclid(1000));
    let (hour12, half) = match h {
        0 => (12, "AM"),
        1..=11 => (h, "AM"),
        12 => (12, "PM"),
        _ => (h - 12, "PM"),
    };
    format!(
        "{}/{}/{:02}, {}:{:02}:{:02} {} UTC",
        mo,
        d,
        y.rem_euclid(100),
        hour12,
        mi,
        s,
        half
    )
}
