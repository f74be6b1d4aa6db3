"""No client request produces a txn that a reader refuses.

A txn log record, a PROPOSAL's data and a DIFF entry are each read as one
jute buffer, so no reader (ours, or Java 3.8.0's FileTxnLog and Learner)
accepts one longer than jute.maxbuffer plus its extra size: 2 MiB by
default. Requests of at most 1 MiB can still make bigger txns: a
closeSession lists every ephemeral of its session, and an `auth` ACL
expands to every identity the connection added. Java 3.8.0 logs them and
then cannot restart (ZOOKEEPER-4306); we refuse the write (BADARGUMENTS)
or, for closeSession, log it in the form without its list of paths.

Each test ends with our server restarted on its dataDir and Java 3.8.0's
server started on the same dataDir, both serving the expected tree.
"""

import pytest

import rawzk as Z
from conftest import RUST_BIN, ZkServer, java_available, need
from rawzk import RawZk

CFG = {"maxSessionTimeout": "60000", "preAllocSize": "64"}


def require_both():
    need(java_available(), "Java ZooKeeper not installed")
    need(RUST_BIN.is_file(), "our binary %s is not built" % RUST_BIN)


def children(srv, path="/"):
    c = RawZk("127.0.0.1", srv.port).connect()
    try:
        return sorted(c.get_children(path))
    finally:
        c.close_session()


def served_after_restart(srv):
    """The root's children as our server restarted on the dataDir serves
    them, then as Java's server started on the same dataDir serves them."""
    srv.restart()
    ours = children(srv)
    srv.stop()
    java = ZkServer("java", srv.workdir, CFG)  # same workdir: same dataDir
    java.start()
    try:
        theirs = children(java)
    finally:
        java.stop()
    return ours, theirs


def test_close_session_with_huge_ephemerals_keeps_the_log_readable(tmp_path):
    """The issue's scenario: four ephemerals with 700,000-character names,
    then closeSession (its list of paths would take 2.8 MB)."""
    require_both()
    srv = ZkServer("rust", tmp_path / "ours", CFG)
    srv.start()
    try:
        keep = RawZk("127.0.0.1", srv.port).connect()
        keep.create("/kept", b"k")
        c = RawZk("127.0.0.1", srv.port, sock_timeout=30).connect(timeout_ms=30000)
        names = ["/" + chr(ord("a") + i) * 700000 for i in range(4)]
        for name in names:
            c.create(name, b"e", flags=1)
        assert len(children(srv)) == 6  # zookeeper, kept, four ephemerals
        c.close_session()
        assert children(srv) == ["kept", "zookeeper"]
        keep.create("/after", b"a")
        keep.close_session()
        ours, theirs = served_after_restart(srv)
    finally:
        srv.stop()
    assert ours == ["after", "kept", "zookeeper"]
    assert theirs == ours


def test_auth_acl_expansion_past_the_limit_is_refused(tmp_path):
    """Three identities of 700,000 characters each and a create (then a
    multi, then a setACL) with the `auth` ACL: the txn would list all three
    (2.1 MB). Refused with BADARGUMENTS, nothing applied, and the session
    goes on; writes that fit still work."""
    require_both()
    srv = ZkServer("rust", tmp_path / "ours", CFG)
    srv.start()
    try:
        c = RawZk("127.0.0.1", srv.port, sock_timeout=30).connect(timeout_ms=30000)
        for i in range(3):
            assert c.add_auth("digest", (chr(ord("u") + i) * 700000 + ":pw").encode()) == 0
        auth_acl = [(Z.PERM_ALL, "auth", "")]
        err, _z, _r = c.request(Z.OP_CREATE, Z.rec_create("/big", acl=auth_acl))
        assert err == Z.BADARGUMENTS
        # With one such identity a create fits, a multi of three does not.
        c2 = RawZk("127.0.0.1", srv.port, sock_timeout=30).connect(timeout_ms=30000)
        assert c2.add_auth("digest", ("m" * 700000 + ":pw").encode()) == 0
        err, results = c2.multi([(Z.OP_CREATE, Z.rec_create("/m1", acl=auth_acl)),
                                 (Z.OP_CREATE, Z.rec_create("/m2", acl=auth_acl)),
                                 (Z.OP_CREATE, Z.rec_create("/m3", acl=auth_acl)),
                                 (Z.OP_CREATE, Z.rec_create("/m4"))])
        assert err == 0
        assert results == [("error", 0), ("error", 0), ("error", Z.BADARGUMENTS),
                           ("error", Z.RUNTIMEINCONSISTENCY)]
        assert c2.create("/one", b"", acl=auth_acl) == "/one"
        # setACL to `auth` from the connection with three identities
        assert c.create("/small", b"s") == "/small"
        body = Z.p_string("/small") + Z.p_acl(auth_acl) + Z.p_int(-1)
        err, _z, _r = c.request(Z.OP_SET_ACL, body)
        assert err == Z.BADARGUMENTS
        assert c.get_data("/small")[1]["aversion"] == 0
        assert children(srv) == ["one", "small", "zookeeper"]
        c.close_session()
        c2.close_session()
        ours, theirs = served_after_restart(srv)
    finally:
        srv.stop()
    assert ours == ["one", "small", "zookeeper"]
    assert theirs == ours
