"""Our leader with Java 3.8.0 learners (Zab, leader side).

Three participants on loopback: ours has the highest sid (or epoch) and
leads, two Java followers; a Java observer joins in one test. Kazoo clients
on every node write and read; every node must end with the same tree and
the same last zxid. The sync paths are asserted from the Java learners'
own log lines:

- SNAP: a Java follower with an empty dataDir while our leader has data
  ("Getting a snapshot from leader").
- TRUNC: a Java follower whose log holds txns our leader never committed
  ("Truncating log to get in sync with the leader").
- DIFF: a Java follower stopped while writes go on, then restarted
  ("Getting a diff from the leader").
"""

import shutil
import time

import pytest
from kazoo.client import KazooClient

from conftest import require_impl
from test_election import Peer, wait_log, wait_port

SERVE_TIMEOUT = 60.0


def client(peer):
    zk = KazooClient(hosts="127.0.0.1:%d" % peer.client_port, timeout=10)
    zk.start(timeout=30)
    return zk


def wait_serving(peer, timeout=SERVE_TIMEOUT):
    """Until a kazoo client can open a session on `peer`."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            zk = KazooClient(hosts="127.0.0.1:%d" % peer.client_port, timeout=5)
            zk.start(timeout=5)
            zk.stop()
            zk.close()
            return
        except Exception as e:  # noqa: BLE001 - any failure means "not yet"
            last = e
            time.sleep(0.5)
    pytest.fail("%s peer %d never served clients (%r):\n%s" % (peer.kind, peer.sid, last, peer.text()[-5000:]))


def tree(zk, path="/"):
    """{path: data} of every node under `path` except /zookeeper."""
    out = {}
    for child in sorted(zk.get_children(path)):
        full = (path.rstrip("/") + "/" + child)
        if full == "/zookeeper":
            continue
        data, _ = zk.get(full)
        out[full] = data
        out.update(tree(zk, full))
    return out


def assert_same_everywhere(peers, expect_paths):
    trees = {}
    for p in peers:
        zk = client(p)
        try:
            zk.sync("/")
            trees[p.sid] = tree(zk)
        finally:
            zk.stop()
            zk.close()
    first = next(iter(trees.values()))
    for sid, t in trees.items():
        assert t == first, "peer %d differs:\n%r\nvs\n%r" % (sid, sorted(t), sorted(first))
    for path in expect_paths:
        assert path in first, "%s missing: %r" % (path, sorted(first))


def ensemble(tmp_path, kinds, observers=()):
    peers = [Peer(kind, sid, tmp_path / ("s%d-%s" % (sid, kind)), observer=sid in observers)
             for sid, kind in enumerate(kinds, start=1)]
    for p in peers:
        p.write_config(peers)
    return peers


def stop_all(peers):
    for p in peers:
        p.stop()


def test_our_leader_java_followers_and_observer(tmp_path):
    require_impl("java")
    require_impl("rust")
    peers = ensemble(tmp_path, ["java", "java", "rust", "java"], observers=(4,))
    leader = peers[2]
    try:
        for p in peers:
            p.start()
        for p in peers:
            wait_serving(p)
        wait_log(leader, "LEADING: epoch")
        for p in (peers[0], peers[1]):
            wait_log(p, "FOLLOWING")
        wait_log(peers[3], "OBSERVING")
        paths = []
        for p in peers:
            zk = client(p)
            try:
                for i in range(5):
                    path = "/from%d-%d" % (p.sid, i)
                    zk.create(path, ("%d-%d" % (p.sid, i)).encode())
                    paths.append(path)
                zk.create("/eph%d" % p.sid, b"e", ephemeral=True)
                zk.set("/from%d-0" % p.sid, b"changed")
                assert zk.get("/from%d-0" % p.sid)[0] == b"changed"
            finally:
                zk.stop()
                zk.close()
        assert_same_everywhere(peers, paths)
    finally:
        stop_all(peers)


def seed_epoch(peer, epoch):
    vdir = peer.data / "version-2"
    vdir.mkdir(parents=True, exist_ok=True)
    (vdir / "currentEpoch").write_text(str(epoch))
    (vdir / "acceptedEpoch").write_text(str(epoch))


def test_sync_paths_snap_trunc_diff_with_java_followers(tmp_path):
    require_impl("java")
    require_impl("rust")
    peers = ensemble(tmp_path, ["java", "java", "rust"])
    trunc_peer, snap_peer, leader = peers
    # Our leader: 5 znodes, in epoch 1 on disk so it wins the election.
    leader.seed(5)
    # The TRUNC follower shares that log, then has 3 txns more of its own.
    shutil.rmtree(trunc_peer.data / "version-2", ignore_errors=True)
    shutil.copytree(leader.data / "version-2", trunc_peer.data / "version-2")
    for f in trunc_peer.data.glob("version-2/*Epoch"):
        f.unlink()
    extra = Peer("rust", 1, tmp_path / "extra")
    extra.data = trunc_peer.data
    extra.dir = trunc_peer.dir
    extra.seed(0)  # a session and nothing else: uncommitted txns for the leader
    seed_epoch(leader, 1)
    try:
        leader.start()
        wait_port(leader.election_port, proc=leader.proc, log=leader.log)
        trunc_peer.start()
        wait_serving(leader)
        wait_serving(trunc_peer)
        wait_log(trunc_peer, "Truncating log to get in sync with the leader")
        snap_peer.start()
        wait_serving(snap_peer)
        wait_log(snap_peer, "Getting a snapshot from leader")
        zk = client(leader)
        try:
            zk.create("/before-diff", b"1")
        finally:
            zk.stop()
            zk.close()
        snap_peer.stop()
        zk = client(trunc_peer)
        try:
            for i in range(3):
                zk.create("/while-down%d" % i, b"x")
        finally:
            zk.stop()
            zk.close()
        snap_peer.start()
        wait_serving(snap_peer)
        deadline = time.monotonic() + 30
        while "Getting a diff from the leader" not in snap_peer.text() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert "Getting a diff from the leader" in snap_peer.text(), snap_peer.text()[-4000:]
        assert_same_everywhere(peers, ["/seed0", "/seed4", "/before-diff", "/while-down2"])
    finally:
        stop_all(peers)
