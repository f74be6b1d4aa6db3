"""Raw client-protocol conversations (rawzk) where exact codes, framing and
event order matter: the handshake, notification ordering, persistent and
recursive watches, setWatches after reconnect, create modes, multi/multiRead.

Assertions follow the wire protocol; `crosscheck` compares the observed
values with Java's run of the same test.

The servers are shared by the module's tests, so each test works under its
own root path (`root`, named after the test), which is removed after the
test even when it fails; a value that spans the whole tree (the root's
node count) leaves out what other tests left behind.
"""

import pytest

import rawzk as Z
from rawzk import RawZk

# Every test runs against a standalone server and through a follower of
# a 3-node ensemble (conftest.EnsembleServer).
ZK_TOPOLOGIES = ("standalone", "ensemble")


def conn(zk, **kw):
    return RawZk("127.0.0.1", zk.port).connect(**kw)


def delete_tree(c, path):
    """Deletes `path` and everything under it (children first); a node
    that is already gone is skipped. A node whose ACL denies reading (a
    test may create one) is deleted as a leaf: deleting needs only the
    parent's permission."""
    try:
        children = c.get_children(path)
    except Z.ZkError as e:
        if e.code == Z.NONODE:
            return
        if e.code != Z.NOAUTH:
            raise
        children = []
    for child in children:
        delete_tree(c, path + "/" + child)
    try:
        c.delete(path)
    except Z.ZkError as e:
        if e.code != Z.NONODE:
            raise


@pytest.fixture(autouse=True)
def root(zk, unique_path):
    """This test's own root path (e.g. /test_create_modes, the same for
    every implementation, so crosscheck compares like with like). Removed
    after the test, passed or failed, once the test's sessions are closed
    (this fixture is set up first, so it is torn down last)."""
    yield unique_path
    c = conn(zk)
    try:
        delete_tree(c, unique_path)
        assert c.exists(unique_path) is None, "%s was not removed" % unique_path
        c.close_session()
    finally:
        c.close_socket()


def root_count(c, own):
    """getAllChildrenNumber("/") less the nodes of top-level subtrees other
    than /zookeeper and `own`: the system nodes and this test's own, whatever
    other tests of the module left behind."""
    total = c.get_all_children_number("/")
    for child in c.get_children("/"):
        path = "/" + child
        if path not in ("/zookeeper", own):
            total -= 1 + c.get_all_children_number(path)
    return total


@pytest.fixture
def raw(zk):
    """Factory for connected raw sessions; each is closed (closeSession) after."""
    made = []

    def make(**kw):
        c = conn(zk, **kw)
        made.append(c)
        return c

    yield make
    for c in made:
        try:
            c.close_session()
        except Exception:
            pass
        c.close_socket()


def barrier(c):
    """A round trip on c: every notification queued for c before now has been
    received when this returns (notifications precede later replies, §4)."""
    c.exists("/")


def test_handshake(zk, root, crosscheck):
    a = conn(zk, timeout_ms=10000)
    assert a.connect_response_len == 37 and a.read_only_byte is False
    assert a.timeout == 10000
    assert a.session_id >> 56 == 1                       # standalone server id 1 (§3.5)
    assert a.passwd == Z.java_session_passwd(a.session_id)  # §3.4
    b = conn(zk, timeout_ms=1, send_read_only=False)
    assert b.connect_response_len == 36 and b.read_only_byte is None
    assert b.timeout == 4000                             # 2 * tickTime
    assert b.session_id == a.session_id + 1
    c = conn(zk, timeout_ms=10 ** 9)
    assert c.timeout == 40000                            # 20 * tickTime
    # ping: xid -2, zxid = last processed
    path = a.create(root)
    err, zxid = a.ping()
    assert err == 0 and zxid == a.last_zxid
    assert a.timeline[-1] == ("reply", Z.XID_PING, 0)
    a.delete(path)
    # closeSession: header-only reply carrying the closeSession zxid, then close
    for x in (b, c):
        err, zxid = x.close_session()
        assert err == 0 and zxid > 0
        assert x.is_closed(5)
    err, zxid = a.close_session()
    assert a.is_closed(5)
    crosscheck.check("lens", (a.connect_response_len, b.connect_response_len, b.timeout, c.timeout))


