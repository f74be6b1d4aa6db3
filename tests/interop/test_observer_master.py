"""observerMasterPort: an observer syncs from a follower's ObserverMaster
instead of the leader, and is fed the leader's commits through it.

A Java 3.8.0 ensemble (three voters, each on its own loopback address so
they can share the one observerMasterPort Java uses for all) with our
observer configured like Java's observers: ours connects to a follower's
ObserverMaster (never to the leader's learner port), writes made on the
Java servers reach it, its own writes and ephemerals go through the
follower to the leader, and when that follower goes away it moves on to
another one.

Not built yet (the key is refused on our participants): our followers
serving Java observers.
"""

import re
import time

import pytest
from kazoo.client import KazooClient

from conftest import free_port, four_letter, require_impl
from test_election import Peer
from test_zab_leader import stop_all

SERVE_TIMEOUT = 90.0


# Loopback addresses other tests leave alone.
NET = "127.0.73."


class HostPeer(Peer):
    """A peer on its own loopback address (NET + sid)."""

    def __init__(self, kind, sid, workdir, om_port, observer=False):
        super().__init__(kind, sid, workdir, observer=observer)
        self.host = NET + str(sid)
        self.om_port = om_port

    def write_config(self, peers):
        lines = ["tickTime=1000", "initLimit=10", "syncLimit=5",
                 "dataDir=%s" % self.data, "clientPort=%d" % self.client_port,
                 "clientPortAddress=127.0.0.1", "admin.enableServer=false",
                 "4lw.commands.whitelist=*", "cnxTimeout=2000",
                 "observerMasterPort=%d" % self.om_port]
        for p in peers:
            lines.append("server.%d=%s:%d:%d%s" % (p.sid, p.host, p.quorum_port, p.election_port,
                                                   ":observer" if p.observer else ""))
        if self.observer:
            lines.append("peerType=observer")
        self.cfg = self.dir / "zoo.cfg"
        self.cfg.write_text("\n".join(lines) + "\n")


def client(peer, timeout=30):
    zk = KazooClient(hosts="127.0.0.1:%d" % peer.client_port, timeout=10)
    zk.start(timeout=timeout)
    return zk


def mode(peer):
    try:
        for line in four_letter(peer.client_port, "srvr", timeout=2).splitlines():
            if line.startswith("Mode: "):
                return line[6:]
    except OSError:
        pass
    return None


def wait_for(what, check, timeout=SERVE_TIMEOUT, peers=()):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.5)
    pytest.fail("timed out waiting for %s:\n%s" % (what, "\n".join(
        "---- %s %d\n%s" % (p.kind, p.sid, p.text()[-3000:]) for p in peers)))


def masters_used(observer):
    """ObserverMaster addresses our observer connected to, in order."""
    return re.findall(r"Successfully connected to leader, using address: ([\d.]+:\d+)", observer.text())


def sees(peer, path, data=None):
    try:
        zk = client(peer, timeout=10)
    except Exception:  # noqa: BLE001 - not serving yet
        return False
    try:
        zk.sync("/")
        got = zk.exists(path)
        return got is not None and (data is None or zk.get(path)[0] == data)
    finally:
        zk.stop()
        zk.close()


def test_our_observer_syncs_from_java_followers(tmp_path):
    require_impl("java")
    require_impl("rust")
    om_port = free_port()
    peers = [HostPeer("java", sid, tmp_path / ("s%d" % sid), om_port) for sid in (1, 2, 3)]
    observer = HostPeer("rust", 4, tmp_path / "s4-ours", om_port, observer=True)
    peers.append(observer)
    for p in peers:
        p.write_config(peers)
    try:
        for p in peers[:3]:
            p.start()
        voters = wait_for("a Java leader and two followers",
                          lambda: sorted(m or "" for m in map(mode, peers[:3])) == ["follower", "follower", "leader"],
                          peers=peers[:3])
        assert voters
        leader = next(p for p in peers[:3] if mode(p) == "leader")
        followers = [p for p in peers[:3] if p is not leader]
        zk = client(leader)
        zk.create("/before", b"synced")
        observer.start()
        wait_for("our observer to serve", lambda: mode(observer) == "observer", peers=peers)
        assert sees(observer, "/before", b"synced")
        used = masters_used(observer)
        follower_masters = {"%s:%d" % (f.host, om_port) for f in followers}
        assert used and used[-1] in follower_masters, (used, follower_masters)
        # The leader never had us as a learner; the follower has.
        assert "Follower sid: 4 " not in leader.text(), leader.text()[-3000:]
        master = next(f for f in followers if "%s:%d" % (f.host, om_port) == used[-1])
        assert "Follower sid: 4 " in master.text(), master.text()[-3000:]
        # Commits reach us through the follower.
        for i in range(20):
            zk.create("/from-java-%d" % i, b"%d" % i)
        wait_for("commits relayed", lambda: sees(observer, "/from-java-19", b"19"), peers=peers)
        # Our writes and an ephemeral go through the follower to the leader.
        ours = client(observer)
        ours.create("/from-ours", b"o")
        ours.create("/eph-ours", b"e", ephemeral=True)
        zk.sync("/")
        assert zk.get("/from-ours")[0] == b"o"
        assert zk.exists("/eph-ours").ephemeralOwner == ours.client_id[0]
        # The session stays alive through the follower's pings.
        time.sleep(12)
        zk.sync("/")
        assert zk.exists("/eph-ours") is not None
        # The follower we use goes away: we move on to another master.
        ours.stop()
        ours.close()
        master.stop()
        zk.create("/after-move", b"m")
        wait_for("a new master", lambda: sees(observer, "/after-move", b"m"), peers=peers)
        moved = masters_used(observer)[-1]
        assert moved in follower_masters and moved != used[-1], (moved, used)
        zk.stop()
        zk.close()
    finally:
        stop_all(peers)
