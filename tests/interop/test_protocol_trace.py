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
3. A standalone server started with `RUST_LOG=info,zk_trace=info` (no
   zoo.cfg key) traces its sessions and txns.

Trace lines are ours alone (Java has no such trace), so this is about our
servers only; the client is kazoo.
"""

import re
import time

import pytest
from kazoo.client import KazooClient

from conftest import ZkServer
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
    finally:
        srv.stop()
