"""`leader.maxConcurrentSnapSyncs` / `leader.maxConcurrentDiffSyncs`
(Java's `zookeeper.leader.maxConcurrent*Syncs`): a leader syncs at most
that many observers at once; a sync counts until the observer acks
NEWLEADER; an observer over the limit is disconnected before anything of
its sync is sent; followers are never refused.

Shown on the wire with scripted learners against the leader of a 3-node
ensemble, Java 3.8.0's and ours, which must behave the same: observer A
takes the one snapshot (or diff) slot and then stops (no NEWLEADER ack);
observer B is disconnected right after its ACKEPOCH; a follower still gets
its sync; once A hangs up, B is synced.
"""

import socket
import struct
import time

import pytest

from conftest import four_letter, require_impl
from test_election import Peer
from test_zab_leader import client, stop_all, wait_serving

FOLLOWERINFO, OBSERVERINFO, LEADERINFO, ACKEPOCH = 11, 16, 17, 18
DIFF, SNAP = 13, 15
NAMES = {DIFF: "DIFF", SNAP: "SNAP", 14: "TRUNC"}


class ScriptedLearner:
    """Speaks the learner's side of Zab's handshake, then stops."""

    def __init__(self, leader, sid, observer=True):
        self.sid = sid
        self.observer = observer
        self.sock = socket.create_connection(("127.0.0.1", leader.quorum_port), timeout=15)

    def send(self, ptype, zxid, data=None):
        body = struct.pack(">iq", ptype, zxid)
        body += struct.pack(">i", -1) if data is None else struct.pack(">i", len(data)) + data
        self.sock.sendall(body + struct.pack(">i", -1))

    def exact(self, n):
        out = b""
        while len(out) < n:
            chunk = self.sock.recv(n - len(out))
            if not chunk:
                raise EOFError("closed by the leader")
            out += chunk
        return out

    def packet(self):
        ptype, zxid = struct.unpack(">iq", self.exact(12))
        (n,) = struct.unpack(">i", self.exact(4))
        data = self.exact(n) if n >= 0 else None
        (ids,) = struct.unpack(">i", self.exact(4))
        for _ in range(max(ids, 0)):
            for _ in range(2):
                (m,) = struct.unpack(">i", self.exact(4))
                self.exact(max(m, 0))
        return ptype, zxid, data

    def sync(self, last_zxid):
        """Handshake with `last_zxid` as our last logged zxid; returns the
        name of the first sync packet, or "closed" if the leader hung up."""
        info = struct.pack(">qiq", self.sid, 0x10000, 0)
        self.send(OBSERVERINFO if self.observer else FOLLOWERINFO, 0, info)
        ptype, _, _ = self.packet()
        assert ptype == LEADERINFO, ptype
        self.send(ACKEPOCH, last_zxid, struct.pack(">i", 0))
        try:
            ptype, _, _ = self.packet()
        except (EOFError, ConnectionResetError):
            return "closed"
        return NAMES.get(ptype, str(ptype))

    def close(self):
        self.sock.close()


def find_leader(peers):
    for p in peers:
        if "Mode: leader" in four_letter(p.client_port, "srvr"):
            return p
    pytest.fail("no leader")


def last_zxid(peer):
    line = [l for l in four_letter(peer.client_port, "srvr").splitlines() if l.startswith("Zxid:")][0]
    return int(line.split()[1], 16)


def scenario(leader, zxid):
    """What each scripted learner sees, for a peer last zxid `zxid`."""
    seen = []
    a = ScriptedLearner(leader, 11)
    seen.append(("A", a.sync(zxid)))
    b = ScriptedLearner(leader, 12)
    seen.append(("B while A syncs", b.sync(zxid)))
    b.close()
    f = ScriptedLearner(leader, 13, observer=False)
    seen.append(("follower while A syncs", f.sync(zxid)))
    f.close()
    a.close()
    # The leader notices A's hang-up when its read fails.
    deadline = time.monotonic() + 10
    while True:
        b = ScriptedLearner(leader, 12)
        got = b.sync(zxid)
        b.close()
        if got != "closed" or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    seen.append(("B after A left", got))
    return seen


@pytest.mark.parametrize("kind", ["java", "rust"])
def test_observer_syncs_are_throttled(kind, tmp_path):
    require_impl(kind)
    extra = {"leader.maxConcurrentSnapSyncs": "1", "leader.maxConcurrentDiffSyncs": "1",
             # No sync from the txn log: an empty learner gets a SNAP.
             "snapshotSizeFactor": "-1", "initLimit": "30"}
    peers = [Peer(kind, sid, tmp_path / ("s%d" % sid), extra=extra) for sid in (1, 2, 3)]
    for p in peers:
        p.write_config(peers)
    try:
        for p in peers:
            p.start()
        for p in peers:
            wait_serving(p)
        zk = client(peers[0])
        for i in range(5):
            zk.create("/n%d" % i, b"x")
        zk.sync("/")
        zk.stop()
        zk.close()
        leader = find_leader(peers)
        snap = scenario(leader, 0)
        assert snap == [("A", "SNAP"), ("B while A syncs", "closed"), ("follower while A syncs", "SNAP"),
                        ("B after A left", "SNAP")], snap
        diff = scenario(leader, last_zxid(leader))
        assert diff == [("A", "DIFF"), ("B while A syncs", "closed"), ("follower while A syncs", "DIFF"),
                        ("B after A left", "DIFF")], diff
        # The ensemble still serves.
        zk = client(leader)
        zk.create("/after", b"y")
        zk.stop()
        zk.close()
    finally:
        stop_all(peers)


def test_a_limit_below_one_is_refused_at_startup(tmp_path):
    require_impl("rust")
    peers = [Peer("rust", sid, tmp_path / ("s%d" % sid), extra={"leader.maxConcurrentDiffSyncs": "0"})
             for sid in (1, 2, 3)]
    for p in peers:
        p.write_config(peers)
    p = peers[0]
    p.start()
    try:
        p.proc.wait(30)
    finally:
        p.stop()
    assert p.proc.returncode != 0
    assert "zookeeper.leader.maxConcurrentDiffSyncs" in p.text(), p.text()[-2000:]
