"""Dynamic reconfiguration (reconfigEnabled=true), Java 3.8.0 and ours.

Ensembles of three on loopback, all Java, all ours, and mixed with the
leader of either kind. Members are written as reconfig users write them:
`server.N=host:quorum:election:participant;host:clientPort` and no
clientPort key.

After the first election every member must show the same
`/zookeeper/config` (data and stat: `version=100000000`, mzxid
0x100000000: the new epoch's first zxid becomes the config version) and
hold the files Java writes: `zoo.cfg.dynamic.100000000` (the server lines
sorted, no version line), zoo.cfg rewritten without its member lines and
client-port keys and with `dynamicConfigFile=`, `zoo.cfg.bak` (the file as
written), and no `zoo.cfg.dynamic.next` left behind. A member restarted
on its rewritten files rejoins.
"""

import time

import pytest

from conftest import require_impl
from test_zab_learner import (SYNC_TIMEOUT, ZabPeer, assert_same_trees, client, report, stop_all,
                              wait_mode)
from test_election import wait_port


class ReconfigPeer(ZabPeer):
    """A peer whose member lines carry the client address (reconfig style)."""

    def server_line(self, role="participant"):
        return "server.%d=127.0.0.1:%d:%d:%s;127.0.0.1:%d" % (
            self.sid, self.quorum_port, self.election_port, role, self.client_port)

    def write_config(self, peers):
        lines = ["tickTime=1000", "initLimit=10", "syncLimit=5",
                 "dataDir=%s" % self.data, "admin.enableServer=false",
                 "4lw.commands.whitelist=*", "reconfigEnabled=true",
                 "standaloneEnabled=false"]
        lines += [p.server_line("observer" if p.observer else "participant") for p in peers]
        lines = [l for l in lines if l.split("=", 1)[0] not in self.extra]
        lines += ["%s=%s" % kv for kv in self.extra.items()]
        self.cfg = self.dir / "zoo.cfg"
        self.written = "\n".join(lines) + "\n"
        self.cfg.write_text(self.written)

    def files(self):
        return {f.name: f.read_text() for f in self.dir.iterdir() if f.name.startswith("zoo.cfg")}


def config_node(peer):
    zk = client(peer)
    try:
        zk.sync("/zookeeper/config")
        data, stat = zk.get("/zookeeper/config")
        return data.decode(), stat.mzxid, stat.version
    finally:
        zk.stop()
        zk.close()


def wait_config_version(peer, version, timeout=SYNC_TIMEOUT):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = config_node(peer)
            if last[0].endswith("version=%x" % version):
                return last
        except Exception as e:  # noqa: BLE001 - a peer between roles
            last = repr(e)
        time.sleep(0.3)
    pytest.fail("%s peer %d never showed config version %x (last %r)" % (peer.kind, peer.sid, version, last))


def start_reconfig_ensemble(peers, leader_sid):
    for p in peers:
        p.write_config(peers)
    by_sid = {p.sid: p for p in peers}
    leader = by_sid[leader_sid]
    leader.start()
    wait_port(leader.election_port, proc=leader.proc, log=leader.log)
    others = [p for p in peers if p is not leader]
    others[0].start()
    wait_mode(leader, ["leader"])
    for p in others[1:]:
        p.start()
    for p in peers:
        wait_mode(p, ["leader"] if p.sid == leader_sid else (["observer"] if p.observer else ["follower"]))


KINDS = [
    pytest.param(["java", "java", "java"], id="java"),
    pytest.param(["rust", "rust", "rust"], id="rust"),
    pytest.param(["rust", "rust", "java"], id="java-leader"),
    pytest.param(["java", "java", "rust"], id="rust-leader"),
]


