"""The AdminServer over HTTPS, Java 3.8.0 and ours.

`admin.forceHttps=true`: TLS only; a plain HTTP request gets Java's TLS
alert and the connection closes. `admin.portUnification=true`: HTTPS and
plain HTTP on the one port. Either way the certificates are the quorum's
(`ssl.quorum.keyStore.*`, `ssl.quorum.trustStore.*`), answers over TLS
carry Jetty's HSTS header, and no client certificate is asked for.
`admin.needClientAuth` (3.9) requires one; Java 3.8.0 does not have the
key, so ours is checked against 3.9's documented behaviour. The
Prometheus `/metrics` endpoint stays plain HTTP, as Java's provider.
"""

import json
import socket
import ssl
import urllib.error
import urllib.request

import pytest

import conftest
from conftest import JAVA_LIB, free_port, require_impl
from test_admin import AdminZkServer
from test_config import BASE, EXIT_CONFIG, Case, Exits, Serves, describe, run_case
from test_tls import PASSWORD, certs  # noqa: F401 (the fixture)

PLAIN_ON_HTTPS_ALERT = b"\x15\x03\x03\x00\x02\x02\x50"
HSTS = "max-age=86400; includeSubDomains"


def stores(certs, **extra):
    cfg = {
        "ssl.quorum.keyStore.location": str(certs / "server.jks"),
        "ssl.quorum.keyStore.password": PASSWORD,
        "ssl.quorum.trustStore.location": str(certs / "trust.jks"),
        "ssl.quorum.trustStore.password": PASSWORD,
    }
    cfg.update(extra)
    return cfg


def admin_server(impl, tmp_path_factory, name, cfg):
    require_impl(impl)
    if impl == "java":
        conftest.need((JAVA_LIB / "servlet-api.jar").exists(),
                      "servlet-api.jar missing: Java's AdminServer cannot start")
    port = free_port()
    cfg = dict(cfg, **{"admin.enableServer": "true", "admin.serverPort": str(port),
                       "admin.serverAddress": "127.0.0.1"})
    srv = AdminZkServer(impl, tmp_path_factory.mktemp("%s-%s" % (name, impl)), cfg)
    srv.start()
    srv.admin_port = port
    return srv


def https_get(certs, port, path, with_cert=False):
    """(status, headers, body) over HTTPS, the server checked against the CA."""
    ctx = ssl.create_default_context(cafile=str(certs / "ca.pem"))
    if with_cert:
        ctx.load_cert_chain(str(certs / "client.pem"), str(certs / "client.key"))
    try:
        with urllib.request.urlopen("https://localhost:%d%s" % (port, path), context=ctx,
                                    timeout=20) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def http_get(port, path):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=20) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def raw_plain_request(port):
    """A plain HTTP request on the port; every byte the server sends back."""
    out = b""
    with socket.create_connection(("127.0.0.1", port), timeout=20) as s:
        s.sendall(b"GET /commands/ruok HTTP/1.1\r\nHost: localhost\r\n\r\n")
        try:
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                out += chunk
        except ConnectionResetError:
            pass
    return out


def keys(value):
    """The JSON key set, recursively (values differ between servers)."""
    if isinstance(value, dict):
        return {k: keys(v) for k, v in value.items()}
    return type(value).__name__


MODES = {"forceHttps": {"admin.forceHttps": "true"},
         "portUnification": {"admin.portUnification": "true"}}


@pytest.fixture(scope="module", params=sorted(MODES))
def https_admin(request, impl, certs, tmp_path_factory):  # noqa: F811
    srv = admin_server(impl, tmp_path_factory, "admin-" + request.param,
                       dict(stores(certs), **MODES[request.param]))
    srv.mode = request.param
    yield srv
    srv.stop()


