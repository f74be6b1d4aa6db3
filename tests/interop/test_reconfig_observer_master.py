"""A reconfig reaches observers through a follower's ObserverMaster.

Voters 1 and 2 are ours, 3 (the leader) is Java 3.8.0 or ours; only
follower 1 has `observerMasterPort`, so both observers, Java's (4) and
ours (5), sync from it and are fed by it (each member sits on its own
loopback address, as every ObserverMaster listens on the one port).
While a client keeps writing through our observer, the leader removes
voter 2 and adds it back: follower 1 gets each COMMITANDACTIVATE and
relays it to the observers as INFORMANDACTIVATE. Each observer must
activate the new config without reconnecting: `conf` shows the new
membership and `zoo.cfg.dynamic.<version>` is written (a plain INFORM of
the reconfig txn would change `/zookeeper/config`'s data and nothing
else). Then observer 5 is made a participant by reconfig: the relayed
INFORMANDACTIVATE ends its observer role, and it rejoins as a voting
follower. No acknowledged write is lost and every server ends with the
same config and tree.
"""

import time

import pytest

from conftest import free_port, require_impl
from test_reconfig import (SUPER, ReconfigPeer, Writer, assert_everyone_has, config_node, super_client,
                           wait_config_version)
from test_reconfig_five import wait_acks, wait_files
from test_election import wait_port
from test_reconfig_live import conf_membership
from test_zab_learner import SYNC_TIMEOUT, assert_same_trees, client, report, stop_all, wait_mode

# Loopback addresses no other test uses.
NET = "127.0.75."

# Observers give up on an address nobody serves after 2 ticks.
TIMING = {"connectToLearnerMasterLimit": "2", "cnxTimeout": "2000"}


class MasterPeer(ReconfigPeer):
    """A reconfig-style member on its own loopback address, with
    `observerMasterPort` when `om_port` is given."""

    def __init__(self, kind, sid, workdir, om_port, observer=False):
        super().__init__(kind, sid, workdir, observer=observer, extra=dict(SUPER, **TIMING))
        self.host = NET + str(sid)
        self.om_port = om_port

    def server_line(self, role="participant"):
        return "server.%d=%s:%d:%d:%s;127.0.0.1:%d" % (
            self.sid, self.host, self.quorum_port, self.election_port, role, self.client_port)

    def line(self):
        """My line in the current membership."""
        return self.server_line("observer" if self.observer else "participant")

    def write_config(self, peers):
        super().write_config(peers)
        if self.om_port:
            self.written += "observerMasterPort=%d\n" % self.om_port
            self.cfg.write_text(self.written)


def start_ensemble(peers, leader):
    """Starts `leader` and, once its election port listens, one more
    voter (the two elect `leader`, the higher sid), then the others."""
    for p in peers:
        p.write_config(peers)
    leader.start()
    wait_port(leader.election_port, proc=leader.proc, log=leader.log, host=leader.host)
    others = [p for p in peers if p is not leader]
    others[0].start()
    wait_mode(leader, ["leader"])
    for p in others[1:]:
        p.start()
    for p in peers:
        wait_mode(p, ["leader"] if p is leader else (["observer"] if p.observer else ["follower"]))


def five_peers(tmp_path, leader_kind, two_is_master):
    """Voters 1 and 2 (ours; 1 always with `observerMasterPort`, 2 when
    `two_is_master`), leader 3 of `leader_kind`, and two observers fed
    by the masters: Java's (4) and ours (5)."""
    om_port = free_port()
    return [
        MasterPeer("rust", 1, tmp_path / "s1-rust", om_port),
        MasterPeer("rust", 2, tmp_path / "s2-rust", om_port if two_is_master else None),
        MasterPeer(leader_kind, 3, tmp_path / ("s3-%s" % leader_kind), None),
        MasterPeer("java", 4, tmp_path / "s4-java", om_port, observer=True),
        MasterPeer("rust", 5, tmp_path / "s5-rust", om_port, observer=True),
    ]


