"""SASL and the authentication policy, against Java 3.8.0 and ours.

Part 1, fail closed: every authentication setting ours does not honour
stops startup with a message naming the key (one case per key family;
Java's behaviour with the same config is recorded next to ours), and a
SASL token sent to a server without a SASL configuration is refused.

Part 2, DIGEST-MD5: both servers get the same JAAS file (`Server` section,
DigestLoginModule users) through -Djava.security.auth.login.config and the
`sasl` scheme through authProvider.1; kazoo (sasl_options and the legacy
auth_data form, over pure-sasl), a raw exchange driven by pure-sasl, and
zkCli.sh with a client JAAS `Client` section authenticate, create under a
`sasl:` ACL, are denied as another user, and fail with AuthFailed on a
wrong password. Observable results are cross-checked against Java's.

Part 3, policy: enforce.auth.enabled/schemes and
sessionRequireClientSASLAuth (-124 SESSIONCLOSEDREQUIRESASLAUTH),
DigestAuthenticationProvider.enabled=false, and a dataDir written by Java
with sasl: and SHA-256 digest: ACLs served here with the same decisions.
"""

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

import rawzk as Z
from conftest import IMPLS, ZKCLI, java_available, need, require_impl
from test_config import BASE, EXIT_CONFIG, Case, Exits, Serves, describe, run_case

try:
    from kazoo.client import KazooClient
    from kazoo import exceptions as kx
    from kazoo.protocol.states import KeeperState
    from kazoo.security import ACL, Id
    import puresasl.client
    HAVE_KAZOO_SASL = True
except ImportError:  # pragma: no cover - reported by need()
    HAVE_KAZOO_SASL = False

OP_SASL = 102

# ---- part 1: settings ours does not honour are refused -----------------------

SASL_PROVIDER = "org.apache.zookeeper.server.auth.SASLAuthenticationProvider"


def refusal_cases(jaas_dir):
    """What Java 3.8.0 does (`java`) and ours (`ours`, when it differs) with
    each setting; ours names `key` (and shows `value`) when it refuses."""
    jaas = lambda name: ["-Djava.security.auth.login.config=%s" % (jaas_dir / name)]
    return [
        # A class we do not have: Java logs "Problems loading" and serves
        # without the scheme; ours refuses.
        Case("authProvider_unknown_class", BASE + "authProvider.1=com.example.NoSuchProvider\n",
             Serves(), "authProvider.1", "com.example.NoSuchProvider",
             ours=Exits(EXIT_CONFIG)),
        # Quorum SASL only concerns ensembles: both ignore it when
        # standalone (test_quorum_sasl.py covers ensembles).
        Case("quorum_auth_enableSasl", BASE + "quorum.auth.enableSasl=true\n", Serves()),
        # Enforcing a scheme nobody registered.
        Case("enforce_auth_unavailable_scheme",
             BASE + "enforce.auth.enabled=true\nenforce.auth.schemes=sasl\n",
             Exits(EXIT_CONFIG), "zookeeper.enforce.auth.schemes", "sasl"),
        # Java fails with an unexpected exception (exit 1) in these; ours
        # calls them config errors (exit 2) and names the key.
        Case("digestAlg_unknown", BASE + "DigestAuthenticationProvider.digestAlg=NOPE\n",
             Exits(1), "zookeeper.DigestAuthenticationProvider.digestAlg", "NOPE",
             ours=Exits(EXIT_CONFIG)),
        Case("jaas_malformed", BASE, Exits(1), "java.security.auth.login.config", "line 5",
             flags=jaas("malformed.jaas"), ours=Exits(EXIT_CONFIG)),
        Case("jaas_missing_file", BASE, Exits(1), "java.security.auth.login.config", "absent.jaas",
             flags=jaas("absent.jaas"), ours=Exits(EXIT_CONFIG)),
        # A Kerberos login whose keytab is missing.
        Case("jaas_kerberos_no_keytab", BASE, Exits(1), "java.security.auth.login.config",
             "/nonexistent.keytab",
             flags=jaas("krb5.jaas"), ours=Exits(EXIT_CONFIG)),
        Case("jaas_named_section_missing", BASE, Serves(), "zookeeper.sasl.serverconfig", "Nope",
             flags=jaas("server.jaas") + ["-Dzookeeper.sasl.serverconfig=Nope"],
             ours=Exits(EXIT_CONFIG)),
        # A malformed auth_to_local rule (Java fails only when a SASL
        # name is first shortened).
        Case("auth_to_local_malformed", BASE + "security.auth_to_local=RULE:[1:$1\n",
             Serves(), "zookeeper.security.auth_to_local", "RULE:[1:$1", ours=Exits(EXIT_CONFIG)),
    ]


