//! Schema module `org.apache.zookeeper.server.persistence`.
//!
//! Mirrors: the classes jute generates for
//! `org.apache.zookeeper.server.persistence` (`FileHeader`).

jute_record! {
    /// The 16-byte header of txn logs (`ZKLG`) and snapshots (`ZKSN`).
    pub struct FileHeader {
        magic: i32,
        version: i32,
        dbid: i64,
    }
}
