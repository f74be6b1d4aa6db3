"""Quorum Kerberos in mixed ensembles: Java 3.8.0 peers and ours
authenticate each other with GSSAPI tickets from a real MIT KDC
(tests/interop/kdc.py, realm ZK.TEST on loopback).

Every peer logs in, in both JAAS sections (`QuorumServer` and
`QuorumLearner`, `Krb5LoginModule` with a keytab), as
`zkquorum/127.0.0.1@ZK.TEST`, and dials the service principal
`zkquorum/_HOST` (Java's documented form: `_HOST` becomes the dialed
peer's host from its server line). Quorum SASL is required both ways.

- A Java leader with our followers, and our leader with Java followers,
  elect, sync and serve (kazoo writes everywhere, same trees after).
- The client port's `Server` section with a keytab of its own (the
  client service principal `zookeeper/localhost`), beside the quorum's:
  the mixed ensemble serves, and kazoo authenticates with GSSAPI to
  every member.
- A learner whose principal names a host that is not in the server list
  is refused (SaslQuorumServerCallbackHandler's host rule) while the two
  others keep serving.
"""

import time

import pytest

import kdc as K
from conftest import need, require_impl
from test_quorum_sasl import LEARNER_OK, SERVER_OK, serving_mode
from test_zab_learner import (ZabPeer, assert_same_trees, report, start_ensemble, stop_all,
                              wait_mode, write_everywhere)
from conftest import RUST_BIN

REQUIRED = {"quorum.auth.enableSasl": "true", "quorum.auth.learnerRequireSasl": "true",
            "quorum.auth.serverRequireSasl": "true",
            "quorum.auth.kerberos.servicePrincipal": "zkquorum/_HOST"}
PEER = "zkquorum/127.0.0.1"


def section(name, keytab, principal):
    return ('%s {\n  com.sun.security.auth.module.Krb5LoginModule required\n'
            '  useKeyTab=true keyTab="%s" storeKey=true useTicketCache=false\n'
            '  principal="%s";\n};\n' % (name, keytab, principal))


@pytest.fixture(scope="module")
def realm(tmp_path_factory):
    need(K.available(), "MIT Kerberos KDC (apt-get install krb5-kdc krb5-admin-server)")
    kdc = K.MiniKdc(tmp_path_factory.mktemp("qkdc")).start()
    keytabs = {p: kdc.keytab(p) for p in (PEER, "zkquorum/stranger.example", "zookeeper/localhost",
                                          "bob")}
    yield kdc, keytabs
    kdc.stop()


class KerberosPeer(ZabPeer):
    def __init__(self, kind, sid, workdir, realm, learner=PEER, client_server=None, extra=None):
        super().__init__(kind, sid, workdir, extra=dict(REQUIRED, **(extra or {})))
        kdc, keytabs = realm
        self.krb5_conf = kdc.krb5_conf
        self.jaas = workdir / "jaas.conf"
        self.jaas.write_text(
            section("QuorumServer", keytabs[PEER], "%s@%s" % (PEER, K.REALM))
            + section("QuorumLearner", keytabs[learner], "%s@%s" % (learner, K.REALM))
            + (section("Server", keytabs[client_server], "%s@%s" % (client_server, K.REALM))
               if client_server else ""))

    def command(self):
        flags = ["-Djava.security.auth.login.config=%s" % self.jaas,
                 "-Djava.security.krb5.conf=%s" % self.krb5_conf]
        cmd = super().command()
        if self.kind == "java":
            return [cmd[0]] + flags + cmd[1:]
        return [str(RUST_BIN)] + flags + [str(self.cfg)]


@pytest.mark.parametrize("kinds", [
    pytest.param(["rust", "rust", "java"], id="java-leader-our-followers"),
    pytest.param(["java", "java", "rust"], id="our-leader-java-followers"),
])
def test_kerberos_mixed_ensemble_serves(tmp_path, realm, kinds):
    require_impl("java")
    require_impl("rust")
    peers = [KerberosPeer(kind, sid, tmp_path / ("p%d" % sid), realm)
             for sid, kind in enumerate(kinds, start=1)]
    try:
        start_ensemble(peers, 3)
        write_everywhere(peers, "krb")
        assert_same_trees(peers)
        assert peers[2].text().count(SERVER_OK) >= 2, report(peers)
        for p in peers:
            assert LEARNER_OK in p.text(), report(peers)
            # The acceptors saw the peer's own principal (GSSAPI, not DIGEST).
            assert "authenticationID=%s@%s" % (PEER, K.REALM) in p.text(), report(peers)
    finally:
        stop_all(peers)


