"""TLS between quorum peers (sslQuorum), in mixed Java 3.8.0 / our ensembles.

Every peer gets its own certificate (signed by one CA made here, naming
127.0.0.1 so that both sides' hostname checks pass) in a JKS key store and
the CA in a JKS trust store, configured with the ssl.quorum.* keys as
zookeeperAdmin.md shows them.  Both the election port and the quorum
(learner) port then speak TLS:

* a Java leader with our followers, and our leader with Java followers,
  elect, sync and serve (a kazoo client writes through every member and
  reads everything back from every member; the trees are identical), and
  the logs show TLS handshakes on our side;
* a peer without sslQuorum (plaintext) cannot join an sslQuorum pair, Java
  or ours: it never leaves the election while the pair serves.

Shared with the rolling-upgrade test (test_quorum_tls_upgrade.py): the
certificates and the zoo.cfg keys.
"""

import re
import shutil
import subprocess
import time

import pytest

from conftest import need, require_impl
from test_zab_learner import (ZabPeer, assert_same_trees, four_letter, report, start_ensemble, stop_all,
                              wait_mode, write_everywhere)

PASSWORD = "quorum-secret"

MAKE_CERTS = r"""
set -e
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -subj "/CN=Quorum Test CA" -days 2
printf "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n" > peer.ext
for sid in 1 2 3; do
  openssl req -newkey rsa:2048 -nodes -keyout peer$sid.key -out peer$sid.csr -subj "/CN=zk peer $sid"
  openssl x509 -req -in peer$sid.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out peer$sid.pem \
      -days 2 -extfile peer.ext
  openssl pkcs12 -export -in peer$sid.pem -inkey peer$sid.key -certfile ca.pem -out peer$sid.p12 \
      -passout pass:{pw}
  keytool -importkeystore -noprompt -srckeystore peer$sid.p12 -srcstoretype PKCS12 -srcstorepass {pw} \
      -destkeystore peer$sid.jks -deststoretype JKS -deststorepass {pw}
done
keytool -importcert -noprompt -alias ca -file ca.pem -keystore trust.jks -storetype JKS -storepass {pw}
""".replace("{pw}", PASSWORD)


def make_certs(directory):
    need(shutil.which("openssl") is not None, "openssl is not installed")
    need(shutil.which("keytool") is not None, "keytool is not installed")
    directory.mkdir(parents=True, exist_ok=True)
    subprocess.run(["bash", "-c", MAKE_CERTS], cwd=directory, check=True, capture_output=True)
    return directory


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    return make_certs(tmp_path_factory.mktemp("quorum-certs"))


def tls_keys(certs, sid, ssl_quorum=True, port_unification=False):
    """The zoo.cfg lines of zookeeperAdmin.md's quorum TLS section."""
    return {
        "sslQuorum": "true" if ssl_quorum else "false",
        "portUnification": "true" if port_unification else "false",
        "serverCnxnFactory": "org.apache.zookeeper.server.NettyServerCnxnFactory",
        "ssl.quorum.keyStore.location": str(certs / ("peer%d.jks" % sid)),
        "ssl.quorum.keyStore.password": PASSWORD,
        "ssl.quorum.trustStore.location": str(certs / "trust.jks"),
        "ssl.quorum.trustStore.password": PASSWORD,
    }


def tls_evidence(peer):
    """Log lines saying a quorum connection of this peer was encrypted."""
    text = peer.text()
    return [line for line in text.splitlines()
            if "SSL handshake complete with" in line or "Accepted TLS connection from" in line]


SCENARIOS = [
    # kinds by sid; sid 3 leads (started first with one voter).
    pytest.param(["rust", "rust", "java"], id="java-leader-our-followers"),
    pytest.param(["java", "java", "rust"], id="our-leader-java-followers"),
]


@pytest.mark.parametrize("kinds", SCENARIOS)
def test_mixed_ensemble_over_quorum_tls(tmp_path, certs, kinds):
    require_impl("java")
    require_impl("rust")
    peers = [ZabPeer(kind, sid, tmp_path / ("s%d-%s" % (sid, kind)), extra=tls_keys(certs, sid))
             for sid, kind in enumerate(kinds, start=1)]
    try:
        start_ensemble(peers, leader_sid=3)
        written = write_everywhere(peers, "tls")
        tree = assert_same_trees(peers)
        assert all(path in tree for path in written)
        for p in peers:
            # Election and learner connections were all TLS: every peer
            # made or took handshakes, and nobody fell back to plaintext.
            assert tls_evidence(p), "%s peer %d shows no TLS handshake\n%s" % (p.kind, p.sid, report(peers))
            assert "Accepted plaintext connection" not in p.text(), report(peers)
        ours = [p for p in peers if p.kind == "rust"]
        leader = peers[2]
        if leader.kind == "rust":
            # The learners' connections to our quorum port were TLS.
            accepted = [l for l in tls_evidence(leader) if "Accepted TLS connection" in l]
            assert len(accepted) >= 4, "\n".join(accepted) + report(peers)
        else:
            # Our followers dialed the Java leader's quorum port with TLS.
            for p in ours:
                dialed = [l for l in tls_evidence(p) if "SSL handshake complete" in l]
                assert any(":%d" % leader.quorum_port in l for l in dialed), report(peers)
    finally:
        stop_all(peers)


