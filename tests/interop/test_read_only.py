"""Read-only mode (-Dreadonlymode.enabled=true), against Java 3.8.0 and
ours: three peers, two stopped, the survivor serves read-only; a peer
comes back and the survivor serves read-write again.

Checked on the survivor, as Java 3.8.0 does it with local sessions off
(the default; zoo.cfg's localSessionsEnabled is a separate feature):

- `srvr` shows `Mode: read-only` and the "READ-ONLY mode" line, `isro`
  answers `ro`;
- a client that did not ask for read-only is refused: its connection is
  closed without an answer;
- a read-only client asking for a new session gets a bare reply header
  with NOTREADONLY (-119) instead of a handshake answer (with local
  sessions off the read-only server cannot create sessions);
- resuming a session the quorum made (a global one) is refused;
- resuming another session id with its password is accepted, read-only:
  reads are answered, writes and sync get NOTREADONLY;
- when a peer returns, the read-only server stops (its clients are
  disconnected), `isro` says `rw`, and clients, read-only or not, get
  normal sessions that write.

Every scenario runs on an ensemble of Java peers, one of ours, and one
where the survivor is ours and the other two are Java.
"""

import socket
import struct
import time

import pytest

from conftest import require_impl
from rawzk import (OP_CREATE, OP_EXISTS, OP_GET_DATA, OP_SET_DATA, OP_SYNC, OPEN_ACL_UNSAFE, ConnectionClosed,
                   Reader, RawZk, connect_request, frame, java_session_passwd, p_acl, p_bool, p_buffer, p_int,
                   p_string)
from test_zab_learner import ZabPeer, four_letter, report, start_ensemble, stop_all, wait_mode

NOT_READ_ONLY = -119
SURVIVOR = 1
WAIT = 90.0


class ReadOnlyPeer(ZabPeer):
    """A peer started with -Dreadonlymode.enabled=true (a JVM flag for
    Java; zk-server takes -D flags the same way)."""

    def command(self):
        cmd = super().command()
        return cmd[:1] + ["-Dreadonlymode.enabled=true"] + cmd[1:]


def wait_for(what, check, timeout=WAIT):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        ok, last = check()
        if ok:
            return last
        time.sleep(0.2)
    pytest.fail("%s: never happened (last: %r)" % (what, last))


def handshake(port, read_only, session_id=0, passwd=b"\x00" * 16):
    """Sends a ConnectRequest; returns the first frame's payload, or None
    if the server closed the connection without one. The socket stays
    open in the returned RawZk-like pair for later requests."""
    zk = RawZk("127.0.0.1", port, sock_timeout=15.0)
    zk.send_frame(connect_request(30000, session_id, passwd, 0, read_only, True))
    try:
        return zk, zk.recv_frame()
    except (ConnectionClosed, ConnectionResetError):
        zk.close_socket()
        return None, None


def parse_connect_response(body):
    r = Reader(body)
    return {"protocol": r.int(), "timeout": r.int(), "session": r.long(), "passwd": r.buffer(),
            "read_only": r.bool() if r.remaining() else None}


def request(zk, op, body):
    xid = zk.next_xid()
    zk.send_frame(p_int(xid) + p_int(op) + body)
    while True:
        payload = zk.recv_frame()
        rxid, zxid, err = struct.unpack(">iqi", payload[:16])
        if rxid == xid:
            return err, payload[16:]


def last_zxid(port):
    for line in four_letter(port, "srvr").splitlines():
        if line.startswith("Zxid: "):
            return int(line.split()[1], 16)
    return None


KINDS = [
    pytest.param(["java", "java", "java"], id="java"),
    pytest.param(["rust", "rust", "rust"], id="rust"),
    pytest.param(["rust", "java", "java"], id="our-survivor-java-peers"),
]