def test_session_resume_with_password(zk, raw, root, crosscheck):
    a = raw(timeout_ms=10000)
    a.create(root, b"x", flags=1)
    a.close_socket()
    b = raw(session_id=a.session_id, passwd=a.passwd, last_zxid=a.last_zxid)
    assert (b.session_id, b.passwd, b.timeout) == (a.session_id, a.passwd, 10000)
    assert b.get_ephemerals(root) == [root]
    # A second connection to the same session closes the first (§3.3 step 5).
    c = raw(session_id=a.session_id, passwd=a.passwd)
    assert c.session_id == a.session_id
    assert b.is_closed(5)
    # lastZxidSeen ahead of the server: closed without a response.
    d = RawZk("127.0.0.1", zk.port)
    d.send_frame(Z.connect_request(session_id=a.session_id, passwd=a.passwd,
                                   last_zxid=a.last_zxid + 1000))
    assert d.is_closed(5)
    assert c.exists(root)["ephemeralOwner"] == a.session_id
    crosscheck.check("ok", True)


def test_notification_precedes_reply(raw, root, crosscheck):
    a, b = raw(), raw()
    p = root
    a.create(p, b"0")
    a.get_data(p, watch=True)
    assert a.exists(p + "/new", watch=True) is None
    a.get_children(p, watch=True)
    b.get_data(p, watch=True)
    a.timeline.clear()
    a.set_data(p, b"1")                  # a's own write fires a's watch
    a.create(p + "/new")
    assert a.timeline == [
        ("event", Z.EV_NODE_DATA_CHANGED, p),
        ("reply", a.xid - 1, 0),
        ("event", Z.EV_NODE_CREATED, p + "/new"),
        ("event", Z.EV_NODE_CHILDREN_CHANGED, p),
        ("reply", a.xid, 0),
    ]
    b.timeline.clear()
    data, _ = b.get_data(p)
    assert data == b"1"
    assert b.timeline == [("event", Z.EV_NODE_DATA_CHANGED, p), ("reply", b.xid, 0)]
    assert all(state == 3 for _zxid, state in a.event_meta)   # SyncConnected only
    crosscheck.check("timelines", (a.timeline, b.timeline))
    a.delete(p + "/new")
    a.delete(p)


def test_delete_fires_once_per_connection(raw, root, crosscheck):
    a, b = raw(), raw()
    p = root
    b.create(p)
    b.create(p + "/x")
    a.get_data(p + "/x", watch=True)
    a.exists(p + "/x", watch=True)
    a.get_children(p + "/x", watch=True)
    a.get_children(p, watch=True)
    b.delete(p + "/x")
    barrier(a)
    assert a.events == [(Z.EV_NODE_DELETED, p + "/x"),
                        (Z.EV_NODE_CHILDREN_CHANGED, p)]
    # setACL fires nothing; a failed write fires nothing
    a.get_data(p, watch=True)
    b.call(Z.OP_SET_ACL, Z.p_string(p) + Z.p_acl(Z.OPEN_ACL_UNSAFE) + Z.p_int(-1))
    with pytest.raises(Z.ZkError):
        b.set_data(p, b"x", version=42)
    barrier(a)
    assert len(a.events) == 2
    b.delete(p)
    barrier(a)
    assert a.events[2:] == [(Z.EV_NODE_DELETED, p)]
    crosscheck.check("events", a.events)


