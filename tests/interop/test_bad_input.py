"""Bad input on raw sockets: after each case the server is alive, a session
opened before the test still works, and a fresh kazoo client works.

What the server does with each input (reply code, close, or both) is
asserted against the wire protocol where it is specified, and always compared
with what Java 3.8.0 did in the same session (`crosscheck`).
"""

import os
import socket

import pytest

import rawzk as Z
from conftest import need
from rawzk import RawZk, Reader

# Every test runs against a standalone server and through a follower of
# a 3-node ensemble (conftest.EnsembleServer).
ZK_TOPOLOGIES = ("standalone", "ensemble")

try:
    from kazoo.client import KazooClient
except ImportError:
    KazooClient = None

ZK_EXTRA_CFG = {"maxSessionTimeout": "60000"}


@pytest.fixture(scope="module")
def healthy(zk):
    """A session opened before any bad input; it must survive all of it."""
    c = RawZk("127.0.0.1", zk.port).connect(timeout_ms=60000)
    c.create("/bad_input_healthy", b"ok")
    yield c
    c.close_socket()


@pytest.fixture(autouse=True)
def still_healthy(zk, healthy):
    yield
    assert zk.alive(), "server process died"
    err, _ = healthy.ping()
    assert err == 0
    data, _ = healthy.get_data("/bad_input_healthy")
    assert data == b"ok"
    need(KazooClient is not None, "kazoo is not installed")
    k = KazooClient(hosts=zk.hosts, timeout=10.0)
    k.start(timeout=15)
    try:
        path = k.create("/bad_input_probe", b"x", ephemeral=True)
        assert k.get(path)[0] == b"x"
    finally:
        k.stop()
        k.close()


def fresh(zk):
    return RawZk("127.0.0.1", zk.port, sock_timeout=5.0)


def probe(c, wait=5.0):
    """What the server does next: ("closed",), ("reply", err) or ("silent",)."""
    c.sock.settimeout(wait)
    try:
        payload = c.recv_frame()
    except (Z.ConnectionClosed, ConnectionResetError, BrokenPipeError):
        return ("closed",)
    except socket.timeout:
        return ("silent",)
    r = Reader(payload)
    r.int()   # xid
    r.long()  # zxid
    return ("reply", r.int())


def send_quietly(c, data):
    try:
        c.send_raw(data)
    except (BrokenPipeError, ConnectionResetError):
        pass


# ------------------------------------------------ before the handshake ----

PRE_HANDSHAKE = {
    "truncated_connect_then_close": None,  # special-cased below
    "length_0x7fffffff": Z.p_int(0x7FFFFFFF),
    "length_over_maxbuffer": Z.p_int(0x100000) + b"\0" * 64,
    "negative_length": Z.p_int(-5) + b"\0" * 16,
    "garbage": Z.p_int(16) + bytes(range(0xDE, 0xEE)),
    "http_request": b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
    "request_before_handshake": Z.frame(Z.p_int(1) + Z.p_int(Z.OP_GET_DATA)
                                        + Z.p_string("/") + Z.p_bool(False)),
    "ping_before_handshake": Z.frame(Z.p_int(Z.XID_PING) + Z.p_int(Z.OP_PING)),
    "empty_frame": Z.frame(b""),
    "short_connect_5": Z.frame(b"\0" * 5),
    "short_connect_30": Z.frame(Z.connect_request()[:30]),
    "connect_passwd_len_past_end": Z.frame(Z.p_int(0) + Z.p_long(0) + Z.p_int(10000)
                                           + Z.p_long(0) + Z.p_int(1000)),
    "connect_passwd_len_negative": Z.frame(Z.p_int(0) + Z.p_long(0) + Z.p_int(10000)
                                           + Z.p_long(0) + Z.p_int(-7) + b"\0" * 16),
}


@pytest.mark.parametrize("case", sorted(PRE_HANDSHAKE))
def test_pre_handshake_garbage_closes(zk, case, crosscheck):
    c = fresh(zk)
    if case == "truncated_connect_then_close":
        c.send_raw(Z.frame(Z.connect_request())[:20])
        c.close_socket()
        return
    send_quietly(c, PRE_HANDSHAKE[case])
    got = probe(c)
    c.close_socket()
    assert got == ("closed",)
    crosscheck.check("outcome", got)


