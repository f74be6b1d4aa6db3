"""`standaloneEnabled=false`: one node grows to five by reconfig and
shrinks back to three, all ours and with Java 3.8.0 members mixed in,
under a client that keeps writing.

Each step adds (or removes) two voters in one incremental reconfig, sent
to a member that is not the leader (forwarded). A joiner starts with the
current members and itself in its zoo.cfg, so the joiners alone never
make a quorum of their own view: they learn the leader's newer config
from its election notifications and follow it without a vote until the
reconfig makes them voters. After every step each member, and each
server that left, shows the same `/zookeeper/config` and holds it in
`zoo.cfg.dynamic.<version>` with zoo.cfg pointing there. At the end the
three members are restarted one by one on those rewritten files: each
rejoins, the leader among them too, and shows the same config; no
acknowledged write is lost and every server holds the same tree.
"""

import time

import pytest

from conftest import require_impl
from test_reconfig import (SUPER, ReconfigPeer, Writer, assert_everyone_has, config_node, super_client,
                           wait_config_version)
from test_reconfig_live import wait_new_leader
from test_zab_learner import SYNC_TIMEOUT, assert_same_trees, report, stop_all, wait_mode


def reconfig(peer, joining=None, leaving=None):
    """An incremental reconfig through `peer`; the new config's text and
    version."""
    zk = super_client(peer)
    try:
        data = zk.reconfig(joining, leaving, None)[0].decode()
    finally:
        zk.stop()
        zk.close()
    return data, int(data.rsplit("version=", 1)[1], 16)


def wait_acks(writer, count, timeout=2 * SYNC_TIMEOUT):
    deadline = time.monotonic() + timeout
    while len(writer.acked) < count and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(writer.acked) >= count, (len(writer.acked), count)


def wait_files(peer, lines, version, timeout=SYNC_TIMEOUT):
    """Polls until `peer` holds the config `version` (its server `lines`)
    in zoo.cfg.dynamic.<version> and zoo.cfg names that file."""
    name = "zoo.cfg.dynamic.%x" % version
    expected = "\n".join(sorted(lines))
    pointer = "dynamicConfigFile=%s" % (peer.dir / name).resolve()
    deadline = time.monotonic() + timeout
    files = {}
    while time.monotonic() < deadline:
        files = peer.files()
        if files.get(name) == expected and pointer in files.get("zoo.cfg", "").splitlines():
            return
        time.sleep(0.2)
    pytest.fail("%s peer %d: files never held version %x of %r: %r"
                % (peer.kind, peer.sid, version, lines, files))


def assert_config_everywhere(peers, members, data, version):
    """Every one of `peers` shows `data` (version `version`), the config
    of `members`, in /zookeeper/config and in its files."""
    for p in peers:
        assert wait_config_version(p, version)[0] == data, (p.kind, p.sid)
        wait_files(p, [m.server_line() for m in members], version)


KINDS = [
    pytest.param(["rust"] * 5, id="ours"),
    # Java as two of the five: one joins in each growth step, one of them
    # leaves in the shrink and the other stays and is restarted.
    pytest.param(["rust", "java", "rust", "java", "rust"], id="mixed"),
]


@pytest.mark.parametrize("kinds", KINDS)
def test_one_grows_to_five_and_shrinks_to_three(tmp_path, kinds):
    for k in set(kinds):
        require_impl(k)
    peers = [ReconfigPeer(kind, sid, tmp_path / ("s%d-%s" % (sid, kind)), extra=SUPER)
             for sid, kind in enumerate(kinds, start=1)]
    one, two, three, four, five = peers
    writer = None
    try:
        one.write_config([one])
        one.start()
        assert wait_mode(one, ["leader"]) == "leader"
        first = wait_config_version(one, 0x100000000)[0]
        assert first == one.server_line() + "\nversion=100000000", first
        writer = Writer(one)
        wait_acks(writer, 10)

        # 1 -> 3.
        for p in (two, three):
            p.write_config([one, p])
            p.start()
        for p in (two, three):
            wait_mode(p, ["follower"])
        data, version = reconfig(two, joining=",".join(p.server_line() for p in (two, three)))
        members = [one, two, three]
        assert data.splitlines()[:-1] == [p.server_line() for p in members], data
        assert_config_everywhere(members, members, data, version)
        wait_acks(writer, len(writer.acked) + 10)

        # 3 -> 5.
        for p in (four, five):
            p.write_config(members + [p])
            p.start()
        for p in (four, five):
            wait_mode(p, ["follower"])
        data, version = reconfig(three, joining=",".join(p.server_line() for p in (four, five)))
        assert data.splitlines()[:-1] == [p.server_line() for p in peers], data
        assert_config_everywhere(peers, peers, data, version)
        assert sorted(wait_mode(p, ["leader", "follower"]) for p in peers) == ["follower"] * 4 + ["leader"]
        wait_acks(writer, len(writer.acked) + 10)

        # 5 -> 3: two voters leave (a Java one in the mixed ensemble); they
        # go on following without a vote and learn the config too.
        data, version = reconfig(two, leaving="4,5")
        members = [one, two, three]
        assert data.splitlines()[:-1] == [p.server_line() for p in members], data
        assert_config_everywhere(peers, members, data, version)
        wait_acks(writer, len(writer.acked) + 10)

        # Each member restarted on its rewritten files rejoins the three
        # (server 1, the leader so far, last: the others elect a new one).
        for p in (two, three, one):
            p.stop()
            p.start()
            wait_new_leader(members)
            assert wait_config_version(p, version)[0] == data, (p.kind, p.sid)
            wait_files(p, [m.server_line() for m in members], version)
            wait_acks(writer, len(writer.acked) + 5)
        for p in members:
            assert config_node(p)[0] == data, (p.kind, p.sid)

        acked = writer.stop()
        writer = None
        assert len(acked) >= 55, len(acked)
        # The servers that left still follow without a vote: they hold
        # every write too.
        for p in (four, five):
            assert wait_mode(p, ["follower"]) == "follower"
            assert config_node(p)[0] == data, (p.kind, p.sid)
        assert_everyone_has(peers, acked)
        assert_same_trees(peers)
    except BaseException:
        print(report(peers))
        raise
    finally:
        if writer is not None:
            writer.stop()
        stop_all(peers)
