"""TLS and x509 against Java 3.8.0 and ours (issue 10).

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
    Case("quorum_tls", BASE + "sslQuorum=true\n", Serves(), "sslQuorum", "true",
         ours=Exits(EXIT_CONFIG)),
    Case("quorum_tls_keystore", BASE + "ssl.quorum.keyStore.location=/etc/zk/q.jks\n", Serves(),
         "ssl.quorum.keyStore.location", "/etc/zk/q.jks", ours=Exits(EXIT_CONFIG)),
    Case("quorum_port_unification", BASE + "portUnification=true\n", Serves(),
         "portUnification", "true", ours=Exits(EXIT_CONFIG)),
    Case("client_port_unification", BASE + "client.portUnification=true\n", Serves(),
         "client.portUnification", "true", ours=Exits(EXIT_CONFIG)),
    Case("admin_https", BASE + "admin.forceHttps=true\n", Serves(), "admin.forceHttps", "true",
         ours=Exits(EXIT_CONFIG)),
    Case("auth_provider_unknown_class", BASE + "authProvider.1=com.example.NoSuchProvider\n",
         Serves(), "authProvider.1", "com.example.NoSuchProvider", ours=Exits(EXIT_CONFIG)),
    Case("auth_provider_sasl", BASE + "authProvider.sasl=" + SASL_PROVIDER + "\n",
         Serves(), "authProvider.sasl", SASL_PROVIDER, ours=Exits(EXIT_CONFIG)),
    Case("sasl_quorum", BASE + "quorum.auth.enableSasl=true\n", Serves(),
         "quorum.auth.enableSasl", "true", ours=Exits(EXIT_CONFIG)),
]

# Values that ask for nothing: both serve.
HARMLESS = [
    Case("switches_off", BASE + "sslQuorum=false\nportUnification=false\nadmin.forceHttps=false\n"
         "client.portUnification=false\n", Serves()),
    Case("builtin_auth_providers",
         BASE + "authProvider.1=org.apache.zookeeper.server.auth.DigestAuthenticationProvider\n"
         "authProvider.2=org.apache.zookeeper.server.auth.IPAuthenticationProvider\n", Serves()),
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
