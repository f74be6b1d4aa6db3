"""The protocol trace as a user sees it: `protocolTrace=true` in zoo.cfg, or
`RUST_LOG` naming the `zk_trace` target.

1. Three of our peers with `protocolTrace=true`; a kazoo client creates a
   znode through a follower. Every log then shows election notifications,
   and, for the write's zxid (read back from the znode's czxid): the
   leader sending PROPOSAL and COMMIT to each follower and receiving each
   follower's ACK, each follower receiving PROPOSAL and COMMIT and sending
   ACK, every node logging and then applying the txn, and the follower the
   client used creating its session.
2. The same ensemble without the key: not one trace line anywhere.
   A session resumed through the other follower shows as moved on the
   leader.
3. A standalone server started with `RUST_LOG=info,zk_trace=info` (no
   zoo.cfg key) traces its sessions and txns, and a session whose client
   vanished as expired, then closed.

Trace lines are ours alone (Java has no such trace), so this is about our
servers only; the client is kazoo.
"""

import re
import time

import pytest
from kazoo.client import KazooClient

from conftest import ZkServer
from rawzk import RawZk
from test_zab_learner import ZabPeer, client, report, start_ensemble, stop_all

TRACE_TIMEOUT = 30.0
LEADER = 3

NOTIFICATION = re.compile(
    r"\[WorkerReceiver\[myid=\d\]:zk_trace@\d+\] - ELECTION recv <- sid \d: (LOOKING|FOLLOWING|LEADING), "
    r"proposes leader \d \(zxid 0x[0-9a-f]+, peerEpoch 0x[0-9a-f]+\), round 0x[0-9a-f]+$", re.M)


TRACE_LINE = re.compile(r":zk_trace@\d+\] - (.*)$", re.M)


def trace_lines_of(text):
    """The messages of the trace lines of a log, in order."""
    return TRACE_LINE.findall(text)


def trace_lines(peer):
    return trace_lines_of(peer.text())


def ensemble(tmp_path, extra):
    peers = [ZabPeer("rust", sid, tmp_path / ("p%d" % sid), extra=extra) for sid in (1, 2, 3)]
    start_ensemble(peers, LEADER)
    return peers


def write_through(follower):
    zk = client(follower)
    try:
        session = zk.client_id[0]
        zk.create("/traced", b"hello")
        _, stat = zk.get("/traced")
        return session, stat.czxid
    finally:
        zk.stop()
        zk.close()


def test_a_write_on_a_traced_ensemble(tmp_path):
    peers = ensemble(tmp_path, {"protocolTrace": "true"})
    try:
        by_sid = {p.sid: p for p in peers}
        leader = by_sid[LEADER]
        followers = [by_sid[1], by_sid[2]]
        session, zxid = write_through(followers[0])
        z = "0x%x" % zxid
        txn = "zxid=%s create session=0x%x" % (z, session)
        expected = [(leader, ["TXN logged " + txn, "TXN applied " + txn])]
        for f in followers:
            expected.append((leader, ["PACKET send -> sid %d: PROPOSAL zxid=%s len=" % (f.sid, z)]))
            expected.append((leader, ["PACKET recv <- sid %d: ACK zxid=%s len=0" % (f.sid, z)]))
            expected.append((leader, ["PACKET send -> sid %d: COMMIT zxid=%s len=0" % (f.sid, z)]))
            expected.append((f, ["PACKET recv <- sid %d: PROPOSAL zxid=%s len=" % (LEADER, z),
                                 "TXN logged " + txn,
                                 "PACKET send -> sid %d: ACK zxid=%s len=0" % (LEADER, z)]))
            expected.append((f, ["PACKET recv <- sid %d: COMMIT zxid=%s len=0" % (LEADER, z),
                                 "TXN applied " + txn]))
        expected.append((followers[0], ["SESSION create 0x%x timeout=" % session,
                                        "PACKET send -> sid %d: REQUEST zxid=-1 len=" % LEADER]))
        # Lines end with their size: match on prefixes.
        deadline = time.monotonic() + TRACE_TIMEOUT
        while True:
            missing = [(p.sid, want) for p, wants in expected for want in wants
                       if not any(line.startswith(want) for line in trace_lines(p))]
            if not missing:
                break
            if time.monotonic() > deadline:
                pytest.fail("missing trace lines %r\n%s" % (missing, report(peers)), pytrace=False)
            time.sleep(0.1)
        # In order on each follower: PROPOSAL in, logged, ACK out; COMMIT in, applied.
        for f in followers:
            trace = trace_lines(f)

            def first(prefix):
                return next(i for i, line in enumerate(trace) if line.startswith(prefix))
            assert (first("PACKET recv <- sid %d: PROPOSAL zxid=%s " % (LEADER, z))
                    < first("TXN logged " + txn)
                    < first("PACKET send -> sid %d: ACK zxid=%s " % (LEADER, z))), trace
            assert first("PACKET recv <- sid %d: COMMIT zxid=%s " % (LEADER, z)) < first("TXN applied " + txn)
        for p in peers:
            assert NOTIFICATION.search(p.text()), p.text()[-3000:]
            assert "Protocol trace is on (protocolTrace=true)" in p.text()
        # A session resumed through the other follower moves there: the
        # leader's revalidation gives it a new owner.
        first = RawZk("127.0.0.1", followers[0].client_port).connect(timeout_ms=10000)
        second = None
        try:
            first.create("/moving", b"x")
            second = RawZk("127.0.0.1", followers[1].client_port).connect(
                timeout_ms=10000, session_id=first.session_id, passwd=first.passwd)
            assert second.session_id == first.session_id and second.timeout > 0
            wanted = "SESSION move 0x%x to learner link #" % first.session_id
            deadline = time.monotonic() + TRACE_TIMEOUT
            while not any(line.startswith(wanted) for line in trace_lines(leader)):
                if time.monotonic() > deadline:
                    pytest.fail("no %r on the leader\n%s" % (wanted, report(peers)), pytrace=False)
                time.sleep(0.1)
        finally:
            first.close_socket()
            if second is not None:
                second.close_socket()
    finally:
        stop_all(peers)


