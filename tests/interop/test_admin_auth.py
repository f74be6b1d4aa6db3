"""The AdminServer's protected command, `snapshot` (alias `snap`), and the
credentials it takes, on a standalone server and on a follower of a
3-node ensemble.

Which oracle: Java 3.8.0, the Java we run, has neither this command nor
the credential check (it answers "Unknown command"); both came with Java
3.9. So the HTTP contract asserted here (401 without an `Authorization`
header or with one that names no usable scheme, 403 for an identity the
ACL of `/` does not give every permission, the JSON bodies, the
`last_zxid` / `snapshot_size` headers, 429 inside the rate limit, 503
when switched off) is the one Java 3.9's admin command code and its
administrator's guide describe; it is written down here from reading
them. The bytes the command sends are checked by a Java program: Java
3.8.0's own `SnapshotFormatter` must read the streamed file and show the
znodes the test wrote. Credentials and ACLs are set through kazoo (a
third-party client) with digest auth and a setACL on `/`.
"""

import json
import subprocess
import time
import urllib.error
import urllib.request

import pytest

import conftest
from conftest import JAVA_LIB, ZkServer, free_port, need, java_available
from test_tls import certs  # noqa: F401 (the fixture)

kazoo = pytest.importorskip("kazoo.client")
from kazoo.security import ACL, Id, Permissions, make_digest_acl  # noqa: E402

ADMIN_USER = "admin:s3cret"
OPEN_ACL = [ACL(Permissions.ALL, Id("world", "anyone"))]
WAIT = 60.0


def http(port, path, auth=None):
    """GET; returns (status, headers, body bytes)."""
    request = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path))
    if auth is not None:
        request.add_header("Authorization", auth)
    try:
        with urllib.request.urlopen(request, timeout=60) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def json_of(body):
    return json.loads(body.decode())


def client(hosts, auth=True):
    zk = kazoo.KazooClient(hosts=hosts, timeout=15.0,
                           auth_data=[("digest", ADMIN_USER)] if auth else None)
    zk.start(timeout=WAIT)
    return zk


def admin_cfg(port, **extra):
    cfg = {"admin.enableServer": "true", "admin.serverAddress": "127.0.0.1",
           "admin.serverPort": str(port)}
    cfg.update(extra)
    return cfg


class Target:
    """Where the test talks: a client connect string, an admin port and
    the dataDir the snapshots land in."""

    def __init__(self, hosts, admin_port, data_dir, stop):
        self.hosts, self.admin_port, self.data_dir, self._stop = hosts, admin_port, data_dir, stop

    def stop(self):
        self._stop()


def standalone(tmp_path_factory, **extra):
    conftest.require_impl("rust")
    port = free_port()
    srv = ZkServer("rust", tmp_path_factory.mktemp("adminauth"), admin_cfg(port, **extra))
    srv.start()
    return Target(srv.hosts, port, srv.data_dir, srv.stop)


def ensemble_follower(tmp_path_factory, **extra):
    """Three of our peers, sid 3 leading; the target is follower sid 1."""
    from test_zab_learner import ZabPeer, start_ensemble, stop_all, wait_mode
    conftest.require_impl("rust")
    base = tmp_path_factory.mktemp("adminauth-ensemble")
    peers = []
    for sid in (1, 2, 3):
        port = free_port()
        peer = ZabPeer("rust", sid, base / ("s%d" % sid), extra=admin_cfg(port, **extra))
        peer.admin_port = port
        peers.append(peer)
    start_ensemble(peers, 3)
    follower = peers[0]
    wait_mode(follower, ["follower"])
    return Target(follower.hosts, follower.admin_port, follower.data, lambda: stop_all(peers))


@pytest.fixture(scope="module", params=["standalone", "ensemble"])
def target(request, tmp_path_factory):
    make = standalone if request.param == "standalone" else ensemble_follower
    t = make(tmp_path_factory, **{"admin.rateLimiterIntervalInMS": "0"})
    yield t
    t.stop()


def formatter(path):
    """Java 3.8.0's SnapshotFormatter on a file: (return code, output)."""
    need(java_available(), "Java ZooKeeper 3.8.0 is needed to read the snapshot")
    proc = subprocess.run(["java", "-Xmx128m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                           "-cp", str(JAVA_LIB / "*"), "org.apache.zookeeper.server.SnapshotFormatter",
                           str(path)], capture_output=True, text=True, timeout=300)
    return proc.returncode, proc.stdout + proc.stderr


