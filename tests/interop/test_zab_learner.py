"""Our followers and observers in Java-led ensembles (Zab, learner side).

Three peers on loopback; the Java peer with the highest sid leads (every
peer starts empty, so the sid decides). Kazoo clients on every node write
and read; afterwards every node must hold the same tree (data and stats),
and our peers must not have logged a digest mismatch (they check every
txn's digest against the one the Java leader sent).

Sync paths are asserted from both logs: Java's LearnerHandler lines
("Synchronizing with Learner sid: N maxCommittedLog=.. peerLastZxid=..",
"Sending DIFF zxid=0x..  for peer sid: N", "Sending snapshot last zxid of
peer is ..."; its TRUNC line is DEBUG, so TRUNC is checked from the logged
inputs of the decision) and ours ("Getting a diff from the leader",
"Truncating log to get in sync with the leader 0x..", "Getting a snapshot
from leader").
"""

import re
import shutil
import time

import pytest

from conftest import require_impl
from test_election import Peer, wait_log, wait_port

SYNC_TIMEOUT = 60.0


class ZabPeer(Peer):
    """A Peer with its client connect string."""

    @property
    def hosts(self):
        return "127.0.0.1:%d" % self.client_port


def four_letter(port, word):
    import socket
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2.0) as s:
            s.sendall(word.encode())
            chunks = []
            while True:
                b = s.recv(4096)
                if not b:
                    break
                chunks.append(b)
            return b"".join(chunks).decode(errors="replace")
    except OSError:
        return ""


def wait_mode(peer, modes, timeout=SYNC_TIMEOUT):
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        last = four_letter(peer.client_port, "srvr")
        for m in modes:
            if "Mode: %s" % m in last:
                return m
        time.sleep(0.2)
    pytest.fail("%s peer %d never served as %s (srvr: %r):\n%s"
                % (peer.kind, peer.sid, modes, last, peer.text()[-4000:]))


def client(peer):
    from kazoo.client import KazooClient
    from kazoo.retry import KazooRetry
    zk = KazooClient(hosts=peer.hosts, timeout=10.0,
                     connection_retry=KazooRetry(max_tries=-1, delay=0.2, max_delay=1.0))
    zk.start(timeout=30)
    return zk


def tree(zk, path="/"):
    """path -> (data, czxid, mzxid, version, cversion, aversion, ephemeralOwner, numChildren)."""
    out = {}
    data, stat = zk.get(path)
    out[path] = (data, stat.czxid, stat.mzxid, stat.version, stat.cversion, stat.aversion,
                 stat.ephemeralOwner, stat.numChildren)
    for child in sorted(zk.get_children(path)):
        full = (path.rstrip("/") + "/" + child)
        if full == "/zookeeper":
            continue
        out.update(tree(zk, full))
    return out


def trees_of(peers):
    result = {}
    for p in peers:
        zk = client(p)
        try:
            zk.sync("/")
            result[p.sid] = tree(zk)
        finally:
            zk.stop()
            zk.close()
    return result


def assert_same_trees(peers):
    trees = trees_of(peers)
    first = trees[peers[0].sid]
    for p in peers[1:]:
        t = trees[p.sid]
        if t != first:
            diff = sorted(set(first.items()) ^ set(t.items()))
            pytest.fail("peer %d's tree differs from peer %d's: %r" % (p.sid, peers[0].sid, diff[:20]))
    for p in peers:
        if p.kind == "rust":
            text = p.text()
            assert "Digests are not matching" not in text, text[-3000:]
            assert "digest mismatch" not in text.lower(), text[-3000:]
    return first


def start_ensemble(peers, leader_sid):
    """Starts the leader-to-be and one voter first and waits until that
    pair has elected it (two of three voters must both agree, so the
    better of the two leads however slowly either starts), then the
    others; waits until every peer serves in its role."""
    for p in peers:
        p.write_config(peers)
    by_sid = {p.sid: p for p in peers}
    leader = by_sid[leader_sid]
    voters = [p for p in peers if p.sid != leader_sid and not p.observer]
    rest = [p for p in peers if p.sid != leader_sid and p is not voters[0]]
    leader.start()
    wait_port(leader.election_port, proc=leader.proc, log=leader.log)
    voters[0].start()
    if len(voters) + 1 == 3:
        wait_mode(leader, ["leader"])
    for p in rest:
        p.start()
    for p in peers:
        wait_mode(p, ["leader"] if p.sid == leader_sid else (["observer"] if p.observer else ["follower"]))


