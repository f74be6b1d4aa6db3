"""A reconfig that changes a member's ports, without a restart.

Its client port: the member starts accepting clients on the new port,
the old port stops accepting, and the connections it already had are
not dropped (their session goes on, with no disconnect). Java 3.8.0 and
ours, a follower and the leader, and ours as the follower of a Java
leader; afterwards the member restarted on its rewritten files serves on
the new port.

Its quorum and election ports: the election listener moves at once, and
the member later leads on its new quorum port.
"""

import socket
import threading
import time

import pytest
from kazoo.client import KazooClient

from conftest import free_port, require_impl
from test_reconfig import (SUPER, ReconfigPeer, config_node, start_reconfig_ensemble, super_client,
                           wait_config_version)
from test_reconfig_five import wait_files
from test_zab_learner import SYNC_TIMEOUT, client, report, stop_all, wait_mode


def reconfig_own_line(peers, member):
    """Gives `member` its current `server_line()` by reconfig (as super,
    through the first peer); returns the new config's data and version."""
    zk = super_client(peers[0])
    try:
        data = zk.reconfig(joining=member.server_line(), leaving=None, new_members=None)[0].decode()
    finally:
        zk.stop()
        zk.close()
    assert member.server_line() in data.splitlines(), data
    return data, int(data.rsplit("version=", 1)[1], 16)


def accepts(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return True
    except OSError:
        return False


def wait_until(what, check, timeout=SYNC_TIMEOUT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    pytest.fail("timed out waiting for " + what)


KINDS = [
    pytest.param(["java", "java", "java"], 2, id="java-follower"),
    pytest.param(["rust", "rust", "rust"], 2, id="rust-follower"),
    pytest.param(["java", "rust", "java"], 2, id="our-follower-java-leader"),
    pytest.param(["java", "java", "java"], 3, id="java-leader"),
    pytest.param(["rust", "rust", "rust"], 3, id="rust-leader"),
]


@pytest.mark.parametrize("kinds,member_sid", KINDS)
def test_reconfig_moves_a_members_client_port(tmp_path, kinds, member_sid):
    """Member `member_sid` (3 leads) gets a new client port by reconfig."""
    for k in set(kinds):
        require_impl(k)
    peers = [ReconfigPeer(kind, sid, tmp_path / ("s%d-%s" % (sid, kind)), extra=SUPER)
             for sid, kind in enumerate(kinds, start=1)]
    member = peers[member_sid - 1]
    states = []
    lock = threading.Lock()
    try:
        start_reconfig_ensemble(peers, 3)
        old_port = member.client_port
        # A session on the member's old port, watching its own state.
        kept = client(member)
        kept.add_listener(lambda s: (lock.acquire(), states.append(s), lock.release()))
        kept.create("/before", b"b")
        session = kept.client_id

        new_port = free_port()
        member.client_port = new_port
        data, version = reconfig_own_line(peers, member)
        wait_files(member, [p.server_line() for p in peers], version)

        # New clients reach the member on the new port only.
        wait_until("the new port to accept", lambda: accepts(new_port))
        wait_until("the old port to refuse", lambda: not accepts(old_port))
        fresh = client(member)
        try:
            fresh.sync("/")
            assert fresh.get("/before")[0] == b"b"
            assert config_node(member)[0] == data
        finally:
            fresh.stop()
            fresh.close()
        # The connection made before goes on, in the same session, never
        # suspended.
        kept.create("/after", b"a")
        assert kept.get("/after")[0] == b"a"
        assert kept.client_id == session
        with lock:
            assert states == [], states

        # Restarted on its rewritten files it serves on the new port.
        kept.stop()
        kept.close()
        member.stop()
        member.start()
        wait_mode(member, ["leader", "follower"])
        assert wait_config_version(member, version)[0] == data
        assert not accepts(old_port)
        zk = KazooClient(hosts="127.0.0.1:%d" % new_port, timeout=10)
        zk.start(timeout=30)
        try:
            zk.sync("/")
            assert zk.get("/after")[0] == b"a"
        finally:
            zk.stop()
            zk.close()
    except BaseException:
        print(report(peers))
        raise
    finally:
        stop_all(peers)


@pytest.mark.parametrize("kinds", [
    pytest.param(["java", "java", "java"], id="java"),
    pytest.param(["rust", "rust", "rust"], id="rust"),
    pytest.param(["java", "rust", "java"], id="ours-in-java"),
])
def test_reconfig_moves_a_members_quorum_and_election_ports(tmp_path, kinds):
    """Follower 2 gets new quorum and election ports by reconfig: its
    election listener moves at once (the new port accepts, the old one
    refuses); then the leader stops, 2 and 1 elect 2 (the higher sid),
    which leads on its new quorum port, and the old leader rejoins."""
    for k in set(kinds):
        require_impl(k)
    peers = [ReconfigPeer(kind, sid, tmp_path / ("s%d-%s" % (sid, kind)), extra=SUPER)
             for sid, kind in enumerate(kinds, start=1)]
    member = peers[1]
    try:
        start_reconfig_ensemble(peers, 3)
        old_election = member.election_port
        member.quorum_port, member.election_port = free_port(), free_port()
        data, version = reconfig_own_line(peers, member)
        for p in peers:
            assert wait_config_version(p, version)[0] == data, (p.kind, p.sid)
        wait_until("the new election port to accept", lambda: accepts(member.election_port))
        wait_until("the old election port to refuse", lambda: not accepts(old_election))

        peers[2].stop()
        assert wait_mode(member, ["leader"]) == "leader"
        assert wait_mode(peers[0], ["follower"]) == "follower"
        assert accepts(member.quorum_port)
        peers[2].start()
        assert wait_mode(peers[2], ["follower"]) == "follower"
        zk = client(peers[2])
        try:
            zk.create("/after", b"a")
        finally:
            zk.stop()
            zk.close()
        for p in peers:
            assert config_node(p)[0] == data, (p.kind, p.sid)
    except BaseException:
        print(report(peers))
        raise
    finally:
        stop_all(peers)