def test_persistent_watch(raw, root, crosscheck, impl):
    a, b = raw(), raw()
    p = root
    a.add_watch(p, Z.ADD_WATCH_PERSISTENT)
    b.create(p)
    b.set_data(p, b"1")
    b.create(p + "/c")
    b.set_data(p + "/c", b"2")                    # not watched (not recursive)
    b.delete(p + "/c")
    b.delete(p)
    b.create(p)                                   # still registered
    barrier(a)
    assert a.events == [
        (Z.EV_NODE_CREATED, p), (Z.EV_NODE_DATA_CHANGED, p),
        (Z.EV_NODE_CHILDREN_CHANGED, p), (Z.EV_NODE_CHILDREN_CHANGED, p),
        (Z.EV_NODE_DELETED, p), (Z.EV_NODE_CREATED, p)]
    results = {}
    for name, wtype in (("any", Z.WATCHER_ANY), ("data", Z.WATCHER_DATA),
                        ("children", Z.WATCHER_CHILDREN)):
        err, _z, _r = a.request(Z.OP_CHECK_WATCHES, Z.p_string(p) + Z.p_int(wtype))
        results[name] = err
    # checkWatches of type Data/Children looks for a *standard* watch since
    # 3.9 (ZOOKEEPER-4472 added types 4/5 for persistent ones); 3.8.0 found
    # the persistent watch under any type. We follow 3.9.
    if impl == "java":
        assert results == {"any": 0, "data": 0, "children": 0}
    else:
        assert results == {"any": 0, "data": Z.NOWATCHER, "children": Z.NOWATCHER}
        for wtype in (4, 5):
            err, _z, _r = a.request(Z.OP_CHECK_WATCHES, Z.p_string(p) + Z.p_int(wtype))
            assert err == (0 if wtype == 4 else Z.NOWATCHER)
    a.remove_watches(p, Z.WATCHER_ANY)
    b.set_data(p, b"after removal")
    barrier(a)
    assert len(a.events) == 6
    with pytest.raises(Z.ZkError) as e:
        a.remove_watches(p, Z.WATCHER_ANY)
    assert e.value.code == Z.NOWATCHER
    b.delete(p)
    crosscheck.check("events", a.events)


def test_persistent_recursive_watch(raw, root, crosscheck):
    a, b = raw(), raw()
    p = root
    a.add_watch(p, Z.ADD_WATCH_PERSISTENT_RECURSIVE)
    b.create(p)
    b.create(p + "/a")
    b.create(p + "/a/b")
    b.set_data(p + "/a", b"x")
    b.delete(p + "/a/b")
    b.delete(p + "/a")
    barrier(a)
    # never NodeChildrenChanged because of a recursive watch (§8.3)
    assert a.events == [
        (Z.EV_NODE_CREATED, p), (Z.EV_NODE_CREATED, p + "/a"),
        (Z.EV_NODE_CREATED, p + "/a/b"), (Z.EV_NODE_DATA_CHANGED, p + "/a"),
        (Z.EV_NODE_DELETED, p + "/a/b"), (Z.EV_NODE_DELETED, p + "/a")]
    # a standard child watch on the same connection adds exactly its own event
    a.get_children(p, watch=True)
    b.create(p + "/c")
    barrier(a)
    assert a.events[6:] == [(Z.EV_NODE_CREATED, p + "/c"), (Z.EV_NODE_CHILDREN_CHANGED, p)]
    b.delete(p + "/c")
    b.delete(p)
    barrier(a)
    assert a.events[8:] == [(Z.EV_NODE_DELETED, p + "/c"), (Z.EV_NODE_DELETED, p)]
    crosscheck.check("events", a.events)