def wait_on_masters(observers, masters, leader):
    """Each observer registers on one of `masters` (its learner handler
    logs the sid), never on the leader."""
    for o in observers:
        line = "Follower sid: %d " % o.sid
        deadline = time.monotonic() + SYNC_TIMEOUT
        while not any(line in m.text() for m in masters) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert any(line in m.text() for m in masters), (o.kind, o.sid)
        assert line not in leader.text(), (o.kind, o.sid)


def connects(peer):
    """How many times `peer` connected to a leader or learner master
    (Java's and our learners log the same line)."""
    return peer.text().count("Successfully connected to leader")


def wait_activated(peers, data, version, members, timeout=SYNC_TIMEOUT):
    """Every one of `peers` shows config `data` in /zookeeper/config, has
    it active (`conf`) and holds it in its files."""
    membership = "\n".join(data.splitlines()[:-1])
    for p in peers:
        assert wait_config_version(p, version)[0] == data, (p.kind, p.sid)
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            last = conf_membership(p).strip()
            if last.startswith(membership) and last.endswith("version=%x" % version):
                break
            time.sleep(0.3)
        else:
            pytest.fail("%s peer %d: conf never showed %r: %r" % (p.kind, p.sid, data, last))
        wait_files(p, [m.line() for m in members], version, timeout)


LEADERS = [
    pytest.param("java", id="java-leader"),
    pytest.param("rust", id="our-leader"),
]


@pytest.mark.parametrize("leader_kind", LEADERS)
def test_observer_master_relays_reconfigs(tmp_path, leader_kind):
    for k in ("java", "rust"):
        require_impl(k)
    peers = five_peers(tmp_path, leader_kind, two_is_master=False)
    one, two, three, java_obs, our_obs = peers
    observers = [java_obs, our_obs]
    writer = None
    try:
        start_ensemble(peers, three)
        # Follower 1 is the only master.
        wait_on_masters(observers, [one], three)
        first = wait_config_version(java_obs, 0x100000000)[0]
        writer = Writer(our_obs)
        wait_acks(writer, 10)
        links = {o.sid: connects(o) for o in observers}

        # Voter 2 leaves, and comes back.
        zk = super_client(three)
        try:
            removed = zk.reconfig(joining=None, leaving="2", new_members=None)[0].decode()
            version = int(removed.rsplit("version=", 1)[1], 16)
            members = [one, three, java_obs, our_obs]
            assert removed.splitlines()[:-1] == [p.line() for p in members], removed
            wait_activated(observers, removed, version, members)
            wait_acks(writer, len(writer.acked) + 10)

            added = zk.reconfig(joining=two.server_line(), leaving=None, new_members=None)[0].decode()
            version = int(added.rsplit("version=", 1)[1], 16)
            assert added.splitlines()[:-1] == [p.line() for p in peers], added
            assert added.replace("version=%x" % version, "") == first.replace("version=100000000", "")
            wait_activated(peers, added, version, peers)
            wait_acks(writer, len(writer.acked) + 10)
        finally:
            zk.stop()
            zk.close()
        # Both were the relay's INFORMANDACTIVATEs: no observer reconnected.
        assert {o.sid: connects(o) for o in observers} == links
        assert "Follower sid: 4 " not in three.text() and "Follower sid: 5 " not in three.text()
        acked = writer.stop()
        writer = None

        # Observer 5 becomes a voter: the relayed INFORMANDACTIVATE ends
        # its observer role, and it follows the leader with a vote.
        zk = super_client(one)
        try:
            promoted = zk.reconfig(joining=our_obs.server_line(), leaving=None, new_members=None)[0].decode()
        finally:
            zk.stop()
            zk.close()
        our_obs.observer = False
        version = int(promoted.rsplit("version=", 1)[1], 16)
        assert promoted.splitlines()[:-1] == [p.line() for p in peers], promoted
        assert wait_mode(our_obs, ["follower"]) == "follower"
        wait_activated(peers, promoted, version, peers)
        assert wait_mode(java_obs, ["observer"]) == "observer"
        # It votes: with voter 2 stopped, 1, 3 and 5 are a quorum of four.
        two.stop()
        zk = client(java_obs)
        try:
            zk.create_async("/after-promotion", b"p").get(timeout=SYNC_TIMEOUT)
        finally:
            zk.stop()
            zk.close()
        two.start()
        wait_mode(two, ["follower"])
        for p in peers:
            assert config_node(p)[0] == promoted, (p.kind, p.sid)
        assert len(acked) >= 20, len(acked)
        assert_everyone_has(peers, acked)
        assert_same_trees(peers)
    except BaseException:
        print(report(peers))
        raise
    finally:
        if writer is not None:
            writer.stop()
        stop_all(peers)