SERVER_JAAS = """Server {
       org.apache.zookeeper.server.auth.DigestLoginModule required
       user_super="adminsecret"
       user_bob="bobsecret";
};
"""
JAAS_FILES = {
    "server.jaas": SERVER_JAAS,
    # The options run into the '};' on line 5 (no ';' after the last one).
    "malformed.jaas": SERVER_JAAS.replace('"bobsecret";', '"bobsecret"'),
    "krb5.jaas": """Server {
       com.sun.security.auth.module.Krb5LoginModule required
       useKeyTab=true keyTab="/nonexistent.keytab" storeKey=true
       principal="zookeeper/localhost@EXAMPLE.COM";
};
""",
}


@pytest.fixture(scope="module")
def refusal_outcomes(tmp_path_factory):
    for impl in IMPLS:
        require_impl(impl)
    root = tmp_path_factory.mktemp("sasl-refusals")
    jaas_dir = root / "jaas"
    jaas_dir.mkdir()
    for name, text in JAAS_FILES.items():
        (jaas_dir / name).write_text(text)
    cases = refusal_cases(jaas_dir)
    out = {}
    for case in cases:
        for impl in IMPLS:
            out[(impl, case.name)] = (case, run_case(impl, case, root / ("%s-%s" % (case.name, impl))))
    return out


def test_unhonoured_auth_settings_stop_startup(refusal_outcomes):
    failures = []
    for (impl, name), (case, outcome) in sorted(refusal_outcomes.items()):
        expected = case.java if impl == "java" else case.expected_ours
        if outcome.behaviour() != expected:
            failures.append("%s %s: expected %r, got %s" % (impl, name, expected, describe(outcome)))
            continue
        if impl == "rust" and isinstance(expected, Exits):
            if case.key not in outcome.output or (case.value and case.value not in outcome.output):
                failures.append("ours %s does not name %r=%r: %s"
                                % (name, case.key, case.value, describe(outcome)))
    assert not failures, "\n\n".join(failures)


# ---- SASL without a SASL configuration ----------------------------------------

def sasl_request(conn, token):
    """Sends one GetSASLRequest; returns (err, token or None)."""
    err, _zxid, r = conn.request(OP_SASL, Z.p_buffer(token))
    token = r.buffer() if r.remaining() else None
    return err, token


def test_sasl_token_without_sasl_configuration(impl, zk):
    """Java 3.8.0 has no SASL server object without a JAAS file and answers
    every token OK with no token (a client that does not check may think
    it authenticated); ours refuses with AUTHFAILED and closes."""
    conn = Z.RawZk("127.0.0.1", zk.port).connect()
    try:
        err, token = sasl_request(conn, b"")
        if impl == "java":
            assert (err, token) == (Z.OK, None)
        else:
            assert err == Z.AUTHFAILED
            assert token is None
            assert conn.is_closed(wait=10.0)
    finally:
        conn.close_socket()


# ---- part 2: DIGEST-MD5 ---------------------------------------------------------

USERS = {"bob": "bobsecret", "alice": "alicesecret", "admin": "adminsecret"}
SERVER_SECTION = """Server {
       org.apache.zookeeper.server.auth.DigestLoginModule required
%s;
};
""" % "\n".join('       user_%s="%s"' % kv for kv in USERS.items())
ALL = 31


def sasl_flags(jaas_path, *extra):
    return (["-Djava.security.auth.login.config=%s" % jaas_path,
             "-Dzookeeper.authProvider.1=" + SASL_PROVIDER,
             "-Dzookeeper.superUser=admin"] + list(extra))