@pytest.mark.parametrize("kinds", KINDS)
def test_first_election_versions_the_config_and_rewrites_the_files(tmp_path, kinds):
    for k in set(kinds):
        require_impl(k)
    peers = [ReconfigPeer(kind, sid, tmp_path / ("s%d-%s" % (sid, kind)))
             for sid, kind in enumerate(kinds, start=1)]
    try:
        start_reconfig_ensemble(peers, 3)
        expected_text = "\n".join(p.server_line() for p in peers) + "\nversion=100000000"
        nodes = {p.sid: wait_config_version(p, 0x100000000) for p in peers}
        for p in peers:
            data, mzxid, version = nodes[p.sid]
            assert data == expected_text, (p.kind, p.sid, data)
            assert mzxid == 0x100000000, (p.kind, p.sid, hex(mzxid))
        # The node's data version is each server's own count of local
        # rewrites; Java's and ours count alike.
        assert len({nodes[p.sid][2] for p in peers if p.kind == kinds[2]}) == 1, nodes

        dynamic_text = "\n".join(sorted(p.server_line() for p in peers))
        for p in peers:
            files = p.files()
            assert files.get("zoo.cfg.dynamic.100000000") == dynamic_text, (p.kind, p.sid, files)
            assert "zoo.cfg.dynamic.next" not in files, (p.kind, p.sid, files)
            assert files.get("zoo.cfg.bak") == p.written, (p.kind, p.sid, files)
            cfg = set(files["zoo.cfg"].splitlines())
            expected = {l for l in p.written.splitlines() if not l.startswith("server.")}
            expected.add("dynamicConfigFile=%s" % (p.dir / "zoo.cfg.dynamic.100000000").resolve())
            assert cfg == expected, (p.kind, p.sid, sorted(cfg ^ expected))

        # Restarted on its rewritten files, a follower rejoins with the
        # same config; so does the leader (a new epoch, same version).
        follower = peers[0]
        follower.stop()
        follower.start()
        wait_mode(follower, ["follower"])
        assert config_node(follower)[0] == expected_text
        peers[2].stop()
        peers[2].start()
        for p in peers:
            wait_mode(p, ["leader", "follower"])
        for p in peers:
            assert wait_config_version(p, 0x100000000)[0] == expected_text
            assert "zoo.cfg.dynamic.next" not in p.files()
    except BaseException:
        print(report(peers))
        raise
    finally:
        stop_all(peers)


SUPER = {"DigestAuthenticationProvider.superDigest": "super:D/InIHSb7yEEbrWz8b9l71RjZJU="}


def super_client(peer):
    zk = client(peer)
    zk.add_auth("digest", "super:test")
    return zk


class Writer:
    """A client that keeps creating sequential nodes through `peer` and
    remembers which creates were acknowledged.

    A create that fails is not retried under the same name: a connection
    lost after the server committed it hides the outcome, and a retry of
    that name would meet NodeExists for ever."""

    def __init__(self, peer):
        import threading
        self.zk = client(peer)
        self.zk.ensure_path("/w")
        self.acked = []
        self.stop_flag = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        i = 0
        while not self.stop_flag.is_set():
            path = "/w/n-%06d" % i
            i += 1
            try:
                self.acked.append(self.zk.create(path, b"x"))
            except Exception:  # noqa: BLE001 - outcome unknown; the next name follows
                time.sleep(0.1)
            time.sleep(0.02)

    def stop(self):
        self.stop_flag.set()
        self.thread.join(30)
        self.zk.stop()
        self.zk.close()
        return self.acked


def assert_everyone_has(peers, acked):
    for p in peers:
        zk = client(p)
        try:
            zk.sync("/w")
            have = set("/w/" + c for c in zk.get_children("/w"))
        finally:
            zk.stop()
            zk.close()
        missing = [a for a in acked if a not in have]
        assert not missing, (p.kind, p.sid, missing[:10])


ADD_REMOVE = [
    pytest.param("java", "rust", id="java-leader-adds-ours"),
    pytest.param("rust", "java", id="our-leader-adds-java"),
    pytest.param("rust", "rust", id="ours"),
]


@pytest.mark.parametrize("ensemble_kind,joiner_kind", ADD_REMOVE)
def test_leader_adds_and_removes_a_server(tmp_path, ensemble_kind, joiner_kind):
    """An ensemble (leader 3) adds server 4 of the other kind with kazoo's
    reconfig (incremental), then removes it, while a client keeps writing:
    no acknowledged write is lost, every member shows the same config, the
    new server follows as a voter and then as a non-voting follower."""
    require_impl(ensemble_kind)
    require_impl(joiner_kind)
    peers = [ReconfigPeer(ensemble_kind, sid, tmp_path / ("s%d" % sid), extra=SUPER) for sid in (1, 2, 3)]
    joiner = ReconfigPeer(joiner_kind, 4, tmp_path / "s4", extra=SUPER)
    everyone = peers + [joiner]
    try:
        start_reconfig_ensemble(peers, 3)
        joiner.write_config(everyone)
        joiner.start()
        wait_mode(joiner, ["follower"])
        writer = Writer(peers[0])
        time.sleep(1)
        zk = super_client(peers[2])
        try:
            data, stat = zk.reconfig(joining=joiner.server_line(), leaving=None, new_members=None)
            added = data.decode()
            assert joiner.server_line() in added, added
            version = int(added.rsplit("version=", 1)[1], 16)
            for p in everyone:
                assert wait_config_version(p, version)[0] == added, (p.kind, p.sid)
            assert joiner.files().get("zoo.cfg.dynamic.%x" % version) == "\n".join(
                sorted(p.server_line() for p in everyone)), joiner.files()
            time.sleep(1)
            data, stat = zk.reconfig(joining=None, leaving="4", new_members=None)
            removed = data.decode()
            assert "server.4=" not in removed, removed
            version = int(removed.rsplit("version=", 1)[1], 16)
            for p in everyone:
                assert wait_config_version(p, version)[0] == removed, (p.kind, p.sid)
        finally:
            zk.stop()
            zk.close()
        time.sleep(1)
        acked = writer.stop()
        assert len(acked) > 10, acked
        wait_mode(joiner, ["follower"])
        assert_everyone_has(everyone, acked)
        assert_same_trees(everyone)
    except BaseException:
        print(report(everyone))
        raise
    finally:
        stop_all(everyone)


