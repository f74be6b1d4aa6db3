"""What clients and operators see of a reconfig while the members keep
their roles, in mixed ensembles (Java 3.8.0 and ours, either leading).

A getConfig watch (kazoo's get of `/zookeeper/config` with a watcher: the
request Java's `ZooKeeper.getConfig(watch)` sends) fires NodeDataChanged
on every member when a reconfig commits, and the 4lw `conf` membership
and the AdminServer's `voting_view` show the new config on members whose
role did not restart; every member, Java or ours, answers the same.

A leader that a reconfig removes (or turns into an observer) steps down:
the remaining voters, Java's and ours, elect a new leader among
themselves and go on serving a writing client without losing an
acknowledged write; our leader and Java's.
"""

import json
import threading
import time
import urllib.request

import pytest

from conftest import free_port, require_impl
from test_reconfig import (SUPER, ReconfigPeer, Writer, assert_everyone_has, config_node,
                           start_reconfig_ensemble, super_client, wait_config_version)
from test_zab_learner import SYNC_TIMEOUT, assert_same_trees, client, four_letter, report, stop_all, wait_mode


def admin_peer(kind, sid, tmp_path):
    port = free_port()
    extra = dict(SUPER)
    extra.update({"admin.enableServer": "true", "admin.serverAddress": "127.0.0.1",
                  "admin.serverPort": str(port)})
    peer = ReconfigPeer(kind, sid, tmp_path / ("s%d-%s" % (sid, kind)), extra=extra)
    peer.admin_port = port
    return peer


def voting_view(peer):
    with urllib.request.urlopen("http://127.0.0.1:%d/commands/voting_view" % peer.admin_port,
                                timeout=10) as r:
        return json.loads(r.read().decode())["current_config"]


def conf_membership(peer):
    text = four_letter(peer.client_port, "conf")
    return text.split("membership: \n", 1)[1] if "membership: \n" in text else text


def wait_views(peers, config_text, timeout=SYNC_TIMEOUT):
    """Polls until every member's `conf` membership is `config_text`;
    returns each one's voting_view then."""
    deadline = time.monotonic() + timeout
    last = {}
    while time.monotonic() < deadline:
        last = {p.sid: conf_membership(p) for p in peers}
        if all(t.strip() == config_text for t in last.values()):
            return {p.sid: voting_view(p) for p in peers}
        time.sleep(0.3)
    pytest.fail("conf membership never became %r: %r" % (config_text, last))


class ConfigWatch:
    """A getConfig watch on one member, re-armed after each event (as
    Curator's EnsembleTracker does); records (event type, data read)."""

    def __init__(self, peer):
        self.zk = client(peer)
        self.events = []
        self.cond = threading.Condition()
        self.initial = self.zk.get("/zookeeper/config", watch=self.fired)[0].decode()

    def fired(self, event):
        data = self.zk.get("/zookeeper/config", watch=self.fired)[0].decode()
        with self.cond:
            self.events.append((event.type, event.path, data))
            self.cond.notify_all()

    def wait_for(self, config_text, timeout=SYNC_TIMEOUT):
        deadline = time.monotonic() + timeout
        with self.cond:
            while not any(e[2] == config_text for e in self.events):
                left = deadline - time.monotonic()
                if left <= 0:
                    pytest.fail("no watch event brought %r (events %r)" % (config_text, self.events))
                self.cond.wait(left)
            return list(self.events)

    def close(self):
        self.zk.stop()
        self.zk.close()


MIXED = [
    pytest.param(["java", "rust", "rust"], "java", id="our-leader"),
    pytest.param(["rust", "java", "java"], "rust", id="java-leader"),
]


@pytest.mark.parametrize("kinds,joiner_kind", MIXED)
def test_config_watches_and_views_follow_a_reconfig(tmp_path, kinds, joiner_kind):
    """Leader 3; server 4 of the other kind joins by reconfig and leaves
    again. Each step fires a NodeDataChanged on /zookeeper/config at every
    member watching it, and `conf`/`voting_view` answer the new config on
    the members that kept their roles, the same on Java's and ours."""
    for k in set(kinds) | {joiner_kind}:
        require_impl(k)
    peers = [admin_peer(kind, sid, tmp_path) for sid, kind in enumerate(kinds, start=1)]
    joiner = admin_peer(joiner_kind, 4, tmp_path)
    everyone = peers + [joiner]
    watches = []
    try:
        start_reconfig_ensemble(peers, 3)
        first = wait_config_version(peers[0], 0x100000000)[0]
        before = wait_views(peers, first)
        assert len({json.dumps(v, sort_keys=True) for v in before.values()}) == 1, before
        assert sorted(before[1]) == ["1", "2", "3"], before[1]
        joiner.write_config(everyone)
        joiner.start()
        wait_mode(joiner, ["follower"])
        watches = [ConfigWatch(p) for p in peers]
        assert all(w.initial == first for w in watches)

        zk = super_client(peers[0])
        try:
            added = zk.reconfig(joining=joiner.server_line(), leaving=None, new_members=None)[0].decode()
            for w in watches:
                events = w.wait_for(added)
                assert events[0][:2] == ("CHANGED", "/zookeeper/config"), events
            views = wait_views(peers, added)
            assert len({json.dumps(v, sort_keys=True) for v in views.values()}) == 1, views
            assert sorted(views[1]) == ["1", "2", "3", "4"], views[1]
            assert views[1]["4"]["learner_type"] == "participant", views[1]

            removed = zk.reconfig(joining=None, leaving="4", new_members=None)[0].decode()
        finally:
            zk.stop()
            zk.close()
        for w in watches:
            w.wait_for(removed)
        views = wait_views(peers, removed)
        assert len({json.dumps(v, sort_keys=True) for v in views.values()}) == 1, views
        assert views[1] == before[1], (views[1], before[1])
        # The members kept their roles through both steps.
        for p in peers:
            wait_mode(p, ["leader"] if p.sid == 3 else ["follower"])
    except BaseException:
        print(report(everyone))
        raise
    finally:
        for w in watches:
            w.close()
        stop_all(everyone)