@pytest.fixture(scope="module")
def sasl_zk(impl, server_factory, tmp_path_factory):
    jaas = tmp_path_factory.mktemp("jaas-%s" % impl) / "server.jaas"
    jaas.write_text(SERVER_SECTION)
    return server_factory(impl, "sasl", flags=sasl_flags(jaas))


def kazoo(srv, **kw):
    need(HAVE_KAZOO_SASL, "kazoo and pure-sasl (pip install kazoo pure-sasl)")
    c = KazooClient(hosts=srv.hosts, timeout=15.0, connection_retry={"max_tries": 0}, **kw)
    return c


def digest_options(user, password=None):
    return {"mechanism": "DIGEST-MD5", "username": user,
            "password": USERS.get(user) if password is None else password}


def started(srv, **kw):
    c = kazoo(srv, **kw)
    c.start(timeout=30)
    return c


def outcome(fn):
    """The exception class name a call raises, or 'ok' and its value."""
    try:
        return ("ok", fn())
    except kx.KazooException as e:
        return (type(e).__name__, None)


def test_kazoo_digest_md5(impl, sasl_zk, crosscheck):
    path = "/sasl_kazoo"
    bob = started(sasl_zk, sasl_options=digest_options("bob"))
    alice = started(sasl_zk, sasl_options=digest_options("alice"))
    admin = started(sasl_zk, sasl_options=digest_options("admin"))
    anon = started(sasl_zk)
    try:
        bob.create(path, b"bob's", acl=[ACL(ALL, Id("sasl", "bob"))])
        results = {
            "bob_get": outcome(lambda: bob.get(path)[0]),
            "acl": outcome(lambda: [(a.perms, a.id.scheme, a.id.id) for a in bob.get_acls(path)[0]]),
            "alice_get": outcome(lambda: alice.get(path)[0]),
            "alice_set": outcome(lambda: alice.set(path, b"x") and None),
            "anon_get": outcome(lambda: anon.get(path)[0]),
            "admin_get": outcome(lambda: admin.get(path)[0]),  # zookeeper.superUser
            # An `auth` ACL expands to the creator's sasl id.
            "auth_acl": outcome(lambda: (alice.create(path + "_auth", b"", acl=[ACL(ALL, Id("auth", ""))]),
                                         [a.id.id for a in alice.get_acls(path + "_auth")[0]])[1]),
            "bob_on_alices": outcome(lambda: bob.get(path + "_auth")[0]),
            "bad_sasl_acl": outcome(lambda: bob.create(path + "_bad", b"", acl=[ACL(ALL, Id("sasl", "a@b@c"))])),
        }
        assert results["bob_get"] == ("ok", b"bob's")
        assert results["acl"] == ("ok", [(ALL, "sasl", "bob")])
        assert results["alice_get"][0] == "NoAuthError"
        assert results["alice_set"][0] == "NoAuthError"
        assert results["anon_get"][0] == "NoAuthError"
        assert results["admin_get"] == ("ok", b"bob's")
        assert results["auth_acl"] == ("ok", ["alice"])
        assert results["bob_on_alices"][0] == "NoAuthError"
        assert results["bad_sasl_acl"][0] == "InvalidACLError"
        crosscheck.check("results", results)
    finally:
        for c in (bob, alice, admin, anon):
            c.stop()
            c.close()


def test_kazoo_legacy_sasl_auth_data(impl, sasl_zk, crosscheck):
    path = "/sasl_legacy"
    with pytest.warns(DeprecationWarning):
        bob = kazoo(sasl_zk, auth_data=[("sasl", "bob:bobsecret")])
    bob.start(timeout=30)
    anon = started(sasl_zk)
    try:
        bob.create(path, b"v", acl=[ACL(ALL, Id("sasl", "bob"))])
        results = {"bob": outcome(lambda: bob.get(path)[0]), "anon": outcome(lambda: anon.get(path)[0])}
        assert results == {"bob": ("ok", b"v"), "anon": ("NoAuthError", None)}
        crosscheck.check("results", results)
    finally:
        for c in (bob, anon):
            c.stop()
            c.close()


