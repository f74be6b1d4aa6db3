"""TLS and x509 against Java 3.8.0 and ours.

Fail closed: a zoo.cfg that asks for encryption or authentication we do
not give must stop our server with a message naming the key (exit code 2,
like every config error).  Each case runs on Java too, so the table says
what Java does with it (mostly: serves, since Java ignores what a
standalone server does not use, or only warns about a class it cannot
load); one case per family of keys.
"""

from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import IMPLS, require_impl
from test_config import BASE, EXIT_CONFIG, Case, Exits, Serves, describe, run_case

SASL_PROVIDER = "org.apache.zookeeper.server.auth.SASLAuthenticationProvider"

REFUSED = [
    # The client port's TLS options we cannot do: revocation checks.
    Case("client_tls_crl", BASE + "ssl.crl=true\n", Serves(), "ssl.crl", "true",
         ours=Exits(EXIT_CONFIG)),
    # Quorum TLS is served (test_quorum_tls); revocation checks between
    # peers are not.
    Case("quorum_tls_crl", BASE + "ssl.quorum.crl=true\n", Serves(), "ssl.quorum.crl", "true",
         ours=Exits(EXIT_CONFIG)),
    Case("auth_provider_unknown_class", BASE + "authProvider.1=com.example.NoSuchProvider\n",
         Serves(), "authProvider.1", "com.example.NoSuchProvider", ours=Exits(EXIT_CONFIG)),
]

# Values that ask for nothing: both serve.  A standalone server has no
# quorum connections, so the quorum TLS switches and stores change nothing
# there (Java does not even load the stores).
HARMLESS = [
    Case("quorum_tls_standalone", BASE + "sslQuorum=true\nportUnification=true\n"
         "sslQuorumReloadCertFiles=true\n"
         "ssl.quorum.keyStore.location=/etc/zk/q.jks\n", Serves()),
    # Quorum SASL is for ensembles; standalone, both ignore it.
    Case("sasl_quorum_standalone", BASE + "quorum.auth.enableSasl=true\n", Serves()),
    Case("switches_off", BASE + "sslQuorum=false\nportUnification=false\nadmin.forceHttps=false\n"
         "client.portUnification=false\n", Serves()),
    Case("builtin_auth_providers",
         BASE + "authProvider.1=org.apache.zookeeper.server.auth.DigestAuthenticationProvider\n"
         "authProvider.2=org.apache.zookeeper.server.auth.IPAuthenticationProvider\n", Serves()),
    # The sasl scheme is served (test_sasl).
    Case("auth_provider_sasl", BASE + "authProvider.sasl=" + SASL_PROVIDER + "\n", Serves()),
    Case("serverCnxnFactory_netty",
         BASE + "serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory\n", Serves()),
]


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    for impl in IMPLS:
        require_impl(impl)
    root = tmp_path_factory.mktemp("tls-config-cases")
    jobs = [(impl, case) for case in REFUSED + HARMLESS for impl in IMPLS]
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {(impl, case.name): pool.submit(run_case, impl, case,
                                                  root / ("%s-%s" % (case.name, impl)))
                   for impl, case in jobs}
        return {key: f.result() for key, f in futures.items()}


@pytest.mark.parametrize("case", REFUSED, ids=lambda c: c.name)
def test_fail_closed(case, outcomes):
    if "java" in IMPLS:
        java = outcomes[("java", case.name)]
        assert java.behaviour() == case.java, "Java 3.8.0: " + describe(java)
    if "rust" in IMPLS:
        ours = outcomes[("rust", case.name)]
        assert ours.behaviour() == case.expected_ours, "ours: " + describe(ours)
        assert case.key in ours.output, "ours does not name %r: %s" % (case.key, describe(ours))
        assert case.value in ours.output, "ours does not show %r: %s" % (case.value, describe(ours))
        assert "does not support" in ours.output, describe(ours)


@pytest.mark.parametrize("case", HARMLESS, ids=lambda c: c.name)
def test_harmless_values_serve(case, outcomes):
    for impl in IMPLS:
        outcome = outcomes[(impl, case.name)]
        assert outcome.behaviour() == Serves(), "%s: %s" % (impl, describe(outcome))


