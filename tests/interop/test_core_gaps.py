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


def snapshots(srv):
    return sorted((srv.data_dir / "version-2").glob("snapshot.*"),
                  key=lambda p: int(p.name.split(".", 1)[1], 16))


def logs(srv):
    return sorted((srv.data_dir / "version-2").glob("log.*"),
                  key=lambda p: int(p.name.split(".", 1)[1], 16))


def fill(srv, base, n, min_snapshots=6):
    """At least n creates under base (with snapCount=10, a snapshot every
    5-10), going on in tens until the dataDir holds `min_snapshots`: both
    servers skip a snapshot while the previous one is still being written
    ("Too busy to snap"), which a starved machine makes frequent. Returns
    how many nodes were created."""
    c = conn(srv)
    c.create(base)
    i = 0
    while i < n or (len(snapshots(srv)) < min_snapshots and i < 400):
        c.create("%s/n%03d" % (base, i), b"x" * 10)
        i += 1
        if i >= n and i % 10 == 0:
            time.sleep(0.05)
    c.close_session()
    return i


def children_of(srv, path):
    c = conn(srv)
    try:
        return sorted(c.get_children(path))
    finally:
        c.close_session()


def test_autopurge_at_startup(server_factory, impl):
    """autopurge.purgeInterval > 0: the purge task runs once at start (then
    every interval), keeping autopurge.snapRetainCount snapshots."""
    srv = server_factory(impl, "autopurge", {"snapCount": "10", "preAllocSize": "64",
                                             "autopurge.snapRetainCount": "3",
                                             "autopurge.purgeInterval": "1"})
    fill(srv, "/ap", 60)
    srv.stop()
    before = snapshots(srv)
    assert len(before) > 5, before
    srv.start()
    doomed = before[:-3]
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and any(p.exists() for p in doomed):
        time.sleep(0.2)
    assert not any(p.exists() for p in doomed), [p.name for p in doomed if p.exists()]
    assert len(snapshots(srv)) >= 3
    # Every log a kept snapshot needs is still there: the tree is whole.
    assert children_of(srv, "/ap") == ["n%03d" % i for i in range(60)]
    srv.stop()
    srv.start()
    assert children_of(srv, "/ap") == ["n%03d" % i for i in range(60)]
    srv.stop()


def test_zkcleanup_script(server_factory, impl):
    """scripts/zkCleanup.sh [--config dir] -n count, like Java's."""
    srv = server_factory(impl, "cleanup", {"snapCount": "10", "preAllocSize": "64"})
    created = fill(srv, "/cl", 60)
    srv.stop()
    before_snaps, before_logs = snapshots(srv), logs(srv)
    assert len(before_snaps) > 5
    script = str(REPO / "scripts" / "zkCleanup.sh")
    env = dict(os.environ)
    env.pop("ZOOCFGDIR", None)
    env.pop("ZOOCFG", None)
    bad = subprocess.run([script, "--config", str(srv.workdir), "-n", "2"],
                         capture_output=True, text=True, env=env, timeout=600)
    assert bad.returncode != 0 and "3" in bad.stderr
    assert snapshots(srv) == before_snaps
    ok = subprocess.run([script, "--config", str(srv.workdir), "-n", "4"],
                        capture_output=True, text=True, env=env, timeout=600)
    assert ok.returncode == 0, ok.stderr
    assert snapshots(srv) == before_snaps[-4:]
    assert 0 < len(logs(srv)) < len(before_logs)
    for p in before_snaps[:-4]:
        assert "Removing file: %s" % p in ok.stdout
    # ZOOCFGDIR/ZOOCFG from the environment work too.
    env["ZOOCFGDIR"] = str(srv.workdir)
    again = subprocess.run([script, "-n", "3"], capture_output=True, text=True,
                           env=env, timeout=600)
    assert again.returncode == 0, again.stderr
    assert snapshots(srv) == before_snaps[-3:]
    srv.start()
    assert children_of(srv, "/cl") == ["n%03d" % i for i in range(created)]
    srv.stop()
