//! Golden bytes from Java: every jute record, byte for byte.
//!
//! `tests/java/JuteGolden.java` serializes one sample of each record with
//! Java ZooKeeper's own classes (Debian's `/usr/share/java/zookeeper.jar`).
//! Here we build the same samples and require that our encoder writes the
//! very same bytes and our decoder reads Java's bytes back to equal values.
//! The oracle is the Java jar: with `CI=true` a missing JDK or jar fails the
//! test; elsewhere it is skipped with a message.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use zookeeper::jute::data::{Acl, ClientInfo, Id, Stat, StatPersisted};
use zookeeper::jute::multi::{MultiOp, MultiOperationRecord, MultiResponse, OpResult};
use zookeeper::jute::persistence::FileHeader;
use zookeeper::jute::proto::*;
use zookeeper::jute::quorum::{LearnerInfo, QuorumAuthPacket, QuorumPacket};
use zookeeper::jute::txn::*;
use zookeeper::jute::{from_bytes, to_bytes, Record};

mod java_oracle;

/// Java's bytes, name -> bytes; computed once per test process (the
/// tests run in parallel and would otherwise share, and delete, one
/// class directory).
fn java_golden() -> Option<BTreeMap<String, Vec<u8>>> {
    static GOLDEN: OnceLock<Option<BTreeMap<String, Vec<u8>>>> = OnceLock::new();
    GOLDEN.get_or_init(run_java_golden).clone()
}

/// Compiles and runs the Java helper; name -> bytes.
fn run_java_golden() -> Option<BTreeMap<String, Vec<u8>>> {
    let text = java_oracle::run("JuteGolden", &["/usr/share/java/slf4j-api.jar"])?;
    Some(
        text.lines()
            .filter_map(|l| l.split_once(' '))
            .map(|(name, hex)| (name.to_string(), decode_hex(hex)))
            .collect(),
    )
}