# ---- the secure client port, Java 3.8.0 and ours -------------------------

import os
import ssl
import subprocess
import time

from kazoo.client import KazooClient
from kazoo.exceptions import NoAuthError
from kazoo.security import make_acl

from conftest import ZKCLI, free_port, need

PASSWORD = "secret"
CLIENT_SUBJECT = "CN=zk client,O=Acme\\, Inc.,C=US"   # as Java prints it (RFC 2253)

MAKE_CERTS = r"""
set -e
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -subj "/CN=Test CA" -days 2
openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj "/CN=localhost"
printf "subjectAltName=DNS:localhost,IP:127.0.0.1\n" > server.ext
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 -extfile server.ext
openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr -subj "/C=US/O=Acme, Inc./CN=zk client"
printf "extendedKeyUsage=clientAuth\n" > client.ext
openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.pem -days 2 -extfile client.ext
openssl pkcs12 -export -in server.pem -inkey server.key -certfile ca.pem -out server.p12 -passout pass:{pw}
openssl pkcs12 -export -in client.pem -inkey client.key -certfile ca.pem -out client.p12 -passout pass:{pw}
keytool -importkeystore -noprompt -srckeystore server.p12 -srcstoretype PKCS12 -srcstorepass {pw} \
    -destkeystore server.jks -deststoretype JKS -deststorepass {pw}
keytool -importkeystore -noprompt -srckeystore client.p12 -srcstoretype PKCS12 -srcstorepass {pw} \
    -destkeystore client.jks -deststoretype JKS -deststorepass {pw}
keytool -importcert -noprompt -alias ca -file ca.pem -keystore trust.jks -storetype JKS -storepass {pw}
keytool -importcert -noprompt -alias ca -file ca.pem -keystore trust.p12 -storetype PKCS12 -storepass {pw}
""".format(pw=PASSWORD)


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    """A CA, a server certificate for localhost/127.0.0.1 and a client
    certificate, as PEM, PKCS#12 and JKS files made here."""
    import shutil
    need(shutil.which("openssl") is not None, "openssl is not installed")
    need(shutil.which("keytool") is not None, "keytool is not installed")
    d = tmp_path_factory.mktemp("certs")
    subprocess.run(["bash", "-c", MAKE_CERTS], cwd=d, check=True, capture_output=True)
    return d


def tls_cfg(certs, port, key_store="server.jks", trust_store="trust.jks", **extra):
    cfg = {
        "secureClientPort": str(port),
        "secureClientPortAddress": "127.0.0.1",
        "serverCnxnFactory": "org.apache.zookeeper.server.NettyServerCnxnFactory",
        "ssl.keyStore.location": str(certs / key_store),
        "ssl.keyStore.password": PASSWORD,
        "ssl.trustStore.location": str(certs / trust_store),
        "ssl.trustStore.password": PASSWORD,
    }
    cfg.update(extra)
    return cfg


def tls_client(certs, port, with_cert=True):
    kw = dict(use_ssl=True, ca=str(certs / "ca.pem"), verify_certs=True)
    if with_cert:
        kw.update(certfile=str(certs / "client.pem"), keyfile=str(certs / "client.key"))
    return KazooClient(hosts="localhost:%d" % port, timeout=10, **kw)


def wait_tls_port(port, deadline=30.0):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("secure port %d never opened" % port)


import socket  # noqa: E402


def tls_ensemble(impl, certs, workdir, **extra):
    """A 3-node ensemble whose members each serve a secure client port;
    presented through its follower sid 1 (`hosts`, `secure_port`)."""
    from conftest import EnsembleServer
    cfg = tls_cfg(certs, 0, **extra)
    del cfg["secureClientPort"]
    srv = EnsembleServer(impl, workdir, cfg)
    for peer in srv.peers:
        peer.extra["secureClientPort"] = str(free_port())
    srv.start()
    srv.secure_port = int(srv.peers[0].extra["secureClientPort"])
    for peer in srv.peers:
        wait_tls_port(int(peer.extra["secureClientPort"]))
    return srv


