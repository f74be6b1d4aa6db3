"""Mixed ensembles: Java 3.8.0 peers and ours elect the same leader.

Three peers on loopback, two of one kind and one of the other, with the
highest (zxid, sid) placed on each kind in turn (a higher zxid is made by
running our standalone server on that peer's dataDir first and writing a
few znodes). Every peer, Java and ours, must settle on the same leader in
the same election round.

The assertions are about the first election only (Zab after it is the
subject of the test_zab_* files, which reuse `Peer`), read from the logs:
Java's FastLeaderElection DEBUG lines ("Sending Notification ...
(n.round)", "About to leave FLE instance: leader=..., my state=...") and
ours ("Election done: leader L (..., round 0xR ...), my state S").

Any two peers are a quorum, so the start order is fixed: the single peer of
its kind and the rightful leader first (they elect between them, one Java
and one ours), then the third, which must learn the leader in place and
settle in the same round.
"""

import re
import signal
import socket
import subprocess
import time

import pytest

from conftest import JAVA_LIB, JVM_FLAGS, RUST_BIN, ZkServer, free_port, java_classpath, require_impl

ELECTION_TIMEOUT = 90.0  # JVM start-up on a loaded 2-core CI machine


def wait_port(port, timeout=30.0, proc=None, log=None, host="127.0.0.1"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            pytest.fail("peer exited with %s during start-up:\n%s"
                        % (proc.returncode, log.read_text(errors="replace")[-3000:]))
        try:
            with socket.create_connection((host, port), timeout=1.0):
                return
        except OSError:
            time.sleep(0.1)
    pytest.fail("port %d never opened" % port)


def wait_log(peer, needle, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if needle in peer.text():
            return
        time.sleep(0.05)
    pytest.fail("%s peer %d never logged %r:\n%s" % (peer.kind, peer.sid, needle, peer.text()[-3000:]))


def wait_decisions(peers, timeout=ELECTION_TIMEOUT, everyone=None):
    """{sid: (leader, round, state)} once every peer has decided; on failure
    the report shows the logs of `everyone` (default: `peers`)."""
    deadline = time.monotonic() + timeout
    decisions = {}
    while time.monotonic() < deadline and len(decisions) < len(peers):
        for p in peers:
            if p.sid not in decisions:
                d = p.decision()
                if d is not None:
                    decisions[p.sid] = d
        time.sleep(0.1)
    if len(decisions) < len(peers):
        undecided = sorted(p.sid for p in peers if p.sid not in decisions)
        pytest.fail("undecided peers %r after %ss (decided: %r)\n%s" % (
            undecided, timeout, decisions,
            "\n".join("---- %s peer %d ----\n%s" % (p.kind, p.sid, p.text()[-6000:]) for p in everyone or peers)))
    return decisions


class Peer:
    """One ensemble member, Java or ours. `observer` makes it an observer
    (in every member's server list and its own peerType); `extra` adds
    zoo.cfg lines (e.g. the AdminServer's port)."""

    def __init__(self, kind, sid, workdir, observer=False, extra=None):
        self.kind = kind
        self.sid = sid
        self.observer = observer
        self.extra = dict(extra or {})
        self.dir = workdir
        self.data = workdir / "data"
        self.data.mkdir(parents=True, exist_ok=True)
        (self.data / "myid").write_text(str(sid))
        self.client_port = free_port()
        self.quorum_port = free_port()
        self.election_port = free_port()
        self.log = workdir / "peer.log"
        self.proc = None

    def seed(self, nodes):
        """Runs our standalone server on this dataDir and writes `nodes`
        znodes, so this peer's last zxid is higher than the others'."""
        from kazoo.client import KazooClient
        srv = ZkServer("rust", self.dir / "seed", {"dataDir": str(self.data)})
        srv.start()
        try:
            zk = KazooClient(hosts=srv.hosts)
            zk.start(timeout=15)
            for i in range(nodes):
                zk.create("/seed%d" % i, b"x")
            zk.stop()
            zk.close()
        finally:
            srv.stop()

    def write_config(self, peers):
        lines = ["tickTime=1000", "initLimit=5", "syncLimit=2",
                 "dataDir=%s" % self.data, "clientPort=%d" % self.client_port,
                 "clientPortAddress=127.0.0.1", "admin.enableServer=false",
                 "4lw.commands.whitelist=*", "cnxTimeout=2000"]
        for p in peers:
            lines.append("server.%d=127.0.0.1:%d:%d%s" % (p.sid, p.quorum_port, p.election_port,
                                                       ":observer" if p.observer else ""))
        if self.observer:
            lines.append("peerType=observer")
        lines = [l for l in lines if l.split("=", 1)[0] not in self.extra]
        lines += ["%s=%s" % kv for kv in self.extra.items() if kv[1] is not None]
        self.cfg = self.dir / "zoo.cfg"
        self.cfg.write_text("\n".join(lines) + "\n")

    def command(self):
        if self.kind == "java":
            return (["java"] + JVM_FLAGS
                    + ["-Dorg.slf4j.simpleLogger.showDateTime=true",
                       "-Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS",
                       "-Dorg.slf4j.simpleLogger.log.org.apache.zookeeper.server.quorum.FastLeaderElection=debug",
                       "-cp", self.java_classpath(),
                       "org.apache.zookeeper.server.quorum.QuorumPeerMain", str(self.cfg)])
        return [str(RUST_BIN), str(self.cfg)]

    def java_classpath(self):
        """Java's AdminServer needs the servlet API jar (Debian's stock
        classpath lacks it: the AdminServer then silently does not start)."""
        if self.extra.get("admin.enableServer") == "true":
            return java_classpath() + ":" + str(JAVA_LIB / "servlet-api.jar")
        return java_classpath()

    def start(self):
        require_impl(self.kind)
        out = open(self.log, "ab")
        env = {"RUST_LOG": "info", "PATH": "/usr/bin:/bin:/usr/local/bin"}
        self.proc = subprocess.Popen(self.command(), stdout=out, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, cwd=self.dir, env=env,
                                     start_new_session=True)
        out.close()

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)

    def text(self):
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""

    def decision(self):
        """(leader, round, state) of this peer's first election, or None."""
        text = self.text()
        if self.kind == "rust":
            m = re.search(r"Election done: leader (\d+) \(zxid 0x[0-9a-f]+, round 0x([0-9a-f]+), "
                          r"peerEpoch 0x[0-9a-f]+\), my state (\w+)", text)
            return (int(m.group(1)), int(m.group(2), 16), m.group(3)) if m else None
        m = re.search(r"About to leave FLE instance: leader=(\d+), zxid=0x[0-9a-f]+, my id=\d+, "
                      r"my state=(\w+)", text)
        if not m:
            return None
        rounds = re.findall(r"\(n\.leader\), 0x[0-9a-f]+ \(n\.zxid\), 0x([0-9a-f]+) \(n\.round\)",
                            text[:m.start()])
        return (int(m.group(1)), int(rounds[-1], 16) if rounds else None, m.group(2))


SCENARIOS = [
    # (kinds by sid, sid seeded with a higher zxid or None, expected leader)
    pytest.param(["java", "java", "rust"], None, 3, id="2java+1rust-rust-highest-sid"),
    pytest.param(["java", "java", "rust"], 2, 2, id="2java+1rust-java-highest-zxid"),
    pytest.param(["rust", "rust", "java"], None, 3, id="1java+2rust-java-highest-sid"),
    pytest.param(["rust", "rust", "java"], 1, 1, id="1java+2rust-rust-highest-zxid"),
]


@pytest.mark.parametrize("kinds,seeded,leader", SCENARIOS)
def test_mixed_ensemble_elects_the_same_leader(tmp_path, kinds, seeded, leader):
    require_impl("java")
    require_impl("rust")
    peers = [Peer(kind, sid, tmp_path / ("s%d-%s" % (sid, kind)))
             for sid, kind in enumerate(kinds, start=1)]
    if seeded is not None:
        peers[seeded - 1].seed(5)
    for p in peers:
        p.write_config(peers)
    # The single peer of its kind and the rightful leader start first (any
    # two peers are a quorum, so these two elect the leader between them,
    # one Java and one ours); the third starts once they have decided and
    # must learn the leader in place, in the same round.
    single = [p for p in peers if kinds.count(p.kind) == 1]
    rest = sorted((p for p in peers if p not in single), key=lambda p: p.sid != leader)
    first, second, third = single + rest
    try:
        first.start()
        wait_port(first.election_port, proc=first.proc, log=first.log)
        wait_log(first, "New election. My id = %d" % first.sid)
        second.start()
        decisions = wait_decisions([first, second])
        third.start()
        decisions.update(wait_decisions([third], everyone=peers))
        report = "\n".join("---- %s peer %d ----\n%s" % (p.kind, p.sid, p.text()[-4000:])
                           for p in peers)
        rounds = {d[1] for d in decisions.values()}
        assert len(rounds) == 1, "different rounds: %r\n%s" % (decisions, report)
        for sid, (elected, _round, state) in decisions.items():
            assert elected == leader, "peer %d elected %d: %r\n%s" % (sid, elected, decisions, report)
            expected_state = "LEADING" if sid == leader else "FOLLOWING"
            assert state == expected_state, "peer %d: %s\n%s" % (sid, state, report)
    finally:
        for p in peers:
            p.stop()
