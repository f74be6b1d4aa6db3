"""SASL and the authentication policy, against Java 3.8.0 and ours.

Part 1, fail closed: every authentication setting ours does not honour
stops startup with a message naming the key (one case per key family;
Java's behaviour with the same config is recorded next to ours), and a
SASL token sent to a server without a SASL configuration is refused.
"""

import os
from pathlib import Path

import pytest

import rawzk as Z
from conftest import IMPLS, require_impl
from test_config import BASE, EXIT_CONFIG, Case, Exits, Serves, describe, run_case

OP_SASL = 102

# ---- part 1: settings ours does not honour are refused -----------------------

SASL_PROVIDER = "org.apache.zookeeper.server.auth.SASLAuthenticationProvider"


def refusal_cases(jaas_dir):
    """(case, what ours must name). `java` is what Java 3.8.0 does."""
    return [
        # A class we do not have: Java logs "Problems loading" and serves
        # without the scheme; ours refuses.
        Case("authProvider_unknown_class", BASE + "authProvider.1=com.example.NoSuchProvider\n",
             Serves(), "zookeeper.authProvider.1", "com.example.NoSuchProvider",
             ours=Exits(EXIT_CONFIG)),
        # Quorum SASL is not built: a peer asked to authenticate its peers
        # must not run without it (Java ignores it when standalone).
        Case("quorum_auth_enableSasl", BASE + "quorum.auth.enableSasl=true\n",
             Serves(), "quorum.auth.enableSasl", "true", ours=Exits(EXIT_CONFIG)),
        Case("enforce_auth_enabled", BASE + "enforce.auth.enabled=true\nenforce.auth.schemes=digest\n",
             Serves(), "zookeeper.enforce.auth.enabled", ours=Exits(EXIT_CONFIG)),
        Case("digestAlg_sha256", BASE + "DigestAuthenticationProvider.digestAlg=SHA-256\n",
             Serves(), "zookeeper.DigestAuthenticationProvider.digestAlg", "SHA-256",
             ours=Exits(EXIT_CONFIG)),
        Case("jaas_login_config", BASE, Serves(), "java.security.auth.login.config",
             flags=["-Djava.security.auth.login.config=%s" % (jaas_dir / "jaas.conf")],
             ours=Exits(EXIT_CONFIG)),
        Case("kerberos_name_rules", BASE + "kerberos.removeHostFromPrincipal=true\n",
             Serves(), "zookeeper.kerberos.removeHostFromPrincipal", ours=Exits(EXIT_CONFIG)),
    ]


SERVER_JAAS = """Server {
       org.apache.zookeeper.server.auth.DigestLoginModule required
       user_super="adminsecret"
       user_bob="bobsecret";
};
"""


@pytest.fixture(scope="module")
def refusal_outcomes(tmp_path_factory):
    for impl in IMPLS:
        require_impl(impl)
    root = tmp_path_factory.mktemp("sasl-refusals")
    jaas_dir = root / "jaas"
    jaas_dir.mkdir()
    (jaas_dir / "jaas.conf").write_text(SERVER_JAAS)
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
