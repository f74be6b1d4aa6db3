"""observerMasterPort: an observer syncs from a follower's ObserverMaster
instead of the leader, and is fed the leader's commits through it.

A Java 3.8.0 ensemble (three voters, each on its own loopback address so
they can share the one observerMasterPort Java uses for all) with our
observer configured like Java's observers: ours connects to a follower's
ObserverMaster (never to the leader's learner port), writes made on the
Java servers reach it, its own writes and ephemerals go through the
follower to the leader, and when that follower goes away it moves on to
another one.

And the other way round: our followers serve observers (Java's and
ours) in a mixed ensemble: each observer is synced from our follower's
committed log, fed the commits as INFORM, its clients' writes, syncs,
pings and revalidations go through our follower to the Java leader, and
when our follower dies the observer moves to the other one.
"""

import json
import re
import time
import urllib.request

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

    def __init__(self, kind, sid, workdir, om_port, observer=False, extra=None):
        super().__init__(kind, sid, workdir, observer=observer, extra=extra)
        self.host = NET + str(sid)
        self.om_port = om_port

    def write_config(self, peers):
        lines = ["tickTime=1000", "initLimit=10", "syncLimit=5",
                 "dataDir=%s" % self.data, "clientPort=%d" % self.client_port,
                 "clientPortAddress=127.0.0.1", "admin.enableServer=false",
                 "4lw.commands.whitelist=*", "cnxTimeout=2000"]
        if self.om_port:
            lines.append("observerMasterPort=%d" % self.om_port)
        for p in peers:
            lines.append("server.%d=%s:%d:%d%s" % (p.sid, p.host, p.quorum_port, p.election_port,
                                                   ":observer" if p.observer else ""))
        if self.observer:
            lines.append("peerType=observer")
        lines = [l for l in lines if l.split("=", 1)[0] not in self.extra]
        lines += ["%s=%s" % kv for kv in self.extra.items()]
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


# Observers give up on a master that refuses them after 2 ticks, not initLimit.
MOVE_FAST = {"initLimit": "5", "syncLimit": "3", "connectToLearnerMasterLimit": "2",
             "maxSessionTimeout": "60000"}


def observers_of(peer):
    """Our follower's AdminServer `observers` answer."""
    url = "http://127.0.0.1:%d/commands/observers" % peer.admin_port
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.loads(r.read())


def mntr_of(peer):
    return dict(line.split("\t", 1) for line in four_letter(peer.client_port, "mntr").splitlines() if "\t" in line)


def served_by(voters, observer):
    """The voter whose LearnerHandler registered `observer` last."""
    mark = "Follower sid: %d " % observer.sid
    return [v for v in voters if v.text().count(mark) > v.seen.get(observer.sid, 0)]


