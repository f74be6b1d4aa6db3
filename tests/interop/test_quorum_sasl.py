"""Quorum SASL in mixed ensembles: Java 3.8.0 peers and ours authenticate
each other on the election and quorum ports.

Every peer gets a JAAS file (-Djava.security.auth.login.config, for Java
and ours alike) with a `QuorumServer` section (the DIGEST-MD5 users a peer
accepts) and a `QuorumLearner` section (the user and password it dials
with), and zoo.cfg's quorum.auth.* keys.

- Required both ways (enableSasl, learnerRequireSasl, serverRequireSasl):
  a Java leader with our followers, and our leader with Java followers,
  elect, sync and serve (kazoo writes on every node, every node then
  holds the same tree); both logs show the completed exchanges. The same
  over quorum TLS (sslQuorum): SASL then runs inside the TLS sessions.
- Observers, a Java one and one of ours, authenticate like followers
  (to a Java leader and to ours) and serve the same tree.
- A peer whose learner password is wrong cannot join: both others refuse
  it on their election ports, so it never learns the leader; the two
  others keep serving.
- The rolling path Java documents, node by node in a mixed ensemble: no
  SASL; enableSasl=true (nothing required); learnerRequireSasl=true;
  serverRequireSasl=true. The ensemble serves after every restart.
"""

import time

import pytest

from conftest import RUST_BIN, require_impl
from test_zab_learner import (ZabPeer, assert_same_trees, client, four_letter, report,
                              start_ensemble, stop_all, wait_mode, write_everywhere)

JAAS = """QuorumServer {
       org.apache.zookeeper.server.auth.DigestLoginModule required
       user_test="%(server)s";
};
QuorumLearner {
       org.apache.zookeeper.server.auth.DigestLoginModule required
       username="test"
       password="%(learner)s";
};
"""

REQUIRED = {"quorum.auth.enableSasl": "true", "quorum.auth.learnerRequireSasl": "true",
            "quorum.auth.serverRequireSasl": "true"}

# What each implementation logs when an exchange completes, per side.
SERVER_OK = "Successfully completed the authentication using SASL. learner addr"
LEARNER_OK = "Successfully completed the authentication using SASL. server addr"


class SaslPeer(ZabPeer):
    """A peer started with a JAAS file of its own."""

    def __init__(self, kind, sid, workdir, extra=None, learner_password="mypassword",
                 observer=False):
        super().__init__(kind, sid, workdir, observer=observer, extra=extra)
        self.jaas = workdir / "jaas.conf"
        self.set_password(learner_password)

    def set_password(self, learner_password):
        self.jaas.write_text(JAAS % {"server": "mypassword", "learner": learner_password})

    def command(self):
        flag = "-Djava.security.auth.login.config=%s" % self.jaas
        cmd = super().command()
        if self.kind == "java":
            return [cmd[0], flag] + cmd[1:]
        return [str(RUST_BIN), flag, str(self.cfg)]


def peers_of(tmp_path, kinds, extra, passwords=None):
    passwords = passwords or {}
    return [SaslPeer(kind, sid, tmp_path / ("p%d" % sid), extra=extra,
                     learner_password=passwords.get(sid, "mypassword"))
            for sid, kind in enumerate(kinds, start=1)]


def serving_mode(peer):
    text = four_letter(peer.client_port, "srvr")
    for mode in ("leader", "follower", "observer"):
        if "Mode: %s" % mode in text:
            return mode
    return None


@pytest.fixture(scope="module")
def quorum_certs(tmp_path_factory):
    from test_quorum_tls import make_certs
    return make_certs(tmp_path_factory.mktemp("quorum-sasl-certs"))