@pytest.fixture(scope="module", params=["standalone", "ensemble"])
def tls_server(request, impl, certs, server_factory, tmp_path_factory):
    """A TLS server: standalone, or a follower of a 3-node ensemble whose
    members all serve secureClientPort (reads served there, writes
    forwarded to the leader)."""
    if request.param == "ensemble":
        srv = tls_ensemble(impl, certs, tmp_path_factory.mktemp("tls-ensemble-" + impl))
        yield srv
        srv.stop()
        return
    port = free_port()
    srv = server_factory(impl, "tls", tls_cfg(certs, port))
    wait_tls_port(port)
    srv.secure_port = port
    yield srv
    srv.stop()


def test_kazoo_over_tls_crud_watch_and_x509_acl(tls_server, certs, impl):
    zk = tls_client(certs, tls_server.secure_port)
    zk.start(timeout=30)
    try:
        zk.create("/tls", b"v1")
        seen = []
        zk.get("/tls", watch=lambda event: seen.append(event.type))
        zk.set("/tls", b"v2")
        assert zk.get("/tls")[0] == b"v2"
        end = time.monotonic() + 10
        while not seen and time.monotonic() < end:
            time.sleep(0.05)
        assert seen == ["CHANGED"]
        # The certificate's subject is this session's x509 identity.
        zk.create("/tls/mine", b"secret", acl=[make_acl("x509", CLIENT_SUBJECT, all=True)])
        assert zk.get("/tls/mine")[0] == b"secret"
        assert zk.get_acls("/tls/mine")[0][0].id.id == CLIENT_SUBJECT
        plain = KazooClient(hosts=tls_server.hosts, timeout=10)
        plain.start(timeout=30)
        try:
            with pytest.raises(NoAuthError):
                plain.get("/tls/mine")
        finally:
            plain.stop()
        zk.delete("/tls", recursive=True)
    finally:
        zk.stop()


def test_a_client_without_certificate_is_refused(tls_server, certs, impl):
    ctx = ssl.create_default_context(cafile=str(certs / "ca.pem"))
    refused = False
    with socket.create_connection(("127.0.0.1", tls_server.secure_port), timeout=10) as raw:
        try:
            with ctx.wrap_socket(raw, server_hostname="localhost") as s:
                # TLS 1.2: the handshake fails; 1.3: the first read does.
                s.sendall(b"\x00\x00\x00\x2d" + b"\x00" * 45)
                refused = s.recv(100) == b""
        except (ssl.SSLError, ConnectionError, OSError):
            refused = True
    assert refused, "%s served a client without a certificate under ssl.clientAuth=need" % impl


ZKCLI_SCRIPT = """ls /
create /zkcli-tls hello
get /zkcli-tls
setAcl /zkcli-tls x509:CN=zk client,O=Acme\\\\, Inc.,C=US:cdrwa
getAcl /zkcli-tls
get /zkcli-tls
whoami
delete /zkcli-tls
quit
"""


def zkcli_tls(certs, port, script):
    """Debian's zkCli.sh over TLS, as Java's docs configure it (Netty
    client socket, keystore and truststore properties); the classpath
    adds the Netty jars Debian's manifest leaves out."""
    need(ZKCLI.exists(), "zkCli.sh not installed: %s" % ZKCLI)
    jars = ["/etc/zookeeper/conf", "/usr/share/java/zookeeper.jar",
            "/usr/share/java/netty-codec.jar", "/usr/share/java/netty-resolver.jar"]
    flags = ("-cp %s -Dzookeeper.client.secure=true "
             "-Dzookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty "
             "-Dzookeeper.ssl.keyStore.location=%s -Dzookeeper.ssl.keyStore.password=%s "
             "-Dzookeeper.ssl.trustStore.location=%s -Dzookeeper.ssl.trustStore.password=%s"
             % (":".join(jars), certs / "client.jks", PASSWORD, certs / "trust.jks", PASSWORD))
    env = dict(os.environ, CLIENT_JVMFLAGS=flags)
    proc = subprocess.run([str(ZKCLI), "-server", "localhost:%d" % port], input=script, env=env,
                          capture_output=True, text=True, timeout=180)
    keep = [line for line in proc.stdout.splitlines()
            if line and not line.startswith(("Connecting", "Welcome", "JLine", "WATCHER", "WatchedEvent"))]
    return keep


