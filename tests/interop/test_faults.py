"""The fault-injection suite, short form (the long form is scripts/faults.sh).

One modest run on each kind of ensemble: all ours, mixed (Java 3.8.0 and
ours, the arrangement drawn from the seed), all Java as the control. Each
run injects FAULTS_SHORT faults from a seeded schedule (faults.py) while
kazoo sessions create, compare-and-set and read; then every node is read
directly and the history is checked (fault_history.py). The seed is
FAULTS_SEED when set, otherwise random; it is printed, and a failing run
names it and the history file so it can be replayed:
  python3 tests/interop/faults.py --seed S --ensembles rust --rounds 1 --faults 2
  python3 tests/interop/faults.py --check <history.jsonl>

The three runs share the seed and so the fault plan: the summary lines put
ours, mixed and Java side by side (faults, writes acknowledged, problems,
the longest time without an acknowledged write). In mixed ensembles a
worker on the Java client joins the kazoo workers.

What the suite found in Java 3.8.0 (so the all-Java control reports its
problems instead of failing): a power loss of the whole ensemble brings it
back empty (version-2 and new log files are never fsynced into their
directories); and, the leader cut off by a partition, an acknowledged
setData was lost: a follower that had taken the next epoch from the new
leader (its DIFF carrying that txn) voted in the election after with its
last zxid before the txn, won on the newer epoch and truncated the txn
everywhere (the family of ZOOKEEPER-4643/4785: 3.8.0's Learner writes the
new epoch and acks NEWLEADER before the DIFF's txns are logged, which
happens asynchronously; ours fsyncs them first, as 3.9.5 does). A Java
follower killed in that window also replays other digests after its
restart: such a peer is left out of the digest comparison (noted).

The first tests feed the checker made-up histories: each kind of problem it
must find (lost, invented, duplicated or failed-but-applied writes, two
acknowledged cas from one version, a session reading backwards, nodes that
differ) is found, and a clean history passes.
"""

import copy
import os
import random

import pytest

from conftest import SUMMARY, require_impl
from fault_disk import Storage, fsync_path
from fault_history import check, max_gap
from faults import ENSEMBLES, POWER_KINDS, describe, run, schedule

SEED = int(os.environ.get("FAULTS_SEED") or random.SystemRandom().randrange(1 << 31))
FAULTS_SHORT = int(os.environ.get("FAULTS_SHORT") or 3)


# ---- the checker on made-up histories -----------------------------------------

def op(id, f, start, end, outcome="ok", proc="w0", session="0x1", **kw):
    r = {"id": id, "f": f, "start": start, "end": end, "outcome": outcome, "proc": proc,
         "session": session, "session_end": session}
    r.update(kw)
    return r


def clean_history():
    ops = [
        op(1, "create", 0.0, 0.1, payload="c1", result="/faults/w/n0000000000"),
        op(2, "create", 0.2, 0.3, payload="c2", outcome="unknown", error="ConnectionLoss"),
        op(3, "read", 0.3, 0.35, result=[0, "0:0"]),
        op(4, "cas", 0.4, 0.5, **{"from": 0}, result=1),
        op(5, "cas", 0.45, 0.55, proc="w1", session="0x2", **{"from": 0}, outcome="fail", error="BadVersionError"),
        op(6, "read_own", 0.6, 0.7, path="/faults/w/n0000000000", payload="c1", result="c1"),
        op(7, "create", 0.8, 0.9, proc="w1", session="0x2", payload="c7", result="/faults/w/n0000000002"),
        op(8, "read", 1.0, 1.1, proc="w1", session="0x2", result=[1, "1:4"]),
        {"f": "fault", "kind": "kill-leader", "sids": [3], "start": 0.5},
    ]
    nodes = {"/faults/w/n0000000000": ["c1", 5, 5, 0], "/faults/w/n0000000001": ["c2", 6, 6, 0],
             "/faults/w/n0000000002": ["c7", 8, 8, 0]}
    finals = [{"f": "final", "sid": sid, "nodes": copy.deepcopy(nodes), "counter": [1, "1:4"], "dir": [3, 3, 8]}
              for sid in (1, 2, 3)]
    return ops + finals