@pytest.mark.parametrize("leader_kind", LEADERS)
def test_observers_behind_a_master_follow_a_leader_removed_by_reconfig(tmp_path, leader_kind):
    """The leader (3) is removed by reconfig while both observers are fed
    by our followers' ObserverMasters (1 and 2 both have one): the voters
    left take over (the designated leader at once), and each observer
    ends on the new config, observing again through the master of the
    one that follows, and serving, with the same tree as the voters."""
    for k in ("java", "rust"):
        require_impl(k)
    peers = five_peers(tmp_path, leader_kind, two_is_master=True)
    one, two, three, java_obs, our_obs = peers
    observers = [java_obs, our_obs]
    writer = None
    try:
        start_ensemble(peers, three)
        wait_on_masters(observers, [one, two], three)
        writer = Writer(our_obs)
        wait_acks(writer, 10)
        served = {(f.sid, o.sid): f.text().count("Follower sid: %d " % o.sid) for f in (one, two) for o in observers}
        zk = super_client(one)
        try:
            # Follower 1's role ends at the commit (its leader leaves):
            # the answer may be lost with its connections; read it back.
            zk.reconfig_async(joining=None, leaving="3", new_members=None, from_config=-1)
            deadline = time.monotonic() + SYNC_TIMEOUT
            data = ""
            while time.monotonic() < deadline:
                try:
                    data = config_node(java_obs)[0]
                except Exception:  # noqa: BLE001 - between roles
                    pass
                if "server.3=" not in data and data:
                    break
                time.sleep(0.3)
        finally:
            zk.stop()
            zk.close()
        members = [one, two, java_obs, our_obs]
        assert data.splitlines()[:-1] == [p.line() for p in members], data
        version = int(data.rsplit("version=", 1)[1], 16)
        wait_activated([one, two] + observers, data, version, members)
        for o in observers:
            assert wait_mode(o, ["observer"]) == "observer"
        assert sorted(wait_mode(p, ["leader", "follower"]) for p in (one, two)) == ["follower", "leader"]
        # Each observer registered anew on the master of the voter that
        # now follows (the new leader serves none).
        follower = next(p for p in (one, two) if wait_mode(p, ["leader", "follower"]) == "follower")
        for o in observers:
            deadline = time.monotonic() + SYNC_TIMEOUT
            mark = "Follower sid: %d " % o.sid
            while follower.text().count(mark) <= served[(follower.sid, o.sid)] and time.monotonic() < deadline:
                time.sleep(0.2)
            assert follower.text().count(mark) > served[(follower.sid, o.sid)], (o.kind, o.sid, follower.sid)
        wait_acks(writer, len(writer.acked) + 20)
        acked = writer.stop()
        writer = None
        assert_everyone_has([one, two] + observers, acked)
        assert_same_trees([one, two] + observers)
    except BaseException:
        print(report(peers))
        raise
    finally:
        if writer is not None:
            writer.stop()
        stop_all(peers)