def write_everywhere(peers, tag, count=3):
    """A client on every node writes `count` nodes; every client then reads
    every node (after sync)."""
    clients = {p.sid: client(p) for p in peers}
    try:
        written = []
        for sid, zk in clients.items():
            for i in range(count):
                path = "/%s-%d-%d" % (tag, sid, i)
                zk.create(path, ("%s:%d" % (tag, i)).encode())
                zk.set(path, ("%s:%d:v2" % (tag, i)).encode())
                written.append(path)
        for sid, zk in clients.items():
            zk.sync("/")
            for path in written:
                data, stat = zk.get(path)
                assert data.endswith(b":v2") and stat.version == 1, (sid, path, data, stat)
        return written
    finally:
        for zk in clients.values():
            zk.stop()
            zk.close()


def stop_all(peers):
    for p in peers:
        p.stop()


def report(peers):
    return "\n".join("---- %s peer %d ----\n%s" % (p.kind, p.sid, p.text()[-4000:]) for p in peers)


ARRANGEMENTS = [
    pytest.param(["rust", "java", "java"], id="2java+1rust"),
    pytest.param(["rust", "rust", "java"], id="1java+2rust"),
]


@pytest.mark.parametrize("kinds", ARRANGEMENTS)
def test_java_leader_with_our_followers(tmp_path, kinds):
    require_impl("java")
    require_impl("rust")
    peers = [ZabPeer(kind, sid, tmp_path / ("s%d-%s" % (sid, kind))) for sid, kind in enumerate(kinds, start=1)]
    try:
        start_ensemble(peers, leader_sid=3)
        write_everywhere(peers, "w")
        t = assert_same_trees(peers)
        assert "/w-1-0" in t and "/w-3-2" in t
        leader = peers[2]
        for p in peers[:2]:
            if p.kind == "rust":
                assert "Synchronizing with Learner sid: %d " % p.sid in leader.text(), report(peers)
                assert re.search(r"Getting a (diff|snapshot) from (the )?leader", p.text()), report(peers)
    finally:
        stop_all(peers)


def test_sync_paths_with_a_java_leader(tmp_path):
    require_impl("java")
    require_impl("rust")
    kinds = ["rust", "java", "java"]
    peers = [ZabPeer(kind, sid, tmp_path / ("s%d-%s" % (sid, kind))) for sid, kind in enumerate(kinds, start=1)]
    ours, leader = peers[0], peers[2]
    try:
        start_ensemble(peers, leader_sid=3)
        write_everywhere(peers, "a", count=2)

        # DIFF: ours misses a few writes while it is down.
        ours.stop()
        write_everywhere(peers[1:], "b", count=2)
        diffs = leader.text().count("for peer sid: 1")
        ours.start()
        wait_mode(ours, ["follower"])
        wait_log(ours, "Getting a diff from the leader")
        text = leader.text()
        assert text.count("Sending DIFF zxid=") and text.count("for peer sid: 1") > diffs, report(peers)
        assert_same_trees(peers)

        # TRUNC: ours logs txns the ensemble never committed (our standalone
        # server on its dataDir), then rejoins.
        ours.stop()
        ours.seed(2)
        before = ours.text().count("Truncating log to get in sync with the leader")
        ours.start()
        wait_mode(ours, ["follower"])
        deadline = time.monotonic() + SYNC_TIMEOUT
        while ours.text().count("Truncating log to get in sync with the leader") <= before:
            assert time.monotonic() < deadline, report(peers)
            time.sleep(0.1)
        # Java logs its TRUNC decision at DEBUG only: check the inputs it
        # logged (the peer is past the committed log) and where we cut.
        syncs = re.findall(r"Synchronizing with Learner sid: 1 maxCommittedLog=0x([0-9a-f]+) "
                           r"minCommittedLog=0x[0-9a-f]+ lastProcessedZxid=0x[0-9a-f]+ "
                           r"peerLastZxid=0x([0-9a-f]+)", leader.text())
        max_committed, peer_last = (int(x, 16) for x in syncs[-1])
        assert peer_last > max_committed, (syncs, report(peers))
        cut = re.findall(r"Truncating log to get in sync with the leader 0x([0-9a-f]+)", ours.text())
        assert int(cut[-1], 16) == max_committed, (cut, syncs)
        t = assert_same_trees(peers)
        assert "/seed0" not in t, "the uncommitted txns were truncated"

        # SNAP: ours comes back with an empty dataDir.
        ours.stop()
        shutil.rmtree(ours.data / "version-2", ignore_errors=True)
        snaps = leader.text().count("Sending snapshot last zxid of peer is 0x0,")
        ours.start()
        wait_mode(ours, ["follower"])
        wait_log(ours, "Getting a snapshot from leader")
        assert leader.text().count("Sending snapshot last zxid of peer is 0x0,") > snaps, report(peers)
        syncs = re.findall(r"Synchronizing with Learner sid: 1 .*peerLastZxid=0x([0-9a-f]+)", leader.text())
        assert syncs[-1] == "0", syncs
        t = assert_same_trees(peers)
        assert "/b-2-1" in t
        write_everywhere(peers, "c", count=1)
        assert_same_trees(peers)
    finally:
        stop_all(peers)