def test_zkcli_over_tls_acl_and_whoami(tls_server, certs, impl, crosscheck):
    lines = zkcli_tls(certs, tls_server.secure_port, ZKCLI_SCRIPT)
    text = "\n".join(lines)
    assert "x509: " + CLIENT_SUBJECT in lines, text
    assert "ip: 127.0.0.1" in lines, text
    assert lines.count("hello") == 2, text
    crosscheck.check("zkCli transcript", lines)


@pytest.mark.parametrize("stores", [("server.p12", "trust.p12"), ("serverkey.pem", "ca.pem")],
                         ids=["pkcs12", "pem"])
def test_other_store_formats(stores, certs, impl, server_factory):
    """PKCS#12 and PEM key and trust stores, type told by the file name."""
    # Key first: Java 3.8.0's PEM reader fails on a key after the chain.
    (certs / "serverkey.pem").write_bytes((certs / "server.key").read_bytes()
                                          + (certs / "server.pem").read_bytes())
    port = free_port()
    cfg = tls_cfg(certs, port, key_store=stores[0], trust_store=stores[1])
    if stores[0].endswith(".pem"):
        # Java reads a PEM key as encrypted whenever a password is set.
        del cfg["ssl.keyStore.password"], cfg["ssl.trustStore.password"]
    srv = server_factory(impl, "tls-" + stores[0].split(".")[1], cfg)
    try:
        wait_tls_port(port)
        zk = tls_client(certs, port)
        zk.start(timeout=30)
        try:
            zk.create("/fmt", b"x")
            assert zk.get("/fmt")[0] == b"x"
        finally:
            zk.stop()
    finally:
        srv.stop()


def store_cases(certs):
    """(name, zoo.cfg lines, key our message must name, words it must show)."""
    jks, trust = certs / "server.jks", certs / "trust.jks"
    mismatched = certs / "mismatched.pem"
    mismatched.write_bytes((certs / "client.key").read_bytes() + (certs / "server.pem").read_bytes())
    expired = certs / "expired.pem"
    if not expired.exists():
        subprocess.run(["openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey",
                        "ca.key", "-CAcreateserial", "-out", "expired.cert", "-days", "-1",
                        "-extfile", "server.ext"], cwd=certs, check=True, capture_output=True)
        expired.write_bytes((certs / "server.key").read_bytes() + (certs / "expired.cert").read_bytes())
    return [
        ("wrong_keystore_password", {"ssl.keyStore.password": "wrong"},
         "ssl.keyStore.location", [str(jks), "password"]),
        ("missing_keystore", {"ssl.keyStore.location": str(certs / "absent.jks")},
         "ssl.keyStore.location", [str(certs / "absent.jks"), "No such file"]),
        ("wrong_truststore_password", {"ssl.trustStore.password": "wrong"},
         "ssl.trustStore.location", [str(trust), "password"]),
        ("key_does_not_match_certificate",
         {"ssl.keyStore.location": str(mismatched), "ssl.keyStore.password": ""},
         "ssl.keyStore.location", [str(mismatched), "do not make a usable pair"]),
        ("expired_certificate", {"ssl.keyStore.location": str(expired), "ssl.keyStore.password": ""},
         "ssl.keyStore.location", [str(expired), "expired"]),
        ("unknown_store_type", {"ssl.keyStore.location": str(certs / "server.keystore")},
         "ssl.keyStore.location", ["store type"]),
        ("no_truststore_under_clientAuth_need", {"ssl.trustStore.location": ""},
         "ssl.trustStore.location", ["needs a trust store"]),
        ("cbc_suite", {"ssl.ciphersuites": "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256"},
         "ssl.ciphersuites", ["not available"]),
        ("old_protocol", {"ssl.enabledProtocols": "TLSv1.1"}, "ssl.enabledProtocols", ["TLSv1.1"]),
    ]


STORE_CASE_NAMES = ["wrong_keystore_password", "missing_keystore", "wrong_truststore_password",
                    "key_does_not_match_certificate", "expired_certificate", "unknown_store_type",
                    "no_truststore_under_clientAuth_need", "cbc_suite", "old_protocol"]


