"""Kerberos (GSSAPI) end to end, against Java 3.8.0 and ours.

A real MIT KDC (Debian's krb5-kdc, tests/interop/kdc.py) runs on loopback
with its own realm ZK.TEST; the server logs in from a keytab through a
JAAS `Krb5LoginModule` section, clients (zkCli.sh, the Java client) from
theirs, kazoo through pure-sasl's GSSAPI (pykerberos) from kinit tickets.
Both servers get the same files through -Djava.security.auth.login.config
and -Djava.security.krb5.conf. Scenarios: authenticate, create under a
`sasl:` ACL naming the principal, be denied as another principal, and the
principal name rules (removeRealmFromPrincipal).
"""

import pytest

import kdc as K
from conftest import need
from test_sasl import SASL_PROVIDER, run_zkcli

REALM = K.REALM
SERVER_PRINCIPAL = "zookeeper/localhost@%s" % REALM


def krb5_jaas(section, keytab, principal):
    return ('%s {\n  com.sun.security.auth.module.Krb5LoginModule required\n'
            '  useKeyTab=true keyTab="%s" storeKey=true useTicketCache=false\n'
            '  principal="%s";\n};\n' % (section, keytab, principal))


@pytest.fixture(scope="module")
def realm(tmp_path_factory):
    need(K.available(), "MIT Kerberos KDC (apt-get install krb5-kdc krb5-admin-server)")
    kdc = K.MiniKdc(tmp_path_factory.mktemp("kdc")).start()
    keytabs = {p: kdc.keytab(p) for p in ("zookeeper/localhost", "bob", "alice")}
    yield kdc, keytabs
    kdc.stop()


def kerberos_server(impl, server_factory, realm, tmp_path_factory, name, *extra):
    kdc, keytabs = realm
    jaas = tmp_path_factory.mktemp("krb-jaas-%s-%s" % (name, impl)) / "server.jaas"
    jaas.write_text(krb5_jaas("Server", keytabs["zookeeper/localhost"], SERVER_PRINCIPAL))
    return server_factory(impl, name, flags=[
        "-Djava.security.auth.login.config=%s" % jaas,
        "-Djava.security.krb5.conf=%s" % kdc.krb5_conf,
        "-Dzookeeper.authProvider.1=" + SASL_PROVIDER] + list(extra))


def client_jaas(tmp_path, realm, user):
    kdc, keytabs = realm
    path = tmp_path / ("client-%s.jaas" % user)
    path.write_text(krb5_jaas("Client", keytabs[user], "%s@%s" % (user, REALM)))
    return path


def zkcli(srv, tmp_path, realm, user, commands):
    kdc, _ = realm
    return run_zkcli(srv, client_jaas(tmp_path, realm, user), commands,
                     extra_flags="-Djava.security.krb5.conf=%s" % kdc.krb5_conf)


def test_zkcli_gssapi(impl, server_factory, realm, tmp_path_factory, tmp_path, crosscheck):
    srv = kerberos_server(impl, server_factory, realm, tmp_path_factory, "krb")
    try:
        bob = zkcli(srv, tmp_path, realm, "bob", [
            "whoami", "create /krb data-for-bob sasl:bob@%s:cdrwa" % REALM, "get /krb", "getAcl /krb"])
        alice = zkcli(srv, tmp_path, realm, "alice", ["whoami", "get /krb"])
    finally:
        srv.stop()
    assert "SaslAuthenticated" in bob and "Created /krb" in bob, bob
    assert "sasl: bob@%s" % REALM in bob and "data-for-bob" in bob, bob
    assert "sasl: alice@%s" % REALM in alice and "Insufficient permission" in alice, alice
    assert "data-for-bob" not in alice, alice
    crosscheck.check("whoami", [l for l in (bob + alice).splitlines() if l.startswith("sasl: ")])


def test_zkcli_gssapi_name_rules(impl, server_factory, realm, tmp_path_factory, tmp_path, crosscheck):
    srv = kerberos_server(impl, server_factory, realm, tmp_path_factory, "krb-rules",
                          "-Dzookeeper.kerberos.removeRealmFromPrincipal=true")
    try:
        bob = zkcli(srv, tmp_path, realm, "bob", [
            "whoami", "create /krb_short d sasl:bob:cdrwa", "get /krb_short"])
    finally:
        srv.stop()
    assert "sasl: bob\n" in bob + "\n" and "Created /krb_short" in bob, bob
    lines = [l for l in bob.splitlines() if l.startswith("sasl: ") or l == "d"]
    assert lines == ["sasl: bob", "d"], bob
    crosscheck.check("lines", lines)


def test_kazoo_gssapi(impl, server_factory, realm, tmp_path_factory, tmp_path, monkeypatch, crosscheck):
    """kazoo over pure-sasl's GSSAPI (pykerberos, MIT krb5) with tickets
    from kinit: bob creates under sasl:bob@ZK.TEST, alice is denied."""
    try:
        from kazoo.client import KazooClient
        from kazoo import exceptions as kx
        from kazoo.security import ACL, Id
        import kerberos  # noqa: F401  (pure-sasl's GSSAPI backend)
    except ImportError:
        need(False, "kazoo, pure-sasl and pykerberos (pip install kazoo pure-sasl kerberos)")
    kdc, keytabs = realm
    srv = kerberos_server(impl, server_factory, realm, tmp_path_factory, "krb-kazoo")
    monkeypatch.setenv("KRB5_CONFIG", str(kdc.krb5_conf))

    def client(user):
        ccache = tmp_path / ("ccache-%s" % user)
        kdc._run("kinit", "-c", "FILE:%s" % ccache, "-kt", str(keytabs[user]), user)
        monkeypatch.setenv("KRB5CCNAME", "FILE:%s" % ccache)
        c = KazooClient(hosts="localhost:%d" % srv.port, timeout=15.0,
                        connection_retry={"max_tries": 3, "delay": 0.2},
                        sasl_options={"mechanism": "GSSAPI", "service": "zookeeper"})
        c.start(timeout=30)
        return c

    try:
        bob = client("bob")
        try:
            bob.create("/krb_kazoo", b"k", acl=[ACL(31, Id("sasl", "bob@%s" % REALM))])
            got_bob = bob.get("/krb_kazoo")[0]
        finally:
            bob.stop()
            bob.close()
        alice = client("alice")
        try:
            with pytest.raises(kx.NoAuthError):
                alice.get("/krb_kazoo")
        finally:
            alice.stop()
            alice.close()
    finally:
        srv.stop()
    assert got_bob == b"k"
    crosscheck.check("bob", got_bob)


def test_zkcli_gssapi_auth_to_local(impl, server_factory, realm, tmp_path_factory, tmp_path, crosscheck):
    """A zookeeper.security.auth_to_local rule renames bob; the realm is
    appended after the rule (removeRealmFromPrincipal is off)."""
    rules = "RULE:[1:$1@$0](bob@ZK\\.TEST)s/bob@.*/robert/ DEFAULT"
    srv = kerberos_server(impl, server_factory, realm, tmp_path_factory, "krb-a2l",
                          "-Dzookeeper.security.auth_to_local=%s" % rules)
    try:
        bob = zkcli(srv, tmp_path, realm, "bob", ["whoami"])
        alice = zkcli(srv, tmp_path, realm, "alice", ["whoami"])
    finally:
        srv.stop()
    names = [l for l in (bob + alice).splitlines() if l.startswith("sasl: ")]
    assert names == ["sasl: robert@%s" % REALM, "sasl: alice@%s" % REALM], bob + alice
    crosscheck.check("names", names)
