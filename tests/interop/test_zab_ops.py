"""The ops surface of an ensemble (four-letter words, AdminServer, metrics):
the AdminServer and the Prometheus endpoint run once per peer process and
answer for whichever role serves.

Four peers on loopback: ours with sid 3 leads (highest sid, all empty),
ours with sid 2 follows, a Java 3.8.0 peer (sid 1, AdminServer on) follows,
and ours with sid 4 observes with its admin port already taken (Java's
QuorumPeer only warns then, and so must we).

Checked: while our leader-to-be is still alone and LOOKING, its admin
commands answer Java's "not currently serving" error (under the name they
were called by), `monitor` fails with 500 as Java's does, and `/metrics`
still scrapes; once the ensemble serves, `srvr` and `monitor` report the
live role (`server_state`, `peer_state`, `quorum_size`, the leader's
learner counts), our follower's `/metrics` scrape parses and carries the
server's and the role's gauges, and the key sets of `srvr` and `monitor` on
our follower equal the Java follower's (summary sets, whose keys appear
only once something was recorded, aside).
"""

import json
import socket
import time
import urllib.error
import urllib.request

import pytest

from conftest import JAVA_LIB, free_port, need, require_impl
from test_election import wait_log, wait_port
from test_metrics import parse_exposition
from test_zab_learner import ZabPeer, client, report, stop_all, wait_mode

PROMETHEUS = "org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider"
NOT_SERVING = "This ZooKeeper instance is not currently serving requests"
# Summary sets: one summary per key, present once a value was recorded.
SUMMARY_SET_MARKERS = ("_learner_handler_qp_", "_per_namespace")


def http_get(port, path):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")


def admin(peer, command):
    status, body = http_get(peer.admin_port, "/commands/" + command)
    assert status == 200, (command, status, body[:500])
    return json.loads(body)


def ops_peer(kind, sid, tmp_path, admin_port=None, metrics=False, observer=False):
    port = admin_port or free_port()
    extra = {"admin.enableServer": "true", "admin.serverAddress": "127.0.0.1", "admin.serverPort": str(port)}
    if metrics:
        extra.update({"metricsProvider.className": PROMETHEUS, "metricsProvider.httpHost": "127.0.0.1",
                      "metricsProvider.httpPort": str(free_port())})
    peer = ZabPeer(kind, sid, tmp_path / ("s%d-%s" % (sid, kind)), observer=observer, extra=extra)
    peer.admin_port = port
    return peer


def metrics_port(peer):
    return int(peer.extra["metricsProvider.httpPort"])


def plain_keys(answer):
    return {k for k in answer if not any(m in k for m in SUMMARY_SET_MARKERS)}


def check_looking(leader):
    """The leader-to-be alone: no role serves yet."""
    wait_port(leader.admin_port, proc=leader.proc, log=leader.log)
    assert admin(leader, "srvr") == {"command": "srvr", "error": NOT_SERVING}
    assert admin(leader, "server_stats") == {"command": "server_stats", "error": NOT_SERVING}
    status, _ = http_get(leader.admin_port, "/commands/monitor")
    assert status == 500, "Java's MonitorCommand fails without a server"
    assert admin(leader, "gtmk")["error"] is None, "commands that need no server still answer"
    status, text = http_get(metrics_port(leader), "/metrics")
    assert status == 200
    families = parse_exposition(text)
    assert "znode_count" not in families and "quorum_size" not in families, "no server gauges while looking"
    assert families["fsynctime"][0] == "summary"


def test_admin_and_metrics_follow_the_role(tmp_path):
    require_impl("java")
    require_impl("rust")
    need((JAVA_LIB / "servlet-api.jar").exists(), "servlet-api.jar missing: Java's AdminServer cannot start")
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    peers = [ops_peer("java", 1, tmp_path), ops_peer("rust", 2, tmp_path, metrics=True),
             ops_peer("rust", 3, tmp_path, metrics=True),
             ops_peer("rust", 4, tmp_path, admin_port=taken.getsockname()[1], observer=True)]
    java, follower, leader, observer = peers
    try:
        for p in peers:
            p.write_config(peers)
        leader.start()
        check_looking(leader)
        for p in (java, follower, observer):
            p.start()
        for p, mode in ((leader, "leader"), (follower, "follower"), (java, "follower"), (observer, "observer")):
            wait_mode(p, [mode])
        wait_log(observer, "Problem starting AdminServer")
        zk = client(follower)
        try:
            zk.create("/ops", b"x" * 100)
        finally:
            zk.stop()
            zk.close()

        for p, mode in ((leader, "leader"), (follower, "follower"), (java, "follower")):
            srvr = admin(p, "srvr")
            assert srvr["command"] == "server_stats" and srvr["error"] is None, srvr
            assert srvr["server_stats"]["server_state"] == mode, (p.kind, p.sid, srvr)
            monitor = admin(p, "monitor")
            assert monitor["server_state"] == mode, (p.kind, p.sid)
            assert monitor["peer_state"] == ("leading" if mode == "leader" else "following") + " - broadcast"
            assert monitor["quorum_size"] == 3
        lead = admin(leader, "monitor")
        assert (lead["learners"], lead["synced_followers"], lead["synced_observers"]) == (3, 2, 1), lead
        # The create (100 bytes of data) and the session close were proposed.
        assert lead["max_proposal_size"] > 100 and 0 < lead["min_proposal_size"] <= lead["last_proposal_size"], lead

        ours, theirs = admin(follower, "monitor"), admin(java, "monitor")
        assert plain_keys(ours) == plain_keys(theirs), (
            "ours only: %r, Java only: %r" % (sorted(plain_keys(ours) - plain_keys(theirs)),
                                              sorted(plain_keys(theirs) - plain_keys(ours))))
        assert list(ours)[:3] == list(theirs)[:3] == ["version", "server_state", "peer_state"]
        ours, theirs = admin(follower, "srvr"), admin(java, "srvr")
        assert set(ours) == set(theirs) and set(ours["server_stats"]) == set(theirs["server_stats"])

        status, text = http_get(metrics_port(follower), "/metrics")
        assert status == 200
        families = parse_exposition(text)
        for name in ("znode_count", "quorum_size", "learner_commit_received_count"):
            assert name in families, name
        assert families["quorum_size"][1][0][2] == "3.0"
        assert "learners" not in families, "a follower has no leader gauges"
    except BaseException:
        print(report(peers))
        raise
    finally:
        stop_all(peers)
        taken.close()
