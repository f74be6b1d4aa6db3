//! One znode. Mirrors: `org.apache.zookeeper.server.DataNode`.

use std::collections::HashSet;

use crate::jute::data::StatPersisted;

/// A znode: data, ACL reference, persisted stat and child names.
#[derive(Debug, Clone, Default)]
pub struct DataNode {
    /// The data; `None` when created with a null buffer.
    pub data: Option<Vec<u8>>,
    /// Reference into the ACL cache (-1 = open ACL).
    pub acl: i64,
    /// The persisted stat (stored cversion).
    pub stat: StatPersisted,
    /// Names (not paths) of the children.
    pub children: HashSet<String>,
}
