"""Sessions in an ensemble, against a Java 3.8.0 ensemble and one of ours:
who owns a session, and what a connection that lost it sees.

Each implementation runs three participants and an observer (sid 3 leads,
as in test_ensemble_order). Raw protocol clients (rawzk).

Session ownership (SESSIONMOVED, -118): a client opens a session on one
server, then resumes it on another (same id and password). The leader now
counts the second server as the session's owner, so a write sent on the
first connection is refused with SESSIONMOVED, which the first server
turns into closing that connection without a reply (Java's
FinalRequestProcessor: "session moved is a connection level error"). A
read on a learner's old connection is answered locally (learners do not
check owners); a read on the leader's old connection goes through the
leader's Prep, which checks the owner, and so closes it too. The session
itself lives on at its new server. Every outcome is asserted as Java's
source says it is, and ours must equal what Java did in the same session.
"""

import socket
import struct

import pytest

from conftest import IMPLS, require_impl
from rawzk import (OP_CREATE, OP_GET_DATA, OPEN_ACL_UNSAFE, p_acl, OP_SET_DATA, OP_SYNC, ConnectionClosed, RawZk, XID_NOTIFICATION,
                   XID_PING, p_bool, p_buffer, p_int, p_string)
from test_zab_learner import ZabPeer, report, start_ensemble, stop_all

FOLLOWER, FOLLOWER2, LEADER, OBSERVER = 1, 2, 3, 4
SESSION_MOVED = -118
REPLY_TIMEOUT = 15.0


@pytest.fixture(scope="module", params=IMPLS)
def ensemble(request, tmp_path_factory):
    kind = request.param
    require_impl(kind)
    base = tmp_path_factory.mktemp("sessions-%s" % kind)
    peers = [ZabPeer(kind, sid, base / ("s%d" % sid), observer=(sid == OBSERVER)) for sid in (1, 2, 3, 4)]
    try:
        start_ensemble(peers, LEADER)
        yield kind, {p.sid: p for p in peers}
    except BaseException:
        print(report(peers))
        raise
    finally:
        stop_all(peers)


def connect(peer, session_id=0, passwd=b"\x00" * 16):
    try:
        zk = RawZk("127.0.0.1", peer.client_port, sock_timeout=REPLY_TIMEOUT)
        zk.connect(timeout_ms=30000, session_id=session_id, passwd=passwd)
    except OSError as e:
        pytest.fail("%s peer %d: cannot connect: %s\n%s" % (peer.kind, peer.sid, e, peer.text()[-6000:]))
    return zk


def outcome(zk, op, body):
    """Sends one request; ("reply", err) if answered, ("closed",) if the
    server closed the connection instead, ("silent",) if neither came."""
    xid = zk.next_xid()
    try:
        zk.send_frame(p_int(xid) + p_int(op) + body)
        while True:
            payload = zk.recv_frame()
            rxid, _zxid, err = struct.unpack(">iqi", payload[:16])
            if rxid in (XID_NOTIFICATION, XID_PING):
                continue
            assert rxid == xid, "reply xid %d, expected %d" % (rxid, xid)
            return ("reply", err)
    except (ConnectionClosed, ConnectionResetError, BrokenPipeError):
        return ("closed",)
    except socket.timeout:
        return ("silent",)


def set_data(path, data):
    return p_string(path) + p_buffer(data) + p_int(-1)


def get_data(path):
    return p_string(path) + p_bool(False)


# (first server, server the session moves to, what a read and then a write
# on the first connection get, from Java's source: learners answer reads
# without an owner check; the leader's Prep checks it for reads too)
MOVES = [
    pytest.param(FOLLOWER, FOLLOWER2, [("reply", 0), ("closed",)], id="follower-to-follower"),
    pytest.param(FOLLOWER, LEADER, [("reply", 0), ("closed",)], id="follower-to-leader"),
    pytest.param(LEADER, FOLLOWER, [("closed",), None], id="leader-to-follower"),
    pytest.param(OBSERVER, FOLLOWER, [("reply", 0), ("closed",)], id="observer-to-follower"),
    pytest.param(FOLLOWER, OBSERVER, [("reply", 0), ("closed",)], id="follower-to-observer"),
]

SEEN = {}