fn decode_hex(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

/// Checks one sample both ways and removes it from the golden set.
fn check<T: Record + PartialEq + std::fmt::Debug>(
    golden: &mut BTreeMap<String, Vec<u8>>,
    name: &str,
    value: T,
) {
    let java = golden
        .remove(name)
        .unwrap_or_else(|| panic!("Java emitted no {}", name));
    assert_eq!(
        to_bytes(&value),
        java,
        "{}: our bytes differ from Java's",
        name
    );
    assert_eq!(
        from_bytes::<T>(&java).unwrap(),
        value,
        "{}: decoding Java's bytes",
        name
    );
}

fn s(v: &str) -> String {
    v.to_string()
}

fn b(v: &str) -> Option<Vec<u8>> {
    Some(v.as_bytes().to_vec())
}

fn world() -> Id {
    Id {
        scheme: s("world"),
        id: s("anyone"),
    }
}

fn digest() -> Id {
    Id {
        scheme: s("digest"),
        id: s("user:tpUq/4Pn5A64fVZyQ0gOJ8ZWqkY="),
    }
}

fn open() -> Acl {
    Acl {
        perms: 31,
        id: world(),
    }
}

fn acls() -> Vec<Acl> {
    vec![
        open(),
        Acl {
            perms: 1,
            id: digest(),
        },
    ]
}

fn stat() -> Stat {
    Stat {
        czxid: 0x100000002,
        mzxid: 0x100000003,
        ctime: 1700000000123,
        mtime: 1700000000456,
        version: 3,
        cversion: -1,
        aversion: 2,
        ephemeral_owner: 0x17f3a2b4c5d00001,
        data_length: 5,
        num_children: 2,
        pzxid: 0x100000004,
    }
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

#[test]
fn every_record_matches_java_bytes() {
    let Some(mut g) = java_golden() else { return };
    let g = &mut g;
    check(g, "Id", digest());
    check(
        g,
        "ACL",
        Acl {
            perms: 1,
            id: digest(),
        },
    );
    check(g, "Stat", stat());
    check(
        g,
        "StatPersisted",
        StatPersisted {
            czxid: 1,
            mzxid: 2,
            ctime: 3,
            mtime: 4,
            version: 5,
            cversion: 6,
            aversion: 7,
            ephemeral_owner: i64::MIN,
            pzxid: 9,
        },
    );
    check(
        g,
        "ClientInfo",
        ClientInfo {
            auth_scheme: s("ip"),
            user: s("127.0.0.1"),
        },
    );
    check(
        g,
        "ConnectRequest",
        ConnectRequest {
            protocol_version: 0,
            last_zxid_seen: 0x100000005,
            time_out: 30000,
            session_id: 0x100000a71af0000,
            passwd: Some(vec![0; 16]),
            read_only: None,
        },
    );
    check(
        g,
        "ConnectResponse",
        ConnectResponse {
            protocol_version: 0,
            time_out: 40000,
            session_id: 0x100000a71af0000,
            passwd: b("0123456789abcdef"),
            read_only: None,
        },
    );
    check(
        g,
        "SetWatches",
        SetWatches {
            relative_zxid: 7,
            data_watches: strings(&["/a", "/b"]),
            exist_watches: vec![],
            child_watches: strings(&["/c"]),
        },
    );
    check(
        g,
        "SetWatches2",
        SetWatches2 {
            relative_zxid: 7,
            data_watches: strings(&["/a"]),
            exist_watches: strings(&["/e"]),
            child_watches: strings(&["/c"]),
            persistent_watches: strings(&["/p"]),
            persistent_recursive_watches: strings(&["/r", "/r2"]),
        },
    );
    check(
        g,
        "RequestHeader",
        RequestHeader {
            xid: -8,
            r#type: 101,
        },
    );
    check(
        g,
        "MultiHeader",
        MultiHeader {
            r#type: -1,
            done: true,
            err: -1,
        },
    );
    check(
        g,
        "AuthPacket",
        AuthPacket {
            r#type: 0,
            scheme: s("digest"),
            auth: b("user:pass"),
        },
    );
    check(
        g,
        "ReplyHeader",
        ReplyHeader {
            xid: -1,
            zxid: -1,
            err: -101,
        },
    );
    check(
        g,
        "GetDataRequest",
        GetDataRequest {
            path: s("/zk/été"),
            watch: true,
        },
    );
    check(
        g,
        "SetDataRequest",
        SetDataRequest {
            path: s("/a"),
            data: None,
            version: -1,
        },
    );
    check(
        g,
        "ReconfigRequest",
        ReconfigRequest {
            joining_servers: s("server.4=h:1:2"),
            leaving_servers: s(""),
            new_members: s(""),
            cur_config_id: -1,
        },
    );
    check(g, "SetDataResponse", SetDataResponse { stat: stat() });
    check(
        g,
        "GetSASLRequest",
        GetSaslRequest {
            token: Some(vec![]),
        },
    );
    check(g, "SetSASLRequest", SetSaslRequest { token: b("tok") });
    check(g, "SetSASLResponse", SetSaslResponse { token: None });
    check(
        g,
        "CreateRequest",
        CreateRequest {
            path: s("/seq-"),
            data: b("data"),
            acl: acls(),
            flags: 3,
        },
    );
    check(
        g,
        "CreateTTLRequest",
        CreateTtlRequest {
            path: s("/ttl"),
            data: Some(vec![]),
            acl: vec![open()],
            flags: 5,
            ttl: 60000,
        },
    );
    check(
        g,
        "DeleteRequest",
        DeleteRequest {
            path: s("/a"),
            version: 4,
        },
    );
    check(
        g,
        "GetChildrenRequest",
        GetChildrenRequest {
            path: s("/"),
            watch: false,
        },
    );
    check(
        g,
        "GetAllChildrenNumberRequest",
        GetAllChildrenNumberRequest { path: s("/a") },
    );
    check(
        g,
        "GetChildren2Request",
        GetChildren2Request {
            path: s("/a"),
            watch: true,
        },
    );
    check(
        g,
        "CheckVersionRequest",
        CheckVersionRequest {
            path: s("/a"),
            version: 2,
        },
    );
    check(
        g,
        "GetMaxChildrenRequest",
        GetMaxChildrenRequest { path: s("/a") },
    );
    check(
        g,
        "GetMaxChildrenResponse",
        GetMaxChildrenResponse { max: 10 },
    );
    check(
        g,
        "SetMaxChildrenRequest",
        SetMaxChildrenRequest {
            path: s("/a"),
            max: 10,
        },
    );
    check(g, "SyncRequest", SyncRequest { path: s("/") });
    check(g, "SyncResponse", SyncResponse { path: s("/") });
    check(g, "GetACLRequest", GetAclRequest { path: s("/a") });
    check(
        g,
        "SetACLRequest",
        SetAclRequest {
            path: s("/a"),
            acl: acls(),
            version: 0,
        },
    );
    check(g, "SetACLResponse", SetAclResponse { stat: stat() });
    check(
        g,
        "AddWatchRequest",
        AddWatchRequest {
            path: s("/w"),
            mode: 1,
        },
    );
    check(
        g,
        "WatcherEvent",
        WatcherEvent {
            r#type: 4,
            state: 3,
            path: s("/w"),
        },
    );
    check(g, "ErrorResponse", ErrorResponse { err: -110 });
    check(
        g,
        "CreateResponse",
        CreateResponse {
            path: s("/seq-0000000001"),
        },
    );
    check(
        g,
        "Create2Response",
        Create2Response {
            path: s("/x"),
            stat: stat(),
        },
    );
    check(
        g,
        "ExistsRequest",
        ExistsRequest {
            path: s("/x"),
            watch: true,
        },
    );
    check(g, "ExistsResponse", ExistsResponse { stat: stat() });
    check(
        g,
        "GetDataResponse",
        GetDataResponse {
            data: None,
            stat: stat(),
        },
    );
    check(
        g,
        "GetChildrenResponse",
        GetChildrenResponse {
            children: strings(&["a", "b", "中"]),
        },
    );
    check(
        g,
        "GetAllChildrenNumberResponse",
        GetAllChildrenNumberResponse { total_number: 42 },
    );
    check(
        g,
        "GetChildren2Response",
        GetChildren2Response {
            children: vec![],
            stat: stat(),
        },
    );
    check(
        g,
        "GetACLResponse",
        GetAclResponse {
            acl: acls(),
            stat: stat(),
        },
    );
    check(
        g,
        "CheckWatchesRequest",
        CheckWatchesRequest {
            path: s("/w"),
            r#type: 3,
        },
    );
    check(
        g,
        "RemoveWatchesRequest",
        RemoveWatchesRequest {
            path: s("/w"),
            r#type: 1,
        },
    );
    check(
        g,
        "GetEphemeralsRequest",
        GetEphemeralsRequest { prefix_path: s("") },
    );
    check(
        g,
        "GetEphemeralsResponse",
        GetEphemeralsResponse {
            ephemerals: strings(&["/e1", "/e2"]),
        },
    );
    check(
        g,
        "WhoAmIResponse",
        WhoAmIResponse {
            client_info: vec![
                ClientInfo {
                    auth_scheme: s("ip"),
                    user: s("127.0.0.1"),
                },
                ClientInfo {
                    auth_scheme: s("digest"),
                    user: s("user"),
                },
            ],
        },
    );
    check(
        g,
        "LearnerInfo",
        LearnerInfo {
            serverid: 3,
            protocol_version: 0x10000,
            config_version: -1,
        },
    );
    check(
        g,
        "QuorumPacket",
        QuorumPacket {
            r#type: 2,
            zxid: 0x100000001,
            data: b("proposal"),
            authinfo: vec![world()],
        },
    );
    check(
        g,
        "QuorumAuthPacket",
        QuorumAuthPacket {
            magic: 0xfeed,
            status: 1,
            token: None,
        },
    );
    check(
        g,
        "FileHeader",
        FileHeader {
            magic: 0x5A4B4C47,
            version: 2,
            dbid: 0,
        },
    );
    check(
        g,
        "TxnDigest",
        TxnDigest {
            version: 2,
            tree_digest: 0x1234567890,
        },
    );
    check(
        g,
        "TxnHeader",
        TxnHeader {
            client_id: 0x100000a71af0000,
            cxid: 7,
            zxid: 0x100000009,
            time: 1700000000789,
            r#type: 1,
        },
    );
    check(
        g,
        "CreateTxnV0",
        CreateTxnV0 {
            path: s("/v0"),
            data: b("d"),
            acl: vec![open()],
            ephemeral: true,
        },
    );
    check(
        g,
        "CreateTxn",
        CreateTxn {
            path: s("/c"),
            data: None,
            acl: acls(),
            ephemeral: false,
            parent_c_version: 3,
        },
    );
    check(
        g,
        "CreateTTLTxn",
        CreateTtlTxn {
            path: s("/t"),
            data: b("x"),
            acl: vec![open()],
            parent_c_version: 1,
            ttl: 1000,
        },
    );
    check(
        g,
        "CreateContainerTxn",
        CreateContainerTxn {
            path: s("/k"),
            data: Some(vec![]),
            acl: vec![open()],
            parent_c_version: 1,
        },
    );
    check(g, "DeleteTxn", DeleteTxn { path: s("/d") });
    check(
        g,
        "SetDataTxn",
        SetDataTxn {
            path: s("/s"),
            data: b("new"),
            version: 4,
        },
    );
    check(
        g,
        "CheckVersionTxn",
        CheckVersionTxn {
            path: s("/s"),
            version: 4,
        },
    );
    check(
        g,
        "SetACLTxn",
        SetAclTxn {
            path: s("/s"),
            acl: acls(),
            version: 1,
        },
    );
    check(
        g,
        "SetMaxChildrenTxn",
        SetMaxChildrenTxn {
            path: s("/s"),
            max: 3,
        },
    );
    check(g, "CreateSessionTxn", CreateSessionTxn { time_out: 30000 });
    check(
        g,
        "CloseSessionTxn",
        CloseSessionTxn {
            paths2_delete: strings(&["/e1", "/e2"]),
        },
    );
    check(g, "ErrorTxn", ErrorTxn { err: -101 });
    check(
        g,
        "Txn",
        Txn {
            r#type: 2,
            data: b("xyz"),
        },
    );
    check(
        g,
        "MultiTxn",
        MultiTxn {
            txns: vec![
                Txn {
                    r#type: -1,
                    data: Some(vec![0, 0, 0, 0]),
                },
                Txn {
                    r#type: -1,
                    data: Some(vec![0xff, 0xff, 0xff, 0x9b]),
                },
            ],
        },
    );
    check(
        g,
        "MultiOperationRecord",
        MultiOperationRecord {
            ops: vec![
                MultiOp::Create(
                    1,
                    CreateRequest {
                        path: s("/m"),
                        data: b("v"),
                        acl: vec![open()],
                        flags: 0,
                    },
                ),
                MultiOp::Create(
                    19,
                    CreateRequest {
                        path: s("/mc"),
                        data: None,
                        acl: vec![open()],
                        flags: 4,
                    },
                ),
                MultiOp::Delete(DeleteRequest {
                    path: s("/d"),
                    version: -1,
                }),
                MultiOp::SetData(SetDataRequest {
                    path: s("/s"),
                    data: b("x"),
                    version: 3,
                }),
                MultiOp::Check(CheckVersionRequest {
                    path: s("/c"),
                    version: 1,
                }),
            ],
        },
    );
    check(
        g,
        "MultiOperationRecordRead",
        MultiOperationRecord {
            ops: vec![
                MultiOp::GetChildren(GetChildrenRequest {
                    path: s("/a"),
                    watch: false,
                }),
                MultiOp::GetData(GetDataRequest {
                    path: s("/a"),
                    watch: false,
                }),
            ],
        },
    );
    check(
        g,
        "MultiResponse",
        MultiResponse {
            results: vec![
                OpResult::Create { path: s("/m") },
                OpResult::Create2 {
                    path: s("/mc"),
                    stat: stat(),
                },
                OpResult::Delete,
                OpResult::SetData { stat: stat() },
                OpResult::Check,
                OpResult::Error { err: -101 },
            ],
        },
    );
    check(
        g,
        "MultiResponseRead",
        MultiResponse {
            results: vec![
                OpResult::GetChildren {
                    children: strings(&["x", "y"]),
                },
                OpResult::GetData {
                    data: b("v"),
                    stat: stat(),
                },
            ],
        },
    );
    assert!(
        g.is_empty(),
        "Java samples with no Rust check: {:?}",
        g.keys().collect::<Vec<_>>()
    );
}

#[test]
fn txn_entry_decodes_java_txn_with_digest() {
    // A logged create as Java writes it: header, CreateTxn, TxnDigest.
    let Some(mut g) = java_golden() else { return };
    let mut bytes = g.remove("TxnHeader").unwrap();
    let mut body = g.remove("CreateTxn").unwrap();
    bytes.append(&mut body);
    bytes.extend(g.remove("TxnDigest").unwrap());
    let entry = TxnLogEntry::from_bytes(&bytes).unwrap();
    assert_eq!(entry.header.zxid, 0x100000009);
    assert!(
        matches!(entry.body, TxnBody::Create(ref c) if c.path == "/c" && c.parent_c_version == 3)
    );
    assert_eq!(
        entry.digest,
        Some(TxnDigest {
            version: 2,
            tree_digest: 0x1234567890
        })
    );
    assert_eq!(entry.to_bytes(), bytes);
}