@pytest.mark.parametrize("user,password", [("bob", "wrong"), ("mallory", "any")])
def test_kazoo_wrong_password_is_auth_failed(impl, sasl_zk, user, password, caplog):
    """The server refuses the exchange: kazoo logs AUTH_FAILED and stops
    connecting. (kazoo reports CONNECTED at the handshake, before SASL, so
    start() may return or time out depending on timing.)"""
    c = kazoo(sasl_zk, sasl_options=digest_options(user, password))
    try:
        try:
            c.start(timeout=10)
        except (kx.AuthFailedError, c.handler.timeout_exception):
            pass
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not any(
                "AUTH_FAILED" in r.getMessage() for r in caplog.records):
            time.sleep(0.05)
        assert any("AUTH_FAILED" in r.getMessage() for r in caplog.records), caplog.text
        while time.monotonic() < deadline and c.connected:
            time.sleep(0.05)
        assert not c.connected
    finally:
        c.stop()
        c.close()


def raw_exchange(srv, user, password):
    """A DIGEST-MD5 exchange over a raw connection, driven by pure-sasl:
    [(err, server token)] per step, and whether the server closed."""
    need(HAVE_KAZOO_SASL, "pure-sasl")
    conn = Z.RawZk("127.0.0.1", srv.port).connect()
    cli = puresasl.client.SASLClient("zk-sasl-md5", service="zookeeper", mechanism="DIGEST-MD5",
                                     username=user, password=password)
    steps = []
    try:
        token = cli.process(None) or b""
        while True:
            err, server_token = sasl_request(conn, token)
            steps.append((err, server_token))
            if err != Z.OK:
                return steps, conn.is_closed(wait=10.0)
            token = cli.process(server_token)
            if cli.complete:
                return steps, conn.is_closed(wait=0.5)
    finally:
        conn.close_socket()


def test_raw_exchange_codes(impl, sasl_zk, crosscheck):
    steps, closed = raw_exchange(sasl_zk, "bob", "bobsecret")
    assert [err for err, _ in steps] == [Z.OK, Z.OK]
    challenge = re.sub(r'nonce="[^"]*"', 'nonce="N"', steps[0][1].decode())
    assert challenge == 'realm="zk-sasl-md5",nonce="N",charset=utf-8,algorithm=md5-sess'
    assert len(re.search(r'nonce="([^"]*)"', steps[0][1].decode()).group(1)) == 40
    assert re.fullmatch(rb"rspauth=[0-9a-f]{32}", steps[1][1])
    assert not closed
    steps, closed = raw_exchange(sasl_zk, "bob", "wrong")
    assert [err for err, _ in steps] == [Z.OK, Z.AUTHFAILED]
    assert steps[1][1] is None
    assert closed
    crosscheck.check("wrong", [err for err, _ in steps])


# ---- zkCli.sh with a client JAAS section ------------------------------------------