@pytest.mark.parametrize("kinds", [
    pytest.param(["rust", "rust", "java"], id="our-stranger-refused-by-java"),
    pytest.param(["java", "java", "rust"], id="java-stranger-refused-by-ours"),
])
def test_learner_from_unknown_host_is_refused(tmp_path, realm, kinds):
    """Peer 1 proves a valid ticket, but for zkquorum/stranger.example:
    not a host of the server list, so the others refuse it."""
    require_impl("java")
    require_impl("rust")
    peers = [KerberosPeer(kind, sid, tmp_path / ("p%d" % sid), realm,
                          learner="zkquorum/stranger.example" if sid == 1 else PEER)
             for sid, kind in enumerate(kinds, start=1)]
    bad, good, leader = peers
    try:
        for p in peers:
            p.write_config(peers)
        leader.start()
        good.start()
        wait_mode(leader, ["leader"])
        wait_mode(good, ["follower"])
        bad.start()
        deadline = time.monotonic() + 15
        refusals = {}
        while time.monotonic() < deadline and min(refusals.values() or [0]) < 2:
            refusals = {p.sid: p.text().count("Exception handling connection, addr:")
                        for p in (good, leader)}
            time.sleep(0.5)
        assert min(refusals.values()) >= 2, (refusals, report(peers))
        assert "stranger.example is not authorized" in leader.text() + good.text(), report(peers)
        assert serving_mode(bad) is None, report(peers)
        write_everywhere([good, leader], "krb-after-refusal")
        assert serving_mode(bad) is None, report(peers)
    finally:
        stop_all(peers)


@pytest.mark.parametrize("kinds", [
    pytest.param(["rust", "rust", "java"], id="java-leader-our-followers"),
    pytest.param(["java", "java", "rust"], id="our-leader-java-followers"),
])
def test_client_and_quorum_keytabs_differ(tmp_path, realm, kinds, monkeypatch):
    """`Server` (clients) and `QuorumServer` (peers) name different
    keytabs and principals, as Java allows: the peers authenticate each
    other with the quorum's, and bob (kazoo, GSSAPI, kinit tickets)
    authenticates to every member with the client port's, creating under
    a sasl: ACL that every member then enforces. Ours refused this
    config before (one keytab per process)."""
    require_impl("java")
    require_impl("rust")
    try:
        from kazoo.client import KazooClient
        from kazoo.security import ACL, Id
        import kerberos  # noqa: F401  (pure-sasl's GSSAPI backend)
    except ImportError:
        need(False, "kazoo, pure-sasl and pykerberos (pip install kazoo pure-sasl kerberos)")
    from test_sasl import SASL_PROVIDER
    kdc, keytabs = realm
    assert keytabs["zookeeper/localhost"] != keytabs[PEER]
    peers = [KerberosPeer(kind, sid, tmp_path / ("p%d" % sid), realm,
                          client_server="zookeeper/localhost",
                          extra={"authProvider.1": SASL_PROVIDER})
             for sid, kind in enumerate(kinds, start=1)]
    monkeypatch.setenv("KRB5_CONFIG", str(kdc.krb5_conf))
    ccache = tmp_path / "ccache-bob"
    kdc._run("kinit", "-c", "FILE:%s" % ccache, "-kt", str(keytabs["bob"]), "bob")
    monkeypatch.setenv("KRB5CCNAME", "FILE:%s" % ccache)
    bob_id = Id("sasl", "bob@%s" % K.REALM)
    try:
        start_ensemble(peers, 3)
        for p in peers:
            zk = KazooClient(hosts="localhost:%d" % p.client_port, timeout=15.0,
                             connection_retry={"max_tries": 3, "delay": 0.2},
                             sasl_options={"mechanism": "GSSAPI", "service": "zookeeper"})
            zk.start(timeout=30)
            try:
                path = "/krb-keytabs-%d" % p.sid
                zk.create(path, b"x", acl=[ACL(31, bob_id)])
                zk.sync("/")
                assert zk.get(path)[0] == b"x"
                assert zk.get_acls(path)[0][0].id == bob_id
            finally:
                zk.stop()
                zk.close()
        # Written through each member, the nodes are everywhere, closed
        # to a client that is not bob.
        from kazoo.exceptions import NoAuthError
        anonymous = KazooClient(hosts="127.0.0.1:%d" % peers[0].client_port, timeout=15.0)
        anonymous.start(timeout=30)
        try:
            anonymous.sync("/")
            for p in peers:
                with pytest.raises(NoAuthError):
                    anonymous.get("/krb-keytabs-%d" % p.sid)
        finally:
            anonymous.stop()
            anonymous.close()
        for p in peers:
            assert LEARNER_OK in p.text(), report(peers)
            # The acceptors saw the peer's own principal (GSSAPI, not DIGEST).
            assert "authenticationID=%s@%s" % (PEER, K.REALM) in p.text(), report(peers)
    finally:
        stop_all(peers)