def test_set_watches_after_reconnect(zk, raw, root, crosscheck):
    """setWatches (§8.4): missed changes fire at once, before its reply; the
    rest are registered."""
    w = raw()
    p = root
    w.create(p)
    for n in ("w", "gone", "same", "kids"):
        w.create(p + "/" + n)
    a = raw(timeout_ms=10000)
    a.get_data(p + "/w", watch=True)
    a.get_data(p + "/gone", watch=True)
    a.get_data(p + "/same", watch=True)
    a.exists(p + "/later", watch=True)
    a.exists(p + "/never", watch=True)
    a.get_children(p, watch=True)
    a.get_children(p + "/kids", watch=True)
    rel = a.last_zxid
    a.close_socket()                                     # session stays
    w.set_data(p + "/w", b"1")
    w.delete(p + "/gone")
    w.create(p + "/later")
    b = raw(session_id=a.session_id, passwd=a.passwd, last_zxid=rel)
    b.set_watches(rel, data=[p + "/w", p + "/gone", p + "/same"],
                  exist=[p + "/later", p + "/never"], child=[p, p + "/kids"])
    fired = [e for e in b.timeline if e[0] == "event"]
    assert sorted(fired) == sorted([
        ("event", Z.EV_NODE_DATA_CHANGED, p + "/w"),
        ("event", Z.EV_NODE_DELETED, p + "/gone"),
        ("event", Z.EV_NODE_CREATED, p + "/later"),
        ("event", Z.EV_NODE_CHILDREN_CHANGED, p)])
    assert b.timeline[-1] == ("reply", Z.XID_SET_WATCHES, 0)
    # the others were registered and fire later
    w.set_data(p + "/same", b"2")
    w.create(p + "/never")
    w.create(p + "/kids/k")
    barrier(b)
    assert b.events[4:] == [(Z.EV_NODE_DATA_CHANGED, p + "/same"),
                            (Z.EV_NODE_CREATED, p + "/never"),
                            (Z.EV_NODE_CHILDREN_CHANGED, p + "/kids")]
    crosscheck.check("events", (sorted(b.events[:4]), b.events[4:]))
    for n in ("kids/k", "kids", "never", "later", "same", "w"):
        w.delete(p + "/" + n)
    w.delete(p)


def test_create_modes(raw, root, crosscheck):
    a = raw()
    p = root
    a.create(p)
    # flags 4 (container) sent with the create2 opcode
    err, _z, r = a.request(Z.OP_CREATE2, Z.rec_create(p + "/c", b"c", flags=4))
    observed = {"create2_container": err}
    created = 1 if err == 0 else 0
    err, _z, r = a.request(Z.OP_CREATE_CONTAINER, Z.rec_create(p + "/cont", b"x", flags=4))
    assert err == 0
    cpath, cst = r.string(), r.stat()
    assert cpath == p + "/cont" and cst["ephemeralOwner"] == 0
    tpath, tst = a.create_ttl(p + "/ttl", b"t", ttl=60000, flags=5)
    assert tpath == p + "/ttl" and tst["ephemeralOwner"] == 0
    spath, _ = a.create_ttl(p + "/ttls-", b"t", ttl=60000, flags=6)
    assert spath == p + "/ttls-%010d" % (created + 2)
    codes = {}
    for name, op, rec in (
            ("ttl_via_create", Z.OP_CREATE, Z.rec_create(p + "/bad", flags=5)),
            ("ttl_zero", Z.OP_CREATE_TTL, Z.rec_create(p + "/bad", flags=5) + Z.p_long(0)),
            ("ttl_too_big", Z.OP_CREATE_TTL, Z.rec_create(p + "/bad", flags=5) + Z.p_long(1 << 41)),
            ("ttl_persistent_flags", Z.OP_CREATE_TTL, Z.rec_create(p + "/bad", flags=0) + Z.p_long(100)),
            ("ttl_ephemeral_flags", Z.OP_CREATE_TTL, Z.rec_create(p + "/bad", flags=1) + Z.p_long(100)),
            ("flags_7", Z.OP_CREATE, Z.rec_create(p + "/bad", flags=7)),
            ("flags_neg", Z.OP_CREATE, Z.rec_create(p + "/bad", flags=-1)),
            ("container_flags_0", Z.OP_CREATE_CONTAINER, Z.rec_create(p + "/bad", flags=0)),
            ("empty_acl", Z.OP_CREATE, Z.rec_create(p + "/bad", acl=[])),
            ("bad_scheme", Z.OP_CREATE, Z.rec_create(p + "/bad", acl=[(31, "nosuch", "x")])),
            ("auth_without_auth", Z.OP_CREATE, Z.rec_create(p + "/bad", acl=[(31, "auth", "")])),
            ("bad_perms_acl", Z.OP_CREATE, Z.rec_create(p + "/bad", acl=[(0, "world", "anyone")])),
            ("ip_bad", Z.OP_CREATE, Z.rec_create(p + "/bad", acl=[(31, "ip", "300.1.1.1")])),
    ):
        rec = rec.replace(Z.p_string(p + "/bad"), Z.p_string(p + "/bad-" + name))
        err, _z, _r = a.request(op, rec)
        codes[name] = err
    assert codes["ttl_via_create"] == Z.BADARGUMENTS
    assert codes["ttl_zero"] == Z.BADARGUMENTS
    assert codes["flags_7"] == Z.BADARGUMENTS
    assert codes["empty_acl"] == Z.INVALIDACL
    assert codes["bad_scheme"] == Z.INVALIDACL
    assert codes["auth_without_auth"] == Z.INVALIDACL
    e1 = a.create(p + "/e-", flags=3)
    e2 = a.create(p + "/e", flags=1)
    assert sorted(a.get_ephemerals(p)) == sorted([e1, e2])
    # From the root: ours, among whatever other sessions still hold.
    assert sorted(e for e in a.get_ephemerals("/") if e.startswith(p + "/")) == sorted([e1, e2])
    assert a.get_ephemerals(p + "/nomatch") == []
    assert a.get_all_children_number(p) == len(a.get_children(p))
    assert a.who_am_i() == [("ip", "127.0.0.1")]
    assert a.add_auth("digest", b"someone:pw") == 0
    assert sorted(a.who_am_i()) == [("digest", "someone"), ("ip", "127.0.0.1")]
    assert a.sync(p) == p
    err, _z, _r = a.request(Z.OP_RECONFIG, Z.p_string(None) + Z.p_string("1") + Z.p_string(None) + Z.p_long(-1))
    assert err == Z.RECONFIGDISABLED
    codes["reconfig"] = err
    crosscheck.check("observed", (observed, codes, e1, sorted(a.get_children(p)),
                                  root_count(a, p)))