def locked_root(t, perms=Permissions.ALL):
    """Writes a few znodes and gives `/` to the admin user alone."""
    zk = client(t.hosts)
    try:
        zk.ensure_path("/adminauth/child")
        zk.set("/adminauth/child", b"streamed")
        user, password = ADMIN_USER.split(":")
        zk.set_acls("/", [make_digest_acl(user, password, all=False, read=True,
                                          write=bool(perms & Permissions.WRITE),
                                          create=bool(perms & Permissions.CREATE),
                                          delete=bool(perms & Permissions.DELETE),
                                          admin=bool(perms & Permissions.ADMIN))])
        return zk.exists("/adminauth/child").mzxid
    finally:
        zk.stop()
        zk.close()


def open_root(t):
    zk = client(t.hosts)
    try:
        zk.set_acls("/", OPEN_ACL)
    finally:
        zk.stop()
        zk.close()


def assert_json_error(answer, status, command, error):
    code, headers, body = answer
    assert code == status, (code, body[:300])
    assert headers.get("Content-Type", "").startswith("application/json"), headers
    assert json_of(body) == {"command": command, "error": error}


def test_no_credentials_is_401(target):
    assert_json_error(http(target.admin_port, "/commands/snapshot"), 401,
                      "snapshot", "Auth info is missing for the command")
    # The answer names the command as it was called.
    assert_json_error(http(target.admin_port, "/commands/snap"), 401,
                      "snap", "Auth info is missing for the command")


def test_credentials_that_authenticate_nobody_are_401(target):
    for header in ["Basic YWRtaW46czNjcmV0", "digest", "Digest " + ADMIN_USER,
                   "digest " + ADMIN_USER + " extra", "x509", "sasl admin"]:
        assert_json_error(http(target.admin_port, "/commands/snapshot", header), 401,
                          "snapshot", "Not authenticated")


def test_digest_identities_against_the_acl_of_root(target, tmp_path):
    mzxid = locked_root(target)
    try:
        for wrong in ["digest admin:wrong", "digest other:s3cret", "ip"]:
            assert_json_error(http(target.admin_port, "/commands/snapshot", wrong), 403,
                              "snapshot", "Not authorized")

        code, headers, body = http(target.admin_port, "/commands/snapshot", "digest " + ADMIN_USER)
        assert code == 200, body[:300]
        assert headers["Content-Type"] == "application/octet-stream"
        assert int(headers["snapshot_size"]) == len(body) > 0
        last_zxid = headers["last_zxid"]
        assert last_zxid.startswith("0x") and int(last_zxid, 16) >= mzxid, (last_zxid, mzxid)
        on_disk = target.data_dir / "version-2" / ("snapshot." + last_zxid[2:])
        assert on_disk.read_bytes() == body, "the answer is the snapshot file written to dataDir"

        streamed = tmp_path / "streamed.snapshot"
        streamed.write_bytes(body)
        rc, out = formatter(streamed)
        assert rc == 0 and "Exception" not in out, out[-3000:]
        assert "/adminauth/child" in out, out[-3000:]
        child = out[out.index("/adminauth/child"):]
        assert "dataLength = 8" in child.split("----")[0], child[:500]

        code, headers, body = http(target.admin_port, "/commands/snap?streaming=false",
                                   "digest " + ADMIN_USER)
        assert code == 200 and json_of(body) == {"command": "snapshot", "error": None}, body
        assert (target.data_dir / "version-2" / ("snapshot." + headers["last_zxid"][2:])).is_file()
        assert int(headers["snapshot_size"]) > 0
    finally:
        open_root(target)


def test_every_permission_is_required(target):
    locked_root(target, perms=Permissions.ALL & ~Permissions.DELETE)
    try:
        assert_json_error(http(target.admin_port, "/commands/snapshot", "digest " + ADMIN_USER),
                          403, "snapshot", "Not authorized")
    finally:
        open_root(target)


def test_post_is_checked_then_fails(target):
    """Java 3.9 runs the credential check for a POST as well, then has
    nothing to run (the command only has a GET side) and answers 500."""
    def post(auth):
        request = urllib.request.Request("http://127.0.0.1:%d/commands/snapshot" % target.admin_port,
                                         method="POST")
        if auth is not None:
            request.add_header("Authorization", auth)
        try:
            with urllib.request.urlopen(request, timeout=60) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    status, body = post(None)
    assert (status, json_of(body)) == (401, {"command": "snapshot",
                                              "error": "Auth info is missing for the command"})
    assert post("digest any:one")[0] == 500


