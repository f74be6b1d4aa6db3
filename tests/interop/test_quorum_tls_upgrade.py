"""The rolling upgrade of a plaintext ensemble to quorum TLS, with no
downtime, as zookeeperAdmin.md ("Upgrading existing non-TLS cluster with no
downtime") describes it, in a mixed Java 3.8.0 / our ensemble:

  0. every peer plaintext;
  1. each peer in turn restarted with the key stores, sslQuorum=false and
     portUnification=true (still dials plaintext, accepts both);
  2. each peer in turn restarted with sslQuorum=true, portUnification=true
     (dials TLS, accepts both);
  3. each peer in turn restarted with sslQuorum=true, portUnification=false
     (TLS only).

After every restart the whole ensemble must serve again (a leader and two
followers) and the client must get new writes acknowledged.  A kazoo client
connected to all three keeps creating znodes throughout; at the end every
acknowledged create must be on every peer.
"""

import threading
import time

import pytest
from kazoo.client import KazooClient
from kazoo.retry import KazooRetry

from conftest import require_impl
from test_quorum_tls import make_certs, tls_keys, tls_evidence
from test_zab_learner import ZabPeer, client, report, stop_all, wait_mode

# (sslQuorum, portUnification) of steps 1..3; step 0 has no TLS keys.
STEPS = [(False, True), (True, True), (True, False)]


class Writer(threading.Thread):
    """Creates /up/w-<n> one after the other; remembers the acknowledged."""

    def __init__(self, hosts):
        super().__init__(daemon=True)
        self.zk = KazooClient(hosts=hosts, timeout=10.0,
                              connection_retry=KazooRetry(max_tries=-1, delay=0.1, max_delay=0.5))
        self.zk.start(timeout=30)
        self.zk.ensure_path("/up")
        self.acked = []
        self.failed = 0
        self.stopping = threading.Event()

    def run(self):
        n = 0
        while not self.stopping.is_set():
            path = "/up/w-%06d" % n
            n += 1
            try:
                self.zk.create(path, b"x")
                self.acked.append(path)
            except Exception:
                self.failed += 1
                time.sleep(0.1)
            time.sleep(0.01)

    def wait_progress(self, more, timeout, peers):
        start = len(self.acked)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.acked) >= start + more:
                return
            time.sleep(0.1)
        pytest.fail("no acknowledged write for %ss (acked %d, failed %d)\n%s"
                    % (timeout, len(self.acked), self.failed, report(peers)))

    def stop(self):
        self.stopping.set()
        self.join(30)
        self.zk.stop()
        self.zk.close()


def serving(peers):
    modes = {p.sid: wait_mode(p, ["leader", "follower"]) for p in peers}
    assert sorted(modes.values()) == ["follower", "follower", "leader"], modes
    return modes


def test_rolling_upgrade_plaintext_to_quorum_tls_loses_no_acked_write(tmp_path):
    require_impl("java")
    require_impl("rust")
    certs = make_certs(tmp_path / "certs")
    kinds = ["java", "rust", "rust"]
    peers = [ZabPeer(kind, sid, tmp_path / ("s%d-%s" % (sid, kind)))
             for sid, kind in enumerate(kinds, start=1)]
    writer = None
    try:
        for p in peers:
            p.write_config(peers)
            p.start()
        serving(peers)
        writer = Writer(",".join(p.hosts for p in peers))
        writer.start()
        writer.wait_progress(20, 30, peers)
        for ssl_quorum, unified in STEPS:
            for p in peers:
                p.stop()
                p.extra = tls_keys(certs, p.sid, ssl_quorum=ssl_quorum, port_unification=unified)
                p.write_config(peers)
                p.start()
                serving(peers)
                writer.wait_progress(10, 30, peers)
        writer.stop()
        acked = set(writer.acked)
        print("rolling upgrade: %d creates acknowledged, %d failed or unknown, over 9 restarts"
              % (len(acked), writer.failed))
        assert len(acked) > 100, (len(acked), writer.failed)
        for p in peers:
            zk = client(p)
            try:
                zk.sync("/up")
                present = set("/up/" + c for c in zk.get_children("/up"))
            finally:
                zk.stop()
                zk.close()
            missing = sorted(acked - present)
            assert not missing, "%s peer %d lacks %d acknowledged writes, e.g. %r\n%s" % (
                p.kind, p.sid, len(missing), missing[:5], report(peers))
        ours = [p for p in peers if p.kind == "rust"]
        # Steps 1 and 2 served plaintext dialers on unified ports (which of
        # our peers got one depends on who dials whom); all of ours spoke
        # TLS later, and the last step is TLS only.
        assert any("Accepted plaintext connection" in p.text() for p in ours), report(peers)
        for p in ours:
            assert tls_evidence(p), report(peers)
            assert "Creating TLS-only quorum server socket" in p.text(), report(peers)
    finally:
        if writer is not None and writer.is_alive():
            writer.stop()
        stop_all(peers)