def finals(h):
    return [r for r in h if r["f"] == "final"]


def test_checker_passes_a_clean_history():
    problems, figures = check(clean_history())
    assert problems == []
    assert figures["writes_acked"] == 3 and figures["faults"] == 1
    assert figures["creates"] == {"ok": 2, "fail": 0, "unknown": 1}
    assert max_gap([0.1, 0.5, 0.9], 0.0, 1.1) == pytest.approx(0.4)


def mutated(change):
    h = clean_history()
    change(h)
    return check(h)[0]


def test_checker_finds_a_lost_write():
    problems = mutated(lambda h: finals(h)[1]["nodes"].pop("/faults/w/n0000000002"))
    assert any("node 2: 1 acknowledged creates missing" in p for p in problems), problems
    assert any("node 2 differs" in p for p in problems), problems


def test_checker_finds_a_parent_stat_that_differs():
    def change(h):
        finals(h)[2]["dir"] = [4, 3, 9]
    assert any("node 3: /faults/w (cversion, numChildren, pzxid)" in p for p in mutated(change))


def test_checker_finds_an_invented_and_a_duplicated_write():
    def change(h):
        for f in finals(h):
            f["nodes"]["/faults/w/n0000000003"] = ["zz", 9, 9, 0]
            f["nodes"]["/faults/w/n0000000004"] = ["c7", 10, 10, 0]
    problems = mutated(change)
    assert any("which no create wrote" in p for p in problems), problems
    assert any("create 7 applied 2 times" in p for p in problems), problems


def test_checker_finds_a_failed_write_applied():
    def change(h):
        h[1]["outcome"] = "fail"
    assert any("create 2 failed" in p for p in mutated(change))

    def change_cas(h):
        h[3]["outcome"] = "fail"
    assert any("cas 4 failed" in p for p in mutated(change_cas))


def test_checker_finds_two_cas_from_one_version():
    def change(h):
        h[4].update(outcome="ok", result=1)
    problems = mutated(change)
    assert any("two acknowledged cas from version 0" in p for p in problems), problems
    assert any("written by both op 4 and op 5" in p for p in problems), problems


def test_checker_finds_a_read_going_back_and_bad_counter_data():
    def change(h):
        h.insert(4, op(9, "read", 0.51, 0.52, result=[0, "0:0"]))
    assert any("session 0x1 went back" in p for p in mutated(change))

    def change_data(h):
        h[7]["result"] = [1, "2:4"]
    assert any("counter data '2:4' at version 1" in p for p in mutated(change_data))


def test_checker_finds_writes_out_of_real_time_order():
    def change(h):
        h[6]["result"] = "/faults/w/n0000000000"  # acknowledged after c1, ordered before it
        for f in finals(h):
            f["nodes"]["/faults/w/n0000000000"], f["nodes"]["/faults/w/n0000000002"] = (
                f["nodes"]["/faults/w/n0000000002"], f["nodes"]["/faults/w/n0000000000"])
        h[0]["result"] = "/faults/w/n0000000002"
    assert any("ordered after create" in p for p in mutated(change))


def test_checker_finds_a_session_not_reading_its_own_write():
    def change(h):
        h[5]["result"] = None
    assert any("session 0x1 read None" in p for p in mutated(change))


def test_schedule_is_a_function_of_the_seed():
    a = schedule(random.Random(7), 5)
    assert a == schedule(random.Random(7), 5)
    assert a != schedule(random.Random(8), 5)