def test_connect_variants(zk, crosscheck):
    """Lenient parts of the ConnectRequest (§3.1), as Java treats them."""
    out = {}
    # trailing bytes after readOnly
    c = fresh(zk)
    c.send_frame(Z.connect_request() + b"trailing garbage")
    body = c.recv_frame()
    out["trailing"] = len(body)
    c.sock.settimeout(5)
    out["trailing_usable"] = c.exists("/") is not None
    c.close_session()
    # protocolVersion other than 0
    c = fresh(zk)
    c.send_frame(Z.p_int(5) + Z.connect_request()[4:])
    out["proto5"] = len(c.recv_frame())
    c.close_session()
    # the largest frame the server accepts (jute.maxbuffer = 0xfffff)
    c = fresh(zk)
    req = Z.connect_request()
    c.send_frame(req + b"\0" * (0xFFFFF - len(req)))
    out["max_frame"] = len(c.recv_frame())
    c.close_session()
    # unknown session: timeOut 0, id 0, zero password, then close
    c = fresh(zk).connect(session_id=0x1234, passwd=b"\x07" * 16)
    out["unknown_session"] = (c.timeout, c.session_id, c.passwd, c.is_closed(5))
    assert out["unknown_session"] == (0, 0, b"\0" * 16, True)
    assert out["trailing"] == 37 and out["max_frame"] == 37
    crosscheck.check("out", out)


# ------------------------------------------------- after the handshake ----

def test_unknown_opcodes(zk, crosscheck):
    """Unknown/invalid request types: UNIMPLEMENTED (-6) and close (§5)."""
    outcomes = {}
    # (20 deleteContainer and -10 createSession are internal ops: see the
    # two tests below.)
    for op in (999, 0, -1, 10, 23, 108, -12, 1000000):
        c = fresh(zk).connect()
        c.send_frame(Z.p_int(1) + Z.p_int(op) + b"\0" * 8)
        got = probe(c)
        outcomes[op] = got + (("closed",) if got[0] == "reply" and c.is_closed(5) else ())
        c.close_socket()
    assert outcomes[999] == ("reply", Z.UNIMPLEMENTED, "closed")
    crosscheck.check("outcomes", outcomes)


def _digest(user, password):
    import base64
    import hashlib
    return base64.b64encode(hashlib.sha1(("%s:%s" % (user, password)).encode()).digest()).decode()


def test_delete_container_from_a_client_is_refused(zk, crosscheck):
    """deleteContainer (20) is the container manager's own opcode and checks
    no ACL. A client that sends it, in any payload form, gets BADARGUMENTS
    (as from Java 3.8.0) and nothing is deleted: not a node under a parent
    whose DELETE belongs to another user, not an empty container."""
    owner = fresh(zk).connect()
    assert owner.add_auth("digest", b"owner:pw") == 0
    acl = [(Z.PERM_ALL, "digest", "owner:" + _digest("owner", "pw")), (1, "world", "anyone")]
    owner.create("/dc_parent", b"", acl=acl)
    owner.create("/dc_parent/b", b"")
    err, _z, _r = owner.request(Z.OP_CREATE_CONTAINER, Z.rec_create("/dc_parent/c"))
    assert err == 0
    err, _z, _r = owner.request(Z.OP_CREATE_CONTAINER, Z.rec_create("/dc_open"))
    assert err == 0
    out = {}
    for name, body in [("delete_request_b", Z.rec_delete("/dc_parent/b")),
                       ("delete_request_c", Z.rec_delete("/dc_parent/c")),
                       ("raw_path_c", b"/dc_parent/c"),
                       ("buffer_path_c", Z.p_buffer(b"/dc_parent/c")),
                       ("buffer_path_open", Z.p_buffer(b"/dc_open"))]:
        c = fresh(zk).connect()
        c.send_frame(Z.p_int(5) + Z.p_int(20) + body)
        out[name] = probe(c)
        c.close_socket()
    for name, got in out.items():
        assert got == ("reply", Z.BADARGUMENTS), name
    kept = {p: owner.exists(p) is not None for p in ("/dc_parent/b", "/dc_parent/c", "/dc_open")}
    assert kept == {"/dc_parent/b": True, "/dc_parent/c": True, "/dc_open": True}
    crosscheck.check("out", (out, kept))
    for p in ("/dc_parent/b", "/dc_parent/c", "/dc_parent", "/dc_open"):
        owner.delete(p)
    owner.close_session()


