"""The AdminServer and /metrics under hostile clients, on ours.

Idle connections cost no thread (3,000 of them leave the server's thread
count where it was) and a normal request still answers while they are
open; a request head over 8 KiB is refused (431, as Jetty); a connection
that does not finish its request within admin.idleTimeout is closed; a
client that trickles its head byte by byte delays no one else. And
`system_properties` does not show the super user's digest.
"""

import base64
import hashlib
import json
import socket
import time
import urllib.request

import pytest

from conftest import free_port

PROMETHEUS = "org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider"
DIGEST = "super:" + base64.b64encode(hashlib.sha1(b"super:secret").digest()).decode()


@pytest.fixture(scope="module")
def srv(server_factory):
    admin, metrics = free_port(), free_port()
    s = server_factory("rust", "admin-limits", {
        "admin.enableServer": "true", "admin.serverPort": str(admin),
        "admin.serverAddress": "127.0.0.1", "admin.idleTimeout": "3000",
        "metricsProvider.className": PROMETHEUS, "metricsProvider.httpHost": "127.0.0.1",
        "metricsProvider.httpPort": str(metrics),
        "DigestAuthenticationProvider.superDigest": DIGEST})
    s.admin_port, s.metrics_port = admin, metrics
    return s


def get(port, path, timeout=10):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=timeout) as r:
        return r.status, r.read().decode()


def threads(srv):
    for line in open("/proc/%d/status" % srv.proc.pid):
        if line.startswith("Threads:"):
            return int(line.split()[1])
    raise AssertionError("no Threads line")


def raw(port, data, timeout=10):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.sendall(data)
    out = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        out += chunk
    s.close()
    return out


def test_system_properties_hides_the_super_digest(srv):
    status, body = get(srv.admin_port, "/commands/system_properties")
    assert status == 200
    assert DIGEST.split(":")[1] not in body
    assert json.loads(body)["zookeeper.DigestAuthenticationProvider.superDigest"] == "<set>"


@pytest.mark.parametrize("which", ["admin", "metrics"])
def test_idle_connections_cost_no_thread(srv, which):
    port = srv.admin_port if which == "admin" else srv.metrics_port
    path = "/commands/ruok" if which == "admin" else "/metrics"
    assert get(port, path)[0] == 200
    before = threads(srv)
    socks = []
    try:
        for _ in range(3000):
            socks.append(socket.create_connection(("127.0.0.1", port), timeout=10))
        # Give the server time to take every connection in.
        deadline = time.monotonic() + 5
        grown = 0
        while time.monotonic() < deadline:
            grown = max(grown, threads(srv) - before)
            time.sleep(0.2)
        t0 = time.monotonic()
        status, _ = get(port, path)
        took = time.monotonic() - t0
        assert status == 200
        assert grown <= 4, "3,000 idle connections took %d threads" % grown
        assert took < 5, "a normal request took %.1fs among idle connections" % took
    finally:
        for s in socks:
            s.close()


def test_request_head_limit(srv):
    small = raw(srv.admin_port, b"GET /commands/ruok HTTP/1.1\r\nX-Pad: " + b"a" * 7000 + b"\r\n\r\n")
    assert small.startswith(b"HTTP/1.1 200 ")
    big = raw(srv.admin_port, b"GET /commands/ruok HTTP/1.1\r\nX-Pad: " + b"a" * 9000 + b"\r\n\r\n")
    assert big.startswith(b"HTTP/1.1 431 ")


def test_unfinished_request_is_closed_at_the_idle_timeout(srv):
    """admin.idleTimeout=3000: a head still unfinished after it (although
    bytes keep coming) loses its connection."""
    s = socket.create_connection(("127.0.0.1", srv.admin_port), timeout=20)
    s.sendall(b"GET /commands/ruok HTTP/1.1\r\n")
    t0 = time.monotonic()
    closed = False
    while time.monotonic() - t0 < 15:
        try:
            s.sendall(b"X: y\r\n")
        except OSError:
            closed = True
            break
        s.settimeout(0.5)
        try:
            if s.recv(100) == b"":
                closed = True
                break
        except socket.timeout:
            pass
        except OSError:
            closed = True
            break
    s.close()
    took = time.monotonic() - t0
    assert closed and 2 < took < 12, "closed=%s after %.1fs" % (closed, took)


def test_trickling_clients_delay_no_one(srv):
    trick = []
    try:
        for _ in range(50):
            s = socket.create_connection(("127.0.0.1", srv.admin_port), timeout=10)
            s.sendall(b"GET /commands/conf HTTP/1.1\r\n")
            trick.append(s)
        for _ in range(5):
            t0 = time.monotonic()
            assert get(srv.admin_port, "/commands/stat")[0] == 200
            assert time.monotonic() - t0 < 3
            for s in trick:
                s.sendall(b"X")
    finally:
        for s in trick:
            s.close()