@pytest.mark.parametrize("transport", ["plain", "tls"])
@pytest.mark.parametrize("kinds", [
    pytest.param(["rust", "rust", "java"], id="java-leader-our-followers"),
    pytest.param(["java", "java", "rust"], id="our-leader-java-followers"),
])
def test_required_sasl_mixed_ensemble_serves(tmp_path, kinds, transport, request):
    require_impl("java")
    require_impl("rust")
    peers = peers_of(tmp_path, kinds, REQUIRED)
    if transport == "tls":
        from test_quorum_tls import tls_evidence, tls_keys
        certs = request.getfixturevalue("quorum_certs")
        for p in peers:
            p.extra.update(tls_keys(certs, p.sid))
    try:
        start_ensemble(peers, 3)
        write_everywhere(peers, "qsasl")
        assert_same_trees(peers)
        leader = peers[2]
        # The leader checked both learners on its quorum port, and every
        # peer proved itself at least once (election or quorum port).
        assert leader.text().count(SERVER_OK) >= 2, report(peers)
        for p in peers:
            assert LEARNER_OK in p.text(), report(peers)
            assert "Skipping SASL authentication" not in p.text(), report(peers)
            if transport == "tls":
                assert tls_evidence(p), report(peers)
                assert "Accepted plaintext connection" not in p.text(), report(peers)
    finally:
        stop_all(peers)


@pytest.mark.parametrize("kinds", [
    pytest.param(["rust", "rust", "java"], id="java-leader"),
    pytest.param(["java", "java", "rust"], id="our-leader"),
])
def test_required_sasl_observers(tmp_path, kinds):
    """A Java observer (sid 4) and one of ours (sid 5) under required
    DIGEST-MD5 quorum SASL: each proves itself to the leader's quorum
    port (and to the voters' election ports), syncs and serves."""
    require_impl("java")
    require_impl("rust")
    peers = peers_of(tmp_path, kinds, REQUIRED)
    observers = [SaslPeer(kind, sid, tmp_path / ("p%d" % sid), extra=REQUIRED, observer=True)
                 for sid, kind in ((4, "java"), (5, "rust"))]
    everyone = peers + observers
    try:
        start_ensemble(everyone, 3)
        write_everywhere(everyone, "qsasl-obs", count=2)
        assert_same_trees(everyone)
        leader = peers[2]
        # Two followers and two observers proved themselves to the leader.
        assert leader.text().count(SERVER_OK) >= 4, report(everyone)
        for o in observers:
            assert serving_mode(o) == "observer", report(everyone)
            assert LEARNER_OK in o.text(), report(everyone)
            assert "Skipping SASL authentication" not in o.text(), report(everyone)
    finally:
        stop_all(everyone)


@pytest.mark.parametrize("kinds", [
    # Ours with the wrong password against a Java leader and one of ours.
    pytest.param(["rust", "rust", "java"], id="our-peer-refused-by-java-leader"),
    # Java's with the wrong password against our leader and a Java peer.
    pytest.param(["java", "java", "rust"], id="java-peer-refused-by-our-leader"),
])
@pytest.mark.parametrize("transport", ["plain", "tls"])
def test_wrong_password_cannot_join(tmp_path, kinds, transport, request):
    require_impl("java")
    require_impl("rust")
    peers = peers_of(tmp_path, kinds, REQUIRED, passwords={1: "wrong"})
    if transport == "tls":
        # TLS lets the peer in (its certificate is good); SASL inside it
        # still refuses the wrong password.
        from test_quorum_tls import tls_keys
        certs = request.getfixturevalue("quorum_certs")
        for p in peers:
            p.extra.update(tls_keys(certs, p.sid))
    bad, good, leader = peers
    try:
        for p in peers:
            p.write_config(peers)
        leader.start()
        good.start()
        wait_mode(leader, ["leader"])
        wait_mode(good, ["follower"])
        bad.start()
        # Its proof fails on the others' election ports, again and again,
        # so it never even learns who leads. Its retries back off (0.2 s
        # doubling), and a JVM on a loaded machine is slow to start: the
        # loop ends as soon as both have refused it twice.
        deadline = time.monotonic() + 40
        refusals = {}
        while time.monotonic() < deadline and min(refusals.values() or [0]) < 2:
            # Java's QuorumCnxManager line, which ours words the same way.
            refusals = {p.sid: p.text().count("Exception handling connection, addr:")
                        for p in (good, leader)}
            time.sleep(0.5)
        assert min(refusals.values()) >= 2, (refusals, report(peers))
        assert serving_mode(bad) is None, report(peers)
        # The two others keep serving.
        write_everywhere([good, leader], "after-refusal")
        assert serving_mode(bad) is None, report(peers)
    finally:
        stop_all(peers)


