"""The leader's watch over its learners (Java's LearnerHandler.ping with
its sync-limit check and the learner socket's read timeout), against a
Java 3.8.0 ensemble and one of ours.

Three participants (sid 3 leads), tickTime 1000 and syncLimit 2. The
follower sid 1 is frozen with SIGSTOP while a client on sid 2 keeps
writing: the leader must drop it (`zk_synced_followers` 2 -> 1) within a
few syncLimit periods, writes must go on meanwhile (sid 2 and the leader
are a quorum), and after SIGCONT the follower must rejoin, catch up and
serve every acknowledged write. Then the observer sid 4 is frozen: it
acks nothing, so only its silence to the leader's pings can tell, and the
leader must drop it too (`zk_synced_observers` 1 -> 0).
"""

import signal
import threading
import time

import pytest

from conftest import IMPLS, require_impl
from test_zab_learner import ZabPeer, client, four_letter, report, start_ensemble, stop_all

FROZEN, WRITER, LEADER, OBSERVER = 1, 2, 3, 4
DROP_TIMEOUT = 30.0   # syncLimit * tickTime is 2 s; generous for a loaded machine


def mntr_value(peer, key):
    for line in four_letter(peer.client_port, "mntr").splitlines():
        parts = line.split("\t")
        if len(parts) == 2 and parts[0] == key:
            return parts[1]
    return None


def wait_until(cond, timeout, what, peers):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return time.monotonic()
        time.sleep(0.2)
    pytest.fail("%s within %.0f s\n%s" % (what, timeout, report(peers)))


class Writer(threading.Thread):
    """Creates sequential nodes until stopped; records acknowledged paths."""

    def __init__(self, zk):
        super().__init__(daemon=True)
        self.zk = zk
        self.acked = []
        self.stop_flag = threading.Event()
        self.errors = []

    def run(self):
        while not self.stop_flag.is_set():
            try:
                self.acked.append(self.zk.create("/health/n-", b"x", sequence=True))
            except Exception as e:  # noqa: BLE001 - recorded, the test decides
                self.errors.append(repr(e))
                time.sleep(0.1)


@pytest.mark.parametrize("kind", IMPLS)
def test_a_frozen_follower_is_dropped_and_rejoins(tmp_path, kind):
    require_impl(kind)
    peers = [ZabPeer(kind, sid, tmp_path / ("s%d" % sid), observer=(sid == OBSERVER)) for sid in (1, 2, 3, 4)]
    by_sid = {p.sid: p for p in peers}
    try:
        start_ensemble(peers, LEADER)
        leader = by_sid[LEADER]
        wait_until(lambda: mntr_value(leader, "zk_synced_followers") == "2", DROP_TIMEOUT,
                   "%s leader never had 2 synced followers" % kind, peers)
        zk = client(by_sid[WRITER])
        zk.ensure_path("/health")
        writer = Writer(zk)
        writer.start()
        try:
            time.sleep(1.0)
            by_sid[FROZEN].proc.send_signal(signal.SIGSTOP)
            frozen_at = time.monotonic()
            dropped_at = wait_until(lambda: mntr_value(leader, "zk_synced_followers") == "1", DROP_TIMEOUT,
                                    "%s leader did not drop the frozen follower" % kind, peers)
            acked_at_drop = len(writer.acked)
            time.sleep(3.0)
            assert len(writer.acked) > acked_at_drop, "%s: writes stopped after the drop" % kind
            by_sid[FROZEN].proc.send_signal(signal.SIGCONT)
            wait_until(lambda: mntr_value(leader, "zk_synced_followers") == "2", 60.0,
                       "%s: the follower did not rejoin" % kind, peers)
        finally:
            by_sid[FROZEN].proc.send_signal(signal.SIGCONT)
            writer.stop_flag.set()
            writer.join(30)
        print("%s: dropped %.1f s after SIGSTOP; %d writes acknowledged"
              % (kind, dropped_at - frozen_at, len(writer.acked)))
        # The rejoined follower serves every acknowledged write.
        zk.stop()
        zk.close()
        rejoined = client(by_sid[FROZEN])
        try:
            rejoined.sync("/health")
            children = set(rejoined.get_children("/health"))
            missing = [p for p in writer.acked if p.rsplit("/", 1)[1] not in children]
            assert not missing, "%s: rejoined follower misses %d acknowledged writes" % (kind, len(missing))
        finally:
            rejoined.stop()
            rejoined.close()
        # A frozen observer is dropped as well, and comes back.
        wait_until(lambda: mntr_value(leader, "zk_synced_observers") == "1", DROP_TIMEOUT,
                   "%s leader never had its observer synced" % kind, peers)
        by_sid[OBSERVER].proc.send_signal(signal.SIGSTOP)
        try:
            wait_until(lambda: mntr_value(leader, "zk_synced_observers") == "0", DROP_TIMEOUT,
                       "%s leader did not drop the frozen observer" % kind, peers)
        finally:
            by_sid[OBSERVER].proc.send_signal(signal.SIGCONT)
        wait_until(lambda: mntr_value(leader, "zk_synced_observers") == "1", 60.0,
                   "%s: the observer did not rejoin" % kind, peers)
    finally:
        stop_all(peers)
