//! DataTree watches, txn by txn: which events each txn fires, once,
//! for standard, persistent and recursive watches, setWatches catching up,
//! and the 3.9 read-ACL filter on events.
//!
//! Mirrors: the watch cases of `org.apache.zookeeper.server.DataTreeTest`
//! (in spirit: written from the protocol facts, not ported).

use super::*;
#[test]
fn create_and_delete_fire_watches_once() {
    let mut tree = DataTree::new();
    let w = Recorder::new(1);
    assert_eq!(tree.stat_node("/a", Some(w.clone())), Err(Code::NoNode));
    tree.get_children("/", Some(w.clone())).unwrap();
    create(&mut tree, 5, "/a", b"");
    let events = w.events.lock().clone();
    assert_eq!(events.iter().map(|e| e.zxid).collect::<Vec<_>>(), [5, 5]);
    assert_eq!(
        w.take(),
        [
            (NODE_CREATED, "/a".into()),
            (NODE_CHILDREN_CHANGED, "/".into())
        ]
    );
    create(&mut tree, 6, "/b", b"");
    assert!(w.take().is_empty(), "standard watches are one-shot");

    tree.get_data("/a", Some(w.clone())).unwrap();
    tree.get_children("/a", Some(w.clone())).unwrap();
    tree.get_children("/", Some(w.clone())).unwrap();
    apply(&mut tree, 7, op_code::DELETE, delete_body("/a"));
    // NodeDeleted once although both the data and child watch matched.
    assert_eq!(
        w.take(),
        [
            (NODE_DELETED, "/a".into()),
            (NODE_CHILDREN_CHANGED, "/".into())
        ]
    );
    assert_eq!(tree.watch_count(), 0);
}

#[test]
fn set_data_fires_data_watch_and_set_acl_nothing() {
    let mut tree = DataTree::new();
    create(&mut tree, 1, "/a", b"");
    let w = Recorder::new(1);
    tree.get_data("/a", Some(w.clone())).unwrap();
    apply(
        &mut tree,
        2,
        op_code::SET_ACL,
        TxnBody::SetAcl(SetAclTxn {
            path: "/a".into(),
            acl: ids::read_acl_unsafe(),
            version: 1,
        }),
    );
    assert!(w.take().is_empty());
    apply(
        &mut tree,
        3,
        op_code::SET_DATA,
        TxnBody::SetData(SetDataTxn {
            path: "/a".into(),
            data: None,
            version: 1,
        }),
    );
    assert_eq!(w.take(), [(NODE_DATA_CHANGED, "/a".into())]);
    assert_eq!(
        tree.get_data("/missing", Some(w.clone())),
        Err(Code::NoNode)
    );
    assert_eq!(
        tree.watch_count(),
        0,
        "getData on a missing node sets no watch"
    );
}

#[test]
fn persistent_and_recursive_watches() {
    let mut tree = DataTree::new();
    let p = Recorder::new(1);
    let r = Recorder::new(2);
    tree.add_watch("/a", p.clone(), WatcherMode::Persistent);
    tree.add_watch("/a", r.clone(), WatcherMode::PersistentRecursive);
    create(&mut tree, 1, "/a", b"");
    create(&mut tree, 2, "/a/b", b"");
    create(&mut tree, 3, "/a/b/c", b"");
    assert_eq!(
        p.take(),
        [
            (NODE_CREATED, "/a".into()),
            (NODE_CHILDREN_CHANGED, "/a".into())
        ]
    );
    // Recursive: every create below, never NodeChildrenChanged.
    assert_eq!(
        r.take(),
        [
            (NODE_CREATED, "/a".into()),
            (NODE_CREATED, "/a/b".into()),
            (NODE_CREATED, "/a/b/c".into()),
        ]
    );
    apply(&mut tree, 4, op_code::DELETE, delete_body("/a/b/c"));
    assert_eq!(r.take(), [(NODE_DELETED, "/a/b/c".into())]);
    assert!(p.take().is_empty());
    assert!(tree.contains_or_remove_watch("/a", watcher_type::PERSISTENT, &*p, false));
    assert!(!tree.contains_or_remove_watch("/a", watcher_type::PERSISTENT_RECURSIVE, &*p, false));
    assert!(tree.contains_or_remove_watch("/a", watcher_type::PERSISTENT_RECURSIVE, &*r, true));
    assert!(!tree.contains_or_remove_watch("/a", watcher_type::ANY, &*r, false));
    assert!(tree.contains_or_remove_watch("/a", watcher_type::ANY, &*p, true));
    assert_eq!(tree.watch_count(), 0);
    assert!(!tree.contains_or_remove_watch("/a", 9, &*p, true));
}