@pytest.mark.parametrize("kinds", KINDS)
def test_survivor_serves_read_only_then_read_write(tmp_path, kinds):
    for k in set(kinds):
        require_impl(k)
    peers = [ReadOnlyPeer(kind, sid, tmp_path / ("s%d-%s" % (sid, kind))) for sid, kind in enumerate(kinds, start=1)]
    survivor = peers[0]
    port = survivor.client_port
    try:
        start_ensemble(peers, 3)
        from kazoo.client import KazooClient
        writer = RawZk("127.0.0.1", port, sock_timeout=15.0).connect(timeout_ms=30000)
        writer.create("/ro-data", b"written before the partition")
        writer.call(OP_SYNC, p_string("/"))
        global_session, global_passwd = writer.session_id, writer.passwd
        writer.close_socket()      # the session stays (no closeSession sent)

        # ---- partition: the two others stop -------------------------------
        for p in peers[1:]:
            p.stop()
        wait_mode(survivor, ["read-only"], timeout=WAIT)
        srvr = four_letter(port, "srvr")
        assert "READ-ONLY mode; serving only read-only clients" in srvr, srvr
        assert four_letter(port, "isro") == "ro"
        zxid = last_zxid(port)

        # A client that did not ask for read-only: closed, no answer.
        sock, body = handshake(port, read_only=False)
        assert body is None, "%s: a read-write client got %r" % (kinds[0], body)

        # A new read-only session: a bare NOTREADONLY reply header.
        sock, body = handshake(port, read_only=True)
        assert body is not None and len(body) == 16, body
        assert struct.unpack(">iqi", body) == (0, zxid, NOT_READ_ONLY), struct.unpack(">iqi", body)
        sock.close_socket()

        # Resuming the quorum's session: refused.
        sock, body = handshake(port, read_only=True, session_id=global_session, passwd=global_passwd)
        assert body is None, "%s: resumed a global session read-only: %r" % (kinds[0], body)

        # Resuming another session id with its password: read-only session.
        local_id = (SURVIVOR << 56) | 0x5eed
        ro, body = handshake(port, read_only=True, session_id=local_id, passwd=java_session_passwd(local_id))
        assert body is not None
        answer = parse_connect_response(body)
        assert answer["session"] == local_id and answer["timeout"] > 0 and answer["read_only"] is True, answer
        err, rest = request(ro, OP_GET_DATA, p_string("/ro-data") + p_bool(False))
        assert err == 0 and Reader(rest).buffer() == b"written before the partition"
        assert request(ro, OP_EXISTS, p_string("/ro-data") + p_bool(False))[0] == 0
        assert request(ro, OP_SET_DATA, p_string("/ro-data") + p_buffer(b"x") + p_int(-1))[0] == NOT_READ_ONLY
        create = p_string("/ro-new") + p_buffer(b"x") + p_acl(OPEN_ACL_UNSAFE) + p_int(0)
        assert request(ro, OP_CREATE, create)[0] == NOT_READ_ONLY
        assert request(ro, OP_SYNC, p_string("/"))[0] == NOT_READ_ONLY
        err, rest = request(ro, OP_GET_DATA, p_string("/ro-data") + p_bool(False))
        assert err == 0 and Reader(rest).buffer() == b"written before the partition"

        # ---- a peer returns: quorum again -----------------------------------
        peers[1].start()
        wait_mode(survivor, ["follower", "leader"], timeout=WAIT)
        assert ro.is_closed(wait=15.0), "the read-only server kept its client"
        assert four_letter(port, "isro") == "rw"
        for read_only in (False, True):
            zk = KazooClient(hosts=survivor.hosts, timeout=30.0, read_only=read_only)
            zk.start(timeout=60)
            zk.set("/ro-data", b"written by read_only=%s" % str(read_only).encode())
            assert zk.get("/ro-data")[0] == b"written by read_only=%s" % str(read_only).encode()
            zk.stop()
            zk.close()
    except BaseException:
        print(report(peers))
        raise
    finally:
        stop_all(peers)


@pytest.mark.parametrize("kinds", KINDS)
def test_kazoo_read_only_client_with_local_sessions(tmp_path, kinds):
    """With local sessions on (as kazoo's own test harness runs it), a
    kazoo client with read_only=True gets a session on the read-only
    survivor: it reads, its writes raise NotReadOnlyCallError; a normal
    kazoo client cannot connect; both write once a peer returns."""
    from kazoo.client import KazooClient
    from kazoo.exceptions import NotReadOnlyCallError
    from kazoo.handlers.threading import KazooTimeoutError
    from kazoo.protocol.states import KeeperState
    for k in set(kinds):
        require_impl(k)
    extra = {"localSessionsEnabled": "true", "localSessionsUpgradingEnabled": "true"}
    peers = [ReadOnlyPeer(kind, sid, tmp_path / ("s%d-%s" % (sid, kind)), extra=extra)
             for sid, kind in enumerate(kinds, start=1)]
    survivor = peers[0]
    clients = []
    try:
        start_ensemble(peers, 3)
        writer = KazooClient(hosts=survivor.hosts, timeout=30.0)
        clients.append(writer)
        writer.start(timeout=30)
        writer.create("/ro-kazoo", b"before")
        writer.stop()
        for p in peers[1:]:
            p.stop()
        wait_mode(survivor, ["read-only"], timeout=WAIT)

        ro = KazooClient(hosts=survivor.hosts, timeout=30.0, read_only=True)
        clients.append(ro)
        ro.start(timeout=60)
        assert ro.client_state == KeeperState.CONNECTED_RO, ro.client_state
        assert ro.get("/ro-kazoo")[0] == b"before"
        assert ro.exists("/ro-kazoo") is not None
        for write in (lambda: ro.set("/ro-kazoo", b"x"), lambda: ro.create("/ro-new", b"x"),
                      lambda: ro.delete("/ro-kazoo")):
            with pytest.raises(NotReadOnlyCallError):
                write()
        normal = KazooClient(hosts=survivor.hosts, timeout=10.0)
        clients.append(normal)
        with pytest.raises(KazooTimeoutError):
            normal.start(timeout=8)
        normal.stop()
        # Raw: closed without an answer.
        sock, body = handshake(survivor.client_port, read_only=False)
        assert body is None

        peers[1].start()
        wait_mode(survivor, ["follower", "leader"], timeout=WAIT)
        wait_for("the read-only client reconnected read-write",
                 lambda: (ro.client_state == KeeperState.CONNECTED, ro.client_state))
        ro.set("/ro-kazoo", b"after, read_only=True")
        normal = KazooClient(hosts=survivor.hosts, timeout=30.0)
        clients.append(normal)
        normal.start(timeout=60)
        normal.sync("/ro-kazoo")
        assert normal.get("/ro-kazoo")[0] == b"after, read_only=True"
        normal.set("/ro-kazoo", b"after, normal")
    except BaseException:
        print(report(peers))
        raise
    finally:
        for c in clients:
            try:
                c.stop()
                c.close()
            except Exception:
                pass
        stop_all(peers)
