"""Two-node ensembles with an oracle (`oraclePath`, Java's QuorumOracleMaj),
against Java 3.8.0 and ours.

Each node has its own oracle file; its first character is the arbiter's
word: `1` lets that node act without its partner, anything else does not.
With both nodes up the majority rules and the oracle is not needed.
Checked, per implementation:
- the leader (sid 2) is killed: the follower whose oracle says 1 becomes
  leader alone and serves writes; one whose oracle says 0 leaves service
  (Java's answered `srvr` as a follower for a few milliseconds after the
  kill) and never serves again;
- the follower is killed: a leader whose oracle says 1 keeps serving
  writes past syncLimit; one whose oracle says 0 stops serving.
"""

import time

import pytest

from conftest import IMPLS, require_impl
from test_zab_learner import ZabPeer, client, four_letter, report, start_ensemble, stop_all, wait_mode

QUIET = 8.0   # how long a node whose oracle says 0 must stay out of service
LEAVE = 5.0   # how soon a follower must notice its leader's death (syncLimit is 2 s)


def two_nodes(tmp_path, kind, oracle):
    """sid 1 and 2 (2 leads), each with an oracle file holding oracle[sid]."""
    peers = []
    for sid in (1, 2):
        path = tmp_path / ("oracle-%d" % sid)
        path.write_text(oracle[sid])
        peers.append(ZabPeer(kind, sid, tmp_path / ("s%d" % sid), extra={"oraclePath": str(path)}))
    start_ensemble(peers, 2)
    return {p.sid: p for p in peers}


def serves(peer):
    try:
        text = four_letter(peer.client_port, "srvr")
    except OSError:
        return False
    return "Mode: leader" in text or "Mode: follower" in text


def write_ok(peer, path):
    zk = client(peer)
    try:
        zk.create(path, b"x")
        return zk.exists(path) is not None
    finally:
        zk.stop()
        zk.close()


def leaves_service(peer, seconds):
    """The node stops serving within `seconds` (it may answer as a follower
    for the few milliseconds before it reads its leader's end)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not serves(peer):
            return True
        time.sleep(0.1)
    return False


def stays_out(peer, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if serves(peer):
            return False
        time.sleep(0.3)
    return True


@pytest.mark.parametrize("kind", IMPLS)
@pytest.mark.parametrize("says", ["1", "0"])
def test_survivor_of_a_dead_leader(tmp_path, kind, says):
    require_impl(kind)
    peers = two_nodes(tmp_path, kind, {1: says, 2: "0"})
    try:
        assert write_ok(peers[1], "/before")
        peers[2].proc.kill()
        peers[2].proc.wait(10)
        if says == "1":
            wait_mode(peers[1], ["leader"])
            assert write_ok(peers[1], "/after"), "%s: the survivor did not take writes" % kind
        else:
            assert leaves_service(peers[1], LEAVE), "%s: still serving %.0f s after its leader died" % (kind, LEAVE)
            assert stays_out(peers[1], QUIET), "%s: served although its oracle says 0" % kind
    except BaseException:
        print(report(list(peers.values())))
        raise
    finally:
        stop_all(list(peers.values()))


@pytest.mark.parametrize("kind", IMPLS)
@pytest.mark.parametrize("says", ["1", "0"])
def test_leader_of_a_dead_follower(tmp_path, kind, says):
    require_impl(kind)
    peers = two_nodes(tmp_path, kind, {1: "0", 2: says})
    try:
        assert write_ok(peers[2], "/before")
        peers[1].proc.kill()
        peers[1].proc.wait(10)
        if says == "1":
            time.sleep(3 * 2 * 1.0)     # past syncLimit (2 ticks of 1 s), three times over
            assert serves(peers[2]), "%s: the leader stopped although its oracle says 1" % kind
            assert write_ok(peers[2], "/after")
        else:
            time.sleep(3 * 2 * 1.0)
            assert stays_out(peers[2], QUIET), "%s: the leader kept serving although its oracle says 0" % kind
    except BaseException:
        print(report(list(peers.values())))
        raise
    finally:
        stop_all(list(peers.values()))