#[test]
fn check_and_remove_standard_watches_by_type() {
    let tree = DataTree::new();
    let w = Recorder::new(3);
    tree.get_children("/zookeeper", Some(w.clone())).unwrap();
    assert!(tree.contains_or_remove_watch("/zookeeper", watcher_type::CHILDREN, &*w, false));
    assert!(!tree.contains_or_remove_watch("/zookeeper", watcher_type::DATA, &*w, false));
    tree.get_data("/zookeeper", Some(w.clone())).unwrap();
    assert_eq!(tree.watches_by_connection()[&3], ["/zookeeper".to_string()]);
    assert_eq!(tree.watches_summary().total_watches, 1);
    tree.remove_cnxn(3);
    assert_eq!(tree.watch_count(), 0);
}

/// setWatches: a watch set after the change it was for fires at once,
/// judged by the client's relative zxid.
#[test]
fn set_watches_fires_what_was_missed() {
    let mut tree = DataTree::new();
    create(&mut tree, 1, "/old", b"");
    create(&mut tree, 2, "/new", b"");
    create(&mut tree, 3, "/old/c", b"");
    let w = Recorder::new(1);
    let req = SetWatches2 {
        relative_zxid: 2,
        data_watches: vec!["/old".into(), "/new".into(), "/gone".into()],
        exist_watches: vec!["/new".into(), "/nothing".into()],
        child_watches: vec!["/old".into(), "/new".into(), "/gone2".into()],
        persistent_watches: vec!["/p".into()],
        persistent_recursive_watches: vec!["/r".into()],
    };
    tree.set_watches(&req, w.clone());
    assert!(w.events.lock().iter().all(|e| e.zxid == -1));
    assert_eq!(
        w.take(),
        [
            (NODE_DELETED, "/gone".into()),
            (NODE_CREATED, "/new".into()),
            (NODE_CHILDREN_CHANGED, "/old".into()),
            (NODE_DELETED, "/gone2".into()),
        ]
    );
    let by_path = tree.watches_by_path();
    for p in ["/old", "/new", "/nothing", "/p", "/r"] {
        assert!(by_path.contains_key(p), "{} registered", p);
    }
    // data /old, /new, /nothing, /p, /r + child /new, /p.
    assert_eq!(tree.watch_count(), 7);
}

/// 3.9 (ZOOKEEPER-4799): each event is checked against the ACL of the node
/// it is about — the new node for NodeCreated, its parent for
/// NodeChildrenChanged, the deleted node for NodeDeleted.
#[test]
fn events_are_filtered_by_the_nodes_read_acl() {
    let mut tree = DataTree::new();
    let filter: EventAclFilter = Arc::new(|acl: &[Acl], ids: &[crate::jute::data::Id]| {
        acl.iter().any(|a| {
            a.perms & crate::zoo_defs::perms::READ != 0
                && (a.id == ids::anyone_id_unsafe() || ids.contains(&a.id))
        })
    });
    tree.set_event_acl_filter(Some(filter));
    let alice = crate::jute::data::Id {
        scheme: "digest".into(),
        id: "alice:h".into(),
    };
    let secret_acl = vec![Acl {
        perms: crate::zoo_defs::perms::ALL,
        id: alice.clone(),
    }];
    let stranger = Recorder::new(1);
    let owner = Recorder::with_id(2, "digest", "alice:h");
    for w in [&stranger, &owner] {
        tree.stat_node("/s", Some(w.clone())).unwrap_err();
        tree.get_children("/", Some(w.clone())).unwrap();
        tree.add_watch("/", w.clone(), WatcherMode::PersistentRecursive);
    }
    let body = TxnBody::Create(CreateTxn {
        path: "/s".into(),
        data: Some(vec![]),
        acl: secret_acl,
        ephemeral: false,
        parent_c_version: 1,
    });
    apply(&mut tree, 1, op_code::CREATE, body);
    // The root is world-readable: both hear NodeChildrenChanged.
    assert_eq!(stranger.take(), [(NODE_CHILDREN_CHANGED, "/".into())]);
    assert_eq!(
        owner.take(),
        [
            (NODE_CREATED, "/s".into()),
            (NODE_CHILDREN_CHANGED, "/".into())
        ]
    );
    apply(
        &mut tree,
        2,
        op_code::SET_DATA,
        TxnBody::SetData(SetDataTxn {
            path: "/s".into(),
            data: None,
            version: 1,
        }),
    );
    apply(&mut tree, 3, op_code::DELETE, delete_body("/s"));
    assert!(stranger.take().is_empty());
    assert_eq!(
        owner.take(),
        [
            (NODE_DATA_CHANGED, "/s".into()),
            (NODE_DELETED, "/s".into())
        ]
    );
    // The filter outlives nothing it should not: a fresh tree has none.
    assert!(DataTree::new().event_acl_filter().is_none());
}