@pytest.mark.parametrize("name", STORE_CASE_NAMES)
def test_unusable_tls_settings_stop_startup(name, certs, tmp_path):
    """Java 3.8.0 logs these and serves on (plaintext only, or a secure
    port whose handshakes fail); ours stops with exit 2 naming the key,
    the file and the reason: nothing that asked for TLS runs without it."""
    require_impl("rust")
    _, changes, key, words = next(c for c in store_cases(certs) if c[0] == name)
    cfg = tls_cfg(certs, free_port())
    cfg.update(changes)
    text = BASE + "".join("%s=%s\n" % kv for kv in cfg.items() if kv[1] != "")
    outcome = run_case("rust", Case(name, text, Serves(), ours=Exits(EXIT_CONFIG)), tmp_path / "rust")
    assert outcome.behaviour() == Exits(EXIT_CONFIG), describe(outcome)
    for word in [key] + words:
        assert word in outcome.output, "%r not in: %s" % (word, describe(outcome))


RENEW = r"""
set -e
openssl req -newkey rsa:2048 -nodes -keyout renewed.key -out renewed.csr -subj "/O=Renewed/CN=localhost"
openssl x509 -req -in renewed.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out renewed.pem -days 2 -extfile server.ext
openssl pkcs12 -export -in renewed.pem -inkey renewed.key -certfile ca.pem -out renewed.p12 -passout pass:{pw}
rm -f renewed.jks
keytool -importkeystore -noprompt -srckeystore renewed.p12 -srcstoretype PKCS12 -srcstorepass {pw} \
    -destkeystore renewed.jks -deststoretype JKS -deststorepass {pw}
""".format(pw=PASSWORD)


def served_certificate_org(certs, port):
    """The O= of the certificate a new TLS connection is served."""
    ctx = ssl.create_default_context(cafile=str(certs / "ca.pem"))
    ctx.load_cert_chain(str(certs / "client.pem"), str(certs / "client.key"))
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as s:
            subject = dict(x[0] for x in s.getpeercert()["subject"])
    return subject.get("organizationName")


def test_client_cert_reload_serves_a_renewed_certificate(certs, server_factory, tmp_path):
    """client.certReload=true: a key store replaced on disk is what new
    connections get, without a restart; live sessions go on. This is
    3.9's key: Java 3.8.0 has no client certificate reload (it reloads
    only quorum certificates, with sslQuorumReloadCertFiles), so ours is
    checked against 3.9's documented behaviour, not run on Java."""
    impl = "rust"
    require_impl(impl)
    store = tmp_path / "live.jks"
    store.write_bytes((certs / "server.jks").read_bytes())
    port = free_port()
    srv = server_factory(impl, "tls-reload", tls_cfg(certs, port, key_store=str(store),
                                                      **{"client.certReload": "true"}))
    try:
        wait_tls_port(port)
        assert served_certificate_org(certs, port) is None
        zk = tls_client(certs, port)
        zk.start(timeout=30)
        subprocess.run(["bash", "-c", RENEW], cwd=certs, check=True, capture_output=True)
        tmp = tmp_path / "live.jks.new"
        tmp.write_bytes((certs / "renewed.jks").read_bytes())
        os.replace(tmp, store)
        org, end = None, time.monotonic() + 60
        while org != "Renewed" and time.monotonic() < end:
            time.sleep(0.5)
            org = served_certificate_org(certs, port)
        assert org == "Renewed", "%s still serves the old certificate" % impl
        zk.create("/after-reload", b"x")   # the session from before goes on
        zk.stop()
    finally:
        srv.stop()


@pytest.mark.parametrize("client_auth", ["want", "none"])
def test_client_auth_want_and_none(client_auth, certs, impl, server_factory):
    """want: a client may come without a certificate (and is no x509
    identity); none: no certificate is asked for, so even a client that
    has one is not x509. Both serve TLS."""
    port = free_port()
    srv = server_factory(impl, "tls-" + client_auth,
                         tls_cfg(certs, port, **{"ssl.clientAuth": client_auth}))
    try:
        wait_tls_port(port)
        with_cert = tls_client(certs, port)
        with_cert.start(timeout=30)
        without = tls_client(certs, port, with_cert=False)
        without.start(timeout=30)
        try:
            acl = [make_acl("x509", CLIENT_SUBJECT, all=True), make_acl("world", "anyone", read=True)]
            with_cert.create("/auth-" + client_auth, b"x", acl=acl)
            assert without.get("/auth-" + client_auth)[0] == b"x"
            for zk, is_x509 in ((with_cert, client_auth == "want"), (without, False)):
                if is_x509:
                    zk.set("/auth-" + client_auth, b"y")
                else:
                    with pytest.raises(NoAuthError):
                        zk.set("/auth-" + client_auth, b"y")
        finally:
            with_cert.stop()
            without.stop()
    finally:
        srv.stop()


