"""`standaloneEnabled=false`: a one-node ensemble (ours) that grows to
three by reconfig, adding a Java 3.8.0 server and one of ours, and
shrinks back to one, under a client that keeps writing. Every node
restarted on the files the reconfigs rewrote (zoo.cfg pointing at
zoo.cfg.dynamic.<version>) rejoins the current ensemble, and no
acknowledged write is lost.

A reconfig proposed but not committed when a server stopped is left in
zoo.cfg.dynamic.next; read at startup, it is activated by the leader that
server becomes, on Java and on ours.
"""

import time

import pytest

from conftest import require_impl
from test_election import wait_port
from test_reconfig import (SUPER, ReconfigPeer, Writer, assert_everyone_has, config_node, start_reconfig_ensemble,
                           super_client, wait_config_version)
from test_reconfig_live import wait_new_leader
from test_zab_learner import SYNC_TIMEOUT, report, stop_all, wait_mode


def reconfig(peer, **kw):
    zk = super_client(peer)
    try:
        data = zk.reconfig(kw.get("joining"), kw.get("leaving"), None)[0].decode()
    finally:
        zk.stop()
        zk.close()
    return data, int(data.rsplit("version=", 1)[1], 16)


def wait_config_without(peer, gone, timeout=SYNC_TIMEOUT):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = config_node(peer)[0]
            if "server.%d=" % gone.sid not in last:
                return last
        except Exception as e:  # noqa: BLE001 - a peer between roles
            last = repr(e)
        time.sleep(0.3)
    pytest.fail("peer %d kept server %d (last %r)" % (peer.sid, gone.sid, last))


def wait_acks(writer, count, timeout=2 * SYNC_TIMEOUT):
    deadline = time.monotonic() + timeout
    while len(writer.acked) < count and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(writer.acked) >= count, (len(writer.acked), count)


def test_one_node_grows_to_three_and_back(tmp_path):
    for k in ("java", "rust"):
        require_impl(k)
    one = ReconfigPeer("rust", 1, tmp_path / "s1-rust", extra=SUPER)
    two = ReconfigPeer("java", 2, tmp_path / "s2-java", extra=SUPER)
    three = ReconfigPeer("rust", 3, tmp_path / "s3-rust", extra=SUPER)
    everyone = [one, two, three]
    writer = None
    try:
        one.write_config([one])
        one.start()
        assert wait_mode(one, ["leader"]) == "leader"
        first = wait_config_version(one, 0x100000000)[0]
        assert first == one.server_line() + "\nversion=100000000", first
        writer = Writer(one)
        wait_acks(writer, 10)

        # 1 -> 2 -> 3: each joiner starts with the members so far and
        # itself, follows the leader without a vote, then is added.
        two.write_config([one, two])
        two.start()
        wait_mode(two, ["follower"])
        data, version = reconfig(one, joining=two.server_line())
        assert data.splitlines()[:-1] == [one.server_line(), two.server_line()], data
        three.write_config(everyone)
        three.start()
        wait_mode(three, ["follower"])
        data, version = reconfig(two, joining=three.server_line())
        assert data.splitlines()[:-1] == [p.server_line() for p in everyone], data
        for p in everyone:
            assert wait_config_version(p, version)[0] == data, (p.kind, p.sid)
            files = p.files()
            assert files.get("zoo.cfg.dynamic.%x" % version) == "\n".join(
                sorted(q.server_line() for q in everyone)), (p.kind, p.sid, files)
            assert "dynamicConfigFile=%s" % (p.dir / ("zoo.cfg.dynamic.%x" % version)).resolve() \
                in files["zoo.cfg"].splitlines(), (p.kind, p.sid, files["zoo.cfg"])
        wait_acks(writer, len(writer.acked) + 10)

        # Each node restarted on its rewritten files rejoins the three.
        for p in everyone:
            p.stop()
            p.start()
            wait_new_leader(everyone)
            assert wait_config_version(p, version)[0] == data, (p.kind, p.sid)
            wait_acks(writer, len(writer.acked) + 5)

        # 3 -> 1: the writer's server stays; the others leave.
        data, version = reconfig(one, leaving="3")
        assert data.splitlines()[:-1] == [one.server_line(), two.server_line()], data
        # When server 2 leads, the writer's server follows it: removing 2
        # ends that role at the commit (it takes over as leader at a new
        # epoch, as a Java follower does) and its client connections may
        # close before the answer: the outcome is read back.
        zk = super_client(one)
        try:
            zk.reconfig_async(joining=None, leaving="2", new_members=None, from_config=-1)
            data = wait_config_without(one, two)
        finally:
            zk.stop()
            zk.close()
        version = int(data.rsplit("version=", 1)[1], 16)
        assert data == one.server_line() + "\nversion=%x" % version, data
        assert wait_mode(one, ["leader"]) == "leader"
        # The long-lived writer goes on writing on the one node.
        wait_acks(writer, len(writer.acked) + 10)
        acked = writer.stop()
        writer = None
        assert_everyone_has([one], acked)

        # Alone again, and restarted on its files, it serves by itself.
        one.stop()
        one.start()
        assert wait_mode(one, ["leader"]) == "leader"
        assert config_node(one)[0] == data
        assert_everyone_has([one], acked)
    except BaseException:
        print(report(everyone))
        raise
    finally:
        if writer is not None:
            writer.stop()
        stop_all(everyone)


PENDING = [
    pytest.param(["java", "java", "java"], id="java"),
    pytest.param(["rust", "rust", "rust"], id="rust"),
    pytest.param(["java", "java", "rust"], id="rust-leader"),
]


@pytest.mark.parametrize("kinds", PENDING)
def test_a_pending_config_in_dynamic_next_is_activated_at_restart(tmp_path, kinds):
    """A server that stopped while a reconfig was proposed keeps the
    proposal in zoo.cfg.dynamic.next. The ensemble (leader 3, the one
    holding such a file: member 2 made an observer) is stopped and
    started again: the leader reads the file at startup, offers the
    proposed config with NEWLEADER and activates it, so every member ends
    on it, with 2 observing, its files written and no .next left."""
    for k in set(kinds):
        require_impl(k)
    peers = [ReconfigPeer(kind, sid, tmp_path / ("s%d-%s" % (sid, kind)))
             for sid, kind in enumerate(kinds, start=1)]
    one, two, three = peers
    try:
        start_reconfig_ensemble(peers, 3)
        for p in peers:
            wait_config_version(p, 0x100000000)
        stop_all(peers)
        pending = "\n".join([one.server_line(), two.server_line("observer"), three.server_line(),
                             "version=100000001"])
        (three.dir / "zoo.cfg.dynamic.next").write_text(pending)
        three.start()
        wait_port(three.election_port, proc=three.proc, log=three.log)
        one.start()
        assert wait_mode(three, ["leader"]) == "leader"
        two.start()
        assert wait_mode(two, ["observer"]) == "observer"
        assert wait_mode(one, ["follower"]) == "follower"
        expected = "\n".join(sorted([one.server_line(), two.server_line("observer"), three.server_line()]))
        for p in peers:
            assert wait_config_version(p, 0x100000001)[0] == pending, (p.kind, p.sid)
            files = p.files()
            assert files.get("zoo.cfg.dynamic.100000001") == expected, (p.kind, p.sid, files)
            assert "zoo.cfg.dynamic.next" not in files, (p.kind, p.sid, files)
    except BaseException:
        print(report(peers))
        raise
    finally:
        stop_all(peers)