def test_an_open_root_takes_any_identity_but_not_none(target):
    code, _, body = http(target.admin_port, "/commands/snapshot?streaming=false", "digest anyone:at-all")
    assert code == 200 and json_of(body)["error"] is None, body
    code, _, body = http(target.admin_port, "/commands/snapshot?streaming=false", "ip")
    assert code == 200, body
    assert http(target.admin_port, "/commands/snapshot")[0] == 401


def write_big(hosts, prefix, nodes=120, size=4000):
    """About half a megabyte of znodes: the snapshot spans many chunks."""
    zk = client(hosts)
    try:
        zk.ensure_path(prefix)
        for i in range(nodes):
            zk.create("%s/n%03d" % (prefix, i), bytes([65 + i % 26]) * size)
    finally:
        zk.stop()
        zk.close()


def test_a_large_snapshot_streams_whole(target, tmp_path):
    write_big(target.hosts, "/adminauth-big")
    code, headers, body = http(target.admin_port, "/commands/snapshot", "digest anyone:at-all")
    assert code == 200, body[:300]
    assert int(headers["snapshot_size"]) == len(body) > 400000
    on_disk = target.data_dir / "version-2" / ("snapshot." + headers["last_zxid"][2:])
    assert on_disk.read_bytes() == body
    streamed = tmp_path / "big.snapshot"
    streamed.write_bytes(body)
    rc, out = formatter(streamed)
    assert rc == 0 and "Exception" not in out, out[-3000:]
    assert "/adminauth-big/n119" in out


def test_rate_limit_and_switch(tmp_path_factory):
    # Java reads the interval as microseconds for this command: 600 s here.
    limited = standalone(tmp_path_factory, **{"admin.rateLimiterIntervalInMS": "600000000"})
    try:
        path = "/commands/snapshot?streaming=false"
        assert http(limited.admin_port, path, "digest a:b")[0] == 200
        assert_json_error(http(limited.admin_port, path, "digest a:b"), 429, "snapshot", None)
        assert http(limited.admin_port, path)[0] == 401, "the credentials are checked first"
    finally:
        limited.stop()
    off = standalone(tmp_path_factory, **{"admin.snapshot.enabled": "false"})
    try:
        assert_json_error(http(off.admin_port, "/commands/snapshot", "digest a:b"), 503, "snapshot", None)
        assert http(off.admin_port, "/commands/snapshot")[0] == 401
    finally:
        off.stop()


@pytest.mark.parametrize("key,value", [("admin.restore.enabled", "true"),
                                       ("admin.rateLimiterIntervalInMS", "5m")])
def test_admin_keys_we_cannot_honour_stop_startup(tmp_path, key, value):
    conftest.require_impl("rust")
    cfg = tmp_path / "zoo.cfg"
    cfg.write_text("tickTime=2000\ndataDir=%s\nclientPort=%d\nclientPortAddress=127.0.0.1\n"
                   "admin.enableServer=false\n%s=%s\n" % (tmp_path / "data", free_port(), key, value))
    proc = subprocess.run([str(conftest.RUST_BIN), str(cfg)], capture_output=True, text=True,
                          timeout=60, stdin=subprocess.DEVNULL)
    assert proc.returncode != 0
    assert key in proc.stdout + proc.stderr, (proc.stdout + proc.stderr)[-2000:]


def set_root_acl(t, acls):
    zk = client(t.hosts)
    try:
        zk.set_acls("/", acls)
    finally:
        zk.stop()
        zk.close()


def admin_digest_acl():
    user, password = ADMIN_USER.split(":")
    return make_digest_acl(user, password, all=True)