ZKCLI_WATCH_SCRIPT = """create /zkcli-watch a
get -w /zkcli-watch
set /zkcli-watch b
get /zkcli-watch
delete /zkcli-watch
quit
"""


def test_zkcli_over_tls_watch(tls_server, certs, impl, crosscheck):
    """zkCli's own watch over TLS: the NodeDataChanged event reaches it."""
    need(ZKCLI.exists(), "zkCli.sh not installed: %s" % ZKCLI)
    jars = ["/etc/zookeeper/conf", "/usr/share/java/zookeeper.jar",
            "/usr/share/java/netty-codec.jar", "/usr/share/java/netty-resolver.jar"]
    flags = ("-cp %s -Dzookeeper.client.secure=true "
             "-Dzookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty "
             "-Dzookeeper.ssl.keyStore.location=%s -Dzookeeper.ssl.keyStore.password=%s "
             "-Dzookeeper.ssl.trustStore.location=%s -Dzookeeper.ssl.trustStore.password=%s"
             % (":".join(jars), certs / "client.jks", PASSWORD, certs / "trust.jks", PASSWORD))
    env = dict(os.environ, CLIENT_JVMFLAGS=flags)
    proc = subprocess.run([str(ZKCLI), "-server", "localhost:%d" % tls_server.secure_port],
                          input=ZKCLI_WATCH_SCRIPT, env=env, capture_output=True, text=True,
                          timeout=180)
    events = [line.strip() for line in proc.stdout.splitlines() if "WatchedEvent" in line]
    assert any("NodeDataChanged" in e and "/zkcli-watch" in e for e in events), proc.stdout
    crosscheck.check("zkCli watch events", events)


def test_client_port_unification(certs, impl, server_factory):
    """client.portUnification=true (Netty): the plain client port serves
    TLS clients (x509 identity included) and plaintext clients alike."""
    port = free_port()
    cfg = tls_cfg(certs, port, **{"client.portUnification": "true"})
    srv = server_factory(impl, "tls-unified", cfg)
    try:
        wait_tls_port(port)
        tls = tls_client(certs, srv.port)
        tls.start(timeout=30)
        plain = KazooClient(hosts=srv.hosts, timeout=10)
        plain.start(timeout=30)
        try:
            tls.create("/unified", b"x", acl=[make_acl("x509", CLIENT_SUBJECT, all=True),
                                              make_acl("world", "anyone", read=True)])
            assert plain.get("/unified")[0] == b"x"
            with pytest.raises(NoAuthError):
                plain.set("/unified", b"y")
            tls.set("/unified", b"y")
            assert tls.get("/unified")[0] == b"y"
        finally:
            tls.stop()
            plain.stop()
        assert four_letter_text(srv.port, "ruok") == "imok"
        # conf names both listeners' ports, as Java's does.
        assert conf_ports(four_letter_text(srv.port, "conf")) == (str(srv.port), str(port))
    finally:
        srv.stop()


def four_letter_text(port, word):
    from conftest import four_letter
    return four_letter(port, word)


def test_client_port_unification_without_key_store_stops_ours(tmp_path):
    """Asked for TLS on the plain port but given no certificate: Java
    3.8.0 (NIO factory) ignores the key and serves plaintext only; ours
    stops naming the key store key and the switch that asked for it."""
    require_impl("rust")
    case = Case("unified_no_keystore", BASE + "client.portUnification=true\n", Serves(),
                ours=Exits(EXIT_CONFIG))
    outcome = run_case("rust", case, tmp_path / "rust")
    assert outcome.behaviour() == Exits(EXIT_CONFIG), describe(outcome)
    for word in ("ssl.keyStore.location", "client.portUnification"):
        assert word in outcome.output, describe(outcome)


