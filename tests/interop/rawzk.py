"""A minimal raw ZooKeeper client-protocol client, for tests.

Only what the interop tests need: framing, the handshake, request and reply
headers, a handful of request records, and notifications, as Java 3.8.0's
ClientCnxn writes and reads them; every fact here is asserted by the tests
against Java's server.  The section marks (§) in comments only group the
code by part of the protocol.

Every integer is big-endian (§1).  A frame is an int32 length followed by the
payload (§2).  The first client frame is a ConnectRequest (§3.1); later frames
are RequestHeader{xid, type} + request record (§4).  Replies are
ReplyHeader{xid, zxid, err} + response record, and the body is only present
when err == 0.  Notifications come as xid -1 (§8.1).
"""

import socket
import struct

# ---- op codes (§5) ---------------------------------------------------------
OP_CREATE = 1
OP_DELETE = 2
OP_EXISTS = 3
OP_GET_DATA = 4
OP_SET_DATA = 5
OP_GET_ACL = 6
OP_SET_ACL = 7
OP_GET_CHILDREN = 8
OP_SYNC = 9
OP_PING = 11
OP_GET_CHILDREN2 = 12
OP_CHECK = 13
OP_MULTI = 14
OP_CREATE2 = 15
OP_RECONFIG = 16
OP_CHECK_WATCHES = 17
OP_REMOVE_WATCHES = 18
OP_CREATE_CONTAINER = 19
OP_CREATE_TTL = 21
OP_MULTI_READ = 22
OP_AUTH = 100
OP_SET_WATCHES = 101
OP_GET_EPHEMERALS = 103
OP_GET_ALL_CHILDREN_NUMBER = 104
OP_SET_WATCHES2 = 105
OP_ADD_WATCH = 106
OP_WHO_AM_I = 107
OP_CLOSE_SESSION = -11

# ---- special xids (§4) -----------------------------------------------------
XID_NOTIFICATION = -1
XID_PING = -2
XID_AUTH = -4
XID_SET_WATCHES = -8

# ---- error codes (§7) ------------------------------------------------------
OK = 0
RUNTIMEINCONSISTENCY = -2
MARSHALLINGERROR = -5
UNIMPLEMENTED = -6
BADARGUMENTS = -8
NONODE = -101
NOAUTH = -102
BADVERSION = -103
NOCHILDRENFOREPHEMERALS = -108
NODEEXISTS = -110
NOTEMPTY = -111
INVALIDACL = -114
AUTHFAILED = -115
NOWATCHER = -121
RECONFIGDISABLED = -123

# ---- events (§8.1) ---------------------------------------------------------
EV_NODE_CREATED = 1
EV_NODE_DELETED = 2
EV_NODE_DATA_CHANGED = 3
EV_NODE_CHILDREN_CHANGED = 4
EVENT_NAMES = {-1: "None", 1: "NodeCreated", 2: "NodeDeleted",
               3: "NodeDataChanged", 4: "NodeChildrenChanged"}

ADD_WATCH_PERSISTENT = 0
ADD_WATCH_PERSISTENT_RECURSIVE = 1
WATCHER_CHILDREN = 1
WATCHER_DATA = 2
WATCHER_ANY = 3

PERM_ALL = 31
OPEN_ACL_UNSAFE = [(PERM_ALL, "world", "anyone")]

STAT_FIELDS = ("czxid", "mzxid", "ctime", "mtime", "version", "cversion",
               "aversion", "ephemeralOwner", "dataLength", "numChildren",
               "pzxid")


# ---- jute encoding (§1) ----------------------------------------------------
def p_int(v):
    return struct.pack(">i", v)


def p_long(v):
    return struct.pack(">q", v)


def p_bool(v):
    return b"\x01" if v else b"\x00"


def p_buffer(b):
    if b is None:
        return p_int(-1)
    return p_int(len(b)) + b


def p_string(s):
    if s is None:
        return p_int(-1)
    return p_buffer(s.encode("utf-8"))


def p_acl(acl):
    out = p_int(len(acl))
    for perms, scheme, ident in acl:
        out += p_int(perms) + p_string(scheme) + p_string(ident)
    return out