def test_multi_raw(raw, root, crosscheck, impl):
    a = raw()
    p = root
    a.create(p)
    a.create(p + "/x", b"x")
    err, res = a.multi([(Z.OP_CREATE, Z.rec_create(p + "/a")),
                        (Z.OP_CHECK, Z.rec_check(p + "/x", 5)),
                        (Z.OP_SET_DATA, Z.rec_set_data(p + "/x", b"y"))])
    assert err == 0
    assert res == [("error", 0), ("error", Z.BADVERSION), ("error", Z.RUNTIMEINCONSISTENCY)]
    err, res2 = a.multi([(Z.OP_CREATE2, Z.rec_create(p + "/a", b"a")),
                         (Z.OP_CREATE, Z.rec_create(p + "/s-", flags=2)),
                         (Z.OP_CHECK, Z.rec_check(p + "/x", 0)),
                         (Z.OP_SET_DATA, Z.rec_set_data(p + "/x", b"y", 0)),
                         (Z.OP_DELETE, Z.rec_delete(p + "/a"))])
    assert err == 0
    kinds = [r[0] for r in res2]
    assert kinds[1:] == ["create", "check", "setData", "delete"]
    # 3.8.0 answers a create2 inside a multi as a plain create; 3.9 keeps
    # create2 with its stat (ZOOKEEPER-4026), as we do.
    assert kinds[0] == ("create" if impl == "java" else "create2")
    kinds = kinds[1:]
    assert res2[1] == ("create", p + "/s-0000000002")
    # multiRead: independent per-op results
    err, res3 = a.multi([(Z.OP_GET_CHILDREN, Z.rec_read(p)),
                         (Z.OP_GET_DATA, Z.rec_read(p + "/x")),
                         (Z.OP_GET_DATA, Z.rec_read(p + "/missing"))], op=Z.OP_MULTI_READ)
    assert err == 0
    assert res3[0][0] == "getChildren" and sorted(res3[0][1]) == ["s-0000000002", "x"]
    assert res3[1][:2] == ("getData", b"y") and res3[1][2]["version"] == 1
    assert res3[2] == ("error", Z.NONODE)
    # mixing reads into a write multi
    err, _ = a.multi([(Z.OP_CREATE, Z.rec_create(p + "/m")), (Z.OP_GET_DATA, Z.rec_read(p))])
    assert err == Z.MARSHALLINGERROR
    assert a.exists(p + "/m") is None
    crosscheck.check("results", (res, kinds, res3[0][0], res3[2], err))
    for n in ("s-0000000002", "x"):
        a.delete(p + "/" + n)
    a.delete(p)