def run_zkcli(srv, jaas_path, commands, timeout=120, extra_flags=""):
    need(java_available() and ZKCLI.exists(), "zkCli.sh (zookeeper-bin) and Java")
    env = dict(os.environ)
    env["CLIENT_JVMFLAGS"] = ("-Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 "
                              "-Djava.security.auth.login.config=%s %s" % (jaas_path, extra_flags))
    proc = subprocess.Popen([str(ZKCLI), "-server", srv.hosts], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True,
                            start_new_session=True)
    try:
        out, _ = proc.communicate("\n".join(commands) + "\nquit\n", timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        pytest.fail("zkCli did not finish within %ds:\n%s" % (timeout, out[-3000:]))
    return out


def client_jaas(tmp_path, user, password):
    path = tmp_path / ("client-%s.jaas" % user)
    path.write_text('Client {\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n'
                    '  username="%s"\n  password="%s";\n};\n' % (user, password))
    return path


def zkcli_facts(out):
    """What a zkCli session showed, independent of timing and ids: the
    command output in order, then the watch events (printed by the client's
    event thread, so they interleave with the output at random), then the
    whoami lines (in the server's hash-set order) sorted."""
    facts, events, whoami = [], [], []
    for line in out.splitlines():
        line = line.strip()
        if re.match(r"(ip|sasl|digest|super): ", line):
            whoami.append(line)
        elif line.startswith("WatchedEvent"):
            events.append(line)
        elif (line.startswith(("'sasl", "Authentication is not valid",
                              "Insufficient permission", "Created", "KeeperErrorCode",
                              "data-for-", ": cdrwa"))
                or "SaslAuthenticated" in line or "AuthFailed" in line):
            facts.append(re.sub(r"127\.0\.0\.1:\d+", "ADDR", line))
    return facts + events + sorted(whoami)


def test_zkcli_client_jaas(impl, sasl_zk, tmp_path, crosscheck):
    bob = run_zkcli(sasl_zk, client_jaas(tmp_path, "bob", "bobsecret"), [
        "whoami", "create /sasl_cli data-for-bob sasl:bob:cdrwa", "get /sasl_cli", "getAcl /sasl_cli"])
    alice = run_zkcli(sasl_zk, client_jaas(tmp_path, "alice", "alicesecret"), [
        "whoami", "get /sasl_cli", "set /sasl_cli x"])
    wrong = run_zkcli(sasl_zk, client_jaas(tmp_path, "bob", "wrong"), ["get /sasl_cli"])
    assert "SaslAuthenticated" in bob and "Created /sasl_cli" in bob, bob
    assert "data-for-bob" in bob and "'sasl,'bob" in bob, bob
    assert "sasl" in alice and "Insufficient permission" in alice, alice
    assert "data-for-bob" not in alice, alice
    assert "AuthFailed" in wrong and "data-for-bob" not in wrong, wrong
    crosscheck.check("facts", {"bob": zkcli_facts(bob), "alice": zkcli_facts(alice),
                               "wrong": [f for f in zkcli_facts(wrong) if "AuthFailed" in f][:1]})


# ---- part 3: the authentication policy ---------------------------------------------

def raw_get(srv, auth=None):
    """A fresh raw session: optional addauth, then getData /; returns
    (addauth err, getData err, closed after)."""
    conn = Z.RawZk("127.0.0.1", srv.port).connect()
    try:
        auth_err = conn.add_auth(*auth) if auth else None
        err, _zxid, _r = conn.request(Z.OP_GET_DATA, Z.rec_read("/"))
        return auth_err, err, conn.is_closed(wait=10.0 if err != Z.OK else 0.5)
    finally:
        conn.close_socket()


SESSION_CLOSED_REQUIRE_SASL = -124


@pytest.fixture(scope="module")
def enforcing_zk(impl, server_factory, tmp_path_factory):
    """enforce.auth.enabled with the sasl and digest schemes."""
    jaas = tmp_path_factory.mktemp("jaas-enforce-%s" % impl) / "server.jaas"
    jaas.write_text(SERVER_SECTION)
    return server_factory(impl, "enforce", flags=sasl_flags(jaas), extra_cfg={
        "enforce.auth.enabled": "true", "enforce.auth.schemes": "sasl,digest"})


def test_enforce_auth_schemes(impl, enforcing_zk, crosscheck):
    results = {
        # An unauthenticated request: -124 and the connection is closed.
        "anonymous": raw_get(enforcing_zk),
        "digest": raw_get(enforcing_zk, ("digest", b"carol:pw")),
        # ip is not an enforced scheme: addauth ip succeeds, the read does not.
        "ip_only": raw_get(enforcing_zk, ("ip", b"")),
    }
    assert results["anonymous"] == (None, SESSION_CLOSED_REQUIRE_SASL, True)
    assert results["digest"] == (Z.OK, Z.OK, False)
    assert results["ip_only"] == (Z.OK, SESSION_CLOSED_REQUIRE_SASL, True)
    anon = kazoo(enforcing_zk)
    bob = started(enforcing_zk, sasl_options=digest_options("bob"))
    try:
        anon.start(timeout=30)
        with pytest.raises(kx.SessionClosedRequireSaslError):
            anon.get("/")
        assert bob.get("/")[0] == b""
    finally:
        for c in (anon, bob):
            c.stop()
            c.close()
    crosscheck.check("results", results)


@pytest.fixture(scope="module")
def sasl_required_zk(impl, server_factory, tmp_path_factory):
    jaas = tmp_path_factory.mktemp("jaas-required-%s" % impl) / "server.jaas"
    jaas.write_text(SERVER_SECTION)
    return server_factory(impl, "required", flags=sasl_flags(
        jaas, "-Dzookeeper.sessionRequireClientSASLAuth=true"))


def test_session_require_client_sasl_auth(impl, sasl_required_zk, crosscheck):
    """No SASL: the first request gets -124. A failed exchange gets -124
    too (not AUTHFAILED); digest does not count."""
    anonymous = raw_get(sasl_required_zk)
    digest = raw_get(sasl_required_zk, ("digest", b"carol:pw"))
    steps, closed = raw_exchange(sasl_required_zk, "bob", "wrong")
    assert anonymous == (None, SESSION_CLOSED_REQUIRE_SASL, True)
    assert digest == (Z.OK, SESSION_CLOSED_REQUIRE_SASL, True)
    assert [err for err, _ in steps] == [Z.OK, SESSION_CLOSED_REQUIRE_SASL] and closed
    steps, closed = raw_exchange(sasl_required_zk, "bob", "bobsecret")
    assert [err for err, _ in steps] == [Z.OK, Z.OK] and not closed
    bob = started(sasl_required_zk, sasl_options=digest_options("bob"))
    try:
        assert bob.get("/")[0] == b""
    finally:
        bob.stop()
        bob.close()
    crosscheck.check("results", [anonymous, digest])


def test_digest_provider_disabled(impl, server_factory, crosscheck):
    srv = server_factory(impl, "nodigest", extra_cfg={"DigestAuthenticationProvider.enabled": "false"})
    try:
        conn = Z.RawZk("127.0.0.1", srv.port).connect()
        try:
            err = conn.add_auth("digest", b"carol:pw")
            closed = conn.is_closed(wait=10.0)
        finally:
            conn.close_socket()
        # digest:... ACLs cannot be set either.
        c = started(srv)
        try:
            bad = outcome(lambda: c.create("/nodigest", b"", acl=[ACL(ALL, Id("digest", "carol:x"))]))
        finally:
            c.stop()
            c.close()
    finally:
        srv.stop()
    assert (err, closed) == (Z.AUTHFAILED, True)
    assert bad[0] == "InvalidACLError"
    crosscheck.check("results", [err, bad])


def test_java_datadir_with_sasl_and_sha256_acls(tmp_path):
    """Java 3.8.0 (SHA-256 digests, SASL scheme) writes nodes with sasl: and
    digest: ACLs; ours serves the same dataDir with the same decisions."""
    for impl in ("java", "rust"):
        require_impl(impl)
    need(HAVE_KAZOO_SASL, "kazoo and pure-sasl")
    jaas = tmp_path / "server.jaas"
    jaas.write_text(SERVER_SECTION)
    flags = sasl_flags(jaas, "-Dzookeeper.DigestAuthenticationProvider.digestAlg=SHA-256")
    from conftest import ZkServer

    def decisions(srv):
        bob = started(srv, sasl_options=digest_options("bob"))
        alice = started(srv, sasl_options=digest_options("alice"))
        carol = started(srv, auth_data=[("digest", "carol:carolpw")])
        wrong = started(srv, auth_data=[("digest", "carol:nope")])
        try:
            out = {}
            for who, c in (("bob", bob), ("alice", alice), ("carol", carol), ("wrong", wrong)):
                for node in ("/sasl_node", "/digest_node", "/auth_node"):
                    out["%s %s" % (who, node)] = outcome(lambda: c.get(node)[0])
            # getACL needs READ or ADMIN: each node's owner reads it.
            out["acls"] = {n: [(a.perms, a.id.scheme, a.id.id) for a in owner.get_acls(n)[0]]
                           for n, owner in (("/sasl_node", bob), ("/digest_node", carol),
                                            ("/auth_node", carol))}
            return out
        finally:
            for c in (bob, alice, carol, wrong):
                c.stop()
                c.close()

    java = ZkServer("java", tmp_path / "srv", flags=flags)
    java.start()
    try:
        bob = started(java, sasl_options=digest_options("bob"))
        carol = started(java, auth_data=[("digest", "carol:carolpw")])
        try:
            bob.create("/sasl_node", b"s", acl=[ACL(ALL, Id("sasl", "bob"))])
            # `auth` expands to the SHA-256 digest id Java computed.
            carol.create("/auth_node", b"a", acl=[ACL(ALL, Id("auth", ""))])
            digest_id = [a.id.id for a in carol.get_acls("/auth_node")[0]][0]
            carol.create("/digest_node", b"d", acl=[ACL(ALL, Id("digest", digest_id))])
        finally:
            for c in (bob, carol):
                c.stop()
                c.close()
        expected = decisions(java)
    finally:
        java.stop()
    assert expected["acls"]["/auth_node"][0][2].startswith("carol:")
    assert len(expected["acls"]["/auth_node"][0][2]) == len("carol:") + 44, "a SHA-256 digest"
    assert expected["bob /sasl_node"] == ("ok", b"s")
    assert expected["alice /sasl_node"][0] == "NoAuthError"
    assert expected["carol /digest_node"] == ("ok", b"d")
    assert expected["wrong /digest_node"][0] == "NoAuthError"

    ours = ZkServer("rust", tmp_path / "srv", flags=flags)  # the same dataDir
    ours.start()
    try:
        served = decisions(ours)
    finally:
        ours.stop()
    assert served == expected


def test_lenient_sasl_settings(impl, server_factory, tmp_path_factory, crosscheck):
    """allowSaslFailedClients keeps a connection whose exchange failed (OK,
    no token, no sasl id); superPassword overrides the JAAS password of the
    SASL user `super`, whose id matches every sasl ACL; letAnySaslUserDoX
    names an ACL id every SASL user matches."""
    need(HAVE_KAZOO_SASL, "kazoo and pure-sasl")
    jaas = tmp_path_factory.mktemp("jaas-lenient-%s" % impl) / "server.jaas"
    jaas.write_text(SERVER_SECTION.replace('user_bob=', 'user_super="jaas-super"\n       user_bob='))
    srv = server_factory(impl, "lenient", flags=sasl_flags(
        jaas, "-Dzookeeper.allowSaslFailedClients=true",
        "-Dzookeeper.SASLAuthenticationProvider.superPassword=override",
        "-Dzookeeper.letAnySaslUserDoX=anyone-sasl"))
    try:
        conn = Z.RawZk("127.0.0.1", srv.port).connect()
        cli = puresasl.client.SASLClient("zk-sasl-md5", service="zookeeper", mechanism="DIGEST-MD5",
                                         username="bob", password="wrong")
        try:
            err1, challenge = sasl_request(conn, cli.process(None) or b"")
            failed = sasl_request(conn, cli.process(challenge))
            after = conn.request(Z.OP_GET_DATA, Z.rec_read("/"))[0]
        finally:
            conn.close_socket()
        bob = started(srv, sasl_options=digest_options("bob"))
        alice = started(srv, sasl_options=digest_options("alice"))
        root = started(srv, sasl_options=digest_options("super", "override"))
        try:
            bob.create("/lenient_bob", b"b", acl=[ACL(ALL, Id("sasl", "bob"))])
            bob.create("/lenient_any", b"a", acl=[ACL(ALL, Id("sasl", "anyone-sasl"))])
            results = {
                "failed_exchange": [err1, failed, after],
                "super_reads_bobs": outcome(lambda: root.get("/lenient_bob")[0]),
                "alice_reads_any": outcome(lambda: alice.get("/lenient_any")[0]),
                "alice_reads_bobs": outcome(lambda: alice.get("/lenient_bob")[0]),
            }
        finally:
            for c in (bob, alice, root):
                c.stop()
                c.close()
        old_super = kazoo(srv, sasl_options=digest_options("super", "jaas-super"))
        try:
            try:
                old_super.start(timeout=10)
                jaas_super = outcome(lambda: old_super.get("/lenient_bob")[0])
            except Exception as e:  # refused: kazoo gives up
                jaas_super = (type(e).__name__, None)
        finally:
            old_super.stop()
            old_super.close()
    finally:
        srv.stop()
    assert results["failed_exchange"] == [Z.OK, (Z.OK, None), Z.OK]
    assert results["super_reads_bobs"] == ("ok", b"b")
    assert results["alice_reads_any"] == ("ok", b"a")
    assert results["alice_reads_bobs"][0] == "NoAuthError"
    # The JAAS password of `super` does not work (AUTH_FAILED is only
    # logged, so kazoo reports a lost connection or a time-out).
    assert jaas_super[0] != "ok"
    crosscheck.check("results", results)


# ---- SASL through a follower of an ensemble -------------------------------------------

@pytest.mark.parametrize("kinds", [
    pytest.param(["rust", "rust", "rust"], id="ours"),
    pytest.param(["rust", "java", "java"], id="our-follower+java-leader"),
    pytest.param(["java", "rust", "rust"], id="java-follower+our-leader"),
])
def test_sasl_through_a_follower(kinds, tmp_path):
    """A DIGEST-MD5 client of follower sid 1: its sasl id travels with the
    forwarded create to the leader (sid 3), which checks the ACL; reads on
    the follower check it there. Mixed Java/our ensembles both ways."""
    need(HAVE_KAZOO_SASL, "kazoo and pure-sasl")
    for kind in set(kinds):
        require_impl(kind)
    from test_zab_learner import ZabPeer, report, start_ensemble, stop_all
    jaas = tmp_path / "server.jaas"
    jaas.write_text(SERVER_SECTION)
    flags = sasl_flags(jaas)

    class SaslPeer(ZabPeer):
        def command(self):
            base = super().command()
            return base[:1] + flags + base[1:]

    peers = [SaslPeer(kind, sid, tmp_path / ("s%d" % sid)) for sid, kind in zip((1, 2, 3), kinds)]
    try:
        start_ensemble(peers, 3)

        class Follower:
            hosts = "127.0.0.1:%d" % peers[0].client_port

        bob = started(Follower, sasl_options=digest_options("bob"))
        alice = started(Follower, sasl_options=digest_options("alice"))
        try:
            bob.create("/sasl_follower", b"f", acl=[ACL(ALL, Id("sasl", "bob"))])
            bob.set("/sasl_follower", b"g")
            results = {"bob": outcome(lambda: bob.get("/sasl_follower")[0]),
                       "alice_get": outcome(lambda: alice.get("/sasl_follower")[0]),
                       "alice_set": outcome(lambda: alice.set("/sasl_follower", b"x") and None)}
        finally:
            for c in (bob, alice):
                c.stop()
                c.close()
    except BaseException:
        print(report(peers))
        raise
    finally:
        stop_all(peers)
    assert results["bob"] == ("ok", b"g")
    assert results["alice_get"][0] == "NoAuthError"
    assert results["alice_set"][0] == "NoAuthError"


@pytest.mark.parametrize("second", [
    pytest.param(b"garbage", id="garbage"),
    pytest.param(b'username="bob",realm="zk-sasl-md5",nonce="forged",cnonce="x",nc=00000001,'
                 b'qop=auth,digest-uri="zookeeper/zk-sasl-md5",response=0123456789abcdef0123456789abcdef',
                 id="forged-nonce"),
    pytest.param(b"x" * 70000, id="oversized"),
    pytest.param(b"", id="empty-again"),
])
def test_bad_sasl_tokens(impl, sasl_zk, second, crosscheck):
    """Malformed second tokens end the exchange with AUTHFAILED and close
    the connection; the server keeps serving."""
    conn = Z.RawZk("127.0.0.1", sasl_zk.port).connect()
    try:
        first = sasl_request(conn, b"")[0]
        err, token = sasl_request(conn, second)
        closed = conn.is_closed(wait=10.0)
    finally:
        conn.close_socket()
    assert (first, err, token, closed) == (Z.OK, Z.AUTHFAILED, None, True)
    assert sasl_zk.four_letter("ruok") == "imok"
    crosscheck.check("codes", (first, err))