def test_our_observer_in_a_java_ensemble(tmp_path):
    require_impl("java")
    require_impl("rust")
    peers = [ZabPeer("java", 1, tmp_path / "s1-java"),
             ZabPeer("java", 2, tmp_path / "s2-java"),
             ZabPeer("rust", 3, tmp_path / "s3-rust", observer=True)]
    try:
        start_ensemble(peers, leader_sid=2)
        write_everywhere(peers, "o")
        assert_same_trees(peers)
        # Synced like any learner (DIFF or SNAP depends on whether the
        # leader's new-epoch zxid was already in place), then INFORMs only.
        assert "Synchronizing with Learner sid: 3 " in peers[1].text(), report(peers)
        assert re.search(r"Getting a (diff|snapshot) from (the )?leader", peers[2].text()), report(peers)
    finally:
        stop_all(peers)


CHILD = r"""
import sys, time
from kazoo.client import KazooClient
zk = KazooClient(hosts=sys.argv[1], timeout=4.0)
zk.start(timeout=30)
zk.create(sys.argv[2], b"e", ephemeral=True)
print("ready", flush=True)
time.sleep(600)
"""


def test_sessions_on_our_follower_live_by_pings_and_expire_everywhere(tmp_path):
    """A session on our follower stays alive past its timeout (its touches
    reach the Java leader in PING replies); a session whose client dies
    is expired by the leader and its ephemeral is removed on every node."""
    import subprocess
    import sys
    require_impl("java")
    require_impl("rust")
    kinds = ["rust", "java", "java"]
    peers = [ZabPeer(kind, sid, tmp_path / ("s%d-%s" % (sid, kind))) for sid, kind in enumerate(kinds, start=1)]
    ours = peers[0]
    child = None
    try:
        start_ensemble(peers, leader_sid=3)
        live = client(ours)
        live.create("/live", b"l", ephemeral=True)
        child = subprocess.Popen([sys.executable, "-c", CHILD, ours.hosts, "/dead"],
                                 stdout=subprocess.PIPE, text=True)
        assert child.stdout.readline().strip() == "ready"
        child.kill()
        child.wait(10)
        deadline = time.monotonic() + 30
        while True:
            present = {p.sid: "/dead" in tree_paths(p) for p in peers}
            if not any(present.values()):
                break
            assert time.monotonic() < deadline, (present, report(peers))
            time.sleep(0.5)
        time.sleep(2 * 4.0)
        t = assert_same_trees(peers)
        assert "/live" in t, "a session kept alive through our follower's pings"
        assert live.exists("/live") is not None
        live.stop()
        live.close()
    finally:
        if child is not None and child.poll() is None:
            child.kill()
        stop_all(peers)


def tree_paths(peer):
    zk = client(peer)
    try:
        zk.sync("/")
        return set(tree(zk))
    finally:
        zk.stop()
        zk.close()