def test_create_session_opcode_after_the_handshake(zk, impl):
    """createSession (-10) in a request frame. Java 3.8.0 answers it with a
    second ConnectResponse; ours refuses it (BADARGUMENTS, connection
    closed): it would otherwise set the session's timeout to whatever the
    frame says, past maxSessionTimeout."""
    c = fresh(zk).connect()
    c.send_frame(Z.p_int(7) + Z.p_int(-10) + Z.p_int(999999))
    c.sock.settimeout(5)
    body = c.recv_frame()
    if impl == "rust":
        r = Reader(body)
        assert (r.int(), r.long() >= -1, r.int()) == (7, True, Z.BADARGUMENTS)
        assert c.is_closed(5)
    c.close_socket()


TRUNCATED = {
    "create_short_path": (Z.OP_CREATE, Z.p_string("/trunc")[:5]),
    "create_missing_acl": (Z.OP_CREATE, Z.p_string("/trunc") + Z.p_buffer(b"x")),
    "getdata_short": (Z.OP_GET_DATA, Z.p_string("/zookeeper")[:3]),
    "setdata_missing_fields": (Z.OP_SET_DATA, Z.p_string("/zookeeper")),
    "exists_empty": (Z.OP_EXISTS, b""),
    "children_bad_len": (Z.OP_GET_CHILDREN, Z.p_int(100) + b"/a"),
    "string_len_huge": (Z.OP_GET_DATA, Z.p_int(0x7FFFFFF0) + b"/abc" + Z.p_bool(False)),
    "string_len_negative": (Z.OP_GET_DATA, Z.p_int(-7) + b"/abc" + Z.p_bool(False)),
    "delete_short": (Z.OP_DELETE, Z.p_string("/x")),
    "multi_truncated": (Z.OP_MULTI, Z.p_int(Z.OP_CREATE) + Z.p_bool(False)),
    "acl_count_huge": (Z.OP_CREATE, Z.p_string("/trunc") + Z.p_buffer(b"") + Z.p_int(1000000)),
    "add_watch_bad_mode": (Z.OP_ADD_WATCH, Z.p_string("/x") + Z.p_int(7)),
}


@pytest.mark.parametrize("case", sorted(TRUNCATED))
def test_truncated_body(zk, case, crosscheck):
    """A body that does not deserialize: MARSHALLINGERROR (-5), and the
    connection stays usable (as Java 3.8.0 does)."""
    op, body = TRUNCATED[case]
    c = fresh(zk).connect()
    c.send_frame(Z.p_int(1) + Z.p_int(op) + body)
    got = probe(c)
    after = None
    if got[0] == "reply":
        c.xid = 1
        try:
            after = c.exists("/") is not None
        except (Z.ConnectionClosed, OSError):
            after = "closed"
    assert got == ("reply", Z.MARSHALLINGERROR) and after is True
    crosscheck.check("outcome", (got, after))
    c.close_session()
    c.close_socket()


@pytest.mark.parametrize("case", ["empty_frame", "short_header", "oversized_frame"])
def test_bad_frames_after_handshake(zk, case, crosscheck):
    c = fresh(zk).connect()
    if case == "empty_frame":
        c.send_frame(b"")
    elif case == "short_header":
        c.send_frame(b"\0\0\0\x01")
    else:
        send_quietly(c, Z.frame(Z.p_int(1) + Z.p_int(Z.OP_CREATE) + Z.p_string("/big")
                                + Z.p_buffer(b"x" * 1100000) + Z.p_acl(Z.OPEN_ACL_UNSAFE)
                                + Z.p_int(0)))
    got = probe(c)
    c.close_socket()
    assert got == ("closed",)
    crosscheck.check("outcome", got)