def p_strings(items):
    return p_int(len(items)) + b"".join(p_string(s) for s in items)


class Reader:
    """A cursor over a received payload."""

    def __init__(self, data):
        self.data = data
        self.pos = 0

    def _take(self, n):
        if self.pos + n > len(self.data):
            raise ValueError("short record: need %d bytes at %d of %d"
                             % (n, self.pos, len(self.data)))
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def int(self):
        return struct.unpack(">i", self._take(4))[0]

    def long(self):
        return struct.unpack(">q", self._take(8))[0]

    def bool(self):
        return self._take(1) != b"\x00"

    def buffer(self):
        n = self.int()
        return None if n < 0 else self._take(n)

    def string(self):
        b = self.buffer()
        return None if b is None else b.decode("utf-8")

    def strings(self):
        n = self.int()
        return None if n < 0 else [self.string() for _ in range(n)]

    def stat(self):
        vals = struct.unpack(">qqqqiiiqiiq", self._take(68))
        return dict(zip(STAT_FIELDS, vals))

    def acl(self):
        n = self.int()
        return [(self.int(), self.string(), self.string()) for _ in range(n)]

    def remaining(self):
        return len(self.data) - self.pos


class ZkError(Exception):
    def __init__(self, code, op=None):
        super().__init__("ZooKeeper error %d (op %s)" % (code, op))
        self.code = code


class ConnectionClosed(Exception):
    pass


# ---- request records, for multi ----------------------------------------------
def rec_create(path, data=b"", acl=OPEN_ACL_UNSAFE, flags=0):
    return p_string(path) + p_buffer(data) + p_acl(acl) + p_int(flags)


def rec_delete(path, version=-1):
    return p_string(path) + p_int(version)


def rec_set_data(path, data, version=-1):
    return p_string(path) + p_buffer(data) + p_int(version)


def rec_check(path, version):
    return p_string(path) + p_int(version)


def rec_read(path):
    """GetDataRequest / GetChildrenRequest (watch=false)."""
    return p_string(path) + p_bool(False)


def java_session_passwd(session_id):
    """ZooKeeperServer.generatePasswd (§3.4): java.util.Random seeded with
    id ^ 0xB3415C00, nextBytes(16)."""
    mask = (1 << 48) - 1
    seed = ((session_id ^ 0xB3415C00) ^ 0x5DEECE66D) & mask
    out = b""
    for _ in range(4):
        seed = (seed * 0x5DEECE66D + 0xB) & mask
        out += ((seed >> 16) & 0xFFFFFFFF).to_bytes(4, "little")
    return out


def connect_request(timeout_ms=10000, session_id=0, passwd=b"\x00" * 16,
                    last_zxid=0, read_only=False, send_read_only=True):
    """ConnectRequest body (§3.1): 44 bytes, 45 with the readOnly byte."""
    body = (p_int(0) + p_long(last_zxid) + p_int(timeout_ms)
            + p_long(session_id) + p_buffer(passwd))
    if send_read_only:
        body += p_bool(read_only)
    return body


def frame(payload):
    return p_int(len(payload)) + payload