def test_ip_from_x_forwarded_for(tmp_path_factory):
    """IPAuthenticationProvider.usexforwardedfor: the `ip` identity is the
    first X-Forwarded-For entry (the peer's address without the header)."""
    t = standalone(tmp_path_factory, **{"IPAuthenticationProvider.usexforwardedfor": "true",
                                        "admin.rateLimiterIntervalInMS": "0"})
    try:
        set_root_acl(t, [ACL(Permissions.ALL, Id("ip", "10.1.2.3")), admin_digest_acl()])
        path = "/commands/snapshot?streaming=false"

        def get(forwarded):
            request = urllib.request.Request("http://127.0.0.1:%d%s" % (t.admin_port, path))
            request.add_header("Authorization", "ip")
            if forwarded is not None:
                request.add_header("X-Forwarded-For", forwarded)
            try:
                with urllib.request.urlopen(request, timeout=60) as r:
                    return r.status
            except urllib.error.HTTPError as e:
                return e.code

        assert get(None) == 403, "127.0.0.1 is not in the ACL"
        assert get("10.1.2.3, 127.0.0.1") == 200
        assert get("127.0.0.1, 10.1.2.3") == 403, "only the first entry counts"
        assert get(",") == 401, "no entry: Java's provider fails"
    finally:
        t.stop()


def test_x509_over_https(tmp_path_factory, certs):  # noqa: F811
    """`Authorization: x509` with admin.needClientAuth: the identity is the
    subject of the client certificate, which the client port's trust
    store must accept as well."""
    from test_admin_tls import stores
    from test_tls import CLIENT_SUBJECT, PASSWORD
    import ssl
    extra = dict(stores(certs), **{
        "admin.forceHttps": "true", "admin.needClientAuth": "true",
        "ssl.trustStore.location": str(certs / "trust.jks"), "ssl.trustStore.password": PASSWORD,
        "authProvider.x509": "org.apache.zookeeper.server.auth.X509AuthenticationProvider",
        "admin.rateLimiterIntervalInMS": "0"})
    t = standalone(tmp_path_factory, **extra)
    ctx = ssl.create_default_context(cafile=str(certs / "ca.pem"))
    ctx.load_cert_chain(str(certs / "client.pem"), str(certs / "client.key"))

    def get(auth):
        request = urllib.request.Request("https://localhost:%d/commands/snapshot" % t.admin_port)
        if auth is not None:
            request.add_header("Authorization", auth)
        try:
            with urllib.request.urlopen(request, context=ctx, timeout=60) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    try:
        set_root_acl(t, [admin_digest_acl()])
        assert get(None)[0] == 401
        assert get("x509") == (403, json.dumps(
            {"command": "snapshot", "error": "Not authorized"}, indent=2).replace('":', '" :').encode())
        set_root_acl(t, [ACL(Permissions.ALL, Id("x509", CLIENT_SUBJECT)), admin_digest_acl()])
        write_big(t.hosts, "/adminauth-big")
        status, body = get("x509")
        assert status == 200 and len(body) > 400000, body[:300]
        snaps = sorted((t.data_dir / "version-2").glob("snapshot.*"),
                       key=lambda p: int(p.name.split(".")[1], 16))
        assert snaps[-1].read_bytes() == body, "the whole file, over TLS"
        assert get("digest " + ADMIN_USER)[0] == 200
        assert get("digest nobody:x")[0] == 403
    finally:
        t.stop()


def test_x509_needs_the_client_ports_trust_store(tmp_path_factory, certs):  # noqa: F811
    """The handshake accepts the client (the quorum trust store knows its
    CA), but the client port's trust store does not: the certificate
    authenticates nobody for the `x509` scheme (401)."""
    from test_admin_tls import stores
    from test_tls import CLIENT_SUBJECT
    import ssl
    other = tmp_path_factory.mktemp("other-ca")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                    str(other / "other.key"), "-out", str(other / "other-ca.pem"),
                    "-subj", "/CN=Other CA", "-days", "2"], check=True, capture_output=True)
    extra = dict(stores(certs), **{
        "admin.forceHttps": "true", "admin.needClientAuth": "true",
        "ssl.trustStore.location": str(other / "other-ca.pem"),
        "authProvider.x509": "org.apache.zookeeper.server.auth.X509AuthenticationProvider"})
    t = standalone(tmp_path_factory, **extra)
    ctx = ssl.create_default_context(cafile=str(certs / "ca.pem"))
    ctx.load_cert_chain(str(certs / "client.pem"), str(certs / "client.key"))
    try:
        set_root_acl(t, [ACL(Permissions.ALL, Id("x509", CLIENT_SUBJECT)), admin_digest_acl()])
        request = urllib.request.Request("https://localhost:%d/commands/snapshot" % t.admin_port)
        request.add_header("Authorization", "x509")
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(request, context=ctx, timeout=60)
        assert e.value.code == 401
        assert json.loads(e.value.read()) == {"command": "snapshot", "error": "Not authenticated"}
    finally:
        t.stop()