def test_rolling_upgrade_to_required_sasl(tmp_path):
    """Java's documented upgrade, one node at a time, in a mixed
    ensemble (sid 3, ours, leads; sids 1 and 2 are Java and ours)."""
    require_impl("java")
    require_impl("rust")
    peers = peers_of(tmp_path, ["java", "rust", "rust"], {})
    steps = [
        {"quorum.auth.enableSasl": "true"},
        {"quorum.auth.enableSasl": "true", "quorum.auth.learnerRequireSasl": "true"},
        REQUIRED,
    ]
    try:
        start_ensemble(peers, 3)
        write_everywhere(peers, "plain", count=1)
        for n, settings in enumerate(steps):
            # Followers first, the leader last (a new leader may follow).
            for p in peers:
                p.stop()
                p.extra.update(settings)
                p.write_config(peers)
                p.start()
                others = [q for q in peers if q is not p]
                modes = {}
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline:
                    modes = {q.sid: serving_mode(q) for q in peers}
                    if all(modes.values()) and list(modes.values()).count("leader") == 1:
                        break
                    time.sleep(0.3)
                assert all(modes.values()), "step %d, after restarting %d: %r\n%s" % (
                    n, p.sid, modes, report(peers))
                del others
            write_everywhere(peers, "step%d" % n, count=1)
        assert_same_trees(peers)
        for p in peers:
            assert LEARNER_OK in p.text(), report(peers)
    finally:
        stop_all(peers)


def test_stalled_sasl_peers_are_bounded(tmp_path):
    """Ours only (a resource rule of our own, on the same wire): a
    connection that sends a member's initial message and then nothing
    holds one of `quorum.cnxn.threads.size` SASL threads until the
    handshake timeout; beyond that, new ones are closed at once (Java's
    full pool refuses them the same way), and the stalled ones are let
    go."""
    import socket
    import struct
    require_impl("rust")
    extra = dict(REQUIRED, **{"quorum.cnxn.threads.size": "2", "quorumCnxnTimeoutMs": "3000"})
    peers = peers_of(tmp_path, ["rust", "rust", "rust"], extra)
    me = peers[0]
    try:
        for p in peers:
            p.write_config(peers)
        me.start()
        from test_election import wait_port
        wait_port(me.election_port, proc=me.proc, log=me.log)
        addr = b"127.0.0.1:%d" % peers[1].election_port
        hello = struct.pack(">qqi", -65536, 2, len(addr)) + addr
        socks = []
        for _ in range(3):
            s = socket.create_connection(("127.0.0.1", me.election_port), timeout=10)
            s.sendall(hello)
            socks.append(s)
            time.sleep(0.3)
        # The third is closed at once; the first two are held, then let go.
        assert socks[2].recv(16) == b"", me.text()[-3000:]
        busy = "connection threads (quorum.cnxn.threads.size) are busy"
        assert me.text().count(busy) == 1, me.text()[-3000:]
        start = time.monotonic()
        for s in socks[:2]:
            assert s.recv(16) == b""
        assert time.monotonic() - start < 8
        assert me.proc.poll() is None
        for s in socks:
            s.close()
    finally:
        stop_all(peers)


@pytest.mark.parametrize("kind", ["java", "rust"])
def test_missing_learner_section_stops_startup(tmp_path, kind):
    """enableSasl with a JAAS file that lacks QuorumLearner: Java exits
    (1, "Unexpected exception"), ours exits with a config error (2)
    naming the key and the section; neither runs without SASL."""
    import subprocess
    require_impl(kind)
    peers = peers_of(tmp_path, [kind, kind, kind], {"quorum.auth.enableSasl": "true"})
    me = peers[0]
    me.jaas.write_text(JAAS.split("QuorumLearner")[0] % {"server": "x"})
    for p in peers:
        p.write_config(peers)
    proc = subprocess.run(me.command(), cwd=me.dir, capture_output=True, text=True, timeout=60)
    out = proc.stdout + proc.stderr
    assert "'QuorumLearner' could not be found" in out, out[-3000:]
    if kind == "java":
        assert proc.returncode == 1, out[-3000:]
    else:
        assert proc.returncode == 2, out[-3000:]
        assert "quorum.auth.learner.saslLoginContext" in out, out[-3000:]