class RawZk:
    """One raw connection.  `connect()` performs the handshake.

    `timeline` records ("event", type, path) and ("reply", xid, err) in arrival
    order so tests can check that notifications precede later replies.
    """

    def __init__(self, host, port, sock_timeout=10.0):
        self.host, self.port = host, port
        self.sock = socket.create_connection((host, port), timeout=sock_timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.xid = 0
        self.events = []
        self.event_meta = []  # (ReplyHeader.zxid, state) per event
        self.timeline = []
        self.last_zxid = 0
        self.session_id = None
        self.passwd = None
        self.timeout = None
        self.read_only_byte = None

    # -- framing -------------------------------------------------------------
    def send_raw(self, data):
        self.sock.sendall(data)

    def send_frame(self, payload):
        self.sock.sendall(frame(payload))

    def _recv_exact(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise ConnectionClosed("server closed the connection")
            buf += chunk
        return buf

    def recv_frame(self):
        (n,) = struct.unpack(">i", self._recv_exact(4))
        return self._recv_exact(n) if n else b""

    def is_closed(self, wait=2.0):
        """True if the server closed this connection within `wait` seconds
        (reads and discards anything that arrives before the close)."""
        old = self.sock.gettimeout()
        self.sock.settimeout(wait)
        try:
            while True:
                chunk = self.sock.recv(4096)
                if not chunk:
                    return True
        except socket.timeout:
            return False
        except (ConnectionResetError, BrokenPipeError):
            return True
        finally:
            try:
                self.sock.settimeout(old)
            except OSError:
                pass

    def close_socket(self):
        try:
            self.sock.close()
        except OSError:
            pass

    # -- handshake (§3) ------------------------------------------------------
    def connect(self, timeout_ms=10000, session_id=0, passwd=b"\x00" * 16,
                last_zxid=0, send_read_only=True):
        self.send_frame(connect_request(timeout_ms, session_id, passwd,
                                        last_zxid, False, send_read_only))
        body = self.recv_frame()
        r = Reader(body)
        r.int()  # protocolVersion
        self.timeout = r.int()
        self.session_id = r.long()
        self.passwd = r.buffer()
        self.read_only_byte = r.bool() if r.remaining() else None
        self.connect_response_len = len(body)
        if last_zxid:
            self.last_zxid = last_zxid
        return self

    # -- requests (§4) -------------------------------------------------------
    def next_xid(self):
        self.xid += 1
        return self.xid

    def _read_reply_header(self):
        payload = self.recv_frame()
        r = Reader(payload)
        xid, zxid, err = r.int(), r.long(), r.int()
        return xid, zxid, err, r

    def _handle_notification(self, r, zxid=None):
        etype, state, path = r.int(), r.int(), r.string()
        self.events.append((etype, path))
        self.timeline.append(("event", etype, path))
        self.event_meta.append((zxid, state))

    def request(self, op, body=b"", xid=None):
        """Send one request and return (err, zxid, Reader over the body).
        Notifications that arrive first are collected into self.events."""
        if xid is None:
            xid = self.next_xid()
        self.send_frame(p_int(xid) + p_int(op) + body)
        return self.read_reply(xid)

    def read_reply(self, xid):
        while True:
            rxid, zxid, err, r = self._read_reply_header()
            if rxid == XID_NOTIFICATION:
                self._handle_notification(r, zxid)
                continue
            if rxid == XID_PING and xid != XID_PING:
                continue
            self.timeline.append(("reply", rxid, err))
            if rxid != xid:
                raise AssertionError("reply xid %d, expected %d" % (rxid, xid))
            if zxid > 0:
                self.last_zxid = max(self.last_zxid, zxid)
            return err, zxid, r

    def call(self, op, body=b""):
        err, _zxid, r = self.request(op, body)
        if err != OK:
            raise ZkError(err, op)
        return r

    def wait_events(self, n, timeout=5.0):
        """Read frames until at least n notifications are collected."""
        old = self.sock.gettimeout()
        self.sock.settimeout(timeout)
        try:
            while len(self.events) < n:
                rxid, zxid, _err, r = self._read_reply_header()
                if rxid == XID_NOTIFICATION:
                    self._handle_notification(r, zxid)
        except socket.timeout:
            pass
        finally:
            self.sock.settimeout(old)
        return self.events

    # -- operations (§5) -----------------------------------------------------
    def create(self, path, data=b"", acl=OPEN_ACL_UNSAFE, flags=0):
        body = p_string(path) + p_buffer(data) + p_acl(acl) + p_int(flags)
        return self.call(OP_CREATE, body).string()

    def create2(self, path, data=b"", acl=OPEN_ACL_UNSAFE, flags=0):
        body = p_string(path) + p_buffer(data) + p_acl(acl) + p_int(flags)
        r = self.call(OP_CREATE2, body)
        return r.string(), r.stat()

    def create_ttl(self, path, data, ttl, flags=5, acl=OPEN_ACL_UNSAFE):
        body = (p_string(path) + p_buffer(data) + p_acl(acl) + p_int(flags)
                + p_long(ttl))
        r = self.call(OP_CREATE_TTL, body)
        return r.string(), r.stat()

    def delete(self, path, version=-1):
        self.call(OP_DELETE, p_string(path) + p_int(version))

    def exists(self, path, watch=False):
        err, _z, r = self.request(OP_EXISTS, p_string(path) + p_bool(watch))
        if err == NONODE:
            return None
        if err != OK:
            raise ZkError(err, OP_EXISTS)
        return r.stat()

    def get_data(self, path, watch=False):
        r = self.call(OP_GET_DATA, p_string(path) + p_bool(watch))
        return r.buffer(), r.stat()

    def set_data(self, path, data, version=-1):
        r = self.call(OP_SET_DATA, p_string(path) + p_buffer(data) + p_int(version))
        return r.stat()

    def get_children(self, path, watch=False):
        return self.call(OP_GET_CHILDREN, p_string(path) + p_bool(watch)).strings()

    def get_children2(self, path, watch=False):
        r = self.call(OP_GET_CHILDREN2, p_string(path) + p_bool(watch))
        return r.strings(), r.stat()

    def add_watch(self, path, mode):
        self.call(OP_ADD_WATCH, p_string(path) + p_int(mode))

    def remove_watches(self, path, wtype=WATCHER_ANY):
        self.call(OP_REMOVE_WATCHES, p_string(path) + p_int(wtype))

    def check_watches(self, path, wtype=WATCHER_ANY):
        self.call(OP_CHECK_WATCHES, p_string(path) + p_int(wtype))

    def set_watches(self, relative_zxid, data=(), exist=(), child=()):
        body = (p_long(relative_zxid) + p_strings(list(data))
                + p_strings(list(exist)) + p_strings(list(child)))
        err, _z, _r = self.request(OP_SET_WATCHES, body, xid=XID_SET_WATCHES)
        if err != OK:
            raise ZkError(err, OP_SET_WATCHES)

    def multi(self, ops, op=OP_MULTI):
        """ops: [(opcode, record bytes)].  Returns (err, results) where each
        result is a tuple (kind, ...) and kind "error" carries the code (§6)."""
        body = b""
        for t, rec in ops:
            body += p_int(t) + p_bool(False) + p_int(-1) + rec
        body += p_int(-1) + p_bool(True) + p_int(-1)
        err, _zxid, r = self.request(op, body)
        if err != OK:
            return err, None
        results = []
        while True:
            t, done = r.int(), r.bool()
            r.int()  # err (repeated in the error body)
            if done:
                break
            if t == -1:
                results.append(("error", r.int()))
            elif t == OP_CREATE:
                results.append(("create", r.string()))
            elif t in (OP_CREATE2, OP_CREATE_CONTAINER, OP_CREATE_TTL):
                results.append(("create2", r.string(), r.stat()))
            elif t == OP_DELETE:
                results.append(("delete",))
            elif t == OP_CHECK:
                results.append(("check",))
            elif t == OP_SET_DATA:
                results.append(("setData", r.stat()))
            elif t == OP_GET_CHILDREN:
                results.append(("getChildren", r.strings()))
            elif t == OP_GET_DATA:
                results.append(("getData", r.buffer(), r.stat()))
            else:
                raise AssertionError("unknown multi result type %d" % t)
        return OK, results

    def sync(self, path):
        return self.call(OP_SYNC, p_string(path)).string()

    def who_am_i(self):
        r = self.call(OP_WHO_AM_I)
        n = r.int()
        return [(r.string(), r.string()) for _ in range(n)]

    def get_ephemerals(self, prefix="/"):
        return self.call(OP_GET_EPHEMERALS, p_string(prefix)).strings()

    def get_all_children_number(self, path):
        return self.call(OP_GET_ALL_CHILDREN_NUMBER, p_string(path)).int()

    def ping(self):
        err, zxid, _r = self.request(OP_PING, xid=XID_PING)
        return err, zxid

    def close_session(self):
        err, zxid, _r = self.request(OP_CLOSE_SESSION)
        return err, zxid

    def add_auth(self, scheme, auth):
        body = p_int(0) + p_string(scheme) + p_buffer(auth)
        err, _z, _r = self.request(OP_AUTH, body, xid=XID_AUTH)
        return err


def session_passwd_ok(conn):
    return conn.session_id not in (None, 0) and conn.passwd != b"\x00" * 16
