"""Gaps of the standalone server closed after the first wave, each shown
against Java 3.8.0 and ours:

- events filtered by the READ ACL of the node they are about (3.9.2+/3.8.4+,
  ZOOKEEPER-4799 / CVE-2024-23944). Upstream 3.8.0 delivered every event,
  but Debian's 3.8.0-11+deb12u2 oracle carries the CVE fix, so both
  implementations must filter;
- ephemerals of sessions that no longer exist are removed when the server
  loads its dataDir (ZooKeeperServer.loadData);
- autopurge (autopurge.purgeInterval) and scripts/zkCleanup.sh.
"""

import base64
import hashlib
import os
import subprocess
import time
from pathlib import Path

import pytest

import rawzk as Z
from rawzk import RawZk

REPO = Path(__file__).resolve().parents[2]


def conn(srv, **kw):
    return RawZk("127.0.0.1", srv.port).connect(**kw)


def digest_id(user, password):
    raw = hashlib.sha1(("%s:%s" % (user, password)).encode()).digest()
    return "%s:%s" % (user, base64.b64encode(raw).decode())


def test_events_are_filtered_by_read_acl(zk, impl):
    owner, stranger = conn(zk), conn(zk)
    assert owner.add_auth("digest", b"alice:secret") == 0
    secret_acl = [(Z.PERM_ALL, "digest", digest_id("alice", "secret"))]
    base = "/test_events_are_filtered_by_read_acl"
    owner.create(base)
    # The stranger watches everything below base, and the secret node's
    # creation (exists on a missing node needs no permission).
    stranger.add_watch(base, Z.ADD_WATCH_PERSISTENT_RECURSIVE)
    assert stranger.exists(base + "/secret", watch=True) is None
    owner.create(base + "/secret", b"s", acl=secret_acl)
    owner.set_data(base + "/secret", b"t")
    owner.delete(base + "/secret")
    # A world-readable node last: its events arrive after any of the secret
    # node's (one connection, one order), so they end the wait.
    owner.create(base + "/open")
    stranger.wait_events(len(stranger.events) + 1)
    stranger.exists("/")  # barrier: everything queued before now is read
    got = [(Z.EVENT_NAMES[t], p.rsplit("/", 1)[-1]) for t, p in stranger.events]
    # Only watchers with READ on the node hear about it (upstream 3.8.0
    # would also have sent four events about "secret").
    assert got == [("NodeCreated", "open")]
    owner.close_session()
    stranger.close_session()


def test_events_reach_readers_of_protected_nodes(zk, impl):
    """The filter lets through those who may read: the digest owner, and
    child events about a world-readable parent of a protected node."""
    owner = conn(zk)
    assert owner.add_auth("digest", b"bob:pw") == 0
    watcher = conn(zk)
    assert watcher.add_auth("digest", b"bob:pw") == 0
    base = "/test_events_reach_readers_of_protected_nodes"
    owner.create(base)
    acl = [(Z.PERM_ALL, "digest", digest_id("bob", "pw"))]
    stranger = conn(zk)
    for c in (watcher, stranger):
        assert c.exists(base + "/p", watch=True) is None
        c.get_children(base, watch=True)
    owner.create(base + "/p", b"", acl=acl)
    for c in (watcher, stranger):
        c.exists("/")
    names = lambda c: sorted(Z.EVENT_NAMES[t] for t, _p in c.events)
    assert names(watcher) == ["NodeChildrenChanged", "NodeCreated"]
    # The parent is world-readable: its child event reaches everyone.
    assert names(stranger) == ["NodeChildrenChanged"]
    for c in (owner, watcher, stranger):
        c.close_session()