@pytest.mark.parametrize("plain_kind", ["rust", "java"])
def test_a_plaintext_peer_cannot_join_an_ssl_quorum(tmp_path, certs, plain_kind):
    """Peers 1 (Java) and 2 (ours) run sslQuorum=true; peer 3 has no TLS.
    The pair elects and serves; 3 stays out (its plaintext is refused on
    both ports, and it cannot read the TLS the others dial it with)."""
    require_impl("java")
    require_impl("rust")
    kinds = ["java", "rust", plain_kind]
    peers = [ZabPeer(kind, sid, tmp_path / ("s%d-%s" % (sid, kind)),
                     extra=tls_keys(certs, sid) if sid < 3 else {})
             for sid, kind in enumerate(kinds, start=1)]
    plain = peers[2]
    try:
        for p in peers:
            p.write_config(peers)
        for p in peers:
            p.start()
        wait_mode(peers[1], ["leader"])
        wait_mode(peers[0], ["follower"])
        write_everywhere(peers[:2], "pair")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            srvr = four_letter(plain.client_port, "srvr")
            assert "Mode: follower" not in srvr and "Mode: leader" not in srvr, \
                "the plaintext peer joined:\n" + srvr + report(peers)
            time.sleep(0.5)
        assert plain.proc.poll() is None, "the plaintext peer exited\n" + report(peers)
        ours = peers[1]
        assert "blocked insecure (plaintext) connection attempt" in ours.text(), report(peers)
        assert "Accepted plaintext connection" not in ours.text(), report(peers)
    finally:
        stop_all(peers)


FAIL_CLOSED = [
    # (extra zoo.cfg lines, the key the message must name)
    pytest.param({"sslQuorum": "true"}, "ssl.quorum.keyStore.location", id="no-key-store"),
    pytest.param({"portUnification": "true", "ssl.quorum.keyStore.location": "/nonexistent/q.jks"},
                 "ssl.quorum.keyStore.location", id="missing-key-store"),
    pytest.param({"sslQuorum": "true", "ssl.quorum.context.supplier.class": "com.example.Ctx"},
                 "ssl.quorum.context.supplier.class", id="context-supplier"),
    pytest.param({"ssl.quorum.ocsp": "true"}, "ssl.quorum.ocsp", id="ocsp"),
]


@pytest.mark.parametrize("extra,key", FAIL_CLOSED)
def test_quorum_tls_we_cannot_give_stops_an_ensemble_member(tmp_path, extra, key):
    """Ours only: Java starts and fails later, per connection."""
    require_impl("rust")
    from conftest import RUST_BIN
    me = ZabPeer("rust", 1, tmp_path / "s1", extra=extra)
    others = [ZabPeer("rust", sid, tmp_path / ("s%d" % sid)) for sid in (2, 3)]
    me.write_config([me] + others)
    out = subprocess.run([str(RUST_BIN), str(me.cfg)], capture_output=True, timeout=30, text=True)
    text = out.stdout + out.stderr
    assert out.returncode == 2, text
    assert key in text, text


RENEW = r"""
set -e
openssl req -newkey rsa:2048 -nodes -keyout renewed.key -out renewed.csr -subj "/CN=zk peer 1 renewed"
openssl x509 -req -in renewed.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out renewed.pem -days 2 \
    -extfile peer.ext
openssl pkcs12 -export -in renewed.pem -inkey renewed.key -certfile ca.pem -out renewed.p12 -passout pass:{pw}
keytool -importkeystore -noprompt -srckeystore renewed.p12 -srcstoretype PKCS12 -srcstorepass {pw} \
    -destkeystore renewed.jks -deststoretype JKS -deststorepass {pw}
""".replace("{pw}", PASSWORD)


def presented_subject(port, certs):
    """The subject of the certificate the election port presents (the
    handshake is completed with peer 2's certificate)."""
    out = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port,
                          "-cert", str(certs / "peer2.pem"), "-key", str(certs / "peer2.key"),
                          "-CAfile", str(certs / "ca.pem")],
                         input=b"", capture_output=True, timeout=20)
    m = re.search(r"subject=.*?CN\s?=\s?(zk peer[^\n,]*)", out.stdout.decode(errors="replace"))
    return m.group(1).strip() if m else out.stdout.decode(errors="replace")[-500:]


@pytest.fixture(scope="module")
def renewed(certs):
    if not (certs / "renewed.jks").exists():
        subprocess.run(["bash", "-c", RENEW], cwd=certs, check=True, capture_output=True)
    return certs / "renewed.jks"


@pytest.mark.parametrize("kind", ["java", "rust"])
def test_ssl_quorum_reload_cert_files_serves_a_renewed_certificate(tmp_path, certs, renewed, kind):
    """sslQuorumReloadCertFiles=true: a key store replaced on disk is what
    new quorum connections get, without a restart (Java 3.8.0 and ours;
    one peer of a 3-peer config is enough: its election port serves TLS)."""
    require_impl(kind)
    from test_election import wait_port
    live = tmp_path / "live.jks"
    live.write_bytes((certs / "peer1.jks").read_bytes())
    extra = tls_keys(certs, 1)
    extra["ssl.quorum.keyStore.location"] = str(live)
    extra["sslQuorumReloadCertFiles"] = "true"
    me = ZabPeer(kind, 1, tmp_path / "s1", extra=extra)
    others = [ZabPeer(kind, sid, tmp_path / ("s%d" % sid)) for sid in (2, 3)]
    me.write_config([me] + others)
    try:
        me.start()
        wait_port(me.election_port, timeout=60, proc=me.proc, log=me.log)
        assert presented_subject(me.election_port, certs) == "zk peer 1", me.text()[-3000:]
        time.sleep(1.5)  # a new modification time, whatever the file system's resolution
        live.write_bytes(renewed.read_bytes())
        deadline = time.monotonic() + 20
        subject = None
        while time.monotonic() < deadline:
            subject = presented_subject(me.election_port, certs)
            if subject == "zk peer 1 renewed":
                break
            time.sleep(0.5)
        assert subject == "zk peer 1 renewed", "%r\n%s" % (subject, me.text()[-3000:])
        assert me.proc.poll() is None
    finally:
        me.stop()