def wait_config_without_voter(peer, gone, timeout=SYNC_TIMEOUT):
    """Polls `peer`'s /zookeeper/config until `gone` is no voter in it."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = config_node(peer)[0]
            if gone.server_line() not in last.splitlines():
                return last
        except Exception as e:  # noqa: BLE001 - a peer between roles
            last = repr(e)
        time.sleep(0.3)
    pytest.fail("peer %d kept voter %d in its config (last %r)" % (peer.sid, gone.sid, last))


def wait_new_leader(peers, timeout=SYNC_TIMEOUT):
    """Polls until one of `peers` leads and the others follow."""
    deadline = time.monotonic() + timeout
    modes = {}
    while time.monotonic() < deadline:
        modes = {p.sid: four_letter(p.client_port, "srvr") for p in peers}
        leading = [sid for sid, m in modes.items() if "Mode: leader" in m]
        following = [sid for sid, m in modes.items() if "Mode: follower" in m]
        if len(leading) == 1 and len(following) == len(peers) - 1:
            return leading[0]
        time.sleep(0.2)
    pytest.fail("no new leader among %r: %r" % ([p.sid for p in peers], modes))


STEP_DOWN = [
    pytest.param(["java", "rust", "rust"], "remove", id="our-leader-removed"),
    pytest.param(["java", "rust", "rust"], "observer", id="our-leader-made-observer"),
    pytest.param(["rust", "rust", "java"], "remove", id="java-leader-removed"),
]


@pytest.mark.parametrize("kinds,how", STEP_DOWN)
def test_leader_steps_down_when_reconfig_removes_it(tmp_path, kinds, how):
    """Leader 3 is removed by reconfig (or made an observer) while a
    client keeps writing through member 1: members 1 and 2 elect a new
    leader among themselves and keep serving, no acknowledged write is
    lost, and both show the config without 3 as a voter."""
    for k in set(kinds):
        require_impl(k)
    peers = [ReconfigPeer(kind, sid, tmp_path / ("s%d-%s" % (sid, kind)), extra=SUPER)
             for sid, kind in enumerate(kinds, start=1)]
    try:
        start_reconfig_ensemble(peers, 3)
        writer = Writer(peers[0])
        deadline = time.monotonic() + SYNC_TIMEOUT
        while len(writer.acked) < 10 and time.monotonic() < deadline:
            time.sleep(0.1)
        # The member answering the reconfig loses its leader at the
        # commit, and may close its client connections before answering
        # (Java's followers do): the outcome is read back from the members.
        zk = super_client(peers[1])
        try:
            if how == "remove":
                zk.reconfig_async(joining=None, leaving="3", new_members=None, from_config=-1)
                third = None
            else:
                zk.reconfig_async(joining=peers[2].server_line("observer"), leaving=None,
                                  new_members=None, from_config=-1)
                third = peers[2].server_line("observer")
            data = wait_config_without_voter(peers[0], peers[2])
        finally:
            zk.stop()
            zk.close()
        wait_new_leader(peers[:2])
        lines = data.splitlines()
        assert lines[:2] == [peers[0].server_line(), peers[1].server_line()], data
        assert lines[2:-1] == ([third] if third else []), data
        version = int(data.rsplit("version=", 1)[1], 16)
        for p in peers[:2]:
            assert wait_config_version(p, version)[0] == data, (p.kind, p.sid)
        if how == "observer":
            assert wait_mode(peers[2], ["observer"]) == "observer"
            assert wait_config_version(peers[2], version)[0] == data
        # The long-lived writer's session goes on writing under the new
        # leader (generous: on a loaded machine it may first have to
        # reconnect after the election).
        acked_before = len(writer.acked)
        deadline = time.monotonic() + 2 * SYNC_TIMEOUT
        while len(writer.acked) < acked_before + 20 and time.monotonic() < deadline:
            time.sleep(0.1)
        acked = writer.stop()
        assert len(acked) >= acked_before + 20, (acked_before, len(acked))
        assert_everyone_has(peers[:2], acked)
        assert_same_trees(peers[:2])
    except BaseException:
        print(report(peers))
        raise
    finally:
        stop_all(peers)