def test_no_trace_without_the_switch(tmp_path):
    peers = ensemble(tmp_path, {})
    try:
        write_through(peers[0])
        # The write is applied everywhere before we look (its sync).
        for p in peers:
            zk = client(p)
            zk.sync("/")
            assert zk.exists("/traced")
            zk.stop()
            zk.close()
        for p in peers:
            text = p.text()
            assert "Election done" in text
            assert "zk_trace" not in text and "Protocol trace is on" not in text, text[-3000:]
    finally:
        stop_all(peers)


def test_rust_log_names_the_trace_on_a_standalone_server(tmp_path, monkeypatch):
    monkeypatch.setenv("RUST_LOG", "info,zk_trace=info")
    srv = ZkServer("rust", tmp_path / "zk").start()
    try:
        zk = KazooClient(hosts=srv.hosts, timeout=10.0)
        zk.start(timeout=30)
        session = zk.client_id[0]
        zk.create("/traced", b"x")
        czxid = zk.get("/traced")[1].czxid
        zk.stop()
        zk.close()
        wanted = ["SESSION create 0x%x timeout=" % session,
                  "TXN logged zxid=0x%x create session=0x%x" % (czxid, session),
                  "TXN applied zxid=0x%x create session=0x%x" % (czxid, session),
                  "SESSION close 0x%x" % session]
        deadline = time.monotonic() + TRACE_TIMEOUT
        while True:
            text = srv.log_path.read_text(errors="replace")
            lines = trace_lines_of(text)
            missing = [w for w in wanted if not any(l.startswith(w) for l in lines)]
            if not missing:
                break
            if time.monotonic() > deadline:
                pytest.fail("missing %r in\n%s" % (missing, text[-3000:]), pytrace=False)
            time.sleep(0.1)
        assert "Protocol trace is on (RUST_LOG names zk_trace)" in text
        # A client that goes away without closing: its session expires.
        raw = RawZk("127.0.0.1", srv.port).connect(timeout_ms=4000)
        raw.close_socket()
        wanted = ["SESSION expire 0x%x timeout=4000ms" % raw.session_id,
                  "SESSION close 0x%x" % raw.session_id]
        deadline = time.monotonic() + TRACE_TIMEOUT
        while True:
            text = srv.log_path.read_text(errors="replace")
            lines = trace_lines_of(text)
            found = [next((i for i, l in enumerate(lines) if l.startswith(w)), None) for w in wanted]
            if None not in found:
                assert found[0] < found[1], lines
                break
            if time.monotonic() > deadline:
                pytest.fail("missing %r in\n%s" % (wanted, text[-3000:]), pytrace=False)
            time.sleep(0.1)
    finally:
        srv.stop()