# ---- a secure client port and no clientPort ------------------------------

def tls_four_letter(certs, port, word, timeout=5.0):
    """A four-letter word over TLS (with the client certificate); the
    whole answer, or "" when nothing answers."""
    ctx = ssl.create_default_context(cafile=str(certs / "ca.pem"))
    ctx.load_cert_chain(str(certs / "client.pem"), str(certs / "client.key"))
    out = b""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as s:
                s.sendall(word.encode())
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    out += chunk
    except (ssl.SSLError, OSError):
        pass   # a close without close_notify ends the answer too
    return out.decode("utf-8", "replace")


def conf_ports(text):
    pairs = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
    return pairs.get("clientPort"), pairs.get("secureClientPort")


def tls_only_ensemble(impl, certs, workdir):
    """Three peers with secureClientPort and no clientPort; returns them
    once each answers srvr over TLS with its mode."""
    from test_zab_learner import ZabPeer
    cfg = tls_cfg(certs, 0, clientPort=None, clientPortAddress=None)
    del cfg["secureClientPort"]
    peers = [ZabPeer(impl, sid, workdir / ("s%d" % sid), extra=cfg) for sid in (1, 2, 3)]
    for p in peers:
        p.extra["secureClientPort"] = str(free_port())
    for p in peers:
        p.write_config(peers)
        p.start()
    modes, end = {}, time.monotonic() + 90
    while len(modes) < 3 and time.monotonic() < end:
        for p in peers:
            text = tls_four_letter(certs, int(p.extra["secureClientPort"]), "srvr", timeout=2.0)
            for mode in ("leader", "follower"):
                if "Mode: %s" % mode in text:
                    modes[p.sid] = mode
        time.sleep(0.2)
    assert sorted(modes.values()) == ["follower", "follower", "leader"], (
        "%s ensemble never served over TLS alone (modes %r):\n%s"
        % (impl, modes, "\n".join(p.text()[-3000:] for p in peers)))
    return peers, modes


@pytest.mark.parametrize("where", ["standalone", "ensemble"])
def test_secure_client_port_without_client_port(where, certs, impl, server_factory, tmp_path,
                                                crosscheck):
    """secureClientPort and no clientPort: Java 3.8.0 serves TLS clients
    only (ours refused this config before); kazoo works over TLS, on a
    standalone server and through a follower, and `conf` shows the
    missing port as -1 and the secure one as configured."""
    if where == "standalone":
        port = free_port()
        srv = server_factory(impl, "tls-only",
                             tls_cfg(certs, port, clientPort=None, clientPortAddress=None),
                             start=False)
        srv.probe = lambda word: tls_four_letter(certs, port, word, timeout=2.0)
        srv.start()
        stops = [srv.stop]
    else:
        peers, modes = tls_only_ensemble(impl, certs, tmp_path)
        stops = [p.stop for p in peers]
        follower = next(p for p in peers if modes[p.sid] == "follower")
        port = int(follower.extra["secureClientPort"])
    try:
        conf = tls_four_letter(certs, port, "conf")
        assert conf_ports(conf) == ("-1", str(port)), conf
        crosscheck.check("conf keys", [l.split("=", 1)[0] for l in conf.splitlines()
                                       if "=" in l and not l.startswith(("server.", "version"))])
        srvr = tls_four_letter(certs, port, "srvr")
        assert ("Mode: follower" if where == "ensemble" else "Mode: standalone") in srvr, srvr
        crosscheck.check("srvr keys", [l.split(":", 1)[0] for l in srvr.splitlines()])
        zk = tls_client(certs, port)
        zk.start(timeout=30)
        try:
            zk.create("/tls-only", b"v1")
            seen = []
            zk.get("/tls-only", watch=lambda event: seen.append(event.type))
            zk.set("/tls-only", b"v2")
            end = time.monotonic() + 10
            while not seen and time.monotonic() < end:
                time.sleep(0.05)
            assert seen == ["CHANGED"]
            assert zk.get("/tls-only")[0] == b"v2"
            zk.delete("/tls-only")
        finally:
            zk.stop()
    finally:
        for stop in stops:
            stop()