def test_commands_over_https(https_admin, certs, crosscheck):  # noqa: F811
    port = https_admin.admin_port
    answers = {}
    for path in ("/commands/ruok", "/commands/srvr", "/commands/conf", "/commands/isro",
                 "/commands/nosuch"):
        status, headers, body = https_get(certs, port, path)
        assert status == 200, (path, status, body)
        assert headers.get("Strict-Transport-Security") == HSTS, headers
        assert headers.get("Content-Type") == "application/json", headers
        answers[path] = keys(json.loads(body))
    crosscheck.check("json key sets over https", answers)
    status, headers, body = https_get(certs, port, "/commands")
    assert status == 200 and b'<a href="/commands/ruok">ruok</a>' in body
    status, _, _ = https_get(certs, port, "/elsewhere")
    crosscheck.check("status outside the command URL", status)


def test_plain_http(https_admin, crosscheck):
    """forceHttps: Java's alert, then close; portUnification: served,
    without the HSTS header."""
    port = https_admin.admin_port
    if https_admin.mode == "forceHttps":
        assert raw_plain_request(port) == PLAIN_ON_HTTPS_ALERT
        return
    status, headers, body = http_get(port, "/commands/ruok")
    assert status == 200 and json.loads(body)["command"] == "ruok"
    assert "Strict-Transport-Security" not in headers, headers
    crosscheck.check("plain json keys", keys(json.loads(body)))


def test_no_client_certificate_asked_for(https_admin, certs):  # noqa: F811
    """Without admin.needClientAuth a client with or without a
    certificate is served."""
    for with_cert in (False, True):
        status, _, _ = https_get(certs, https_admin.admin_port, "/commands/ruok", with_cert)
        assert status == 200


def test_need_client_auth(certs, tmp_path_factory):  # noqa: F811
    """admin.needClientAuth=true (3.9's key): a client without a
    certificate from the trust store is refused in the handshake; one
    with is served."""
    srv = admin_server("rust", tmp_path_factory, "admin-needauth",
                       dict(stores(certs), **{"admin.forceHttps": "true",
                                              "admin.needClientAuth": "true"}))
    try:
        with pytest.raises((ssl.SSLError, urllib.error.URLError, ConnectionError)):
            https_get(certs, srv.admin_port, "/commands/ruok")
        status, _, body = https_get(certs, srv.admin_port, "/commands/ruok", with_cert=True)
        assert status == 200 and json.loads(body)["command"] == "ruok"
    finally:
        srv.stop()


def test_metrics_endpoint_stays_plain(certs, tmp_path_factory):  # noqa: F811
    """Java's Prometheus provider serves plain HTTP whatever the
    AdminServer does (Debian's Java lacks the provider: ours only)."""
    metrics_port = free_port()
    srv = admin_server("rust", tmp_path_factory, "admin-https-metrics", dict(
        stores(certs), **{"admin.forceHttps": "true",
                          "metricsProvider.className":
                              "org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider",
                          "metricsProvider.httpPort": str(metrics_port),
                          "metricsProvider.httpHost": "127.0.0.1"}))
    try:
        status, _, body = http_get(metrics_port, "/metrics")
        assert status == 200 and b"znode_count" in body
        assert raw_plain_request(srv.admin_port) == PLAIN_ON_HTTPS_ALERT
    finally:
        srv.stop()


def test_https_without_stores_stops_ours(tmp_path):
    """Java 3.8.0 logs that its AdminServer cannot load the certificates
    and runs without one; ours stops naming the missing store key."""
    require_impl("rust")
    case = Case("admin_https_no_stores", BASE + "admin.forceHttps=true\n"
                "admin.serverPort=%d\n" % free_port(), Serves(), ours=Exits(EXIT_CONFIG),
                flags=["-Dzookeeper.admin.enableServer=true"])
    outcome = run_case("rust", case, tmp_path / "rust")
    assert outcome.behaviour() == Exits(EXIT_CONFIG), describe(outcome)
    for word in ("ssl.quorum.keyStore.location", "admin.forceHttps"):
        assert word in outcome.output, describe(outcome)