@pytest.mark.parametrize("first,second,expected", MOVES)
def test_a_moved_session_is_fenced_on_its_old_server(ensemble, first, second, expected):
    kind, peers = ensemble
    path = "/moved-%d-%d" % (first, second)
    old = connect(peers[first])
    create = p_string(path) + p_buffer(b"v0") + p_acl(OPEN_ACL_UNSAFE) + p_int(0)
    assert outcome(old, OP_CREATE, create) == ("reply", 0)
    new = connect(peers[second], old.session_id, old.passwd)
    assert new.session_id == old.session_id and new.timeout > 0, \
        "%s: the session did not resume on sid %d" % (kind, second)
    assert outcome(new, OP_SYNC, p_string("/")) == ("reply", 0)
    got = [outcome(old, OP_GET_DATA, get_data(path))]
    if got[0] != ("closed",):
        got.append(outcome(old, OP_SET_DATA, set_data(path, b"from-the-old-connection")))
    else:
        got.append(None)
    old.close_socket()
    # The session lives on where it moved, and the fenced write never happened.
    assert outcome(new, OP_SET_DATA, set_data(path, b"from-the-new-connection")) == ("reply", 0), \
        "%s: the moved session no longer works on sid %d" % (kind, second)
    err, _z, r = new.request(OP_GET_DATA, get_data(path))
    assert err == 0 and r.buffer() == b"from-the-new-connection"
    assert r.stat()["version"] == 1, "%s: a write of the old connection was applied" % kind
    new.close_socket()
    SEEN.setdefault(kind, {})[(first, second)] = got
    assert got == expected, "%s: old connection on sid %d after the move to sid %d: %r\n%s" % (
        kind, first, second, got, peers[first].text()[-4000:])
    if kind != "java" and "java" in SEEN and (first, second) in SEEN["java"]:
        assert got == SEEN["java"][(first, second)], "differs from Java"


def test_a_session_resumed_on_its_own_server_keeps_working(ensemble):
    """Resuming on the same server closes the old connection there (it is
    not fenced by SESSIONMOVED): the new one reads and writes."""
    kind, peers = ensemble
    for sid in (FOLLOWER, LEADER):
        path = "/same-%d" % sid
        old = connect(peers[sid])
        old.create(path, b"a")
        new = connect(peers[sid], old.session_id, old.passwd)
        assert new.session_id == old.session_id
        assert old.is_closed(wait=REPLY_TIMEOUT), "%s sid %d: the old connection stayed open" % (kind, sid)
        assert outcome(new, OP_SET_DATA, set_data(path, b"b")) == ("reply", 0)
        new.close_socket()


MIXED = [
    pytest.param(["rust", "java", "java"], id="our-follower-java-leader"),
    pytest.param(["java", "rust", "rust"], id="java-follower-our-leader"),
]


@pytest.mark.parametrize("kinds", MIXED)
def test_moves_between_java_and_our_peers(tmp_path, kinds):
    """Mixed ensembles (sid 3 leads): a session moved from sid 1 to sid 2
    and back is fenced on the server it left, whichever kind serves it
    and whichever kind leads."""
    for k in set(kinds):
        require_impl(k)
    peers = [ZabPeer(kind, sid, tmp_path / ("s%d-%s" % (sid, kind))) for sid, kind in enumerate(kinds, start=1)]
    try:
        start_ensemble(peers, LEADER)
        by_sid = {p.sid: p for p in peers}
        for first, second in ((1, 2), (2, 1)):
            path = "/mixed-%d-%d" % (first, second)
            old = connect(by_sid[first])
            old.create(path, b"v0")
            new = connect(by_sid[second], old.session_id, old.passwd)
            assert new.session_id == old.session_id
            assert outcome(old, OP_GET_DATA, get_data(path)) == ("reply", 0)
            assert outcome(old, OP_SET_DATA, set_data(path, b"old")) == ("closed",), \
                "%s sid %d kept serving writes of a session that moved to sid %d" % (kinds[first - 1], first, second)
            old.close_socket()
            assert outcome(new, OP_SET_DATA, set_data(path, b"new")) == ("reply", 0)
            err, _z, r = new.request(OP_GET_DATA, get_data(path))
            assert err == 0 and r.buffer() == b"new" and r.stat()["version"] == 1
            new.close_socket()
    except BaseException:
        print(report(peers))
        raise
    finally:
        stop_all(peers)