def test_large_but_legal_request(zk, healthy):
    data = os.urandom(1000000)
    healthy.create("/bad_input_big", data)
    got, st = healthy.get_data("/bad_input_big")
    assert got == data and st["dataLength"] == 1000000
    healthy.delete("/bad_input_big")


def test_invalid_paths(zk, crosscheck):
    """Path validation (§10): BADARGUMENTS for an invalid path whose parent
    exists; the parent lookup comes first, so a missing parent gives NONODE."""
    c = fresh(zk).connect()
    c.create("/bp")
    codes = {}
    create_paths = ["/bp/", "/bp/.", "/bp/..", "", "/bp/\x01", "/bp/a\x00b",
                    "/bp//x", "bp/x", "a/b", "/bp/./x", "/missing/", "/", "/bp/\u007f",
                    "/bp/\ue000", "/bp/\ufff0"]
    for p in create_paths:
        err, _z, _r = c.request(Z.OP_CREATE, Z.rec_create(p))
        codes[("create", p)] = err
    # invalid UTF-8 in the path
    err, _z, _r = c.request(Z.OP_CREATE, Z.p_buffer(b"/bp/\xff\xfe") + Z.p_buffer(b"")
                            + Z.p_acl(Z.OPEN_ACL_UNSAFE) + Z.p_int(0))
    codes[("create", "invalid-utf8")] = err
    for p in ("a/b", "/bp/", ""):
        for name, op, rec in (("getData", Z.OP_GET_DATA, Z.rec_read(p)),
                              ("exists", Z.OP_EXISTS, Z.rec_read(p)),
                              ("getChildren", Z.OP_GET_CHILDREN, Z.rec_read(p)),
                              ("delete", Z.OP_DELETE, Z.rec_delete(p)),
                              ("setData", Z.OP_SET_DATA, Z.rec_set_data(p, b"x"))):
            err, _z, _r = c.request(op, rec)
            codes[(name, p)] = err
    for p in ("/bp/", "/bp/.", "", "/bp/\x01"):
        assert codes[("create", p)] == Z.BADARGUMENTS, p
    assert codes[("create", "/missing/")] == Z.NONODE
    assert codes[("create", "/bp//x")] == Z.NONODE
    assert sorted(c.get_children("/bp")) == []
    assert c.exists("/") is not None                   # connection still fine
    crosscheck.check("codes", sorted(codes.items(), key=repr))
    c.delete("/bp")
    c.close_session()


def test_auth_and_sasl_oddities(zk, crosscheck, impl):
    out = {}
    c = fresh(zk).connect()
    out["bogus_scheme"] = c.add_auth("bogus", b"x")
    out["bogus_closed"] = c.is_closed(5)
    c = fresh(zk).connect()
    out["digest_no_colon"] = c.add_auth("digest", b"nocolon")
    out["after_no_colon"] = c.exists("/") is not None
    c.close_session()
    assert out["bogus_scheme"] == Z.AUTHFAILED and out["bogus_closed"]
    crosscheck.check("out", out)
    # A SASL token to a server with no SASL configured: Java 3.8.0 answers
    # OK with no token (it catches its own NullPointerException) and keeps
    # the session, which passes for a successful login. Ours fails closed:
    # AUTHFAILED, and the connection is closed (test_sasl covers the rest).
    c = fresh(zk).connect()
    err, _z, _r = c.request(102, Z.p_buffer(b"abc"))
    if impl == "java":
        assert err == Z.OK and c.exists("/") is not None
        c.close_session()
    else:
        assert err == Z.AUTHFAILED and c.is_closed(5)


def test_connection_churn(zk):
    """Many connections opened and dropped at once, some mid-frame."""
    socks = []
    for i in range(40):
        s = socket.create_connection(("127.0.0.1", zk.port), timeout=5)
        if i % 3 == 0:
            s.sendall(Z.frame(Z.connect_request())[:i % 45 + 1])
        elif i % 3 == 1:
            s.sendall(Z.p_int(0xFFFFF) + b"\0" * 100)   # legal length, body never comes
        socks.append(s)
    for s in socks:
        s.close()