def test_power_loss_filesystem_forgets_what_fsync_did_not_make_durable(tmp_path):
    """The suite's FUSE tool (powerloss_fs.py): after a power loss, a file
    holds what its last fsync saw, a name exists if its directory was
    fsynced after it was made, and a preallocated log stays sparse."""
    class Host:  # what Storage needs of a peer
        dir, data, sid = tmp_path, tmp_path / "data", 1
    Host.data.mkdir()
    disk = Storage(Host, tmpfs=False, fuse=True)
    try:
        disk.setup()
        data = Host.data
        (data / "version-2").mkdir()
        fsync_path(data)
        with open(data / "version-2" / "log.1", "wb") as f:
            f.write(b"head")
            f.truncate(64 << 20)
            f.seek(4)
            f.write(b"synced")
            f.flush()
            os.fsync(f.fileno())
            f.write(b"+lost")
            f.flush()
        fsync_path(data / "version-2")
        with open(data / "version-2" / "unnamed", "wb") as f:
            f.write(b"x")
            os.fsync(f.fileno())
        (data / "renamed.tmp").write_text("2")
        os.rename(data / "renamed.tmp", data / "renamed")
        assert sorted(os.listdir(data / "version-2")) == ["log.1", "unnamed"]
        disk.power_off()
        disk.mount()
        assert sorted(os.listdir(data)) == ["myid", "version-2"]
        assert os.listdir(data / "version-2") == ["log.1"]
        log = data / "version-2" / "log.1"
        assert os.path.getsize(log) == 64 << 20
        assert log.open("rb").read(16) == b"headsynced" + bytes(6)
        assert (data / "myid").read_text() == "1"
        dur = disk.backing / "dur"
        assert sum(os.stat(dur / n).st_blocks for n in os.listdir(dur)) * 512 < (1 << 20)
    finally:
        disk.teardown()


# ---- the short form: one run per kind of ensemble -------------------------------

@pytest.mark.parametrize("ensemble", ["rust", "mixed", "java"])
def test_faults_short(tmp_path, ensemble):
    """Ours and mixed must show no problem. All Java is the control: its
    figures (problems included) go to the summary, and the test asserts only
    that the run happened (Java 3.8.0 loses acknowledged writes under some
    of these faults: see the module's notes)."""
    kinds = random.Random(SEED).choice(ENSEMBLES[ensemble])
    for k in set(kinds):
        require_impl(k)
    print("faults seed %d (FAULTS_SEED=%d replays it)" % (SEED, SEED))
    problems, figures, path = run(kinds, SEED, FAULTS_SHORT, tmp_path, log=print)
    line = "faults: " + describe(figures)
    if problems:
        line += "\n        history %s, e.g. %s" % (path, problems[:3])
    SUMMARY.append(line)
    print(line)
    aborted = [p for p in problems if p.startswith("run aborted")]
    if ensemble == "java":
        assert figures["faults"] == FAULTS_SHORT and figures["writes_acked"] > 0 and not aborted, (
            "the control run did not happen: %s" % problems[:5])
        return
    assert not problems, ("%s: %d problems with seed %d (replay: FAULTS_SEED=%d, or python3 tests/interop/"
                          "faults.py --seed %d --ensembles %s --rounds 1 --faults %d; history %s):\n  %s"
                          % (ensemble, len(problems), SEED, SEED, SEED, ensemble, FAULTS_SHORT, path,
                             "\n  ".join(problems[:30])))
    assert figures["faults"] == FAULTS_SHORT and figures["writes_acked"] > 0


def test_power_loss_of_the_whole_ensemble_keeps_acknowledged_writes(tmp_path):
    """Every peer of ours loses power at once, twice: what fsync made
    durable (logs, the names of new log files and of version-2, epoch files,
    snapshots) must hold every acknowledged write. Before the directory
    fsyncs, the restarted ensemble came back empty: version-2's name was
    never durable."""
    require_impl("rust")
    outage = {"kind": "power-loss-all", "pick": 0, "with_leader": False, "hold": 1.0, "before": 4.0}
    problems, figures, path = run(["rust"] * 3, SEED, 2, tmp_path, fault_kinds=POWER_KINDS, log=print,
                                  plan=[dict(outage), dict(outage)])
    assert not problems, "history %s:\n  %s" % (path, "\n  ".join(problems[:30]))
    assert figures["faults"] == 2 and figures["writes_acked"] > 0
