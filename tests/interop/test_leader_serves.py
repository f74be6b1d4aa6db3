"""`leaderServes=no`: the leader of a 3-node ensemble takes no clients (its
client port refuses sessions and its `srvr` says it is not serving) while
the followers serve reads and writes, against Java 3.8.0 and ours."""

import time

import pytest

from conftest import IMPLS, require_impl
from rawzk import ConnectionClosed, RawZk
from test_election import wait_port
from test_zab_learner import ZabPeer, client, four_letter, report, stop_all, wait_mode

NOT_SERVING = "This ZooKeeper instance is not currently serving requests"


@pytest.mark.parametrize("kind", IMPLS)
def test_a_leader_that_does_not_serve_clients(tmp_path, kind):
    require_impl(kind)
    peers = [ZabPeer(kind, sid, tmp_path / ("s%d" % sid), extra={"leaderServes": "no"}) for sid in (1, 2, 3)]
    try:
        for p in peers:
            p.write_config(peers)
        peers[2].start()
        wait_port(peers[2].election_port, proc=peers[2].proc, log=peers[2].log)
        peers[0].start()
        wait_mode(peers[0], ["follower"])
        peers[1].start()
        wait_mode(peers[1], ["follower"])
        leader = peers[2]
        assert four_letter(leader.client_port, "srvr").strip() == NOT_SERVING
        # A session is refused: the connection is closed without an answer.
        raw = RawZk("127.0.0.1", leader.client_port, sock_timeout=10)
        with pytest.raises((ConnectionClosed, ConnectionResetError, OSError)):
            raw.connect()
            raw.get_data("/")
        raw.close_socket()
        zk = client(peers[0])
        try:
            zk.create("/written-through-a-follower", b"x")
            assert zk.exists("/written-through-a-follower") is not None
        finally:
            zk.stop()
            zk.close()
        other = client(peers[1])
        try:
            other.sync("/")
            assert other.get("/written-through-a-follower")[0] == b"x"
        finally:
            other.stop()
            other.close()
        time.sleep(1)
        assert four_letter(leader.client_port, "srvr").strip() == NOT_SERVING
    except BaseException:
        print(report(peers))
        raise
    finally:
        stop_all(peers)