def reconfig_outcome(zk, **kw):
    """The exception class name kazoo raises, or the new config's server
    ids and whether its version is the zxid the reconfig was logged at."""
    try:
        data, stat = zk.reconfig(kw.get("joining"), kw.get("leaving"), kw.get("new_members"),
                                 kw.get("from_config", -1))
    except Exception as e:  # noqa: BLE001 - the class is the outcome
        return type(e).__name__
    text = data.decode()
    sids = sorted(int(l.split("=")[0].split(".")[1]) for l in text.splitlines() if l.startswith("server."))
    version = int(text.rsplit("version=", 1)[1], 16)
    return ("ok", sids, version == stat.mzxid)


def test_reconfig_answers_as_java(tmp_path, impl, crosscheck):
    """kazoo's reconfig calls through a follower against a 3-node ensemble:
    no super auth, bad arguments, two joiners on one address, a stale curConfigId, a joiner that is
    not running (no quorum of the new config), removing and re-adding a
    voter (incremental), a bulk newMembers and a participant turned
    observer, then all three voters again (bulk); the outcomes must be
    Java's."""
    kind = impl
    require_impl(kind)
    peers = [ReconfigPeer(kind, sid, tmp_path / ("s%d" % sid), extra=SUPER) for sid in (1, 2, 3)]
    try:
        start_reconfig_ensemble(peers, 3)
        plain = client(peers[0])
        zk = super_client(peers[0])
        try:
            data, stat = zk.get("/zookeeper/config")
            current = int(data.decode().rsplit("version=", 1)[1], 16)
            ghost = "server.9=127.0.0.1:1:2:participant;127.0.0.1:3"
            steps = [
                ("noauth", reconfig_outcome(plain, leaving="2")),
                ("no-client-port", reconfig_outcome(zk, joining="server.9=127.0.0.1:1:2")),
                ("bad-sid", reconfig_outcome(zk, leaving="x")),
                # Two joiners on one (non-loopback) address: Java refuses
                # before it looks for a quorum.
                ("duplicate-address", reconfig_outcome(zk, joining=(
                    "server.8=192.0.2.200:5000:5001;192.0.2.200:5002,"
                    "server.9=192.0.2.200:5000:5003;192.0.2.200:5004"))),
                ("no-voters", reconfig_outcome(zk, leaving="1,2,3")),
                ("stale-config-id", reconfig_outcome(zk, leaving="2", from_config=current + 1)),
                ("no-quorum", reconfig_outcome(zk, joining=ghost + ",server.8=127.0.0.1:4:5;127.0.0.1:6",
                                               leaving="1")),
                ("remove-2", reconfig_outcome(zk, leaving="2")),
                ("add-2-back", reconfig_outcome(zk, joining=peers[1].server_line())),
                ("2-observer", reconfig_outcome(zk, joining=peers[1].server_line("observer"))),
                ("bulk", reconfig_outcome(zk, new_members=",".join(p.server_line() for p in peers))),
            ]
        finally:
            plain.stop()
            plain.close()
            zk.stop()
            zk.close()
        for name, outcome in steps:
            crosscheck.check(name, outcome)
        assert dict(steps)["remove-2"] == ("ok", [1, 3], True), steps
        assert dict(steps)["duplicate-address"] == "BadArgumentsError", steps
        final = int(config_node(peers[0])[0].rsplit("version=", 1)[1], 16)
        for p in peers:
            wait_mode(p, ["leader", "follower"])
            assert wait_config_version(p, final)[0].count("participant") == 3
    except BaseException:
        print(report(peers))
        raise
    finally:
        stop_all(peers)