def test_our_followers_serve_java_and_our_observers(tmp_path):
    """Voters: ours (1, 2) serving observers, Java (3, the leader, no
    observerMasterPort). Observers: Java (4) and ours (5)."""
    require_impl("java")
    require_impl("rust")
    om_port = free_port()

    def ours(sid):
        extra = dict(MOVE_FAST, **{"admin.enableServer": "true", "admin.serverAddress": "127.0.0.1",
                                   "admin.serverPort": str(free_port())})
        if sid == 1:
            # Follower 1 syncs every observer with a snapshot.
            extra["forceSnapshotSync"] = "true"
        p = HostPeer("rust", sid, tmp_path / ("s%d" % sid), om_port, extra=extra)
        p.admin_port = int(extra["admin.serverPort"])
        return p

    voters = [ours(1), ours(2), HostPeer("java", 3, tmp_path / "s3", None, extra=MOVE_FAST)]
    java_obs = HostPeer("java", 4, tmp_path / "s4", om_port, observer=True, extra=MOVE_FAST)
    our_obs = HostPeer("rust", 5, tmp_path / "s5", om_port, observer=True, extra=MOVE_FAST)
    observers = [java_obs, our_obs]
    peers = voters + observers
    for p in peers:
        p.write_config(peers)
        p.seen = {}
    clients = []

    def connect(peer, timeout=10):
        zk = client(peer)
        if timeout != 10:
            zk.stop()
            zk.close()
            zk = KazooClient(hosts="127.0.0.1:%d" % peer.client_port, timeout=timeout)
            zk.start(timeout=30)
        clients.append(zk)
        return zk

    try:
        # The Java voter up first, then one of ours: they elect the
        # higher sid, the Java one; then our second follower joins.
        voters[2].start()
        wait_for("Java 3 looking", lambda: "QuorumPeer - LOOKING" in voters[2].text(), peers=voters)
        voters[0].start()
        wait_for("Java 3 leading", lambda: mode(voters[2]) == "leader", peers=voters)
        voters[1].start()
        wait_for("Java 3 leading, ours following",
                 lambda: [mode(v) for v in voters] == ["follower", "follower", "leader"], peers=voters)
        leader = voters[2]
        zk = connect(leader)
        zk.create("/before", b"synced")
        for o in observers:
            o.start()
        for o in observers:
            wait_for("observer %d to serve" % o.sid, lambda o=o: mode(o) == "observer", peers=peers)
        ours_voters = voters[:2]

        def master_of(o):
            got = wait_for("observer %d registered on one of our followers" % o.sid,
                           lambda: served_by(ours_voters, o), peers=peers)
            assert len(got) == 1, got
            return got[0]

        masters = {o.sid: master_of(o) for o in observers}
        # The leader never had an observer as a learner.
        for o in observers:
            assert "Follower sid: %d " % o.sid not in leader.text()
        # Our followers list them, as Java's `observers` does.
        wait_for("observers listed by our followers",
                 lambda: sum(observers_of(v)["synced_observers"] for v in ours_voters) == 2, peers=peers)
        # ... and count them in mntr, as Java's followers serving observers do.
        assert sum(int(mntr_of(v)["zk_synced_observers"]) for v in ours_voters) == 2
        for v in ours_voters:
            answer = observers_of(v)
            assert sorted(o["sid"] for o in answer["observers"]) == sorted(
                o.sid for o in observers if masters[o.sid] is v), answer
            assert answer["synced_observers"] == len(answer["observers"])
        # Synced from our follower's log, then fed the commits.
        for o in observers:
            assert sees(o, "/before", b"synced")
        for i in range(20):
            zk.create("/w-%d" % i, b"%d" % i)
        on_obs = {o.sid: connect(o, timeout=30) for o in observers}
        for o in observers:
            c = on_obs[o.sid]
            # A write on the leader, then sync + read on the observer: seen.
            zk.set("/before", b"v-%d" % o.sid)
            c.sync("/before")
            assert c.get("/before")[0] == b"v-%d" % o.sid
            assert c.get("/w-19")[0] == b"19"
            # The observer's own writes, pipelined with syncs and reads.
            path = "/obs-%d" % o.sid
            c.create(path, b"0")
            for n in range(1, 31):
                w = c.set_async(path, b"%d" % n)
                s = c.sync_async(path)
                r = c.get_async(path)
                assert w.get(timeout=20).version == n
                s.get(timeout=20)
                assert r.get(timeout=20)[0] == b"%d" % n
            c.create(path + "/eph", b"e", ephemeral=True)
        zk.sync("/")
        for o in observers:
            assert zk.get("/obs-%d" % o.sid)[0] == b"30"
            assert zk.exists("/obs-%d/eph" % o.sid).ephemeralOwner == on_obs[o.sid].client_id[0]
        # Sessions on the observers live on the observers' pings, relayed
        # through our followers: past several ticks of the leader's clock
        # with no request, a short session is still there.
        short = {o.sid: connect(o, timeout=4) for o in observers}
        for o in observers:
            short[o.sid].create("/short-%d" % o.sid, b"s", ephemeral=True)
        time.sleep(9)
        zk.sync("/")
        for o in observers:
            assert zk.exists("/short-%d" % o.sid) is not None, o.sid
        # The Java observer's master dies: it moves to our other follower,
        # and its client's session survives the move (revalidated through
        # the new master).
        dying = masters[java_obs.sid]
        other = next(v for v in ours_voters if v is not dying)
        for o in observers:
            other.seen[o.sid] = other.text().count("Follower sid: %d " % o.sid)
        dying.proc.kill()
        dying.proc.wait(10)
        zk.create("/after-move", b"m")
        movers = [o for o in observers if masters[o.sid] is dying]
        for o in movers:
            wait_for("observer %d on the other follower" % o.sid,
                     lambda o=o: served_by([other], o), peers=peers)
            wait_for("observer %d fed again" % o.sid, lambda o=o: sees(o, "/after-move", b"m"), peers=peers)
            c = on_obs[o.sid]
            wait_for("the observer's client back", lambda c=c: c.connected, peers=peers)
            c.sync("/")
            assert c.get("/after-move")[0] == b"m"
            assert c.exists("/obs-%d/eph" % o.sid).ephemeralOwner == c.client_id[0]
            # Its session now lives behind the new master: writes pass.
            c.set("/obs-%d" % o.sid, b"moved")
            assert c.get("/obs-%d" % o.sid)[0] == b"moved"
        zk.sync("/")
        for o in observers:
            assert zk.exists("/obs-%d/eph" % o.sid) is not None, o.sid
        # Follower 1 synced an observer with a snapshot (the Java one was
        # on both followers).
        assert "Sending snapshot" in voters[0].text()
    finally:
        for c in clients:
            try:
                c.stop()
                c.close()
            except Exception:  # noqa: BLE001 - already gone
                pass
        stop_all(peers)
